"""8x8 (8x8 Connect / CPaaS) SMS API: MO and delivery receipts as JSON webhooks, MT through
`POST /api/v1/subaccounts/<subAccountId>/messages` with a Bearer API key. Registered as `8x8`
(settings GATEWAY_8X8_*); the module name cannot start with a digit.

Documented (github.com/8x8Cloud/public-developer-docs: docs/connect/docs/inbound-sms.md,
delivery-receipts-for-outbound-sms.md, message-status-references.md, api-error-codes.md,
api-rate-limiting.md, docs_oas/connect/sms_api.json; courier has no 8x8 handler):
- MO webhook: `{"namespace": "SMS", "eventType": "inbound_message_received", "payload":
  {"umid", "subAccountId", "timestamp" (ISO 8601 UTC), "source", "destination", "body",
  "encoding" (GSM7/UCS2), "smsCount", "price"}}`. 8x8 retries a 4xx/5xx or a timeout after
  1, 10, 30 and 90 s.
- DLR webhook: `eventType` `outbound_message_status_changed`, `payload` with `umid`,
  `clientMessageId`, `status` {`state`: queued, rejected, sent, delivered, undelivered, read;
  `detail`: delivered_to_operator, delivered_to_recipient, rejected_by_operator,
  undelivered_to_recipient; `errorCode`, `errorMessage`}.
- MT body: `destination`, `text`, `source`, `clientMessageId`, `encoding` (AUTO, GSM7, UCS2),
  `dlrCallbackUrl` (overrides the account's DLR webhook for this message). Answer 200
  `{"umid", "clientMessageId", "destination", "encoding", "status": {"code": "QUEUED" or
  "REJECTED", "description"}}`; errors 400/401/500 (and 426 for old TLS) with `{"code",
  "message", "errorId", "timestamp"}`; 429 with `Retry-After` (seconds) when over the rate.
- subAccountId matches `^[A-Za-z0-9\\-._&]{3,50}$`; regional hosts: sms.8x8.com (Asia,
  default), sms.8x8.id (Indonesia), sms.8x8.uk, sms.us.8x8.com.

Inferred (not stated by 8x8):
- `delivered` with `detail` `delivered_to_operator` is the operator's receipt, not the
  handset's, so it counts as SENT; other `delivered` (and `read`) as DELIVERED; `queued` as SENT
  (our ACCEPTED is already "8x8 took it").
- A long MO arrives whole (`smsCount` counts its segments); no parts are delivered separately.
- The status object of the send answer may also come as the universal `state` form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from gateway.aggregators.base import (
    Ack,
    Aggregator,
    AggregatorConfig,
    InboundSMS,
    OutboundSMS,
    SendRequest,
    SendResponse,
    StatusUpdate,
    WireRequest,
    setting,
)
from gateway.aggregators.codes import dlr_status, utc_timestamp
from gateway.aggregators.http_status import classify_http_failure
from gateway.edge import row_id
from gateway.errors import ConfigError, InvalidPayload, SendError
from gateway.gsm7 import is_gsm7
from gateway.models import OutboundStatus
from gateway.msisdn import redact_numbers

MO_EVENT = "inbound_message_received"
DLR_EVENT = "outbound_message_status_changed"
SUBACCOUNT = re.compile(r"^[A-Za-z0-9\-._&]{3,50}$")

# status.state (or "state/detail" where the detail changes the meaning) -> ours.
DLR_STATUS = {
    "queued": OutboundStatus.SENT,
    "sent": OutboundStatus.SENT,
    "delivered/delivered_to_operator": OutboundStatus.SENT,
    "delivered": OutboundStatus.DELIVERED,
    "read": OutboundStatus.DELIVERED,
    "undelivered": OutboundStatus.UNDELIVERED,
    "rejected": OutboundStatus.REJECTED,
}


@dataclass(frozen=True)
class EightByEightConfig(AggregatorConfig):
    """GATEWAY_8X8_* (in Indonesia the regional host is https://sms.8x8.id)."""

    base_url: str = setting("https://sms.8x8.com", url=True)
    subaccount_id: str = setting("", required=True)
    api_key: str = setting("", required=True, secret=True)


def _object(value: Any, field: str) -> dict:
    if not isinstance(value, dict):
        raise InvalidPayload(field, "must be a JSON object")
    return value


def _string(obj: dict, key: str, field: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidPayload(field, "is required (a string)")
    return value


def _payload(req: WireRequest, event: str) -> dict:
    """The webhook's `payload`, once `eventType` says it is the event this route takes."""
    body = _object(req.json, "body")
    if body.get("eventType") != event:
        raise InvalidPayload("eventType", f"must be {event}")
    return _object(body.get("payload"), "payload")


class EightByEight(Aggregator):
    """The 8x8 SMS API wire format (see the module docstring)."""

    name = "8x8"
    Config = EightByEightConfig
    wire_names = {
        "from": "payload.source",
        "to": "payload.destination",
        "text": "payload.body",
        "id": "payload.umid",
    }

    def check_config(self, config: EightByEightConfig, outbound: bool) -> None:
        """The sub-account id goes into the send URL: 3-50 of the characters 8x8 allows."""
        if config.subaccount_id and not SUBACCOUNT.match(config.subaccount_id):
            raise ConfigError(f"{self.env('subaccount_id')}: must be 3-50 of A-Z a-z 0-9 - . _ &")

    # POST /sms/8x8/inbound?token=...   Content-Type: application/json
    #   {"namespace": "SMS", "eventType": "inbound_message_received", "description": "SMS inbound message",
    #    "payload": {"umid": "9e09ac86-bd74-5465-851d-1eb5a5fdbb9a", "subAccountId": "lapor_hq",
    #      "timestamp": "2026-11-29T08:15:00.017Z", "source": "+6281234567890",
    #      "destination": "+628119001708", "body": "LAPOR jalan rusak", "encoding": "GSM7",
    #      "smsCount": 1, "price": {...}}}
    def parse_inbound(self, req: WireRequest) -> list[InboundSMS]:
        """One whole MO per webhook."""
        payload = _payload(req, MO_EVENT)
        text = payload.get("body")
        if not isinstance(text, str):
            raise InvalidPayload("payload.body", "is required (a string)")
        raw_time = payload.get("timestamp")
        return [
            InboundSMS(
                sender=_string(payload, "source", "payload.source"),
                to=_string(payload, "destination", "payload.destination"),
                text=text,
                external_id=_string(payload, "umid", "payload.umid"),
                sent_at=utc_timestamp(
                    raw_time if isinstance(raw_time, str) else None, "payload.timestamp", iso=True
                ),
            )
        ]

    # POST /sms/8x8/status?token=...   (the dlrCallbackUrl of the MT)
    #   {"namespace": "SMS", "eventType": "outbound_message_status_changed", "payload": {
    #     "umid": "9e09ac86-...", "clientMessageId": "42", "subAccountId": "lapor_hq",
    #     "source": "1708", "destination": "+6281234567890",
    #     "status": {"state": "undelivered", "detail": "rejected_by_operator", "timestamp":
    #       "2026-11-29T08:15:03Z", "errorCode": 15, "errorMessage": "Invalid destination"},
    #     "smsCount": 1}}
    def parse_status(self, req: WireRequest) -> list[StatusUpdate]:
        """One receipt, matched by our id in `clientMessageId`, else by 8x8's `umid`."""
        payload = _payload(req, DLR_EVENT)
        status = _object(payload.get("status"), "payload.status")
        state = _string(status, "state", "payload.status.state").strip().lower()
        detail = status.get("detail") if isinstance(status.get("detail"), str) else ""
        key = f"{state}/{detail.strip().lower()}"
        ours = dlr_status(DLR_STATUS, key if key in DLR_STATUS else state, "payload.status.state")
        raw = " ".join(str(v) for v in (state, detail, status.get("errorCode") or "") if v)
        client_id = payload.get("clientMessageId")
        if isinstance(client_id, str) and row_id(client_id) is not None:
            return [StatusUpdate(client_id.strip(), ours, raw, by_gateway_id=True)]
        return [StatusUpdate(_string(payload, "umid", "payload.umid").strip(), ours, raw)]

    # POST /api/v1/subaccounts/lapor_hq/messages   Authorization: Bearer <GATEWAY_8X8_API_KEY>
    #   {"destination": "+6281234567890", "text": "...", "source": "1708", "clientMessageId": "42",
    #    "encoding": "GSM7" (or "UCS2" only when a character needs it),
    #    "dlrCallbackUrl": "<our /sms/8x8/status?token=...>"}
    def build_send(self, sms: OutboundSMS, config: EightByEightConfig) -> SendRequest:
        """A JSON POST; the encoding chosen here (not AUTO) and our DLR URL on every MT."""
        path = f"/api/v1/subaccounts/{quote(config.subaccount_id, safe='')}/messages"
        body = {
            "destination": sms.to,
            "text": sms.text,
            "source": sms.sender,
            "clientMessageId": str(sms.gateway_id),
            "encoding": "GSM7" if is_gsm7(sms.text) else "UCS2",
            "dlrCallbackUrl": config.callback_url(self.name, "status"),
        }
        headers = {"Authorization": f"Bearer {config.api_key}", "Accept": "application/json"}
        return SendRequest(method="POST", url=config.endpoint(path), json=body, headers=headers)

    # 200 {"umid": "bda3d56d-1424-e711-813c-06ed3428fe67", "clientMessageId": "42",
    #      "destination": "6281234567890", "encoding": "GSM7",
    #      "status": {"code": "QUEUED", "description": "SMS is accepted and queued for processing"}}
    # 429 Retry-After: 1      400 {"code": 1002, "message": "Invalid MSISDN format ...", ...}
    def read_send_response(self, resp: SendResponse) -> str:
        """The `umid` of a QUEUED message; REJECTED is permanent; HTTP 429 (Retry-After) and
        5xx are retried, other 4xx permanent."""
        if not 200 <= resp.status_code < 300:
            raise classify_http_failure(resp)
        try:
            data = resp.json()
            status = data.get("status") or {}
            code = str(status.get("code") or status.get("state") or "").upper()
            umid = str(data.get("umid") or "").strip()
        except (ValueError, AttributeError):
            raise SendError("8x8 answered 2xx without JSON", retryable=False) from None
        if code != "QUEUED":
            description = redact_numbers(str(status.get("description") or status.get("errorMessage") or ""))
            raise SendError(
                f"8x8 refused: {code or 'no status'} {description[:120]}".strip(), retryable=False
            )
        if not umid:
            raise SendError("8x8 queued the MT without a umid", retryable=False)
        return umid

    def inbound_ack(self, gateway_ids: list[int], duplicate: bool) -> Ack:
        """200 with an empty body (8x8 retries any 4xx/5xx)."""
        return Ack(200, "", "text/plain; charset=utf-8")

    def status_ack(self) -> Ack:
        """200 with an empty body."""
        return Ack(200, "", "text/plain; charset=utf-8")
