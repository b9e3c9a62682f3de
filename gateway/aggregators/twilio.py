"""Twilio Programmable Messaging: MO and status callbacks as form posts signed with
`X-Twilio-Signature`, MT through `POST /2010-04-01/Accounts/<sid>/Messages.json`.

Documented (twilio.com/docs: "Webhooks security", "Message resource", "TwiML for Programmable
Messaging", "Error and warning dictionary"; payloads as in nyaruka/courier handlers/twiml tests):
- MO form: `MessageSid, SmsSid, AccountSid, MessagingServiceSid, From, To, Body, NumSegments,
  NumMedia, FromCountry, ...`. A long SMS arrives once, joined, `NumSegments` its parts.
  Answered with TwiML; an empty `<Response/>` sends no reply SMS.
- Status callback form: `MessageSid, MessageStatus` (queued, sending, sent, delivered,
  undelivered, failed, ...), `ErrorCode` when it failed, to the `StatusCallback` URL of the MT.
- Signature: base64(HMAC-SHA1(auth token, URL Twilio called + each POST parameter, sorted by
  name, as name + value)). The URL is the one configured in Twilio, query included; behind a
  proxy the request's own Host is not it, so it is rebuilt from GATEWAY_PUBLIC_URL. Twilio's
  own validators also accept the URL with the default port added or removed: so do we.
- MT: form `To, From | MessagingServiceSid, Body, StatusCallback`, HTTP Basic (account SID,
  auth token); 201 with JSON `sid`. Errors are JSON `{"code", "message", "more_info", "status"}`:
  429 / 20429 (too many requests, never processed, safe to retry), 21211 (invalid To),
  21610 (recipient replied STOP), 21614 (To not mobile), 21408 (region not enabled), 20003
  (authentication). Twilio picks GSM-7 or UCS-2 itself from the Body: there is no flag.
Inferred:
- Our message id in the StatusCallback query (`id=`) matches a status to its MT even if the send
  answer was lost; a callback without it matches by MessageSid.
- Retry-After on a 429 is honoured when present (Twilio does not document one).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

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
from gateway.aggregators.codes import SendCode, dlr_status, send_error
from gateway.aggregators.generic import message_text, required_stripped
from gateway.aggregators.http_status import classify_http_failure, retry_after_seconds
from gateway.edge import row_id
from gateway.errors import CallbackRefused, ConfigError, InvalidPayload, SendError
from gateway.models import OutboundStatus

SIGNATURE_HEADER = "X-Twilio-Signature"
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

# MessageStatus -> ours. Twilio's own queue states before the carrier count as SENT, as
# courier does: our ACCEPTED already says Twilio took it; the raw status keeps the detail.
DLR_STATUS = {
    "accepted": OutboundStatus.SENT,
    "scheduled": OutboundStatus.SENT,
    "queued": OutboundStatus.SENT,
    "sending": OutboundStatus.SENT,
    "sent": OutboundStatus.SENT,  # handed to the carrier
    "delivered": OutboundStatus.DELIVERED,
    "read": OutboundStatus.DELIVERED,  # WhatsApp only
    "undelivered": OutboundStatus.UNDELIVERED,  # the carrier could not deliver it
    "failed": OutboundStatus.FAILED,  # never sent (queue overflow, bad number, STOP, ...)
    "canceled": OutboundStatus.FAILED,  # a scheduled message canceled
}

# The send API's error codes we act on; any other 4xx is permanent, 429 and 5xx retried.
ERROR_CODES = {
    "20429": SendCode("too many requests (not processed, safe to retry)", retryable=True, throttled=True),
    "20500": SendCode("Twilio internal error", retryable=True),
    "20503": SendCode("Twilio service unavailable", retryable=True),
    "20003": SendCode("authentication failed: check GATEWAY_TWILIO_ACCOUNT_SID/AUTH_TOKEN"),
    "21211": SendCode("invalid 'To' phone number"),
    "21408": SendCode("sending to this region is not enabled on the account"),
    "21610": SendCode("the recipient unsubscribed (replied STOP)"),
    "21614": SendCode("'To' is not a mobile number"),
}
DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class TwilioConfig(AggregatorConfig):
    """GATEWAY_TWILIO_*. `from_` (GATEWAY_TWILIO_FROM) is a Twilio number or an `MG...`
    Messaging Service SID. With the auth token set, every callback must carry a valid
    X-Twilio-Signature (besides the inbound token)."""

    base_url: str = setting("https://api.twilio.com", url=True)
    account_sid: str = setting("", required=True)
    auth_token: str = setting("", required=True, secret=True)
    from_: str = setting("", required=True)

    def messages_url(self) -> str:
        """The Messages resource of the account."""
        return self.endpoint(f"/2010-04-01/Accounts/{self.account_sid}/Messages.json")


def signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's request signature of `url` and the POST `params`."""
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signed_url(public_url: str, req: WireRequest) -> str:
    """The URL Twilio called: GATEWAY_PUBLIC_URL, our route's path (from /sms/ on, so a
    prefix a proxy strips does not matter) and the query exactly as received."""
    path = req.path
    route = path[path.rindex("/sms/") :] if "/sms/" in path else path
    query = req.raw_query.decode("latin-1")
    return public_url.rstrip("/") + route + (f"?{query}" if query else "")


