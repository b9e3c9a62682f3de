"""Infobip: MO and delivery reports pushed as JSON `results[]`, MT through `POST /sms/3/messages`
with `Authorization: App <GATEWAY_INFOBIP_API_KEY>`. No native signature: the inbound token
goes in the URLs configured in Infobip's portal (MO) and in every MT's delivery webhook (DLR).

Documented (infobip.com/docs, "Receive inbound SMS messages", "Receive outbound SMS message
report", "Send SMS message" v3, "Message status codes", "Rate limits and throttling"):
- MO push (format MO_JSON_2): `{"results": [{messageId, from, to, text, cleanText, keyword,
  receivedAt, smsCount, price, callbackData}], "messageCount", "pendingMessageCount"}`;
  `receivedAt` is `yyyy-MM-dd'T'HH:mm:ss.SSSZ` (`+0000`). A long SMS arrives once, joined,
  with `smsCount` its parts. Our callback answers 200.
- DLR: `{"results": [{bulkId, messageId, to, sentAt, doneAt, smsCount, callbackData, price,
  status{groupId, groupName, id, name, description}, error{..., permanent}}]}`, up to 100 a
  request. Status groups: 1 PENDING, 2 UNDELIVERABLE, 3 DELIVERED, 4 EXPIRED, 5 REJECTED;
  `DELIVERED_TO_OPERATOR` (group DELIVERED) is intermediate, `DELIVERED_TO_HANDSET` final.
- MT: `{"messages": [{"sender", "destinations": [{"to"}], "content": {"text"},
  "webhooks": {"delivery": {"url"}, "contentType"}}]}`; the answer's
  `messages[0].messageId` names the message in its DLRs, `messages[0].status` is its first
  status (PENDING, or REJECTED for a message refused at once). 429 `{"errorCode": "E429"}` when
  throttled. Infobip picks UCS-2 by itself when a character needs it: there is no flag to set.
Inferred (not stated by the pages we had, or taken from nyaruka/courier's handler):
- `webhooks.callbackData` (our gateway id) comes back in the DLR's `callbackData`, so a DLR
  matches its MT even if the send answer was lost; without it we match by `messageId`.
- `to` is sent without the `+` (courier's handler, and every documented example).
- Retry-After on a 429 is honoured when present (not documented either way).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

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
from gateway.aggregators.codes import dlr_status
from gateway.aggregators.generic import parse_iso_timestamp
from gateway.aggregators.http_status import classify_http_failure
from gateway.edge import row_id
from gateway.errors import InvalidPayload, SendError
from gateway.models import OutboundStatus

SEND_PATH = "/sms/3/messages"

# status.groupName -> ours; status.name refines it where the group alone misleads.
DLR_GROUPS = {
    "PENDING": OutboundStatus.SENT,  # with the operator, not yet confirmed
    "DELIVERED": OutboundStatus.DELIVERED,
    "UNDELIVERABLE": OutboundStatus.UNDELIVERED,
    "EXPIRED": OutboundStatus.EXPIRED,  # validity period (48 h) passed
    "REJECTED": OutboundStatus.REJECTED,  # by Infobip or the operator, before sending
}
DLR_NAMES = {"DELIVERED_TO_OPERATOR": OutboundStatus.SENT}  # group DELIVERED, yet intermediate
# Status groups of an accepted send (the answer's messages[0].status.groupId).
ACCEPTED_GROUPS = frozenset({1, 3})  # PENDING, DELIVERED


@dataclass(frozen=True)
class InfobipConfig(AggregatorConfig):
    """GATEWAY_INFOBIP_*. The base URL is the account's own (`xxxxx.api.infobip.com`, shown in
    Infobip's portal); the shared `api.infobip.com` works too."""

    base_url: str = setting("https://api.infobip.com", url=True)
    api_key: str = setting("", required=True, secret=True)


def _results(req: WireRequest) -> list[dict[str, Any]]:
    """The `results` array of a JSON callback, each entry an object."""
    data = req.json
    if not isinstance(data, dict):
        raise InvalidPayload("body", "must be a JSON object with results[]")
    results = data.get("results")
    if not isinstance(results, list):
        raise InvalidPayload("results", "must be an array")
    for i, entry in enumerate(results):
        if not isinstance(entry, dict):
            raise InvalidPayload(f"results[{i}]", "must be an object")
    return results


def _string(entry: dict, i: int, name: str, required: bool = True) -> str:
    """results[i].<name> as a string: missing (when required), non-string or blank is a 400."""
    value = entry.get(name)
    if value is None and not required:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidPayload(f"results[{i}].{name}", "must be a string")
    value = str(value)
    if required and not value.strip():
        raise InvalidPayload(f"results[{i}].{name}", "is required")
    return value


def _object(entry: dict, i: int, name: str) -> dict:
    value = entry.get(name)
    if not isinstance(value, dict):
        raise InvalidPayload(f"results[{i}].{name}", "must be an object")
    return value


