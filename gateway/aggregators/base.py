"""Values that cross the aggregator seam, and the interface every aggregator module implements.

An aggregator turns its wire format into these values and back. Its methods are pure: they
take a `WireRequest` (a plain snapshot of an HTTP request, no Flask) or an `OutboundSMS` and
return values, so each format is tested with recorded payloads and no server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway import edge


@dataclass(frozen=True)
class WireRequest:
    """The parts of an HTTP request an aggregator parser may read."""

    method: str = "POST"
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    body: bytes = b""
    content_type: str = ""
    raw_query: bytes = b""  # for formats whose text is not UTF-8 (Kannel's UCS-2)

    def field(self, name: str) -> str | None:
        """A named field from the JSON object, the form or the query, in that order."""
        if isinstance(self.json, dict) and name in self.json:
            value = self.json[name]
            return None if value is None else str(value)
        if name in self.form:
            return self.form[name]
        return self.query.get(name)


@dataclass(frozen=True)
class MessagePart:
    """Which part of a long (concatenated) SMS an MO is, when the aggregator delivers the parts
    separately: the UDH reference shared by the parts, this part's 1-based `index`, and how
    many parts there are. Build it with `from_fields` (bounds checked)."""

    ref: str
    index: int
    total: int

    @classmethod
    def from_fields(
        cls, ref: str | None, index: str | int | None, total: str | int | None, names=edge.PART_FIELDS
    ) -> MessagePart | None:
        """The part named by an aggregator's three raw fields (None: not a part); 400 naming
        the field for a bad one (gateway.edge.parse_part)."""
        parsed = edge.parse_part(ref, index, total, names)
        return None if parsed is None else cls(*parsed)


@dataclass(frozen=True)
class InboundSMS:
    """One mobile-originated message as the aggregator described it (sender not yet normalised).
    `part` is set for one part of a long SMS delivered separately (gateway.services.multipart)."""

    sender: str
    to: str
    text: str
    external_id: str
    sent_at: datetime | None = None
    part: MessagePart | None = None


@dataclass(frozen=True)
class StatusUpdate:
    """One delivery report. `message_ref` is whatever the aggregator uses to name the MT:
    its own id (generic) or ours (Kannel puts our id in the dlr-url); `by_gateway_id` says which."""

    message_ref: str
    status: str  # one of gateway.models.DLR_STATUSES
    raw_status: str
    by_gateway_id: bool = False


@dataclass(frozen=True)
class OutboundSMS:
    """One mobile-terminated message ready to go out."""

    gateway_id: int
    to: str  # E.164
    sender: str  # our short code
    text: str


@dataclass(frozen=True)
class SendRequest:
    """An HTTP request to make to the aggregator's send API (built by a pure function)."""

    method: str
    url: str
    params: Mapping[str, str] | None = None
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResponse:
    """What came back from the send API: enough for an aggregator to decide accepted or not."""

    status_code: int
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        import json

        return json.loads(self.text)


@dataclass(frozen=True)
class Ack:
    """The HTTP answer to give an aggregator for an accepted callback."""

    status: int
    body: str = ""
    content_type: str = "text/plain; charset=utf-8"


class Aggregator:
    """Interface of one aggregator wire format. Subclasses override what they support."""

    name: str = ""

    def parse_inbound(self, req: WireRequest) -> list[InboundSMS]:
        """Parse an MO callback; raise InvalidPayload naming the bad field."""
        raise NotImplementedError

    def parse_status(self, req: WireRequest) -> list[StatusUpdate]:
        """Parse a delivery report callback; raise InvalidPayload naming the bad field."""
        raise NotImplementedError

    def build_send(self, sms: OutboundSMS, settings) -> SendRequest:
        """Build the HTTP request that submits `sms` to the aggregator."""
        raise NotImplementedError

    def read_send_response(self, resp: SendResponse) -> str:
        """Return the aggregator's message id (or "" if it gives none) for an accepted send;
        raise SendError(retryable=...) otherwise."""
        raise NotImplementedError

    def inbound_ack(self, gateway_ids: list[int], duplicate: bool) -> Ack:
        """The answer for an accepted MO (also for a duplicate)."""
        return Ack(202, '{"status": "accepted"}', "application/json")

    def status_ack(self) -> Ack:
        """The answer for an accepted delivery report."""
        return Ack(200, '{"status": "ok"}', "application/json")
