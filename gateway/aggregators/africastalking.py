"""Africa's Talking SMS: MO and delivery reports POSTed (form-encoded) to the callback URLs set in
its dashboard, MT through `POST /version1/messaging`. (USSD from Africa's Talking is another
wire format: gateway/ussd/africastalking.py.)

Documented (africastalking.com docs "SMS notifications" / "Delivery reports" / "Sending
messages"; payloads as recorded in nyaruka/courier's handlers/africastalking tests):
- MO fields: `from` (sender, +E.164), `to` (our short code), `text`, `id` (unique), `date`
  (`2017-05-03T06:04:45Z`, or `2017-05-03 06:04:45` in courier's recordings), `linkId` (for
  premium on-demand replies), `networkCode`.
- DLR fields: `id` (the messageId of the send answer), `status` (`Sent`, `Submitted`,
  `Buffered`, `Rejected`, `Success`, `Failed`), `phoneNumber`, `networkCode`, `failureReason`
  (only with Rejected or Failed: `InsufficientCredit`, `UserInBlackList`, `DeliveryFailure`...).
- MT: form `username`, `to`, `message`, `from`; headers `apiKey`, `Accept: application/json`.
  Answer `SMSMessageData.Recipients[]` with `statusCode` 100 Processed, 101 Sent, 102 Queued
  (accepted, `messageId`), 401 RiskHold, 402 InvalidSenderId, 403 InvalidPhoneNumber, 404
  UnsupportedNumberType, 405 InsufficientBalance, 406 UserInBlacklist, 407 CouldNotRoute,
  500 InternalServerError, 501 GatewayError, 502 RejectedByGateway.

Inferred (not stated by Africa's Talking):
- `Expired` as a DLR status (courier maps it; the docs do not list it).
- A long MO arrives whole (no concatenation fields are documented).
- The send API has no encoding parameter: it encodes by the text, so a reply that fits GSM-7
  goes as GSM-7 (the outbox counts its segments either way).
- Which refusal codes a retry can fix: 500 and 501 (server, gateway); the others need a change
  of number, sender, balance or account, so they fail visibly for an admin to requeue.
- Callbacks are answered 200 (any 2xx is taken as received).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

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
from gateway.aggregators.codes import SendCode, dlr_status, send_error, utc_timestamp
from gateway.aggregators.generic import message_text, required
from gateway.aggregators.http_status import classify_http_failure, retry_after_seconds
from gateway.errors import SendError
from gateway.models import OutboundStatus

SEND_PATH = "/version1/messaging"
DATE_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S")

# DLR `status` -> ours.
DLR_STATUS = {
    "Sent": OutboundStatus.SENT,  # sent by Africa's Talking's network
    "Submitted": OutboundStatus.SENT,  # submitted to the operator
    "Buffered": OutboundStatus.SENT,  # queued by the operator
    "Success": OutboundStatus.DELIVERED,  # final
    "Rejected": OutboundStatus.REJECTED,  # final
    "Failed": OutboundStatus.UNDELIVERED,  # final
    "Expired": OutboundStatus.EXPIRED,  # inferred (courier)
}

ACCEPTED_CODES = frozenset({"100", "101", "102"})  # Processed, Sent, Queued
# Recipients[].statusCode refusals.
SEND_CODES = {
    "401": SendCode("RiskHold"),
    "402": SendCode("InvalidSenderId"),
    "403": SendCode("InvalidPhoneNumber"),
    "404": SendCode("UnsupportedNumberType"),
    "405": SendCode("InsufficientBalance"),  # an admin tops up and requeues
    "406": SendCode("UserInBlacklist"),
    "407": SendCode("CouldNotRoute"),
    "500": SendCode("InternalServerError", retryable=True),
    "501": SendCode("GatewayError", retryable=True),
    "502": SendCode("RejectedByGateway"),
}


@dataclass(frozen=True)
class AfricasTalkingConfig(AggregatorConfig):
    """GATEWAY_AFRICASTALKING_* (sandbox: base https://api.sandbox.africastalking.com,
    username `sandbox`)."""

    base_url: str = setting("https://api.africastalking.com", url=True)
    username: str = setting("", required=True)
    api_key: str = setting("", required=True, secret=True)


class AfricasTalking(Aggregator):
    """The Africa's Talking SMS wire format (see the module docstring)."""

    name = "africastalking"
    Config = AfricasTalkingConfig

    # POST /sms/africastalking/inbound?token=...   (application/x-www-form-urlencoded)
    #   linkId=03090445075804249226&text=LAPOR+jalan+rusak&to=1708
    #   &id=ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc3&date=2026-11-29T08%3A15%3A00Z&from=%2B6281234567890
    #   &networkCode=51010
    def parse_inbound(self, req: WireRequest) -> list[InboundSMS]:
        """One whole MO per request."""
        text = message_text(req)
        return [
            InboundSMS(
                sender=required(req, "from"),
                to=required(req, "to"),
                text=text,
                external_id=required(req, "id"),
                sent_at=utc_timestamp(req.field("date"), "date", DATE_FORMATS),
            )
        ]

    # POST /sms/africastalking/status?token=...
    #   id=ATXid_dda018a640edfcc5d2ce455de3e4a6e7&status=Failed&phoneNumber=%2B6281234567890
    #   &networkCode=51010&failureReason=UserInBlackList&retryCount=0
    def parse_status(self, req: WireRequest) -> list[StatusUpdate]:
        """One report, matched by the messageId the send answer gave."""
        status = dlr_status(DLR_STATUS, req.field("status"), "status")
        raw = req.field("status").strip()
        reason = (req.field("failureReason") or "").strip()
        if reason:
            raw = f"{raw} {reason}"
        return [StatusUpdate(required(req, "id").strip(), status, raw)]

    # POST /version1/messaging   apiKey: ...   Accept: application/json
    #   username=lapor1708&to=%2B6281234567890&message=...&from=1708
    def build_send(self, sms: OutboundSMS, config: AfricasTalkingConfig) -> SendRequest:
        """A form POST; Africa's Talking picks GSM-7 or UCS-2 by the text itself."""
        fields = {"username": config.username, "to": sms.to, "message": sms.text, "from": sms.sender}
        return SendRequest(
            method="POST",
            url=config.endpoint(SEND_PATH),
            data=urlencode(fields).encode(),
            headers={
                "apiKey": config.api_key,
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )

    # 201 {"SMSMessageData": {"Message": "Sent to 1/1 Total Cost: IDR 300.0000", "Recipients": [
    #      {"statusCode": 101, "number": "+6281234567890", "status": "Success",
    #       "cost": "IDR 300.0000", "messageId": "ATXid_03cb5ecf11ce748794c0f9a85c276259"}]}}
    def read_send_response(self, resp: SendResponse) -> str:
        """The recipient's messageId for 100/101/102; else its statusCode classified by
        SEND_CODES. HTTP 429 and 5xx are retried (with Retry-After when given)."""
        if not 200 <= resp.status_code < 300:
            raise classify_http_failure(resp)
        try:
            data = resp.json()["SMSMessageData"]
            recipients = data.get("Recipients") or []
        except (ValueError, KeyError, TypeError, AttributeError):
            raise SendError("Africa's Talking answered 2xx without SMSMessageData", retryable=False) from None
        if not recipients:  # nothing sent; Message says why ("InvalidSenderId", ...)
            raise send_error("Africa's Talking", "none", SEND_CODES, str(data.get("Message") or ""))
        first = recipients[0]
        code = str(first.get("statusCode", "")).strip()
        if code not in ACCEPTED_CODES:
            detail = str(first.get("status") or "")
            raise send_error("Africa's Talking", code, SEND_CODES, detail, retry_after_seconds(resp))
        message_id = str(first.get("messageId") or "").strip()
        if not message_id or message_id == "None":
            raise SendError("Africa's Talking accepted without a messageId", retryable=False)
        return message_id

    def inbound_ack(self, gateway_ids: list[int], duplicate: bool) -> Ack:
        """200 with an empty body."""
        return Ack(200, "", "text/plain; charset=utf-8")

    def status_ack(self) -> Ack:
        """200 with an empty body."""
        return Ack(200, "", "text/plain; charset=utf-8")
