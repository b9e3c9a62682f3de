"""Admin API tokens: created by the CLI, shown once, stored as a hash."""

from __future__ import annotations

from sqlalchemy import update

from gateway.models import API_ROLES, ApiToken, utcnow
from gateway.runtime import Runtime
from gateway.security import new_token


def create_token(rt: Runtime, name: str, role: str) -> str:
    """Store a new token for `name` with `role` and return it (the only time it is visible)."""
    if role not in API_ROLES:
        raise ValueError(f"role must be one of {', '.join(API_ROLES)}")
    token, key_id, secret_hash = new_token()
    with rt.transaction() as s:
        s.add(ApiToken(key_id=key_id, name=name[:64], role=role, secret_hash=secret_hash))
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
