"""The 8x8 SMS API adapter (registered as `8x8`) over payloads recorded from 8x8's published
developer docs (tests/fixtures/8x8/, each file names its `_source`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from config.settings import load_settings
from gateway.aggregators import REGISTRY
from gateway.aggregators.base import InboundSMS, OutboundSMS, SendResponse, StatusUpdate
from gateway.aggregators.eight_by_eight import DLR_STATUS, EightByEight, EightByEightConfig
from gateway.errors import ConfigError, InvalidPayload, SendError
from gateway.gsm7 import segments
from tests.support.recorded import load, wire

E8 = EightByEight()
TOKEN = "test-inbound-secret"
CONFIG = EightByEightConfig(
    base_url="http://127.0.0.1:9",
    subaccount_id="lapor_hq",
    api_key="8x8-key",
    public_url="https://lapor.example.id",
    inbound_token=TOKEN,
)


def test_it_is_registered_as_8x8_and_reads_gateway_8x8_settings():
    assert REGISTRY["8x8"] is not None and REGISTRY["8x8"].name == "8x8"
    env = {
        "GATEWAY_INBOUND_TOKEN": TOKEN,
        "GATEWAY_OUTBOUND": "8x8",
        "GATEWAY_8X8_SUBACCOUNT_ID": "lapor_hq",
        "GATEWAY_8X8_API_KEY": "k",
        "GATEWAY_8X8_BASE_URL": "https://sms.8x8.id",
    }
    config = load_settings(env, dotenv_path=None).aggregator_config("8x8")
    assert (config.subaccount_id, config.api_key, config.base_url) == ("lapor_hq", "k", "https://sms.8x8.id")


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        pytest.param({"GATEWAY_8X8_API_KEY": "k"}, "GATEWAY_8X8_SUBACCOUNT_ID", id="subaccount-required"),
        pytest.param({"GATEWAY_8X8_SUBACCOUNT_ID": "lapor_hq"}, "GATEWAY_8X8_API_KEY", id="api-key-required"),
        pytest.param(
            {"GATEWAY_8X8_SUBACCOUNT_ID": "a/b", "GATEWAY_8X8_API_KEY": "k"},
            "GATEWAY_8X8_SUBACCOUNT_ID",
            id="subaccount-pattern",
        ),
    ],
)
def test_bad_settings_stop_start_up_naming_the_variable(env, variable):
    with pytest.raises(ConfigError, match=variable):
        load_settings({"GATEWAY_INBOUND_TOKEN": TOKEN, "GATEWAY_OUTBOUND": "8x8", **env}, dotenv_path=None)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "mo_gsm7",
            InboundSMS(
                "+6281234567890",
                "+628119001708",
                "LAPOR jalan rusak di Jl. Sudirman",
                "9e09ac86-bd74-5465-851d-1eb5a5fdbb9a",
                datetime(2026, 11, 29, 8, 15, 0, 17000, tzinfo=UTC),
            ),
            id="gsm7",
        ),
        pytest.param(
            "mo_ucs2",
            InboundSMS(
                "+6281234567890",
                "+628119001708",
                "LAPOR banjir “setinggi lutut” 🌧",
                "9e09ac86-bd74-5465-851d-1eb5a5fdbb9b",
                datetime(2026, 11, 29, 8, 16, 0, 500000, tzinfo=UTC),
            ),
            id="ucs2",
        ),
    ],
)
def test_recorded_mo(name, expected):
    assert E8.parse_inbound(wire(load("8x8", name))) == [expected]


def test_a_long_mo_arrives_whole():
    [sms] = E8.parse_inbound(wire(load("8x8", "mo_long")))
    assert segments(sms.text) == 2 and sms.part is None


@pytest.mark.parametrize(
    ("name", "field"),
    [
        pytest.param("mo_wrong_event", "eventType", id="dlr-on-mo-route"),
        pytest.param("mo_missing_source", "payload.source", id="missing-source"),
        pytest.param("dlr_bogus_state", "payload.status.state", id="unknown-state"),
    ],
)
def test_recorded_bad_payloads_name_the_field(name, field):
    fx = load("8x8", name)
    parse = E8.parse_status if "/status" in fx["path"] else E8.parse_inbound
    with pytest.raises(InvalidPayload) as exc:
        parse(wire(fx))
    assert exc.value.field == field


def _mo_with(**payload_changes) -> dict:
    fx = load("8x8", "mo_gsm7")
    body = json.loads(fx["body"])
    body["payload"].update(payload_changes)
    return {**fx, "body": json.dumps(body)}


@pytest.mark.parametrize(
    ("fx", "field"),
    [
        pytest.param(_mo_with(body=None), "payload.body", id="body-null"),
        pytest.param(_mo_with(umid=7), "payload.umid", id="umid-not-a-string"),
        pytest.param(_mo_with(timestamp="yesterday"), "payload.timestamp", id="timestamp-unreadable"),
        pytest.param(
            {**load("8x8", "mo_gsm7"), "body": '{"eventType": "inbound_message_received"}'}, "payload"
        ),
        pytest.param(
            {**load("8x8", "mo_gsm7"), "headers": {"Content-Type": "application/xml"}, "body": "<root/>"},
            "body",
            id="xml-format-not-enabled",
        ),
    ],
)
def test_bad_mo_fields_are_named(fx, field):
    with pytest.raises(InvalidPayload) as exc:
        E8.parse_inbound(wire(fx))
    assert exc.value.field == field


def _dlr(state: str, detail: str | None) -> dict:
    fx = load("8x8", "dlr_delivered_to_recipient")
    body = json.loads(fx["body"])
    body["payload"]["status"] = {"state": state, **({"detail": detail} if detail else {})}
    return {**fx, "body": json.dumps(body)}


@pytest.mark.parametrize(
    ("key", "ours"), [pytest.param(key, ours, id=key.replace("/", "-")) for key, ours in DLR_STATUS.items()]
)
def test_every_8x8_state_maps_to_ours(key, ours):
    state, _, detail = key.partition("/")
    [update] = E8.parse_status(wire(_dlr(state, detail or None)))
    assert (update.status, update.message_ref, update.by_gateway_id) == (ours, "1", True)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "dlr_undelivered",
            StatusUpdate("1", "UNDELIVERED", "undelivered rejected_by_operator 15", by_gateway_id=True),
            id="undelivered-rejected-by-operator",
        ),
        pytest.param(
            "dlr_delivered_to_recipient",
            StatusUpdate("1", "DELIVERED", "delivered delivered_to_recipient", by_gateway_id=True),
            id="delivered-to-recipient",
        ),
        pytest.param(
            "dlr_delivered_to_operator",
            StatusUpdate("1", "SENT", "delivered delivered_to_operator", by_gateway_id=True),
            id="delivered-to-operator-is-only-sent",
        ),
        pytest.param(
            "dlr_sent_foreign_client_id",
            StatusUpdate("9e09ac86-bd74-5465-851d-1eb5a5fdbb9a", "SENT", "sent"),
            id="foreign-client-id-by-umid",
        ),
    ],
)
def test_recorded_dlr(name, expected):
    assert E8.parse_status(wire(load("8x8", name))) == [expected]


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        pytest.param("Laporan diterima. Ketik CEK 12345678 untuk status.", "GSM7", id="gsm7"),
        pytest.param("Harga {naik} ~ 10€ [info]", "GSM7", id="gsm7-extension-table"),
        pytest.param("Laporan “diterima”", "UCS2", id="curly-quotes-ucs2"),
        pytest.param("Terima kasih 🙏", "UCS2", id="emoji-ucs2"),
    ],
)
def test_build_send_field_by_field(text, encoding):
    req = E8.build_send(OutboundSMS(42, "+6281234567890", "1708", text), CONFIG)
    assert (req.method, req.url) == ("POST", "http://127.0.0.1:9/api/v1/subaccounts/lapor_hq/messages")
    assert req.headers == {"Authorization": "Bearer 8x8-key", "Accept": "application/json"}
    assert req.json == {
        "destination": "+6281234567890",
        "text": text,
        "source": "1708",
        "clientMessageId": "42",
        "encoding": encoding,
        "dlrCallbackUrl": f"https://lapor.example.id/sms/8x8/status?token={TOKEN}",
    }


def _resp(name: str) -> SendResponse:
    fx = load("8x8", name)
    return SendResponse(fx["status_code"], fx["text"], fx["headers"])


@pytest.mark.parametrize(
    ("name", "umid"),
    [
        pytest.param("send_queued", "bda3d56d-1424-e711-813c-06ed3428fe67", id="queued"),
        pytest.param(
            "send_queued_state_form", "bda3d56d-1424-e711-813c-06ed3428fe68", id="queued-state-form"
        ),
    ],
)
def test_send_accepted(name, umid):
    assert E8.read_send_response(_resp(name)) == umid


@pytest.mark.parametrize(
    ("name", "retryable", "throttled", "retry_after"),
    [
        pytest.param("send_429", True, True, 1.0, id="429-retry-after"),
        pytest.param("send_500", True, False, None, id="500-retryable"),
        pytest.param("send_400_invalid_msisdn", False, False, None, id="400-1002-permanent"),
        pytest.param("send_401", False, False, None, id="401-permanent"),
        pytest.param("send_426_tls", False, False, None, id="426-tls-permanent"),
        pytest.param("send_rejected", False, False, None, id="200-rejected-permanent"),
    ],
)
def test_send_refusals_are_classified(name, retryable, throttled, retry_after):
    with pytest.raises(SendError) as exc:
        E8.read_send_response(_resp(name))
    assert (exc.value.retryable, exc.value.throttled, exc.value.retry_after) == (
        retryable,
        throttled,
        retry_after,
    )


def test_a_rejection_never_carries_the_number():
    with pytest.raises(SendError) as exc:
        E8.read_send_response(_resp("send_rejected"))
    assert "REJECTED" in exc.value.reason and "6281234567890" not in exc.value.reason


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("not json", id="not-json"),
        pytest.param('{"status": {"code": "QUEUED"}}', id="queued-without-umid"),
        pytest.param("[]", id="json-not-an-object"),
    ],
)
def test_odd_2xx_answers_are_permanent_failures(body):
    with pytest.raises(SendError) as exc:
        E8.read_send_response(SendResponse(200, body, {}))
    assert exc.value.retryable is False
