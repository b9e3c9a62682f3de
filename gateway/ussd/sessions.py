"""USSD session state in Redis, so any receiver process can serve any step.

    gw:ussd:s:<format>:<session id>  JSON {msisdn, state, history, watching}   TTL: session TTL,
                                     renewed at every step; deleted when the session ENDs
    gw:ussd:d:<msisdn>               JSON {text, privacy, owner}                TTL: draft TTL
    gw:ussd:w:<format>:<session id>  the msisdn whose draft this session watches (TTL: draft TTL),
                                     so the dead-draft job carries no phone number in its args

A draft is not an acknowledged message: Redis losing it (a restart without persistence) loses
an unsent report, exactly as a dropped call would. Filed reports are in the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from redis import Redis

from gateway.ussd.menu import State


@dataclass
class Session:
    """One live session."""

    msisdn: str
    state: State
    history: str = ""  # the format's memory of the previous step (Africa's Talking: the text)
    watching: bool = False  # a dead-draft check is scheduled for this session


@dataclass(frozen=True)
class Draft:
    """An unsent report of one number, and the session (`<format>:<session id>`) that owns it."""

    text: str
    privacy: str
    owner: str


class SessionStore:
    """Sessions and drafts in Redis. Every method is one round trip."""

    def __init__(self, redis: Redis, session_ttl: int, draft_ttl: int):
        self.redis, self.session_ttl, self.draft_ttl = redis, session_ttl, draft_ttl

    def load(self, owner: str) -> Session | None:
        """The live session, or None (never started, expired or ended)."""
        raw = self.redis.get(f"gw:ussd:s:{owner}")
        if raw is None:
            return None
        data = json.loads(raw)
        return Session(data["msisdn"], State.from_dict(data["state"]), data["history"], data["watching"])

    def save(self, owner: str, session: Session) -> None:
        """Store the session for another `session_ttl` seconds."""
        data = {
            "msisdn": session.msisdn,
            "state": session.state.as_dict(),
            "history": session.history,
            "watching": session.watching,
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
        return Draft(**json.loads(raw)) if raw is not None else None

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
