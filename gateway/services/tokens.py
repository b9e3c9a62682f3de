"""Admin API tokens: created by the CLI, shown once, stored as a hash."""

from __future__ import annotations

from sqlalchemy import select, update

from gateway.edge import check_string
from gateway.errors import InvalidPayload
from gateway.models import API_ROLES, ApiToken, utcnow
from gateway.runtime import Runtime
from gateway.security import new_token, secret_matches, split_token

# A token's actions are signed "token:<name>" in report timelines (ReportEvent.actor, String(64)),
# so the name may be only as long as leaves room for the prefix: 58 characters, not the 64 of
# ApiToken.name (a longer name was stored, then every action with the token failed).
ACTOR_PREFIX = "token:"
ACTOR_CHARS = 64
MAX_NAME_CHARS = ACTOR_CHARS - len(ACTOR_PREFIX)


def actor_name(token_name: str) -> str:
    """How a token's actions are signed in report timelines."""
    return f"{ACTOR_PREFIX}{token_name}"


def find_token(rt: Runtime, presented: str) -> ApiToken | None:
    """The live (unrevoked) token `presented` is, or None: the one check behind the API's
    bearer tokens and the console's log-in."""
    parts = split_token(presented.strip())
    if parts is None:
        return None
    key_id, secret = parts
    row = live_token(rt, key_id)
    return row if row is not None and secret_matches(secret, row.secret_hash) else None


def live_token(rt: Runtime, key_id: str) -> ApiToken | None:
    """The unrevoked token with `key_id` (a console session re-reads it on every request, so a
    revocation or a role change takes effect at once)."""
    with rt.sessions() as s:
        return s.scalar(select(ApiToken).where(ApiToken.key_id == key_id, ApiToken.revoked_at.is_(None)))


def create_token(rt: Runtime, name: str, role: str) -> str:
    """Store a new token for `name` with `role` and return it (the only time it is visible).
    A bad role is a ValueError; a name that is empty, too long or holds control characters is
    InvalidPayload naming `name`."""
    if role not in API_ROLES:
        raise ValueError(f"role must be one of {', '.join(API_ROLES)}")
    if not name.strip():
        raise InvalidPayload("name", "must not be empty")
    check_string(name, "name", MAX_NAME_CHARS)
    token, key_id, secret_hash = new_token()
    with rt.transaction() as s:
        s.add(ApiToken(key_id=key_id, name=name, role=role, secret_hash=secret_hash))
    return token


def revoke_tokens(rt: Runtime, name: str) -> int:
    """Revoke every live token named `name`; return how many."""
    with rt.transaction() as s:
        result = s.execute(
            update(ApiToken)
            .where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return result.rowcount
