"""The Infobip wire format over payloads from Infobip's documentation (tests/fixtures/infobip/,
each file names its source), and its send request and answer rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from gateway.aggregators.base import InboundSMS, OutboundSMS, SendResponse, StatusUpdate
from gateway.aggregators.infobip import DLR_GROUPS, Infobip, InfobipConfig
from gateway.errors import InvalidPayload, SendError
from gateway.gsm7 import is_gsm7
from tests.support.recorded import load, wire

INFOBIP = Infobip()
AT = datetime(2026, 11, 29, 8, 15, 0, 220000, tzinfo=UTC)
RESPONSES = load("infobip", "send_responses")
CONFIG = InfobipConfig(
    base_url="https://xyz12.api.infobip.com/",
    api_key="ib-key",
    public_url="https://gateway.example.id/",
    inbound_token="tok/en+1",
)


def response(name: str) -> SendResponse:
    r = RESPONSES[name]
    return SendResponse(r["status_code"], r["text"], r["headers"])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "mo_documented",
            [
                InboundSMS(
                    "385916242493",
                    "385921004026",
                    "QUIZ Correct answer is Paris",
                    "817790313235066447",
                    datetime(2016, 10, 6, 9, 28, 39, 220000, tzinfo=UTC),
                )
            ],
            id="documented-sample-keyword-kept",
        ),
        pytest.param(
            "mo_gsm",
            [
                InboundSMS(
                    "6281234567890", "1708", "LAPOR Saluran air di Jl. Melati RT 02 tersumbat", "ib-mo-1", AT
                )
            ],
            id="gsm7",
        ),
        pytest.param(
            "mo_ucs2",
            [InboundSMS("6285711122233", "1708", "LAPOR Jembatan جسر rusak parah 😀 “cepat”", "ib-mo-2", AT)],
            id="ucs2",
        ),
        pytest.param(
            "mo_two",
            [
                InboundSMS("6281234567890", "1708", "CEK 1234567890", "ib-mo-4", AT),
                InboundSMS(
                    "6285711122233", "1708", "INFO", "ib-mo-5", datetime(2026, 11, 29, 8, 15, 2, tzinfo=UTC)
                ),
            ],
            id="two-in-one-push",
        ),
    ],
)
def test_recorded_mo(name, expected):
    assert INFOBIP.parse_inbound(wire(load("infobip", name))) == expected


def test_a_long_mo_arrives_joined_as_one_message():
    [sms] = INFOBIP.parse_inbound(wire(load("infobip", "mo_long")))
    assert sms.part is None and len(sms.text) > 160 and sms.text.endswith("korban lagi.")
    assert json.loads(load("infobip", "mo_long")["body"])["results"][0]["smsCount"] == 2


@pytest.mark.parametrize(
    ("name", "field"),
    [
        pytest.param("mo_missing_from", "results[0].from", id="missing-from"),
        pytest.param("mo_bad_received_at", "results[0].receivedAt", id="bad-receivedAt"),
        pytest.param("dlr_unknown_group", "results[0].status.groupName", id="unknown-status-group"),
    ],
)
def test_recorded_bad_payloads_name_the_field(name, field):
    fx = load("infobip", name)
    parse = INFOBIP.parse_status if "/status" in fx["path"] else INFOBIP.parse_inbound
    with pytest.raises(InvalidPayload) as exc:
        parse(wire(fx))
    assert exc.value.field == field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"messageCount": 1}, "results", id="no-results"),
        pytest.param({"results": {"from": "62812"}}, "results", id="results-not-array"),
        pytest.param({"results": ["x"]}, "results[0]", id="result-not-object"),
        pytest.param(
            {"results": [{"from": "6281234567890", "messageId": ["a"]}]}, "results[0].messageId", id="id-list"
        ),
        pytest.param({"results": [{"from": True, "messageId": "m"}]}, "results[0].from", id="from-bool"),
    ],
)
def test_malformed_json_names_the_field(body, field):
    fx = {"method": "POST", "path": "/sms/infobip/inbound", "headers": {"Content-Type": "application/json"}}
    with pytest.raises(InvalidPayload) as exc:
        INFOBIP.parse_inbound(wire({**fx, "body": json.dumps(body)}))
    assert exc.value.field == field


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "dlr_delivered_ours",
            StatusUpdate("42", "DELIVERED", "DELIVERED_TO_HANDSET", by_gateway_id=True),
            id="delivered-by-callbackData",
        ),
        pytest.param(
            "dlr_to_operator", StatusUpdate("4237823001", "SENT", "DELIVERED_TO_OPERATOR"), id="to-operator"
        ),
        pytest.param(
            "dlr_pending", StatusUpdate("4237823001", "SENT", "PENDING_WAITING_DELIVERY"), id="pending"
        ),
        pytest.param(
            "dlr_undeliverable",
            StatusUpdate("4237823001", "UNDELIVERED", "UNDELIVERABLE_NOT_DELIVERED EC_ABSENT_SUBSCRIBER"),
            id="undeliverable-with-error",
        ),
        pytest.param("dlr_expired", StatusUpdate("4237823001", "EXPIRED", "EXPIRED_EXPIRED"), id="expired"),
        pytest.param(
            "dlr_rejected", StatusUpdate("4237823001", "REJECTED", "REJECTED_NETWORK"), id="rejected"
        ),
    ],
)
def test_recorded_dlr(name, expected):
    assert INFOBIP.parse_status(wire(load("infobip", name))) == [expected]


def test_documented_dlr_matches_by_message_id_when_callback_data_is_not_ours():
    updates = INFOBIP.parse_status(wire(load("infobip", "dlr_documented")))
    assert updates == [
        StatusUpdate("MESSAGE-ID-123-xyz", "DELIVERED", "DELIVERED_TO_HANDSET"),
        StatusUpdate("12db39c3-7822-4e72-a3ec-c87442c0ffc5", "DELIVERED", "DELIVERED_TO_HANDSET"),
    ]


def test_every_status_group_is_covered_by_a_recorded_dlr():
    seen = set()
    for name in ("dlr_pending", "dlr_delivered_ours", "dlr_undeliverable", "dlr_expired", "dlr_rejected"):
        seen.add(json.loads(load("infobip", name)["body"])["results"][0]["status"]["groupName"])
    assert seen == set(DLR_GROUPS)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Laporan 1234567890 diterima. Ketik CEK 1234567890 untuk status.", id="gsm7"),
        pytest.param("Laporan diterima 🙏 “terima kasih”", id="ucs2-no-flag-infobip-detects-it"),
    ],
)
def test_build_send_field_by_field(text):
    req = INFOBIP.build_send(OutboundSMS(42, "+6281234567890", "1708", text), CONFIG)
    assert (req.method, req.url) == ("POST", "https://xyz12.api.infobip.com/sms/3/messages")
    assert req.headers == {"Authorization": "App ib-key", "Accept": "application/json"}
    [message] = req.json["messages"]
    assert message == {
        "sender": "1708",
        "destinations": [{"to": "6281234567890"}],
        "content": {"text": text},  # as is: Infobip itself sends UCS-2 when a character needs it
        "webhooks": {
            "delivery": {"url": "https://gateway.example.id/sms/infobip/status?token=tok%2Fen%2B1"},
            "contentType": "application/json",
            "callbackData": "42",
        },
    }
    assert "transliteration" not in json.dumps(req.json) and is_gsm7(text) == ("🙏" not in text)


def test_send_accepted_returns_infobips_message_id():
    assert INFOBIP.read_send_response(response("accepted")) == "4237823001"
    assert INFOBIP.read_send_response(response("accepted_no_id")) == ""  # DLRs match by callbackData


@pytest.mark.parametrize(
    ("name", "retryable", "throttled", "retry_after"),
    [
        pytest.param("throttled", True, True, 2.0, id="429-E429-retry-after"),
        pytest.param("server_error", True, False, None, id="500"),
        pytest.param("bad_number", False, False, None, id="400-bad-number"),
        pytest.param("unauthorized", False, False, None, id="401-bad-key"),
        pytest.param("rejected_credits", False, False, None, id="200-but-REJECTED"),
        pytest.param("not_json", False, False, None, id="2xx-unreadable"),
    ],
)
def test_send_failures_are_classified(name, retryable, throttled, retry_after):
    with pytest.raises(SendError) as exc:
        INFOBIP.read_send_response(response(name))
    assert (exc.value.retryable, exc.value.throttled, exc.value.retry_after) == (
        retryable,
        throttled,
        retry_after,
    )
    assert "6281234567890" not in exc.value.reason  # an echoed number is masked


def test_inbound_is_answered_200_as_infobip_documents():
    ack = INFOBIP.inbound_ack([7], duplicate=False)
    assert (ack.status, json.loads(ack.body)) == (200, {"status": "accepted", "ids": [7]})
    assert INFOBIP.status_ack().status == 200
