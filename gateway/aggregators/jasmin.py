"""Jasmin SMS gateway (open source, jookies/jasmin): MO pushed by its HTTP client connector
(deliverSmHttpThrower), MT through its HTTP API `/send`, DLRs pushed to the `dlr-url` each MT
carries. Every push must be answered 200 with exactly `ACK/Jasmin`, or Jasmin throws it again.

Documented (docs.jasminsms.com "HTTP API", i.e. misc/doc/sources/apis/http/index.rst in
jookies/jasmin, and where the docs are silent its code, jasmin/routing/throwers.py,
protocols/http/endpoints/send.py and errors.py, managers/content.py, managers/listeners.py):
- MO fields `id` (a UUID), `from`, `to`, `origin-connector`, `priority`, `coding`, `validity`,
  `content` (the SMPP short_message octets as they came, not re-encoded) and `binary` (those
  octets in hex). Jasmin reassembles a long MO split with SAR options or an 8-bit-reference UDH
  and throws it once; it does not reassemble a 16-bit-reference UDH (listeners.py only knows
  `05 00 03`), so such parts arrive one by one with the header still on their octets.
- `coding` is thrown as SMPP data_coding, as a raw byte (%00, %08: its own test asserts
  b'\\x08') in Jasmin 0.9 and later; a decimal one is accepted too (courier's tests send "0").
- DLR fields `id` (the id `/send` answered), `message_status`, `level`, `connector`, and at
  level 2 `id_smsc, sub, dlvrd, subdate, donedate, err, text`. `message_status` is `ESME_*`
  (level 1: the submit_sm_resp status) or one of DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD,
  UNKNOWN, REJECTD (managers/content.py refuses anything else).
- `/send` answers `200 Success "<id>"`; errors `Error "..."` with 400 (bad arguments), 403
  (authentication, authorisation, charging, and "User throughput exceeded": the user's
  http_throughput quota), 412 (no route / no connector), 500 (could not send submit_sm), 503
  (interceptor down). `username` and `password` are at most 16 characters; `dlr=yes` needs
  `dlr-url`, `dlr-level` and `dlr-method`; `content` with coding 0 is encoded to GSM 03.38 by
  Jasmin; `hex-content` carries raw octets (UCS-2 here).
Inferred:
- coding 0 octets are GSM 03.38 one septet per octet (courier's recorded test decodes
  `%05v%05nement` as "événement"); an SMSC sending ASCII there reads the same for letters,
  digits and most punctuation.
- A 403 "throughput" answer is worth retrying after a pause; Jasmin gives no Retry-After.
"""

from __future__ import annotations

import re
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
from gateway.aggregators.generic import required_stripped
from gateway.aggregators.http_status import classify_http_failure
from gateway.aggregators.udh import bare_concat_header
from gateway.edge import decode_text
from gateway.errors import InvalidPayload, SendError
from gateway.gsm7 import decode_septets, is_gsm7
from gateway.models import OutboundStatus

SEND_PATH = "/send"
ACK_BODY = "ACK/Jasmin"
GSM = "gsm03.38"  # data_coding 0: decoded by gateway.gsm7.decode_septets, not a Python codec

# SMPP data_coding -> how the MO's octets are text (SMPP 3.4, 5.2.19). Others (2 and 4: 8-bit
# binary, 5/9/10/13/14: Japanese and Korean sets no Indonesian phone sends) are refused.
CODINGS = {0: GSM, 1: "ascii", 3: "latin-1", 6: "iso8859_5", 7: "iso8859_8", 8: "utf-16-be"}

