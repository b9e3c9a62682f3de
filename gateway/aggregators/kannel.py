"""Kannel (bearerbox + smsbox): MO from an `sms-service` get-url/post-url, MT through
`/cgi-bin/sendsms`, delivery reports through the `dlr-url` we put on every MT.

Everything below was checked against a real Kannel 1.4.5 (tests/support/kannel.py runs one;
tests/fixtures/kannel/ holds what it sent):

- The MO text arrives in the charset Kannel names in `%C`: `UTF-8` for GSM-7 messages
  (coding 0), `UTF-16BE` for UCS-2 ones (coding 2, raw UTF-16BE bytes url-encoded in the query
  and raw in the post-url body) unless smsbox has `mo-recode = true`, which turns UCS-2 into
  UTF-8 (coding 0). `8-BIT` for binary messages (coding 1).
- `%a` squeezes runs of white space into one `+`; the post-url body is the text as sent.
- `%I` is Kannel's message UUID; smsbox's HTTP retries (`http-request-retry`) repeat the very
  same URL, so it is a stable idempotency key.
- sendsms answers `202 0: Accepted for delivery` / `202 3: Queued for later delivery` and no
  message id, so the dlr-url carries our own id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote

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
from gateway.aggregators.generic import required_stripped
from gateway.aggregators.http_status import retry_after_seconds
from gateway.edge import check_sent_at, decode_text, row_id, text_codec
from gateway.errors import InvalidPayload, SendError
from gateway.gsm7 import is_gsm7
from gateway.models import OutboundStatus
from gateway.msisdn import redact_numbers

SENDSMS_PATH = "/cgi-bin/sendsms"


@dataclass(frozen=True)
class KannelConfig(AggregatorConfig):
    """GATEWAY_KANNEL_*. MT go to GATEWAY_KANNEL_SENDSMS_URL when it is set (the full URL, the
    contract's name), else to GATEWAY_KANNEL_BASE_URL + /cgi-bin/sendsms."""

    base_url: str = setting("http://127.0.0.1:13013", url=True)  # smsbox's sendsms-port
    sendsms_url: str = setting("", url=True)
    username: str = setting("", required=True)  # the sendsms-user group
    password: str = setting("", required=True, secret=True)
    smsc: str = setting("")  # route MT to this smsc-id

    @property
    def sendsms_endpoint(self) -> str:
        """Where sendsms requests go."""
        return self.sendsms_url or self.endpoint(SENDSMS_PATH)


# Kannel's DLR event types (%d) -> our DLR statuses.
DLR_STATUS = {
    "1": OutboundStatus.DELIVERED,  # delivered to the phone
    "2": OutboundStatus.UNDELIVERED,  # delivery failed
    "4": OutboundStatus.SENT,  # buffered at the SMSC (intermediate)
    "8": OutboundStatus.SENT,  # accepted by the SMSC
    "16": OutboundStatus.REJECTED,  # rejected by the SMSC
}

# %C when no charset was given, by %c (what Kannel itself assumes).
DEFAULT_CHARSET = {"0": "UTF-8", "1": "8-BIT", "2": "UTF-16BE"}
CHARSET_ALIASES = {"8-BIT": "latin-1", "BINARY": "latin-1", "UCS-2": "utf-16-be", "UCS2": "utf-16-be"}
RETRYABLE_STATUS = frozenset({408, 425, 429})
RETRYABLE_WORDS = ("queue", "temporal", "try again", "later")
_KEPT_ESCAPE = re.compile(rb"%([0-9A-F]{2})")
_CHARSET_PARAM = re.compile(r"charset\s*=\s*\"?([^\";\s]+)\"?", re.IGNORECASE)


def _raw_bytes(value: str) -> bytes:
    """The bytes behind a percent-decoded query value whose bytes were not UTF-8 (UTF-16BE text).
    Werkzeug keeps bytes that are not UTF-8 as `%XX` (undone here); a decoder using
    errors="surrogateescape" keeps them as lone surrogates (undone by the encode)."""
    raw = value.encode("utf-8", "surrogateescape")
    return _KEPT_ESCAPE.sub(lambda m: bytes.fromhex(m.group(1).decode()), raw)


def _codec(charset: str) -> str:
    """Kannel's charset name as a Python text codec; anything else is a 400 naming `charset`."""
    return text_codec(CHARSET_ALIASES.get(charset.upper(), charset))


def _charset(req: WireRequest, from_body: bool) -> str:
    if from_body:
        match = _CHARSET_PARAM.search(req.content_type or "")
        if match:
            return match.group(1)
    charset = (req.query.get("charset") or "").strip()
    return charset or DEFAULT_CHARSET.get((req.query.get("coding") or "0").strip(), "UTF-8")


def _query_bytes(req: WireRequest, name: str) -> bytes | None:
    """The exact bytes of one query field, from the raw query string when the web layer kept it."""
    raw = getattr(req, "raw_query", b"")
    if not raw:
        return None
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    return next((value.encode("latin-1") for key, value in pairs if key == name), None)


def _text(req: WireRequest) -> str:
    """The MO text: the post-url body when there is one (exact), else the `text` field (%a)."""
    if req.body and not req.form and req.json is None:
        return decode_text(req.body, _codec(_charset(req, from_body=True)))
    value = req.field("text")
    if value is None:
        raise InvalidPayload("text", "missing (add text=%a to the get-url)")
    codec = _codec(_charset(req, from_body=False))
    if codec == "utf-8":
        return value.encode("utf-8", "surrogateescape").decode("utf-8", errors="replace")
    raw = _query_bytes(req, "text") if not req.form else None
    if raw is not None:
        return decode_text(raw, codec)
    if "\ufffd" in value:
        raise InvalidPayload(
            "text", f"{codec} text was mangled by URL decoding; set mo-recode = true or use post-url"
        )
    return decode_text(_raw_bytes(value), codec)


def _sent_at(raw: str | None) -> datetime | None:
    if raw is None or not raw.strip():
        return None
    try:
        sent_at = datetime.fromtimestamp(int(raw.strip()), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidPayload("ts", f"not a unix timestamp: {raw[:20]!r}") from None
    return check_sent_at(sent_at, "ts")


class Kannel(Aggregator):
    """The Kannel wire format (see the module docstring and docs/kannel.conf.example)."""

    name = "kannel"
    Config = KannelConfig

    # get-url (all in the query; UCS-2 text is url-encoded UTF-16BE):
    #   GET /sms/kannel/inbound?from=6281234567890&to=1708&text=LAPOR+jalan+rusak
    #       &id=6315a1bf-dde9-4769-a998-c19bc283c6c8&ts=1795966036&coding=0&charset=UTF-8&token=...
    #   GET ...&text=%00L%00A%00P%00O%00R%00+%00%FC&...&coding=2&charset=UTF-16BE&token=...
    # post-url (same query, the exact text as the body, no X-Kannel-From unless send-sender):
    #   POST /sms/kannel/inbound?from=...&text=LAPOR+jalan+rusak&id=...&coding=0&charset=UTF-8&token=...
    #   Content-Type: text/plain; charset="UTF-8"      (or charset="UTF-16BE", raw UTF-16BE body)
    #   X-Kannel-To: 1708  X-Kannel-Time: 2026-11-29 15:27:19  X-Kannel-SMSC: fake
    #   X-Kannel-Coding: 0  X-Kannel-Service: default
    #
    #   LAPOR  jalan rusak di Jl. Sudirman no 5
    def parse_inbound(self, req: WireRequest) -> list[InboundSMS]:
        """One MO from a Kannel get-url or post-url callback."""
        sender = required_stripped(req, "from", "missing (add from=%p to the sms-service URL)")
        external_id = required_stripped(req, "id", "missing (add id=%I to the sms-service URL)")
        text = _text(req)
        return [
            InboundSMS(
                sender=sender,
                to=(req.field("to") or "").strip(),
                text=text,
                external_id=external_id,
                sent_at=_sent_at(req.field("ts")),
            )
        ]

    # dlr-url, as build_send writes it; Kannel fills %d (and %i), once per DLR event:
    #   GET /sms/kannel/status?id=42&status=8&smsc_id=fake&token=...   (SMSC accepted)
    #   GET /sms/kannel/status?id=42&status=1&smsc_id=fake&token=...   (delivered)
    def parse_status(self, req: WireRequest) -> list[StatusUpdate]:
        """One delivery report; `message_ref` is our gateway message id from the dlr-url."""
        ref = required_stripped(req, "id", "missing (the dlr-url must carry id=<gateway id>)")
        if row_id(ref) is None:
            raise InvalidPayload("id", "not a gateway message id")
        raw = required_stripped(req, "status", "missing (the dlr-url must carry status=%d)")
        status = DLR_STATUS.get(raw)
        if status is None:
            raise InvalidPayload("status", f"unknown Kannel DLR type {raw[:10]!r}")
        return [StatusUpdate(message_ref=ref, status=status, raw_status=raw, by_gateway_id=True)]

    def build_send(self, sms: OutboundSMS, config: KannelConfig) -> SendRequest:
        """GET /cgi-bin/sendsms with our message id in the dlr-url (sendsms gives no id)."""
        params = {
            "username": config.username,
            "password": config.password,
            "from": sms.sender,
            "to": sms.to,
            "text": sms.text,
            "charset": "UTF-8",
            "coding": "0" if is_gsm7(sms.text) else "2",
            "dlr-mask": "31",
            "dlr-url": self.dlr_url(sms.gateway_id, config),
        }
        if config.smsc:
            params["smsc"] = config.smsc
        return SendRequest(method="GET", url=config.sendsms_endpoint, params=params)

    @staticmethod
    def dlr_url(gateway_id: int, config: KannelConfig) -> str:
        """The dlr-url Kannel calls for every DLR event of message `gateway_id` (its %d and %i
        must stay literal, so not `config.callback_url`)."""
        base = config.public_url.rstrip("/")
        token = quote(config.inbound_token, safe="")
        return f"{base}/sms/kannel/status?id={int(gateway_id)}&status=%d&smsc_id=%i&token={token}"

    def read_send_response(self, resp: SendResponse) -> str:
        """ "" for `202 0: Accepted for delivery` / `202 3: Queued for later delivery` (any 2xx);
        SendError otherwise: retryable for 5xx, 408/425/429 and queue-full / try-later answers."""
        text = (resp.text or "").strip()
        if 200 <= resp.status_code < 300:
            return ""
        reason = f"Kannel sendsms answered {resp.status_code}: {redact_numbers(text)[:200]}"
        retryable = (
            resp.status_code >= 500
            or resp.status_code in RETRYABLE_STATUS
            or any(word in text.lower() for word in RETRYABLE_WORDS)
        )
        retry_after = retry_after_seconds(resp)
        # 429, or Kannel's own "queue full" answer (its store is over max-messages): too fast.
        throttled = resp.status_code == 429 or "queue" in text.lower()
        raise SendError(
            reason, retryable=retryable, retry_after=retry_after if retryable else None, throttled=throttled
        )

    def inbound_ack(self, gateway_ids: list[int], duplicate: bool) -> Ack:
        """202 with an empty body (the sms-service has max-messages = 0: no SMS is sent back)."""
        return Ack(202, "", "text/plain; charset=utf-8")

    def status_ack(self) -> Ack:
        """200 with an empty body."""
        return Ack(200, "", "text/plain; charset=utf-8")
