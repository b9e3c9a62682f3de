"""The generic aggregator: our reference contract for any aggregator that can call a URL
(DESIGN.md section 2, "The generic aggregator")."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime

from gateway.aggregators.base import (
    Ack,
    Aggregator,
    AggregatorConfig,
    InboundSMS,
    MessagePart,
    OutboundSMS,
    SendRequest,
    SendResponse,
    StatusUpdate,
    WireRequest,
    setting,
)
from gateway.aggregators.http_status import classify_http_failure
from gateway.edge import check_sent_at
from gateway.errors import CallbackRefused, ConfigError, InvalidPayload, SendError
from gateway.models import DLR_STATUSES
from gateway.security import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature

# The send path under GATEWAY_GENERIC_BASE_URL when GATEWAY_GENERIC_SEND_URL is not set.
SEND_PATH = "/send"


@dataclass(frozen=True)
class GenericConfig(AggregatorConfig):
    """GATEWAY_GENERIC_*. The send URL is GATEWAY_GENERIC_SEND_URL when set (the contract's
    name), else GATEWAY_GENERIC_BASE_URL + /send; one of them is required to send MT."""

    base_url: str = setting("", url=True)  # no real default: each generic aggregator has its own
    send_url: str = setting("", url=True)
    send_token: str = setting("", required=True, secret=True)
    # Optional: require callbacks signed with it (X-Lapor-Signature, see gateway.web.signature).
    signing_secret: str = setting("", secret=True)

    @property
    def send_endpoint(self) -> str:
        """Where MT are POSTed."""
        if self.send_url or not self.base_url:
            return self.send_url
        return self.endpoint(SEND_PATH)


def required(req: WireRequest, name: str) -> str:
    """A field that must be present and non-empty."""
    value = req.field(name)
    if value is None or not value.strip():
        raise InvalidPayload(name, "is required")
    return value


def required_stripped(req: WireRequest, name: str, reason: str = "is required") -> str:
    """A field that must be present and non-empty, without its surrounding spaces (ids and
    numbers that formats pad); 400 naming `name` with `reason` otherwise."""
    value = (req.field(name) or "").strip()
    if not value:
        raise InvalidPayload(name, reason)
    return value


def message_text(req: WireRequest, name: str = "text") -> str:
    """The MO's text field: present (it may be empty) and decoded cleanly (a U+FFFD from a
    failed decode means the aggregator's charset was not UTF-8)."""
    text = req.field(name)
    if text is None:
        raise InvalidPayload(name, "is required")
    if "\ufffd" in text:
        raise InvalidPayload(name, "is not valid UTF-8")
    return text


def parse_iso_timestamp(raw: str | None, name: str = "timestamp") -> datetime | None:
    """An optional ISO 8601 timestamp, in UTC; a present but unreadable or implausible one
    (gateway.edge.check_sent_at) is a 400."""
    if raw is None or raw == "":
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidPayload(name, "must be an ISO 8601 timestamp") from None
    return check_sent_at(parsed, name)


class Generic(Aggregator):
    name = "generic"
    Config = GenericConfig

    def check_config(self, config: GenericConfig, outbound: bool) -> None:
        """Sending needs a send URL, given in full or as the base URL."""
        if outbound and not config.send_endpoint:
            raise ConfigError(
                f"{self.env('send_url')}: must be an http(s) URL (or set {self.env('base_url')})"
            )

    #   X-Lapor-Timestamp: 1795966036
    #   X-Lapor-Signature: sha256=<hex HMAC-SHA256(GATEWAY_GENERIC_SIGNING_SECRET, "<ts>." + body)>
    def verify(self, req: WireRequest, config: GenericConfig, settings) -> str | None:
        """With a signing secret, the body must be signed within GATEWAY_SIGNATURE_WINDOW; the
        signature is the replay key (gateway.web.signature says why replays are duplicates)."""
        if not config.signing_secret:
            return None
        signature = req.header(SIGNATURE_HEADER)
        problem = verify_signature(
            config.signing_secret,
            req.header(TIMESTAMP_HEADER),
            signature,
            req.body,
            time.time(),
            settings.signature_window,
        )
        if problem:
            raise CallbackRefused(problem)
        return signature

    # MO, form-encoded or JSON:
    #   from=081234567890&to=1708&text=LAPOR+jalan+rusak&id=agg-123&timestamp=2026-11-29T08:00:00Z
    #   {"from": "+6281234567890", "to": "1708", "text": "CEK 1234567890", "id": "agg-124"}
    # One part of a long SMS (optional extension), the parts sharing concat_ref:
    #   from=0812...&to=1708&text=LAPOR+jalan+ru&id=agg-125&concat_ref=7&concat_part=1&concat_total=2
    def parse_inbound(self, req: WireRequest) -> list[InboundSMS]:
        """One MO per request."""
        text = message_text(req)
        return [
            InboundSMS(
                sender=required(req, "from"),
                to=required(req, "to"),
                text=text,
                external_id=required(req, "id"),
                sent_at=parse_iso_timestamp(req.field("timestamp")),
                # Optional: one part of a long SMS delivered separately (README "Generic").
                part=MessagePart.from_fields(
                    req.field("concat_ref"), req.field("concat_part"), req.field("concat_total")
                ),
            )
        ]

    # DLR:  id=agg-77&status=DELIVERED   (or the same as JSON)
    def parse_status(self, req: WireRequest) -> list[StatusUpdate]:
        """One delivery report per request; `id` is the aggregator's id from the send answer."""
        ref = required(req, "id")
        raw = required(req, "status").strip().upper()
        if raw not in DLR_STATUSES:
            raise InvalidPayload("status", f"must be one of {', '.join(DLR_STATUSES)}")
        return [StatusUpdate(message_ref=ref, status=raw, raw_status=raw)]

    # MT: POST {"id": "42", "to": "+6281234567890", "from": "1708", "text": "..."}
    #     Authorization: Bearer <GATEWAY_GENERIC_SEND_TOKEN>
    def build_send(self, sms: OutboundSMS, config: GenericConfig) -> SendRequest:
        """JSON POST to the send URL; our id lets the aggregator dedupe a resend."""
        return SendRequest(
            method="POST",
            url=config.send_endpoint,
            json={"id": str(sms.gateway_id), "to": sms.to, "from": sms.sender, "text": sms.text},
            headers={"Authorization": f"Bearer {config.send_token}"},
        )

    def read_send_response(self, resp: SendResponse) -> str:
        """2xx with {"id": ...} is accepted; 429/5xx retryable; other 4xx permanent."""
        if 200 <= resp.status_code < 300:
            try:
                agg_id = resp.json().get("id")
            except (ValueError, AttributeError):
                agg_id = None
            if not agg_id:
                # Accepted, but without an id we could never match its DLRs: an aggregator
                # bug that a retry will not fix, and resending would duplicate the SMS.
                raise SendError("2xx answer without an id", retryable=False)
            return str(agg_id)
        raise classify_http_failure(resp)

    def inbound_ack(self, gateway_ids: list[int], duplicate: bool) -> Ack:
        """202 with our ids (200 "duplicate" for a repeat)."""
        body = {"status": "duplicate" if duplicate else "accepted", "ids": gateway_ids}
        return Ack(202 if not duplicate else 200, json.dumps(body), "application/json")