# message_status -> our DLR status (documented values, managers/content.py).
DLR_STATUS = {
    "ESME_ROK": OutboundStatus.SENT,  # level 1: the SMSC accepted the submit_sm
    "ACCEPTD": OutboundStatus.SENT,
    "DELIVRD": OutboundStatus.DELIVERED,
    "UNDELIV": OutboundStatus.UNDELIVERED,
    "EXPIRED": OutboundStatus.EXPIRED,
    "REJECTD": OutboundStatus.REJECTED,
    "DELETED": OutboundStatus.FAILED,
    "UNKNOWN": OutboundStatus.UNKNOWN,
}
# Any other ESME_* is a level 1 DLR for a submit_sm the SMSC refused (ESME_RINVDSTADR, ...).
SUBMIT_REFUSED = ("ESME_", "REJECTED")

_SUCCESS = re.compile(r'^\s*Success\s+"([^"]+)"')
_THROUGHPUT = "throughput"  # 403 Error "User throughput exceeded" (ThroughputExceededError)


@dataclass(frozen=True)
class JasminConfig(AggregatorConfig):
    """GATEWAY_JASMIN_*: the HTTP API's address (Jasmin's default port 1401) and a Jasmin user."""

    base_url: str = setting("http://127.0.0.1:1401", url=True)
    username: str = setting("", required=True)
    password: str = setting("", required=True, secret=True)


def _coding(req: WireRequest) -> int:
    """data_coding from `coding`: a raw byte (what Jasmin throws) or decimal digits; absent: 0."""
    raw = req.field("coding")
    if raw is None or raw == "":
        return 0
    if len(raw) == 1 and not raw.isdigit():
        return ord(raw)
    if raw.isascii() and raw.isdigit() and len(raw) <= 3:
        return int(raw)
    raise InvalidPayload("coding", "must be an SMPP data_coding (a number 0-255)")


def _octets(req: WireRequest) -> bytes:
    """The message's octets: `binary` (hex, exact) when given, else `content` as it was decoded
    from the form (exact unless it was not UTF-8, which only `binary` can carry)."""
    binary = (req.field("binary") or "").strip()
    if binary:
        try:
            return bytes.fromhex(binary)
        except ValueError:
            raise InvalidPayload("binary", "is not hexadecimal") from None
    content = req.field("content")
    if content is None:
        raise InvalidPayload("content", "is required")
    if "\ufffd" in content:
        raise InvalidPayload("content", "octets are not UTF-8: send `binary` (Jasmin 0.9 and later do)")
    return content.encode("utf-8", "surrogateescape")


def decode(octets: bytes, coding: int) -> str:
    """The text of an MO's octets under SMPP data_coding `coding`; 400 naming `coding` for a
    coding that is not text."""
    codec = CODINGS.get(coding)
    if codec is None:
        raise InvalidPayload("coding", f"data_coding {coding} is not a text coding this gateway reads")
    if codec == GSM:
        return decode_septets(octets)
    return decode_text(octets, codec, field="coding")


