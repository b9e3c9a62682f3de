"""Vonage (formerly Nexmo) SMS API: MO and delivery receipts by webhook (GET query, form POST or
JSON POST, as chosen in the Vonage dashboard), MT through `POST /sms/json`.

Documented (developer.vonage.com: "Inbound SMS", "Delivery receipts", "SMS API error codes",
"Signing messages"; payloads as recorded in nyaruka/courier's handlers/nexmo tests):
- MO fields: `msisdn` (sender, digits without +), `to` (our number), `messageId`, `text`,
  `type` (`text`, `unicode` or `binary`), `keyword`, `message-timestamp` (UTC,
  `YYYY-MM-DD HH:MM:SS`); a long SMS arrives part by part with `concat=true`, `concat-ref`,
  `concat-total`, `concat-part`. Vonage resends an MO for 24 h unless answered 200 or 204.
- DLR fields: `messageId`, `status` (`delivered`, `expired`, `failed`, `rejected`, `accepted`,
  `buffered`, `unknown`), `err-code`, `scts`, `client-ref` (our `client-ref` from the MT).
  A long MT gets one DLR per part, each with its own `messageId` and the same `client-ref`.
- MT answer: `messages[]`, one per part, each `status` "0" (accepted, with `message-id`) or an
  error code with `error-text`; code 1 (throttled) says "please wait [ <ms> ] and retry".
- Signed webhooks (when enabled on the account): `sig` over the other parameters sorted by
  name as `&name=value` (`&` and `=` in values replaced by `_`): MD5 of that string plus the
  signature secret ("MD5 hash", the default), or an HMAC (MD5, SHA1, SHA256, SHA512) of it
  keyed by the secret; `timestamp` (unix seconds) is among the signed parameters. Checked
  against the vector in Vonage's Python SDK tests.

Inferred (not stated by Vonage):
- Which HMAC the account uses is told apart by the signature's length (32, 40, 64 or 128 hex
  digits; a 32-digit one may be the MD5 hash or the MD5 HMAC), so no extra setting is needed.
- Our own `token` in the callback URL's query is not one of the parameters Vonage signs; both
  readings are accepted, since either needs the secret.
- A long MT's answer carries one status per part; the first non-zero one decides.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from urllib.parse import urlencode

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
from gateway.aggregators.codes import SendCode, dlr_status, send_error, utc_timestamp
from gateway.aggregators.generic import message_text, required
from gateway.aggregators.http_status import classify_http_failure, retry_after_seconds
from gateway.edge import row_id
from gateway.errors import CallbackRefused, InvalidPayload, SendError
from gateway.gsm7 import is_gsm7
from gateway.models import OutboundStatus

SEND_PATH = "/sms/json"
PART_FIELDS = ("concat-ref", "concat-part", "concat-total")
TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S",)

# DLR `status` -> ours (accepted/buffered are intermediate; the rest final).
DLR_STATUS = {
    "delivered": OutboundStatus.DELIVERED,
    "accepted": OutboundStatus.SENT,
    "buffered": OutboundStatus.SENT,
    "expired": OutboundStatus.EXPIRED,
    "failed": OutboundStatus.UNDELIVERED,
    "rejected": OutboundStatus.REJECTED,
    "unknown": OutboundStatus.UNKNOWN,
}

# `messages[].status` of the send answer, other than "0" (SMS API error codes table).
SEND_CODES = {
    "1": SendCode("Throttled", retryable=True, throttled=True),
    "2": SendCode("Missing Parameters"),
    "3": SendCode("Invalid Parameters"),
    "4": SendCode("Invalid Credentials"),
    "5": SendCode("Internal Error", retryable=True),
    "6": SendCode("Invalid Message"),
    "7": SendCode("Number Barred"),
    "8": SendCode("Partner Account Barred"),
    "9": SendCode("Partner Quota Violation"),  # no credit: an admin tops up and requeues
    "10": SendCode("Too Many Existing Binds", retryable=True),
    "11": SendCode("Account Not Enabled For HTTP"),
    "12": SendCode("Message Too Long"),
    "14": SendCode("Invalid Signature"),
    "15": SendCode("Invalid Sender Address"),
    "22": SendCode("Invalid Network Code"),
    "23": SendCode("Invalid Callback URL"),
    "29": SendCode("Non-Whitelisted Destination"),
    "32": SendCode("Signature And API Secret Disallowed"),
    "33": SendCode("Number De-activated"),
}

# Code 1's error-text: "Throughput Rate Exceeded - please wait [ 250 ] and retry" (milliseconds).
_WAIT_MS = re.compile(r"wait \[\s*(\d{1,7})\s*\]")
# HMAC digests by the length of their hex form; 32 is MD5 (hash or HMAC).
_HMAC_BY_LENGTH = {32: hashlib.md5, 40: hashlib.sha1, 64: hashlib.sha256, 128: hashlib.sha512}


@dataclass(frozen=True)
class VonageConfig(AggregatorConfig):
    """GATEWAY_VONAGE_*."""

    base_url: str = setting("https://rest.nexmo.com", url=True)
    api_key: str = setting("", required=True)
    api_secret: str = setting("", required=True, secret=True)
    # Optional: require signed webhooks (Dashboard > Settings > signature secret).
    signature_secret: str = setting("", secret=True)


def _value(raw) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return raw if isinstance(raw, str) else json.dumps(raw)


def signing_string(params: dict) -> str:
    """`&name=value` for each parameter but `sig`, sorted by name, `&`/`=` in values as `_`."""
    return "".join(
        f"&{k}={_value(params[k]).replace('&', '_').replace('=', '_')}" for k in sorted(params) if k != "sig"
    )


def signatures(params: dict, secret: str, length: int) -> list[str]:
    """The signatures (lower-case hex) Vonage could have made of `params` with `secret` that
    have `length` hex digits: the MD5 hash and/or the HMAC of that length."""
    text = signing_string(params).encode()
    found = []
    if length == 32:
        found.append(hashlib.md5(text + secret.encode()).hexdigest())  # noqa: S324 (Vonage's scheme)
    digest = _HMAC_BY_LENGTH.get(length)
    if digest is not None:
        found.append(hmac.new(secret.encode(), text, digest).hexdigest())
    return found


def _callback_params(req: WireRequest) -> dict:
    """The parameters Vonage sent: the JSON object, the form, or the query (GET)."""
    if isinstance(req.json, dict):
        return dict(req.json)
    return dict(req.form) if req.form else dict(req.query)


class Vonage(Aggregator):
    """The Vonage SMS API wire format (see the module docstring)."""

    name = "vonage"
    Config = VonageConfig
    wire_names = {"from": "msisdn", "id": "messageId"}

    def verify(self, req: WireRequest, config: VonageConfig, settings) -> str | None:
        """With a signature secret, `sig` must be Vonage's signature of the parameters and
        `timestamp` within GATEWAY_SIGNATURE_WINDOW; the signature is the replay key."""
        if not config.signature_secret:
            return None
        params = _callback_params(req)
        sig = str(params.get("sig") or "").strip().lower()
        if not sig:
            raise CallbackRefused("sig is required (GATEWAY_VONAGE_SIGNATURE_SECRET is set)")
        readings = [params]
        if "token" in params:  # our own token on a GET: signed or not (see the docstring)
            readings.append({k: v for k, v in params.items() if k != "token"})
        if not any(
            hmac.compare_digest(sig, good)
            for reading in readings
            for good in signatures(reading, config.signature_secret, len(sig))
        ):
            raise CallbackRefused("bad sig")
        try:
            stamp = int(str(params.get("timestamp") or "").strip())
        except ValueError:
            raise CallbackRefused("timestamp is required with sig") from None
        if abs(time.time() - stamp) > settings.signature_window:
            raise CallbackRefused("timestamp outside GATEWAY_SIGNATURE_WINDOW")
        return f"vonage:{sig}"

    # GET /sms/vonage/inbound?msisdn=6281234567890&to=1708&messageId=0B0000004B65F62F
    #     &text=LAPOR+jalan+rusak&type=text&keyword=LAPOR&message-timestamp=2026-11-29+08%3A15%3A00&token=...
    # (or the same as a form POST, or as JSON with "Content-Type: application/json")
    # One part of a long SMS adds: &concat=true&concat-ref=108&concat-total=2&concat-part=1
    def parse_inbound(self, req: WireRequest) -> list[InboundSMS]:
        """One MO (or one part of a long MO) per request; binary messages are refused."""
        kind = (req.field("type") or "text").strip().lower()
        if kind not in ("text", "unicode"):
            raise InvalidPayload("type", "must be text or unicode (binary SMS are not accepted)")
        text = message_text(req)
        return [
            InboundSMS(
                sender=required(req, "msisdn"),
                to=required(req, "to"),
                text=text,
                external_id=required(req, "messageId"),
                sent_at=utc_timestamp(req.field("message-timestamp"), "message-timestamp", TIMESTAMP_FORMATS),
                part=MessagePart.from_fields(*(req.field(name) for name in PART_FIELDS), names=PART_FIELDS),
            )
        ]

    # GET /sms/vonage/status?token=...&msisdn=6281234567890&to=1708&network-code=51010
    #     &messageId=0C0000002EEBDA56&price=0.01820000&status=delivered&scts=2611290815
    #     &err-code=0&client-ref=42&message-timestamp=2026-11-29+08%3A15%3A03
    def parse_status(self, req: WireRequest) -> list[StatusUpdate]:
        """One receipt. Matched by our id in `client-ref` (every part of a long MT carries it),
        else by Vonage's `messageId`."""
        status = dlr_status(DLR_STATUS, req.field("status"), "status")
        raw = f"{req.field('status').strip()} err-code={(req.field('err-code') or '').strip()}"
        ours = (req.field("client-ref") or "").strip()
        if ours and row_id(ours) is not None:
            return [StatusUpdate(ours, status, raw, by_gateway_id=True)]
        return [StatusUpdate(required(req, "messageId").strip(), status, raw)]

    # POST /sms/json   (form-encoded)
    #   api_key=...&api_secret=...&from=1708&to=6281234567890&text=...&type=unicode (only when
    #   the text needs UCS-2)&status-report-req=1&callback=<our /sms/vonage/status?token=...>&client-ref=42
    def build_send(self, sms: OutboundSMS, config: VonageConfig) -> SendRequest:
        """A form POST to /sms/json; our id as `client-ref`, our status URL as `callback`."""
        fields = {
            "api_key": config.api_key,
            "api_secret": config.api_secret,
            "from": sms.sender.lstrip("+"),
            "to": sms.to.lstrip("+"),
            "text": sms.text,
            "status-report-req": "1",
            "callback": config.callback_url(self.name, "status"),
            "client-ref": str(sms.gateway_id),
        }
        if not is_gsm7(sms.text):
            fields["type"] = "unicode"
        return SendRequest(
            method="POST",
            url=config.endpoint(SEND_PATH),
            data=urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )

    # 200 {"message-count": "1", "messages": [{"to": "6281234567890", "message-id": "0A00000012345678",
    #      "status": "0", "remaining-balance": "3.14", "message-price": "0.033", "network": "51010"}]}
    # 200 {"message-count": "1", "messages": [{"status": "1",
    #      "error-text": "Throughput Rate Exceeded - please wait [ 250 ] and retry"}]}
    def read_send_response(self, resp: SendResponse) -> str:
        """The first part's `message-id` when every part has status "0"; else the first
        refusal, classified by SEND_CODES (throttling's wait becomes retry_after)."""
        if not 200 <= resp.status_code < 300:
            raise classify_http_failure(resp)
        try:
            messages = resp.json()["messages"]
            statuses = [(str(m.get("status", "")).strip(), m) for m in messages]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise SendError("Vonage answered 2xx without messages[]", retryable=False) from None
        refused = next(((code, m) for code, m in statuses if code != "0"), None)
        if refused is not None:
            code, message = refused
            detail = str(message.get("error-text") or "")
            wait = _WAIT_MS.search(detail)
            retry_after = int(wait.group(1)) / 1000 if wait else retry_after_seconds(resp)
            raise send_error("Vonage", code, SEND_CODES, detail, retry_after)
        message_id = str(statuses[0][1].get("message-id") or "") if statuses else ""
        if not message_id:
            raise SendError("Vonage accepted without a message-id", retryable=False)
        return message_id

    def inbound_ack(self, gateway_ids: list[int], duplicate: bool) -> Ack:
        """200: Vonage counts only 200 and 204 as received (202 would be resent for 24 h)."""
        return Ack(200, "", "text/plain; charset=utf-8")

    def status_ack(self) -> Ack:
        """200 with an empty body."""
        return Ack(200, "", "text/plain; charset=utf-8")
