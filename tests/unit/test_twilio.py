"""The Twilio wire format over payloads courier recorded from Twilio and ours in the same shape
(tests/fixtures/twilio/, each signed as Twilio signs), X-Twilio-Signature against Twilio's
documented example, and the send request and answer rules."""

from __future__ import annotations

import base64
import dataclasses
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest

from gateway.aggregators.base import InboundSMS, OutboundSMS, SendResponse, StatusUpdate, WireRequest
from gateway.aggregators.twilio import DLR_STATUS, Twilio, TwilioConfig, signature, url_variants
from gateway.errors import CallbackRefused, ConfigError, InvalidPayload, SendError
from tests.support.recorded import load, wire

TWILIO = Twilio()
SID = "AC" + "0" * 32
PUBLIC = "https://gateway.example.id"
RESPONSES = load("twilio", "send_responses")


def config(**changes) -> TwilioConfig:
    values = dict(
        base_url="http://127.0.0.1:9/",
        account_sid=SID,
        auth_token="0123456789abcdef0123456789abcdef",
        from_="+15005550006",
        public_url=PUBLIC + "/",
        inbound_token="tok/en+1",
    )
    return TwilioConfig(**{**values, **changes})


def signed(name: str, prefix: str = "") -> WireRequest:
    """The recorded callback as the receiver sees it behind a proxy: its own path (not the
    public URL Twilio signed; a proxy may add a `prefix`) and the headers, X-Twilio-Signature
    among them."""
    fx = load("twilio", name)
    headers = {k.lower(): v for k, v in fx["headers"].items()}
    return dataclasses.replace(wire(fx), path=f"{prefix}{fx['path']}", headers=headers)


def response(name: str) -> SendResponse:
    r = RESPONSES[name]
    return SendResponse(r["status_code"], r["text"], r["headers"])


SETTINGS = SimpleNamespace(public_url=PUBLIC, signature_window=300)


# --- the signature --------------------------------------------------------------------------


def test_twilios_documented_example_signature():
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


@pytest.mark.parametrize("name", ["mo_gsm", "mo_ucs2", "status_delivered", "status_courier"])
def test_a_signed_callback_verifies_against_the_public_url_not_the_host_it_reached(name):
    key = TWILIO.verify(signed(name), config(), SETTINGS)
    assert key == f"twilio:{load('twilio', name)['headers']['X-Twilio-Signature']}"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param(
            lambda r: dataclasses.replace(r, headers={}), "missing X-Twilio-Signature", id="missing"
        ),
        pytest.param(
            lambda r: dataclasses.replace(r, headers={"x-twilio-signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}),
            "bad X-Twilio-Signature",
            id="another-requests-signature",
        ),
        pytest.param(
            lambda r: dataclasses.replace(r, form={**r.form, "Body": "LAPOR forged"}),
            "bad X-Twilio-Signature",
            id="body-changed",
        ),
        pytest.param(
            lambda r: dataclasses.replace(r, raw_query=b"token=other"),
            "bad X-Twilio-Signature",
            id="query-changed",
        ),
    ],
)
def test_a_bad_signature_is_refused(change, reason):
    with pytest.raises(CallbackRefused, match=reason):
        TWILIO.verify(change(signed("mo_gsm")), config(), SETTINGS)


def test_a_different_auth_token_is_refused():
    with pytest.raises(CallbackRefused):
        TWILIO.verify(signed("mo_gsm"), config(auth_token="f" * 32), SETTINGS)


def test_without_an_auth_token_there_is_no_signature_check():
    assert (
        TWILIO.verify(dataclasses.replace(signed("mo_gsm"), headers={}), config(auth_token=""), SETTINGS)
        is None
    )


def test_a_public_url_with_a_path_prefix_and_a_default_port():
    fx = load("twilio", "mo_gsm")
    params = {k: v[0] for k, v in parse_qs(fx["body"], keep_blank_values=True).items()}
    public = "https://example.id:443/lapor"
    # Twilio signed without the port; the proxy strips /lapor before the app sees the path.
    sig = signature(
        config().auth_token, f"https://example.id/lapor/sms/twilio/inbound?{fx['query_string']}", params
    )
    req = dataclasses.replace(signed("mo_gsm"), headers={"x-twilio-signature": sig})
    assert TWILIO.verify(req, config(public_url=public), SETTINGS) == f"twilio:{sig}"


@pytest.mark.parametrize(
    ("url", "variants"),
    [
        pytest.param("https://a.id/x?q=1", ["https://a.id/x?q=1", "https://a.id:443/x?q=1"], id="add-443"),
        pytest.param("https://a.id:443/x", ["https://a.id:443/x", "https://a.id/x"], id="drop-443"),
        pytest.param("http://127.0.0.1:8000/x", ["http://127.0.0.1:8000/x"], id="other-port-kept"),
    ],
)
def test_url_variants(url, variants):
    assert url_variants(url) == variants


# --- MO and status callbacks ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "mo_courier",
            InboundSMS("+14133881111", "+12028831111", "Msg", "SMe287d7109a5a925f182f0e07fe5b223b"),
            id="courier-recorded",
        ),
        pytest.param(
            "mo_gsm",
            InboundSMS(
                "+6281234567890",
                "+6281100001708",
                "LAPOR Saluran air di Jl. Melati RT 02 tersumbat",
                "SM" + "a" * 32,
            ),
            id="gsm7",
        ),
        pytest.param(
            "mo_ucs2",
            InboundSMS(
                "+6285711122233",
                "+6281100001708",
                "LAPOR Jembatan جسر rusak parah 😀 “cepat”",
                "SM" + "b" * 32,
            ),
            id="ucs2",
        ),
    ],
)
def test_recorded_mo(name, expected):
    assert TWILIO.parse_inbound(wire(load("twilio", name))) == [expected]