class Infobip(Aggregator):
    """The Infobip wire format (see the module docstring)."""

    name = "infobip"
    wire_names = {
        "from": "results[].from",
        "to": "results[].to",
        "text": "results[].text",
        "id": "results[].messageId",
    }
    Config = InfobipConfig

    # POST /sms/infobip/inbound?token=...   Content-Type: application/json
    #   {"results": [{"messageId": "817790313235066447", "from": "6281234567890",
    #     "to": "1708", "text": "LAPOR jalan rusak", "cleanText": "jalan rusak",
    #     "keyword": "LAPOR", "receivedAt": "2026-11-29T08:15:00.220+0000", "smsCount": 1,
    #     "price": {"pricePerMessage": 0, "currency": "IDR"}}],
    #    "messageCount": 1, "pendingMessageCount": 0}
    def parse_inbound(self, req: WireRequest) -> list[InboundSMS]:
        """Every MO of the push; `text` (not `cleanText`: our parser wants the keyword)."""
        messages = []
        for i, entry in enumerate(_results(req)):
            messages.append(
                InboundSMS(
                    sender=_string(entry, i, "from"),
                    to=_string(entry, i, "to", required=False),
                    text=_string(entry, i, "text", required=False),
                    external_id=_string(entry, i, "messageId"),
                    sent_at=parse_iso_timestamp(
                        _string(entry, i, "receivedAt", required=False), f"results[{i}].receivedAt"
                    ),
                )
            )
        return messages

    # POST /sms/infobip/status?token=...   Content-Type: application/json
    #   {"results": [{"bulkId": "BULK-1", "messageId": "4237823001", "to": "6281234567890",
    #     "sentAt": "...", "doneAt": "...", "smsCount": 1, "callbackData": "42",
    #     "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5,
    #                "name": "DELIVERED_TO_HANDSET", "description": "Message delivered to handset"},
    #     "error": {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR", "permanent": false}}]}
    def parse_status(self, req: WireRequest) -> list[StatusUpdate]:
        """One update per result: by our id from `callbackData` when it is one, else by
        Infobip's `messageId`."""
        updates = []
        for i, entry in enumerate(_results(req)):
            status = _object(entry, i, "status")
            group = status.get("groupName")
            name = status.get("name") if isinstance(status.get("name"), str) else ""
            ours = DLR_NAMES.get(name) or dlr_status(
                DLR_GROUPS, group if isinstance(group, str) else None, f"results[{i}].status.groupName"
            )
            raw = " ".join(filter(None, [name or str(group), _error_name(entry)]))
            callback = entry.get("callbackData")
            if isinstance(callback, str) and row_id(callback) is not None:
                updates.append(StatusUpdate(callback, ours, raw, by_gateway_id=True))
            else:
                updates.append(StatusUpdate(_string(entry, i, "messageId"), ours, raw))
        return updates

    # POST <base>/sms/3/messages   Authorization: App <key>
    #   {"messages": [{"sender": "1708", "destinations": [{"to": "6281234567890"}],
    #     "content": {"text": "..."},
    #     "webhooks": {"delivery": {"url": "<public>/sms/infobip/status?token=..."},
    #                  "contentType": "application/json", "callbackData": "42"}}]}
    def build_send(self, sms: OutboundSMS, config: InfobipConfig) -> SendRequest:
        """One message to one destination, its delivery reports to our status route."""
        message = {
            "sender": sms.sender,
            "destinations": [{"to": sms.to.lstrip("+")}],
            "content": {"text": sms.text},
            "webhooks": {
                "delivery": {"url": config.callback_url(self.name, "status")},
                "contentType": "application/json",
                "callbackData": str(sms.gateway_id),
            },
        }
        return SendRequest(
            method="POST",
            url=config.endpoint(SEND_PATH),
            json={"messages": [message]},
            headers={"Authorization": f"App {config.api_key}", "Accept": "application/json"},
        )

    # 200 {"bulkId": "...", "messages": [{"messageId": "4237823001", "destination": "62812...",
    #      "status": {"groupId": 1, "groupName": "PENDING", "id": 26, "name": "PENDING_ACCEPTED"}}]}
    # 429 {"errorCode": "E429", "description": "Too many requests sent.", ...}
    def read_send_response(self, resp: SendResponse) -> str:
        """Infobip's messageId for a 2xx whose message is PENDING or DELIVERED; a message it
        REJECTED (or any other group) is permanent; 429 and 5xx are retried."""
        if not 200 <= resp.status_code < 300:
            raise classify_http_failure(resp)
        try:
            message = resp.json()["messages"][0]
            status = message.get("status") or {}
            message_id = message.get("messageId")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise SendError("2xx answer without messages[0]", retryable=False) from None
        if status.get("groupId") not in ACCEPTED_GROUPS:
            raise SendError(f"refused: {str(status.get('name'))[:60]}", retryable=False)
        if not isinstance(message_id, str) or not message_id:
            # Accepted, but its DLRs could only match by callbackData; resending would
            # duplicate the SMS, so it is accepted without an id.
            return ""
        return message_id

    def inbound_ack(self, gateway_ids: list[int], duplicate: bool) -> Ack:
        """200 (Infobip's documented success answer) with our ids."""
        body = {"status": "duplicate" if duplicate else "accepted", "ids": gateway_ids}
        return Ack(200, json.dumps(body), "application/json")


def _error_name(entry: dict) -> str:
    """The DLR's error name when it reports one (kept in raw_status for admins)."""
    error = entry.get("error")
    if isinstance(error, dict) and error.get("id") not in (0, None) and isinstance(error.get("name"), str):
        return error["name"]
    return ""
