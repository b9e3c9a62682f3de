"""The Jasmin wire format over payloads built from Jasmin's own code and docs and courier's
recorded tests (tests/fixtures/jasmin/, each with its `_source`)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import pytest

from gateway.aggregators.base import (
    InboundSMS,
    MessagePart,
    OutboundSMS,
    SendResponse,
    StatusUpdate,
    WireRequest,
)
from gateway.aggregators.jasmin import DLR_STATUS, Jasmin, JasminConfig
from gateway.errors import InvalidPayload, SendError
from tests.support.recorded import load, wire

JASMIN = Jasmin()
SENDER = "6281234567890"
UUID = "4a3c7e0e-1b7f-4d62-9d3e-2f1c9a8b7d01"
SEND_ID = "07033084-5cfd-4812-90a4-e4d24ffb6e3d"


def fixture(name: str) -> dict:
    return load("jasmin", name)


def config(**changes) -> JasminConfig:
    values = dict(
        base_url="http://127.0.0.1:1401",
        username="gateway",
        password="pw",
        public_url="https://gw.example.id/",
        inbound_token="tok/en+1",
    )
    return JasminConfig(**{**values, **changes})


# --- MO ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "sender", "external_id", "part"),
    [
        pytest.param("mo_gsm7", SENDER, UUID, None, id="gsm7-raw-coding-byte"),
        pytest.param("mo_gsm7_courier", "2349067554729", "1001", None, id="gsm7-courier-recorded"),
        pytest.param("mo_ucs2", SENDER, UUID[:-1] + "4", None, id="ucs2-utf16be-octets-emoji"),
        pytest.param("mo_ucs2_decimal_coding", SENDER, UUID[:-1] + "3", None, id="ucs2-decimal-coding"),
        pytest.param("mo_long_joined", SENDER, UUID[:-1] + "2", None, id="long-joined-by-jasmin"),
        pytest.param(
            "mo_part1_udh16",
            SENDER,
            "9f1e2d3c-0000-4000-8000-000000000001",
            MessagePart("w298", 1, 2),
            id="part-1-of-2-16bit-udh",
        ),
        pytest.param(
            "mo_part2_udh16",
            SENDER,
            "9f1e2d3c-0000-4000-8000-000000000002",
            MessagePart("w298", 2, 2),
            id="part-2-of-2-16bit-udh",
        ),
    ],
)
def test_recorded_mo(name, sender, external_id, part):
    fx = fixture(name)
    expected = InboundSMS(sender, "1708", fx["expected_text"], external_id, part=part)
    assert JASMIN.parse_inbound(wire(fx)) == [expected]


def test_a_get_connector_sends_the_same_fields_in_the_query():
    body = fixture("mo_ucs2")["body"]
    [sms] = JASMIN.parse_inbound(
        wire({**fixture("mo_ucs2"), "method": "GET", "query_string": body, "body": ""})
    )
    assert sms.text == fixture("mo_ucs2")["expected_text"]


def form(**fields) -> WireRequest:
    base = {"id": UUID, "from": SENDER, "to": "1708", "coding": "0", "content": "LAPOR x"}
    base.update(fields)
    return WireRequest(form={k: v for k, v in base.items() if v is not None})


@pytest.mark.parametrize(
    ("req", "field"),
    [
        pytest.param(wire(fixture("mo_binary_coding")), "coding", id="8bit-binary-coding"),
        pytest.param(form(coding="x9"), "coding", id="coding-not-a-number"),
        pytest.param(form(binary="zz"), "binary", id="binary-not-hex"),
        pytest.param(form(content=None), "content", id="content-missing"),
        pytest.param(form(coding="8", content="\x00L\ufffd"), "content", id="ucs2-mangled-without-binary"),
        pytest.param(form(id=None), "id", id="id-missing"),
        pytest.param(form(**{"from": " "}), "from", id="from-empty"),
        pytest.param(form(to=None), "to", id="to-missing"),
    ],
)
def test_bad_mo_names_the_field(req, field):
    with pytest.raises(InvalidPayload) as exc:
        JASMIN.parse_inbound(req)
    assert exc.value.field == field


def test_content_is_read_when_binary_is_absent():
    [sms] = JASMIN.parse_inbound(form(content="LAPOR \x00 x"))  # septet 0x00 is "@"
    assert sms.text == "LAPOR @ x"


# --- DLR -----------------------------------------------------------------------------------------


def dlr_with(status: str) -> WireRequest:
    """The recorded level 2 DLR with another message_status."""
    fx = fixture("dlr_level2_delivered")
    fields = {k: v[0] for k, v in parse_qs(fx["body"]).items()}
    return wire({**fx, "body": urlencode({**fields, "message_status": status})})


@pytest.mark.parametrize(("raw", "ours"), [pytest.param(k, v, id=k) for k, v in DLR_STATUS.items()])
def test_every_documented_status_maps_to_ours(raw, ours):
    assert JASMIN.parse_status(dlr_with(raw)) == [StatusUpdate(SEND_ID, ours, raw)]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("dlr_level1_ok", StatusUpdate(SEND_ID, "SENT", "ESME_ROK"), id="level1-submit-ok"),
        pytest.param(
            "dlr_level1_refused", StatusUpdate(SEND_ID, "REJECTED", "ESME_RINVDSTADR"), id="level1-refused"
        ),
        pytest.param(
            "dlr_level2_delivered", StatusUpdate(SEND_ID, "DELIVERED", "DELIVRD"), id="level2-delivered"
        ),
    ],
)
def test_recorded_dlr(name, expected):
    assert JASMIN.parse_status(wire(fixture(name))) == [expected]


@pytest.mark.parametrize(
    ("req", "field"),
    [
        pytest.param(dlr_with("ENROUTE?"), "message_status", id="unknown-status"),
        pytest.param(WireRequest(form={"message_status": "DELIVRD"}), "id", id="id-missing"),
        pytest.param(WireRequest(form={"id": SEND_ID, "dlvrd": "1"}), "message_status", id="status-missing"),
    ],
)
def test_bad_dlr_names_the_field(req, field):
    with pytest.raises(InvalidPayload) as exc:
        JASMIN.parse_status(req)
    assert exc.value.field == field


# --- MT ------------------------------------------------------------------------------------------


def sent_fields(text: str) -> dict[str, str]:
    req = JASMIN.build_send(OutboundSMS(42, "+6281234567890", "1708", text), config())
    assert (req.method, req.url, req.params) == ("POST", "http://127.0.0.1:1401/send", None)
    assert req.headers == {"Content-Type": "application/x-www-form-urlencoded"}
    return {k: v[0] for k, v in parse_qs(req.data.decode("ascii"), keep_blank_values=True).items()}


COMMON = {
    "username": "gateway",
    "password": "pw",
    "to": "6281234567890",
    "from": "1708",
    "dlr": "yes",
    "dlr-url": "https://gw.example.id/sms/jasmin/status?token=tok%2Fen%2B1",
    "dlr-level": "3",
    "dlr-method": "POST",
}


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        pytest.param(
            "Laporan 12345678 diterima. Ketik CEK 12345678 untuk status.",
            {"coding": "0", "content": "Laporan 12345678 diterima. Ketik CEK 12345678 untuk status."},
            id="gsm7-as-content",
        ),
        pytest.param(
            "Harga {10€} @ [ok]", {"coding": "0", "content": "Harga {10€} @ [ok]"}, id="gsm7-extension"
        ),
        pytest.param("☺", {"coding": "8", "hex-content": "263a"}, id="ucs2-courier-case"),
        pytest.param(
            "Terima kasih 🙏",
            {"coding": "8", "hex-content": "Terima kasih 🙏".encode("utf-16-be").hex()},
            id="ucs2-emoji",
        ),
    ],
)
def test_build_send_field_by_field(text, fields):
    assert sent_fields(text) == {**COMMON, **fields}


def test_the_password_never_goes_in_the_url():
    req = JASMIN.build_send(OutboundSMS(42, "+6281234567890", "1708", "x"), config(password="s3cret"))
    assert "s3cret" not in req.url and "s3cret" not in repr(config(password="s3cret"))


def response(name: str) -> SendResponse:
    fx = fixture(name)
    return SendResponse(fx["status_code"], fx["text"], fx["headers"])


def test_success_returns_jasmins_message_id():
    assert JASMIN.read_send_response(response("send_success")) == SEND_ID


@pytest.mark.parametrize(
    ("name", "retryable", "throttled"),
    [
        pytest.param("send_throughput", True, True, id="403-throughput-exceeded"),
        pytest.param("send_courier_throttled", True, True, id="429"),
        pytest.param("send_server_error", True, False, id="500-submit-sm-failed"),
        pytest.param("send_interceptor_down", True, False, id="503-interceptor"),
        pytest.param("send_auth_failed", False, False, id="403-auth"),
        pytest.param("send_charging", False, False, id="403-charging"),
        pytest.param("send_no_route", False, False, id="412-no-route"),
        pytest.param("send_bad_argument", False, False, id="400-bad-argument"),
    ],
)
def test_send_failures_are_classified(name, retryable, throttled):
    with pytest.raises(SendError) as exc:
        JASMIN.read_send_response(response(name))
    assert (exc.value.retryable, exc.value.throttled) == (retryable, throttled)
    assert exc.value.reason.startswith(f"HTTP {fixture(name)['status_code']}: Error") or name.endswith(
        "throttled"
    )


def test_a_2xx_without_an_id_is_permanent():
    with pytest.raises(SendError) as exc:
        JASMIN.read_send_response(SendResponse(200, "OK"))
    assert exc.value.retryable is False


def test_every_push_is_acknowledged_with_ack_jasmin():
    for ack in (JASMIN.inbound_ack([1], False), JASMIN.inbound_ack([], True), JASMIN.status_ack()):
        assert (ack.status, ack.body) == (200, "ACK/Jasmin")
