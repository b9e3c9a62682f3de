"""Values that cross the USSD wire-format seam, and the interface every format implements.
Like the SMS aggregators, a format is pure: a `WireRequest` in, a `UssdRequest` out; a
`UssdReply` in, an `Ack` (the HTTP answer) out."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.aggregators.base import Ack, WireRequest
from gateway.errors import InvalidNumber, InvalidPayload
from gateway.msisdn import normalise_msisdn

# One validator for every format's session id. Keys are digests of it (gateway.ussd.sessions),
# so any length would fit them; the limit keeps what we hash and echo back sane, and 56 is
# what reports filed before those digests (`ussd:<format>:<id>`, 80 characters) could hold.
SESSION_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,56}")


@dataclass(frozen=True)
class UssdRequest:
    """One step of a session as the aggregator described it. `text` is what the format
    sends (Africa's Talking: every input so far joined by `*`; generic: the latest input)."""

    session_id: str
    msisdn: str  # E.164
    text: str
    service_code: str = ""
    network_code: str = ""


@dataclass(frozen=True)
class UssdReply:
    """What to show, and whether the session ends with it."""

    text: str
    end: bool = False


class UssdFormat:
    """Interface of one USSD wire format."""

    name: str = ""

    def parse(self, req: WireRequest, region: str = "ID") -> UssdRequest:
        """The step, validated; InvalidPayload names the bad field."""
        raise NotImplementedError

    def latest_input(self, step: UssdRequest, history: str | None) -> str | None:
        """The citizen's latest input, given what `history` returned for the previous step of
        this session (None for a new session). None means "the same step again" (a retry):
        show the current screen again without acting."""
        return step.text

    def history(self, step: UssdRequest) -> str:
        """What to remember of this step to read the next one."""
        return ""

    def render(self, session_id: str, reply: UssdReply) -> Ack:
        """The HTTP answer that shows `reply`."""
        raise NotImplementedError


def required_field(req: WireRequest, name: str, allow_empty: bool = False) -> str:
    """A field that must be present (and non-empty unless `allow_empty`) and valid UTF-8."""
    value = req.field(name)
    if value is None or (not allow_empty and not value.strip()):
        raise InvalidPayload(name, "is required")
    if "\ufffd" in value:
        raise InvalidPayload(name, "is not valid UTF-8")
    return value


def session_id_field(req: WireRequest, name: str) -> str:
    """The aggregator's session id: 1-56 of `A-Z a-z 0-9 _ . : -`."""
    value = required_field(req, name).strip()
    if not SESSION_ID.fullmatch(value):
        raise InvalidPayload(name, "must be 1-56 letters, digits or _.:-")
    return value


def msisdn_field(req: WireRequest, name: str, region: str) -> str:
    """The citizen's number as E.164."""
    try:
        return normalise_msisdn(required_field(req, name), region)
    except InvalidNumber as exc:
        raise InvalidPayload(name, str(exc)) from None