def url_variants(url: str) -> list[str]:
    """`url`, and it with its default port removed or added (Twilio may sign either)."""
    parts = urlsplit(url)
    default = DEFAULT_PORTS.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    bare = urlunsplit(parts._replace(netloc=host))
    with_port = urlunsplit(parts._replace(netloc=f"{host}:{default}")) if default else url
    if parts.port is None:
        return [url, with_port]
    return [url, bare] if parts.port == default else [url]


class Twilio(Aggregator):
    """The Twilio wire format (see the module docstring)."""

    name = "twilio"
    wire_names = {"from": "From", "to": "To", "text": "Body", "id": "MessageSid"}
    Config = TwilioConfig

    def check_config(self, config: TwilioConfig, outbound: bool) -> None:
        """The account SID is Twilio's `AC` + 32 hex digits; a wrong one fails every send."""
        sid = config.account_sid
        if sid and not (sid.startswith("AC") and len(sid) == 34):
            raise ConfigError(f"{self.env('account_sid')}: must be a Twilio account SID (AC + 32 characters)")

    def verify(self, req: WireRequest, config: TwilioConfig, settings) -> str | None:
        """With GATEWAY_TWILIO_AUTH_TOKEN set, X-Twilio-Signature must match; it is the
        request's replay key (Twilio signs a retry identically)."""
        if not config.auth_token:
            return None
        given = (req.header(SIGNATURE_HEADER) or "").strip()
        if not given:
            raise CallbackRefused(f"missing {SIGNATURE_HEADER}")
        params = dict(req.form) if req.method == "POST" else {}
        url = signed_url(config.public_url or settings.public_url, req)
        for candidate in url_variants(url):
            if hmac.compare_digest(signature(config.auth_token, candidate, params), given):
                return f"twilio:{given}"
        raise CallbackRefused(f"bad {SIGNATURE_HEADER} (signed URL must be GATEWAY_PUBLIC_URL + path)")

    # POST /sms/twilio/inbound?token=...   application/x-www-form-urlencoded
    #   ToCountry=ID&SmsMessageSid=SMe287...&NumMedia=0&SmsSid=SMe287...&SmsStatus=received
    #   &Body=LAPOR+jalan+rusak&To=%2B6281100001708&NumSegments=1&MessageSid=SMe287...
    #   &AccountSid=AC...&From=%2B6281234567890&ApiVersion=2010-04-01
    #   X-Twilio-Signature: 0/KCTR6DLpKmkAf8muzZqo1nDgQ=
    def parse_inbound(self, req: WireRequest) -> list[InboundSMS]:
        """One MO per callback (a long SMS comes joined). Form fields, or the query when the
        console's webhook method is GET."""
        body = message_text(req, "Body")
        return [
            InboundSMS(
                sender=required_stripped(req, "From"),
                to=(req.field("To") or "").strip(),
                text=body,
                external_id=required_stripped(req, "MessageSid"),
            )
        ]

    # POST /sms/twilio/status?id=42&token=...   (the StatusCallback of MT 42)
    #   MessageSid=SM0b6e...&MessageStatus=delivered&To=%2B6281234567890&AccountSid=AC...
    #   MessageSid=SM0b6e...&MessageStatus=undelivered&ErrorCode=30003&...
    def parse_status(self, req: WireRequest) -> list[StatusUpdate]:
        """One status; by our id from the callback URL when there, else by MessageSid."""
        raw = (req.field("MessageStatus") or "").strip()
        status = dlr_status(DLR_STATUS, raw, "MessageStatus")
        code = (req.field("ErrorCode") or "").strip()
        raw_status = f"{raw} {code}"[:64] if code else raw
        ours = req.query.get("id") or ""
        if row_id(ours) is not None:
            return [StatusUpdate(ours, status, raw_status, by_gateway_id=True)]
        return [StatusUpdate(required_stripped(req, "MessageSid"), status, raw_status)]

    # POST <base>/2010-04-01/Accounts/AC.../Messages.json   Authorization: Basic sid:token
    #   To=%2B6281234567890&From=%2B1555...&Body=...
    #   &StatusCallback=https%3A%2F%2Fgw%2Fsms%2Ftwilio%2Fstatus%3Fid%3D42%26token%3D...
    def build_send(self, sms: OutboundSMS, config: TwilioConfig) -> SendRequest:
        """A form post; `From`, or `MessagingServiceSid` when GATEWAY_TWILIO_FROM is an MG SID."""
        sender_field = "MessagingServiceSid" if config.from_.startswith("MG") else "From"
        form = {
            "To": sms.to,
            sender_field: config.from_,
            "Body": sms.text,
            "StatusCallback": config.callback_url(self.name, "status", {"id": str(sms.gateway_id)}),
        }
        credentials = base64.b64encode(f"{config.account_sid}:{config.auth_token}".encode()).decode()
        return SendRequest(
            method="POST",
            url=config.messages_url(),
            data=urlencode(form).encode(),
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )

    # 201 {"sid": "SM...", "status": "queued", "num_segments": "1", ...}
    # 400 {"code": 21211, "message": "The 'To' number ... is not a valid phone number.",
    #      "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}
    def read_send_response(self, resp: SendResponse) -> str:
        """The message SID for a 2xx; Twilio's error code decides otherwise (ERROR_CODES),
        then the HTTP status (429/5xx retried, other 4xx permanent)."""
        try:
            data = resp.json()
        except ValueError:
            data = None
        if 200 <= resp.status_code < 300:
            sid = data.get("sid") if isinstance(data, dict) else None
            if not isinstance(sid, str) or not sid:
                raise SendError("2xx answer without a sid", retryable=False)
            return sid
        code = data.get("code") if isinstance(data, dict) else None
        if isinstance(code, int) and str(code) in ERROR_CODES:
            raise send_error("twilio", str(code), ERROR_CODES, retry_after=retry_after_seconds(resp))
        raise classify_http_failure(resp)

    def inbound_ack(self, gateway_ids: list[int], duplicate: bool) -> Ack:
        """An empty TwiML response: Twilio sends no SMS back (the reply goes through the API)."""
        return Ack(200, TWIML_EMPTY, "text/xml; charset=utf-8")

    def status_ack(self) -> Ack:
        """200 with an empty body."""
        return Ack(200, "", "text/plain; charset=utf-8")


def _required(req: WireRequest, name: str) -> str:
    value = (req.field(name) or "").strip()
    if not value:
        raise InvalidPayload(name, "is required")
    return value