def test_a_long_mo_arrives_joined():
    [sms] = TWILIO.parse_inbound(wire(load("twilio", "mo_long")))
    assert sms.part is None and len(sms.text) > 160 and sms.text.endswith("korban lagi.")


@pytest.mark.parametrize(
    ("name", "field"),
    [
        pytest.param("mo_no_sid", "MessageSid", id="mo-without-sid"),
        pytest.param("status_unknown", "MessageStatus", id="unknown-status"),
    ],
)
def test_recorded_bad_payloads_name_the_field(name, field):
    fx = load("twilio", name)
    parse = TWILIO.parse_status if "/status" in fx["path"] else TWILIO.parse_inbound
    with pytest.raises(InvalidPayload) as exc:
        parse(wire(fx))
    assert exc.value.field == field


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("status_queued", StatusUpdate("42", "SENT", "queued", True), id="queued"),
        pytest.param("status_sent", StatusUpdate("42", "SENT", "sent", True), id="sent"),
        pytest.param("status_delivered", StatusUpdate("42", "DELIVERED", "delivered", True), id="delivered"),
        pytest.param(
            "status_undelivered",
            StatusUpdate("42", "UNDELIVERED", "undelivered 30003", True),
            id="undelivered",
        ),
        pytest.param("status_failed", StatusUpdate("42", "FAILED", "failed 21610", True), id="failed-stop"),
        pytest.param(
            "status_courier",
            StatusUpdate("SMe287d7109a5a925f182f0e07fe5b223b", "DELIVERED", "delivered"),
            id="courier-by-sid",
        ),
    ],
)
def test_recorded_status(name, expected):
    assert TWILIO.parse_status(wire(load("twilio", name))) == [expected]


@pytest.mark.parametrize(("raw", "ours"), list(DLR_STATUS.items()))
def test_every_message_status_maps(raw, ours):
    req = WireRequest(form={"MessageSid": "SM1", "MessageStatus": raw})
    assert TWILIO.parse_status(req) == [StatusUpdate("SM1", ours, raw)]


# --- sending --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("from_", "sender_field"),
    [
        pytest.param("+15005550006", "From", id="number"),
        pytest.param("MGdb23ec0f89ee2632e46e91d8128f5e2b", "MessagingServiceSid", id="messaging-service"),
    ],
)
@pytest.mark.parametrize(
    "text", ["Laporan 1234567890 diterima.", "Laporan diterima 🙏"], ids=["gsm7", "ucs2"]
)
def test_build_send_field_by_field(from_, sender_field, text):
    req = TWILIO.build_send(OutboundSMS(42, "+6281234567890", "1708", text), config(from_=from_))
    assert (req.method, req.url) == ("POST", f"http://127.0.0.1:9/2010-04-01/Accounts/{SID}/Messages.json")
    user, token = base64.b64decode(req.headers["Authorization"].removeprefix("Basic ")).decode().split(":")
    assert (user, token) == (SID, config().auth_token)
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(req.data.decode()).items()}
    assert form == {
        "To": "+6281234567890",
        sender_field: from_,
        "Body": text,  # as is: Twilio itself picks UCS-2 when a character needs it
        "StatusCallback": "https://gateway.example.id/sms/twilio/status?id=42&token=tok%2Fen%2B1",
    }


def test_send_created_returns_the_sid():
    assert TWILIO.read_send_response(response("created")) == "SM1f0e8ae6ade43cb3c0ce4525424e404f"


@pytest.mark.parametrize(
    ("name", "retryable", "throttled", "retry_after"),
    [
        pytest.param("too_many", True, True, 3.0, id="429-20429-retry-after"),
        pytest.param("internal", True, False, None, id="500-20500"),
        pytest.param("unavailable_html", True, False, None, id="503-not-json"),
        pytest.param("invalid_to", False, False, None, id="21211-invalid-number"),
        pytest.param("unsubscribed", False, False, None, id="21610-stop"),
        pytest.param("not_mobile", False, False, None, id="21614-landline"),
        pytest.param("auth", False, False, None, id="20003-auth"),
        pytest.param("other_4xx", False, False, None, id="other-4xx"),
        pytest.param("created_no_sid", False, False, None, id="2xx-without-sid"),
    ],
)
def test_send_failures_are_classified(name, retryable, throttled, retry_after):
    with pytest.raises(SendError) as exc:
        TWILIO.read_send_response(response(name))
    assert (exc.value.retryable, exc.value.throttled, exc.value.retry_after) == (
        retryable,
        throttled,
        retry_after,
    )
    assert "6281234567890" not in exc.value.reason


@pytest.mark.parametrize("sid", ["acctid", "AC123", "SK" + "0" * 32])
def test_an_account_sid_that_is_not_one_stops_start_up(sid):
    with pytest.raises(ConfigError, match="GATEWAY_TWILIO_ACCOUNT_SID"):
        TWILIO.check_config(config(account_sid=sid), outbound=True)


def test_the_mo_is_answered_with_empty_twiml():
    ack = TWILIO.inbound_ack([1], duplicate=False)
    assert (ack.status, ack.body, ack.content_type.split(";")[0]) == (
        200,
        '<?xml version="1.0" encoding="UTF-8"?><Response/>',
        "text/xml",
    )
