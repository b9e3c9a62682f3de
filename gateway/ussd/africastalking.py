"""Africa's Talking USSD callbacks: a form POST per step, answered with `text/plain` starting
`CON ` (show and wait for input) or `END ` (show and close the session).

    POST /ussd/africastalking   (application/x-www-form-urlencoded)
    sessionId=ATUid_7c1f...&serviceCode=*384*1708#&phoneNumber=+6281234567890&networkCode=51010
    &text=1*Jl. Mawar 5*7 berlubang

`text` is every input of the session so far joined by `*`: "" when the citizen dials,
"1" after the first choice, "1*Jl. Mawar 5*7 berlubang" after the next. Free text may itself
contain `*`, so the latest input is read as what follows the text we saw at the previous step
(kept in the session), never by splitting on `*`.
"""

from __future__ import annotations

from gateway.aggregators.base import Ack, WireRequest
from gateway.ussd.base import (
    UssdFormat,
    UssdReply,
    UssdRequest,
    msisdn_field,
    required_field,
    session_id_field,
)


def latest_input(text: str, previous: str | None) -> str | None:
    """The newest input in the cumulative `text`, given the cumulative text of the previous
    step. None when `text` is the previous step again (a retry)."""
    if previous is None:
        return text
    if text == previous:
        return None
    if previous == "":
        return text
    if text.startswith(previous + "*"):
        return text[len(previous) + 1 :]
    # Not an extension of what we saw (a step we never got): the part after the last `*` is
    # the best guess, and at worst the citizen sees the screen again with a hint.
    return text.rsplit("*", 1)[-1]


class AfricasTalking(UssdFormat):
    name = "africastalking"

    def parse(self, req: WireRequest, region: str = "ID") -> UssdRequest:
        """sessionId, serviceCode, phoneNumber and text are required (text may be empty)."""
        return UssdRequest(
            session_id=session_id_field(req, "sessionId"),
            service_code=required_field(req, "serviceCode"),
            msisdn=msisdn_field(req, "phoneNumber", region),
            text=required_field(req, "text", allow_empty=True),
            network_code=req.field("networkCode") or "",
        )

    def latest_input(self, step: UssdRequest, history: str | None) -> str | None:
        """What follows the previous step's cumulative text."""
        return latest_input(step.text, history)

    def history(self, step: UssdRequest) -> str:
        """The cumulative text, to read the next step against."""
        return step.text

    def render(self, session_id: str, reply: UssdReply) -> Ack:
        """`CON <screen>` or `END <screen>`, text/plain."""
        prefix = "END" if reply.end else "CON"
        return Ack(200, f"{prefix} {reply.text}", "text/plain; charset=utf-8")
