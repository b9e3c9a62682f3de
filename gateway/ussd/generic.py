"""The generic USSD format: our reference contract for any USSD aggregator that can call a URL
and read JSON. It sends only the latest input, so nothing has to be split.

    POST /ussd/generic   (application/json)
    {"session_id": "s-20261129-0001", "msisdn": "081234567890", "input": "Jl. Mawar 5*7",
     "service_code": "*1708#"}
    -> 200 {"session_id": "s-20261129-0001", "text": "Jenis laporan:\\n1 Biasa ...", "action": "continue"}

`input` is "" when the citizen dials; `action` is "continue" (show and wait for input) or
"end" (show and close the session). `service_code` is optional.
"""

from __future__ import annotations

import json

from gateway.aggregators.base import Ack, WireRequest
from gateway.errors import InvalidPayload
from gateway.ussd.base import (
    UssdFormat,
    UssdReply,
    UssdRequest,
    msisdn_field,
    required_field,
    session_id_field,
)


class GenericUssd(UssdFormat):
    name = "generic"

    def parse(self, req: WireRequest, region: str = "ID") -> UssdRequest:
        """A JSON object with session_id, msisdn and input (input may be empty)."""
        if not isinstance(req.json, dict):
            raise InvalidPayload("body", "must be a JSON object (Content-Type: application/json)")
        if not isinstance(req.json.get("input", ""), str):
            raise InvalidPayload("input", "must be a string")
        return UssdRequest(
            session_id=session_id_field(req, "session_id"),
            msisdn=msisdn_field(req, "msisdn", region),
            text=required_field(req, "input", allow_empty=True),
            service_code=req.field("service_code") or "",
        )

    def render(self, session_id: str, reply: UssdReply) -> Ack:
        """JSON with the screen and whether the session continues."""
        body = {"session_id": session_id, "text": reply.text, "action": "end" if reply.end else "continue"}
        return Ack(200, json.dumps(body, ensure_ascii=False), "application/json")