class Jasmin(Aggregator):
    """The Jasmin HTTP API wire format (module docstring; README "Jasmin")."""

    name = "jasmin"
    Config = JasminConfig
    wire_names = {"text": "content"}  # `binary` carries the same octets when it is there

    # POST /sms/jasmin/inbound?token=...   (the HTTP client connector's baseurl; method POST)
    #   Content-Type: application/x-www-form-urlencoded   User-Agent: Jasmin gateway/1.0 deliverSmHttpThrower
    #   id=4a3c7e0e-...&from=6281234567890&to=1708&origin-connector=telkomsel&priority=0
    #   &coding=%00&validity=none&content=LAPOR+jalan+rusak&binary=4c41504f52206a616c616e207275736163
    # UCS-2: coding=%08, content = the raw UTF-16BE octets, binary = their hex.
    def parse_inbound(self, req: WireRequest) -> list[InboundSMS]:
        """One MO (a long one already joined by Jasmin, or one part carrying its UDH)."""
        sender, to, external_id = (
            required_stripped(req, "from"),
            required_stripped(req, "to"),
            required_stripped(req, "id"),
        )
        octets, coding = _octets(req), _coding(req)
        part, udh = None, bare_concat_header(octets)
        if udh is not None:
            names = ("binary", "binary", "binary")
            part = MessagePart.from_fields(udh.ref, udh.index, udh.total, names=names)
            octets = octets[udh.length :]
        return [
            InboundSMS(sender=sender, to=to, text=decode(octets, coding), external_id=external_id, part=part)
        ]

    # POST /sms/jasmin/status?token=...   (the dlr-url of the MT; dlr-method POST)
    #   level 1: id=<send id>&message_status=ESME_ROK&level=1&connector=telkomsel
    #   level 2: id=<send id>&id_smsc=2567&message_status=DELIVRD&level=2&connector=telkomsel
    #            &sub=001&dlvrd=001&subdate=2611291527&donedate=2611291528&err=000&text=Laporan+12345678
    def parse_status(self, req: WireRequest) -> list[StatusUpdate]:
        """One DLR, by the id `/send` answered."""
        ref = required_stripped(req, "id")
        raw = required_stripped(req, "message_status").upper()
        status = DLR_STATUS.get(raw)
        if status is None and raw.startswith(SUBMIT_REFUSED[0]):
            status = SUBMIT_REFUSED[1]
        if status is None:
            raise InvalidPayload("message_status", f"unknown Jasmin status {raw[:12]!r}")
        return [StatusUpdate(message_ref=ref, status=status, raw_status=raw)]

    # POST {base}/send   (form; the password stays out of URLs and access logs)
    #   username=gateway&password=...&to=6281234567890&from=1708&coding=0&content=Laporan+...
    #   &dlr=yes&dlr-url=https://gw/sms/jasmin/status?token=...&dlr-level=3&dlr-method=POST
    # UCS-2: coding=8&hex-content=<UTF-16BE hex> instead of content.
    def build_send(self, sms: OutboundSMS, config: JasminConfig) -> SendRequest:
        """GSM-7 text as `content` with coding 0 (Jasmin packs it); anything else as UCS-2
        octets in `hex-content` with coding 8. DLRs at both levels, POSTed to our status route."""
        params = {
            "username": config.username,
            "password": config.password,
            "to": sms.to.lstrip("+"),  # SMPP addresses are digits (courier strips it too)
            "from": sms.sender,
            "dlr": "yes",
            "dlr-url": config.callback_url(self.name, "status"),
            "dlr-level": "3",  # SMSC acceptance (SENT) and handset delivery
            "dlr-method": "POST",
        }
        if is_gsm7(sms.text):
            params.update(coding="0", content=sms.text)
        else:
            params.update({"coding": "8", "hex-content": sms.text.encode("utf-16-be").hex()})
        return SendRequest(
            method="POST",
            url=config.endpoint(SEND_PATH),
            data=urlencode(params).encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def read_send_response(self, resp: SendResponse) -> str:
        """Jasmin's message id from `Success "<id>"`; SendError otherwise: 403 "throughput" is
        throttling (retryable, every worker pauses), 429/5xx retryable, other 4xx permanent."""
        if 200 <= resp.status_code < 300:
            match = _SUCCESS.match(resp.text or "")
            if match is None:
                # Accepted, but its DLRs could never be matched; a resend would duplicate it.
                raise SendError('2xx answer without Success "<id>"', retryable=False)
            return match.group(1)
        error = classify_http_failure(resp)
        if resp.status_code == 403 and _THROUGHPUT in (resp.text or "").lower():
            raise SendError(error.reason, retryable=True, throttled=True)
        raise error

    def inbound_ack(self, gateway_ids: list[int], duplicate: bool) -> Ack:
        """`ACK/Jasmin` (also for a duplicate: anything else and Jasmin throws it again)."""
        return Ack(200, ACK_BODY, "text/plain; charset=utf-8")

    def status_ack(self) -> Ack:
        """`ACK/Jasmin`."""
        return Ack(200, ACK_BODY, "text/plain; charset=utf-8")
