"""USSD session state in Redis, so any receiver process can serve any step.

    gw:ussd:s:<owner>   JSON {msisdn, state, history, watching, filing}   TTL: session TTL,
                        renewed at every step; deleted when the session ENDs
    gw:ussd:d:<msisdn>  JSON {text, privacy, owner, filing}               TTL: draft TTL
    gw:ussd:w:<owner>   the msisdn whose draft this session watches (TTL: draft TTL),
                        so the dead-draft job carries no phone number in its args

`owner` is `<format>:<digest>`, the digest of (format, phone number, session id): telcos and
aggregators reuse session ids, so a session is one phone's, and another phone sending the
same id has a session of its own. The keys carry neither the number nor the raw id.

One session state is one filing: `filing` is drawn at random when the state is created, and
the database keys of what the session files (`ussd_source_key`) are derived from it. A retried
step of a live session files nothing new; the same phone dialling the same session id after
the session ended (a recycled id, days later) starts a fresh state and so a fresh filing.

A draft is not an acknowledged message: Redis losing it (a restart without persistence) loses
an unsent report, exactly as a dropped call would. Filed reports are in the database.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass, field

from redis import Redis

from gateway.metrics import USSD_UNKNOWN_SCREENS
from gateway.ussd.menu import State, is_screen

log = logging.getLogger("gateway.ussd")


def _digest(*parts: str, size: int) -> str:
    # Newline-joined: none of the parts (format names, E.164 numbers, session ids of
    # `A-Z a-z 0-9 _ . : -`, hex) can contain one, so different parts never join alike.
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:size]


def session_owner(fmt_name: str, msisdn: str, session_id: str) -> str:
    """`<format>:<32 hex>`: the one phone's session with this id (Redis keys, the dead-draft job)."""
    return f"{fmt_name}:{_digest(fmt_name, msisdn, session_id, size=32)}"


def new_filing() -> str:
    """A fresh session state's filing id."""
    return secrets.token_hex(8)


def ussd_source_key(fmt_name: str, msisdn: str, session_id: str, filing: str) -> str:
    """The `source_key` of what one session state files: `ussd:<format>#<40 hex>`, 60 characters
    at most (the column holds 80; the BALAS key adds `:reply`). The `#` keeps it apart from the
    `ussd:<format>:<session id>` keys of reports filed before sessions were scoped to phones."""
    return f"ussd:{fmt_name}#{_digest(fmt_name, msisdn, session_id, filing, size=40)}"


def draft_notice_key(draft: Draft) -> str:
    """The outbox dedupe key of a draft's "not sent" SMS: once per owning session state (a
    draft written before filings existed keeps its old key)."""
    basis = (draft.owner, draft.filing) if draft.filing else (draft.owner,)
    return f"ussd-draft:{_digest(*basis, size=40)}"


@dataclass
class MenuSession:
    """One live USSD menu session (its state in Redis; not a database session)."""

    msisdn: str
    state: State
    history: str = ""  # the format's memory of the previous step (Africa's Talking: the text)
    watching: bool = False  # a dead-draft check is scheduled for this session
    filing: str = field(default_factory=new_filing)  # see the module docstring


@dataclass(frozen=True)
class Draft:
    """An unsent report of one number, and the session (its owner and filing) that owns it."""

    text: str
    privacy: str
    owner: str
    filing: str = ""  # "" in drafts kept before filings existed


class SessionStore:
    """Sessions and drafts in Redis. Every method is one round trip."""

    def __init__(self, redis: Redis, session_ttl: int, draft_ttl: int):
        self.redis, self.session_ttl, self.draft_ttl = redis, session_ttl, draft_ttl

    def load(self, owner: str) -> MenuSession | None:
        """The live session, or None (never started, expired or ended)."""
        raw = self.redis.get(f"gw:ussd:s:{owner}")
        if raw is None:
            return None
        data = json.loads(raw)
        screen = data["state"].get("screen")
        if not is_screen(screen):
            # Saved by a deploy with a screen this one lacks (a rolling upgrade or rollback):
            # from_dict restarts it at the main menu, which the citizen sees, so it is counted.
            log.warning("USSD session at unknown screen %r, restarted at the main menu", str(screen)[:40])
            USSD_UNKNOWN_SCREENS.inc()
        state = State.from_dict(data["state"])
        return MenuSession(
            data["msisdn"], state, data["history"], data["watching"], data.get("filing") or new_filing()
        )

    def save(self, owner: str, session: MenuSession) -> None:
        """Store the session for another `session_ttl` seconds."""
        data = {
            "msisdn": session.msisdn,
            "state": session.state.as_dict(),
            "history": session.history,
            "watching": session.watching,
            "filing": session.filing,
        }
        self.redis.set(f"gw:ussd:s:{owner}", json.dumps(data), ex=self.session_ttl)

    def end(self, owner: str) -> None:
        """The session is over (an END screen was sent)."""
        self.redis.delete(f"gw:ussd:s:{owner}")

    def seconds_left(self, owner: str) -> float | None:
        """Seconds until the session expires, None if it is gone."""
        ms = self.redis.pttl(f"gw:ussd:s:{owner}")
        return ms / 1000 if ms >= 0 else None

    def draft(self, msisdn: str) -> Draft | None:
        """This number's unsent report, if any."""
        raw = self.redis.get(f"gw:ussd:d:{msisdn}")
        if raw is None:
            return None
        data = json.loads(raw)  # keys of another deploy's version are ignored
        return Draft(data["text"], data["privacy"], data["owner"], data.get("filing", ""))

    def save_draft(self, msisdn: str, draft: Draft) -> None:
        """Keep the draft for `draft_ttl` seconds (to resume by dialling again)."""
        self.redis.set(f"gw:ussd:d:{msisdn}", json.dumps(draft.__dict__), ex=self.draft_ttl)

    def drop_draft(self, msisdn: str) -> None:
        """The draft was filed or thrown away."""
        self.redis.delete(f"gw:ussd:d:{msisdn}")

    def watch(self, owner: str, msisdn: str) -> None:
        """Remember whose draft session `owner` watches."""
        self.redis.set(f"gw:ussd:w:{owner}", msisdn, ex=self.draft_ttl)

    def watched(self, owner: str) -> str | None:
        """The number whose draft `owner` watches."""
        raw = self.redis.get(f"gw:ussd:w:{owner}")
        return raw.decode() if raw is not None else None
