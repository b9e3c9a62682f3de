"""Dartmedia (Indonesian aggregator, dartmedia.biz): MO and DLR as GET calls to URLs set at
Dartmedia (through its sales agent: there is no self-service console), MT as a GET to
`/APIhttpU/receive2waysms.php`.

Documented by courier (nyaruka/courier handlers/dart, a handler written against Dartmedia's
spec, at 350e9350) and RapidPro (temba/channels/handlers.py DartMediaHandler, types/dartmedia):
- MO: `userid, password, original` (the sender), `sendto` (our number), `messagetype`,
  `messageid, message, date` (YYYYMMDDhhmmss), `dcs, udhl, charset` (sample in courier).
- DLR: `messageid` (the one we sent) and `status`: 10-12 delivered, above 20 failed, anything
  else sent (courier and RapidPro agree). Courier suffixes parts 2.. as `<id>.<n>`.
- MT: `userid, password, sendto, original, messageid, message, dcs, udhl` (and `charset`);
  the answer's first three characters are the code: `000` accepted, `001` authentication
  error, `101` account expired or invalid parameters.
Inferred (no public Dartmedia document; check with Dartmedia before relying on them):
- `date` is Jakarta time (WIB, UTC+7); `dcs=8` asks for UCS-2 with the text still UTF-8
  (`charset=utf-8`), as `dcs` mirrors SMPP data_coding.
- `udhl` > 0 means the message's first octets are a User Data Header (a long MO's part):
  read with gateway.aggregators.udh, the rest is the part's text.
- Other answer codes are permanent (nothing says they are temporary); 429 and 5xx retryable.
- MT: one request with the whole text. Courier cuts texts over 160 characters into separate
  SMS (no UDH, ids `<id>.2`...); here an MT is one request and one row (gateway.sender), our
  standard replies fit one SMS, and a notice of up to three segments sent as unlinked SMS could
  arrive out of order; so the whole text goes, for Dartmedia's SMSC to concatenate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

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
from gateway.aggregators.generic import required_stripped
from gateway.aggregators.http_status import classify_http_failure
from gateway.aggregators.udh import parse_udh
from gateway.edge import check_sent_at, decode_text, decode_urlencoded, row_id
from gateway.errors import InvalidPayload, SendError
from gateway.gsm7 import is_gsm7
from gateway.models import OutboundStatus
from gateway.msisdn import redact_numbers

SEND_PATH = "/APIhttpU/receive2waysms.php"
WIB = timezone(timedelta(hours=7))
ACK_BODY = "000"

# DLR `status` ranges (inclusive) -> our status, in order (courier's and RapidPro's rule).
DLR_RANGES = (
    (10, 12, OutboundStatus.DELIVERED),
    (21, 999, OutboundStatus.UNDELIVERED),
    (0, 20, OutboundStatus.SENT),
)
# MT answer codes other than 000 (documented meanings); all permanent.
SEND_ERRORS = {"001": "authentication error", "101": "account expired or invalid parameters"}


@dataclass(frozen=True)
class DartmediaConfig(AggregatorConfig):
    """GATEWAY_DARTMEDIA_*: the API host (courier's default) and the account."""

    base_url: str = setting("http://202.43.169.11", url=True)
    userid: str = setting("", required=True)
    password: str = setting("", required=True, secret=True)


def _sent_at(raw: str | None) -> datetime | None:
    if not raw or not raw.strip():
        return None
    try:
        local = datetime.strptime(raw.strip(), "%Y%m%d%H%M%S").replace(tzinfo=WIB)
    except ValueError:
        raise InvalidPayload("date", "must be YYYYMMDDhhmmss") from None
    return check_sent_at(local, "date")


def _message(req: WireRequest) -> tuple[str, MessagePart | None]:
    """The text (in `charset`) and, with `udhl` > 0, the part its leading UDH names."""
    charset = (req.field("charset") or "utf-8").strip() or "utf-8"
    udhl = (req.field("udhl") or "0").strip()
    if not udhl.isascii() or not udhl.isdigit() or len(udhl) > 3:
        raise InvalidPayload("udhl", "must be a number")
    if req.field("message") is None:
        raise InvalidPayload("message", "is required")
    octets = (decode_urlencoded(req.raw_query, "latin-1").get("message") or "").encode("latin-1")
    if req.form or not req.raw_query:  # not in the query: the field as decoded
        octets = (req.field("message") or "").encode("utf-8")
    part = None
    if int(udhl) > 0:
        udh = parse_udh(octets)
        if udh is None or int(udhl) not in (udh.length - 1, udh.length):
            raise InvalidPayload("udhl", "the message does not start with a header of that length")
        part = MessagePart.from_fields(udh.ref, udh.index, udh.total, names=("udhl", "udhl", "udhl"))
        octets = octets[udh.length :]
    return decode_text(octets, charset), part


class Dartmedia(Aggregator):
    """The Dartmedia wire format (module docstring; README "Dartmedia")."""

    name = "dartmedia"
    Config = DartmediaConfig
    wire_names = {"from": "original", "to": "sendto", "text": "message", "id": "messageid"}

    # GET /sms/dartmedia/inbound?token=...&userid=lapor&password=...&original=6285218761111
    #     &sendto=1708&messagetype=0&messageid=170503131327@170504131327@93456SMS9755064
    #     &message=LAPOR+jalan+rusak&date=20170503131559&dcs=0&udhl=0&charset=utf-8
    def parse_inbound(self, req: WireRequest) -> list[InboundSMS]:
        """One MO (or one part of a long one, when `udhl` says a header leads the message)."""
        sender, to = required_stripped(req, "original"), required_stripped(req, "sendto")
        external_id = required_stripped(req, "messageid")
        text, part = _message(req)
        sent_at = _sent_at(req.field("date"))
        return [InboundSMS(sender, to, text, external_id, sent_at=sent_at, part=part)]

    # GET /sms/dartmedia/status?token=...&messageid=42&status=10   (42: our id, as sent)
    def parse_status(self, req: WireRequest) -> list[StatusUpdate]:
        """One DLR, by our gateway message id (a `.n` part suffix is dropped)."""
        ref = required_stripped(req, "messageid").split(".")[0]
        if row_id(ref) is None:
            raise InvalidPayload("messageid", "not a gateway message id")
        raw = required_stripped(req, "status")
        if not raw.isascii() or not raw.isdigit() or len(raw) > 3:
            raise InvalidPayload("status", "must be a number")
        status = next(ours for low, high, ours in DLR_RANGES if low <= int(raw) <= high)
        return [StatusUpdate(message_ref=ref, status=status, raw_status=raw, by_gateway_id=True)]

    # GET {base}/APIhttpU/receive2waysms.php?userid=lapor&password=...&sendto=6281234567890
    #     &original=1708&messageid=42&message=Laporan+...&dcs=0&udhl=0&charset=utf-8
    def build_send(self, sms: OutboundSMS, config: DartmediaConfig) -> SendRequest:
        """The whole text in one GET; dcs 8 only when a character is not GSM-7."""
        params = {
            "userid": config.userid,
            "password": config.password,
            "sendto": sms.to.lstrip("+"),
            "original": sms.sender,
            "messageid": str(sms.gateway_id),
            "message": sms.text,
            "dcs": "0" if is_gsm7(sms.text) else "8",
            "udhl": "0",
            "charset": "utf-8",
        }
        return SendRequest(method="GET", url=config.endpoint(SEND_PATH), params=params)

    def read_send_response(self, resp: SendResponse) -> str:
        """ "" for `000` (DLRs name our id); SendError otherwise: 429/5xx retryable, any other
        HTTP error or answer code permanent."""
        if not 200 <= resp.status_code < 300:
            raise classify_http_failure(resp)
        code = (resp.text or "").strip()[:3]
        if code == ACK_BODY:
            return ""
        meaning = SEND_ERRORS.get(code, "unknown answer")
        raise SendError(f"Dartmedia answered {redact_numbers(code)!r}: {meaning}", retryable=False)

    def inbound_ack(self, gateway_ids: list[int], duplicate: bool) -> Ack:
        """`000`, as courier answers (also for a duplicate)."""
        return Ack(200, ACK_BODY, "text/plain; charset=utf-8")

    def status_ack(self) -> Ack:
        """`000`."""
        return Ack(200, ACK_BODY, "text/plain; charset=utf-8")
