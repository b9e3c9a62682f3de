"""The Africa's Talking SMS adapter over payloads recorded from its documentation and
nyaruka/courier's handler tests (tests/fixtures/africastalking/sms_*.json; the other files
there are Africa's Talking USSD)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

import pytest

from gateway.aggregators.africastalking import DLR_STATUS, AfricasTalking, AfricasTalkingConfig
from gateway.aggregators.base import InboundSMS, OutboundSMS, SendResponse, StatusUpdate
from gateway.errors import InvalidPayload, SendError
from gateway.gsm7 import segments
from tests.support.recorded import load, wire

AT = AfricasTalking()
CONFIG = AfricasTalkingConfig(base_url="http://127.0.0.1:9", username="lapor1708", api_key="at-key")
FOLDER = "africastalking"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "sms_mo_gsm7",
            InboundSMS(
                "+6281234567890",
                "1708",
                "LAPOR jalan rusak di Jl. Sudirman",
                "ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc3",
                datetime(2026, 11, 29, 8, 15, tzinfo=UTC),
            ),
            id="gsm7-iso-date",
        ),
        pytest.param(
            "sms_mo_ucs2",
            InboundSMS(
                "+6281234567890",
                "1708",
                "LAPOR sampah menumpuk “parah” 😷",
                "ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc4",
                datetime(2026, 11, 29, 8, 16, tzinfo=UTC),
            ),
            id="ucs2-space-date",
        ),
    ],
)
def test_recorded_mo(name, expected):
    assert AT.parse_inbound(wire(load(FOLDER, name))) == [expected]


def test_a_long_mo_arrives_whole():
    [sms] = AT.parse_inbound(wire(load(FOLDER, "sms_mo_long")))
    assert segments(sms.text) >= 2 and sms.part is None
    assert sms.text.startswith("LAPOR saluran air") and sms.text.endswith("sampai sekarang")


@pytest.mark.parametrize(
    ("name", "field"),
    [
        pytest.param("sms_mo_missing_text", "text", id="missing-text"),
        pytest.param("sms_mo_bad_date", "date", id="truncated-date"),
        pytest.param("sms_dlr_bogus", "status", id="unknown-dlr-status"),
        pytest.param("sms_dlr_missing_status", "status", id="missing-dlr-status"),
    ],
)
def test_recorded_bad_payloads_name_the_field(name, field):
    fx = load(FOLDER, name)
    parse = AT.parse_status if "/status" in fx["path"] else AT.parse_inbound
    with pytest.raises(InvalidPayload) as exc:
        parse(wire(fx))
    assert exc.value.field == field


def _with_body(fx: dict, **changes) -> dict:
    fields = dict(parse_qsl(fx["body"], keep_blank_values=True))
    fields.update(changes)
    return {**fx, "body": urlencode({k: v for k, v in fields.items() if v is not None})}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"from": ""}, "from", id="empty-from"),
        pytest.param({"id": None}, "id", id="missing-id"),
        pytest.param({"date": "2099-01-01T00:00:00Z"}, "date", id="date-years-ahead"),
    ],
)
def test_bad_mo_fields_are_named(changes, field):
    with pytest.raises(InvalidPayload) as exc:
        AT.parse_inbound(wire(_with_body(load(FOLDER, "sms_mo_gsm7"), **changes)))
    assert exc.value.field == field


@pytest.mark.parametrize(
    ("raw", "ours"), [pytest.param(raw, ours, id=raw) for raw, ours in DLR_STATUS.items()]
)
def test_every_dlr_status_maps_to_ours(raw, ours):
    [update] = AT.parse_status(wire(_with_body(load(FOLDER, "sms_dlr_success"), status=raw)))
    assert (update.status, update.message_ref, update.by_gateway_id) == (
        ours,
        "ATXid_dda018a640edfcc5d2ce455de3e4a6e7",
        False,
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "sms_dlr_success",
            StatusUpdate("ATXid_dda018a640edfcc5d2ce455de3e4a6e7", "DELIVERED", "Success"),
            id="success",
        ),
        pytest.param(
            "sms_dlr_failed",
            StatusUpdate("ATXid_dda018a640edfcc5d2ce455de3e4a6e7", "UNDELIVERED", "Failed UserInBlackList"),
            id="failed-with-reason-kept",
        ),
    ],
)
def test_recorded_dlr(name, expected):
    assert AT.parse_status(wire(load(FOLDER, name))) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Laporan diterima. Ketik CEK 12345678 untuk status.", id="gsm7"),
        pytest.param("Laporan “diterima” 🙏", id="ucs2-same-fields"),
    ],
)
def test_build_send_field_by_field(text):
    req = AT.build_send(OutboundSMS(42, "+6281234567890", "1708", text), CONFIG)
    assert (req.method, req.url) == ("POST", "http://127.0.0.1:9/version1/messaging")
    assert req.headers == {
        "apiKey": "at-key",
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    assert dict(parse_qsl(req.data.decode())) == {
        "username": "lapor1708",
        "to": "+6281234567890",
        "message": text,
        "from": "1708",
    }


def _resp(name: str) -> SendResponse:
    fx = load(FOLDER, name)
    return SendResponse(fx["status_code"], fx["text"], fx["headers"])


@pytest.mark.parametrize(
    ("name", "message_id"),
    [
        pytest.param("sms_send_sent", "ATXid_03cb5ecf11ce748794c0f9a85c276259", id="101-sent"),
        pytest.param("sms_send_queued", "ATXid_03cb5ecf11ce748794c0f9a85c27625a", id="102-queued"),
    ],
)
def test_send_accepted(name, message_id):
    assert AT.read_send_response(_resp(name)) == message_id


@pytest.mark.parametrize(
    ("name", "retryable", "throttled", "retry_after"),
    [
        pytest.param("sms_send_500", True, False, None, id="500-internal-retryable"),
        pytest.param("sms_send_501", True, False, None, id="501-gateway-retryable"),
        pytest.param("sms_send_http_429", True, True, 5.0, id="http-429-retry-after"),
        *[
            pytest.param(f"sms_send_{code}", False, False, None, id=f"{code}-permanent")
            for code in (401, 402, 403, 404, 405, 406, 407, 502)
        ],
        pytest.param("sms_send_http_401", False, False, None, id="http-401-bad-key"),
        pytest.param("sms_send_no_recipients", False, False, None, id="no-recipients"),
    ],
)
def test_send_refusals_are_classified(name, retryable, throttled, retry_after):
    with pytest.raises(SendError) as exc:
        AT.read_send_response(_resp(name))
    assert (exc.value.retryable, exc.value.throttled, exc.value.retry_after) == (
        retryable,
        throttled,
        retry_after,
    )


def test_a_refusal_names_the_code_and_never_the_number():
    with pytest.raises(SendError) as exc:
        AT.read_send_response(_resp("sms_send_403"))
    assert "403 InvalidPhoneNumber" in exc.value.reason and "6281234567890" not in exc.value.reason


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("not json", id="not-json"),
        pytest.param('{"SMSMessageData": {"Recipients": [{"statusCode": 101}]}}', id="no-message-id"),
        pytest.param('{"error": 1}', id="no-sms-message-data"),
    ],
)
def test_odd_2xx_answers_are_permanent_failures(body):
    with pytest.raises(SendError) as exc:
        AT.read_send_response(SendResponse(201, body, {}))
    assert exc.value.retryable is False
