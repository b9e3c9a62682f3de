"""The Vonage SMS API adapter over payloads recorded from Vonage's documentation and
nyaruka/courier's handler tests (tests/fixtures/vonage/, each file names its `_source`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

import pytest

from gateway.aggregators.base import InboundSMS, MessagePart, OutboundSMS, SendResponse, StatusUpdate
from gateway.aggregators.vonage import DLR_STATUS, Vonage, VonageConfig, signatures, signing_string
from gateway.errors import CallbackRefused, InvalidPayload, SendError
from tests.support.recorded import load, wire

VONAGE = Vonage()
TOKEN = "test-inbound-secret"
CONFIG = VonageConfig(
    base_url="http://127.0.0.1:9",
    api_key="abcd1234",
    api_secret="s3cr3t",
    public_url="https://lapor.example.id",
    inbound_token=TOKEN,
)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "mo_get_text",
            InboundSMS(
                "6281234567890",
                "1708",
                "LAPOR jalan rusak di Jl. Sudirman",
                "0B0000004B65F62F",
                at(2026, 11, 29, 8, 15),
            ),
            id="get-gsm7",
        ),
        pytest.param(
            "mo_post_unicode",
            InboundSMS(
                "6281234567890",
                "1708",
                "LAPOR lampu jalan mati “parah” 🙏",
                "0B0000004B65F630",
                at(2026, 11, 29, 8, 16),
            ),
            id="form-ucs2",
        ),
        pytest.param(
            "mo_json_text",
            InboundSMS(
                "6281234567890", "1708", "CEK 1234567890", "0B0000004B65F631", at(2026, 11, 29, 8, 17)
            ),
            id="json-gsm7",
        ),
        pytest.param(
            "mo_get_concat_part1",
            InboundSMS(
                "6281234567890",
                "1708",
                "LAPOR saluran air di Jl. Melati tersumbat sejak hari Minggu, ",
                "0B0000004B65F632",
                at(2026, 11, 29, 8, 18),
                MessagePart("108", 1, 2),
            ),
            id="concat-part-1-trailing-space-kept",
        ),
        pytest.param(
            "mo_get_concat_part2",
            InboundSMS(
                "6281234567890",
                "1708",
                "air meluap ke rumah warga",
                "0B0000004B65F633",
                at(2026, 11, 29, 8, 18),
                MessagePart("108", 2, 2),
            ),
            id="concat-part-2",
        ),
    ],
)
def test_recorded_mo(name, expected):
    assert VONAGE.parse_inbound(wire(load("vonage", name))) == [expected]


@pytest.mark.parametrize(
    ("name", "field"),
    [
        pytest.param("mo_get_binary", "type", id="binary-refused"),
        pytest.param("mo_get_missing_msisdn", "msisdn", id="missing-msisdn"),
        pytest.param("dlr_get_bogus", "status", id="unknown-dlr-status"),
    ],
)
def test_recorded_bad_payloads_name_the_field(name, field):
    fx = load("vonage", name)
    parse = VONAGE.parse_status if "/status" in fx["path"] else VONAGE.parse_inbound
    with pytest.raises(InvalidPayload) as exc:
        parse(wire(fx))
    assert exc.value.field == field


def _with_query(fx: dict, **changes) -> dict:
    params = dict(parse_qsl(fx["query_string"], keep_blank_values=True))
    params.update(changes)
    return {**fx, "query_string": urlencode({k: v for k, v in params.items() if v is not None})}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"concat-part": None}, "concat-part", id="concat-part-missing"),
        pytest.param({"concat-part": "3"}, "concat-part", id="concat-part-beyond-total"),
        pytest.param({"concat-total": "x"}, "concat-total", id="concat-total-not-a-number"),
        pytest.param({"message-timestamp": "29/11/2026"}, "message-timestamp", id="timestamp-format"),
        pytest.param(
            {"message-timestamp": "1999-01-01 00:00:00"}, "message-timestamp", id="timestamp-implausible"
        ),
        pytest.param({"messageId": ""}, "messageId", id="empty-message-id"),
    ],
)
def test_bad_fields_are_named_as_vonage_names_them(changes, field):
    fx = _with_query(load("vonage", "mo_get_concat_part1"), **changes)
    with pytest.raises(InvalidPayload) as exc:
        VONAGE.parse_inbound(wire(fx))
    assert exc.value.field == field


@pytest.mark.parametrize(
    ("raw", "ours"), [pytest.param(raw, ours, id=raw) for raw, ours in DLR_STATUS.items()]
)
def test_every_vonage_dlr_status_maps_to_ours(raw, ours):
    fx = _with_query(load("vonage", "dlr_get_delivered"), status=raw)
    [update] = VONAGE.parse_status(wire(fx))
    assert (update.status, update.message_ref, update.by_gateway_id) == (ours, "1", True)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "dlr_get_delivered",
            StatusUpdate("1", "DELIVERED", "delivered err-code=0", by_gateway_id=True),
            id="get-client-ref-is-our-id",
        ),
        pytest.param(
            "dlr_json_failed",
            StatusUpdate("0B00000127FDBC63", "UNDELIVERED", "failed err-code=6"),
            id="json-without-client-ref-by-message-id",
        ),
    ],
)
def test_recorded_dlr(name, expected):
    assert VONAGE.parse_status(wire(load("vonage", name))) == [expected]


def test_a_client_ref_that_is_not_ours_falls_back_to_the_message_id():
    fx = _with_query(load("vonage", "dlr_get_delivered"), **{"client-ref": "campaign-7"})
    [update] = VONAGE.parse_status(wire(fx))
    assert (update.message_ref, update.by_gateway_id) == ("0C0000002EEBDA56", False)


def _form(req) -> dict:
    return dict(parse_qsl(req.data.decode(), keep_blank_values=True))


@pytest.mark.parametrize(
    ("text", "unicode"),
    [
        pytest.param("Laporan diterima. Ketik CEK 12345678 untuk status.", False, id="gsm7-no-type"),
        pytest.param("Harga {naik} ~ 10€ [info]", False, id="gsm7-extension-table-no-type"),
        pytest.param("Laporan “diterima”", True, id="curly-quotes-unicode"),
        pytest.param("Terima kasih 🙏", True, id="emoji-unicode"),
    ],
)
def test_build_send_field_by_field(text, unicode):
    req = VONAGE.build_send(OutboundSMS(42, "+6281234567890", "1708", text), CONFIG)
    assert (req.method, req.url) == ("POST", "http://127.0.0.1:9/sms/json")
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"
    expected = {
        "api_key": "abcd1234",
        "api_secret": "s3cr3t",
        "from": "1708",
        "to": "6281234567890",
        "text": text,
        "status-report-req": "1",
        "callback": f"https://lapor.example.id/sms/vonage/status?token={TOKEN}",
        "client-ref": "42",
    }
    if unicode:
        expected["type"] = "unicode"
    assert _form(req) == expected


def _resp(name: str) -> SendResponse:
    fx = load("vonage", name)
    return SendResponse(fx["status_code"], fx["text"], fx["headers"])


@pytest.mark.parametrize(
    ("name", "message_id"),
    [
        pytest.param("send_ok", "0C000000217B7F02", id="one-part"),
        pytest.param("send_ok_two_parts", "0C000000217B7F03", id="two-parts-first-id"),
    ],
)
def test_send_accepted(name, message_id):
    assert VONAGE.read_send_response(_resp(name)) == message_id


@pytest.mark.parametrize(
    ("name", "retryable", "throttled", "retry_after"),
    [
        pytest.param("send_throttled", True, True, 0.25, id="code-1-throttled-wait-250ms"),
        pytest.param("send_internal_error", True, False, None, id="code-5-internal-retryable"),
        pytest.param("send_too_many_binds", True, False, None, id="code-10-binds-retryable"),
        pytest.param("send_invalid_credentials", False, False, None, id="code-4-credentials-permanent"),
        pytest.param("send_number_barred", False, False, None, id="code-7-barred-permanent"),
        pytest.param("send_http_429", True, True, 2.0, id="http-429-retry-after"),
        pytest.param("send_http_401", False, False, None, id="http-401-permanent"),
    ],
)
def test_send_refusals_are_classified(name, retryable, throttled, retry_after):
    with pytest.raises(SendError) as exc:
        VONAGE.read_send_response(_resp(name))
    assert (exc.value.retryable, exc.value.throttled, exc.value.retry_after) == (
        retryable,
        throttled,
        retry_after,
    )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('{"messages": [{"status": "0"}]}', id="ok-without-message-id"),
        pytest.param('{"error": "x"}', id="no-messages"),
        pytest.param("<html>", id="not-json"),
        pytest.param('{"messages": [{"status": "99"}]}', id="unknown-code"),
    ],
)
def test_odd_2xx_answers_are_permanent_failures(body):
    with pytest.raises(SendError) as exc:
        VONAGE.read_send_response(SendResponse(200, body, {}))
    assert exc.value.retryable is False


def test_a_refusal_never_carries_the_number():
    body = json.dumps({"messages": [{"status": "3", "error-text": "Invalid to address 6281234567890"}]})
    with pytest.raises(SendError) as exc:
        VONAGE.read_send_response(SendResponse(200, body, {}))
    assert "6281234567890" not in exc.value.reason and "Invalid Parameters" in exc.value.reason


# --- signatures ------------------------------------------------------------------------------


def test_the_documented_md5_hash_vector():
    # Vonage's Python SDK test (tests/test_signature.py): secret "secret".
    params = {"a": "1", "b": "2", "timestamp": "1461605396"}
    assert signing_string(params) == "&a=1&b=2&timestamp=1461605396"
    assert signatures(params, "secret", 32)[0] == "6af838ef94998832dbfc29020b564830"


def test_ampersands_and_equals_in_values_are_underscored():
    assert signing_string({"text": "a&b=c", "sig": "x"}) == "&text=a_b_c"


@dataclass
class _Settings:
    signature_window: int = 300


SECRET = "vonage-signing-secret"
SIGNED = replace(CONFIG, signature_secret=SECRET)


def _signed_get(method: str = "md5hash", **changes) -> dict:
    """mo_get_text signed as Vonage signs (the documented algorithm), timestamp now."""
    fx = load("vonage", "mo_get_text")
    params = {k: v for k, v in parse_qsl(fx["query_string"]) if k != "token"}
    params.update({"timestamp": str(int(time.time())), "nonce": "6b2d8bc0-c8b1-4c2f-9c0a-2d9b0e5b5a11"})
    text = signing_string(params).encode()
    if method == "md5hash":
        sig = hashlib.md5(text + SECRET.encode()).hexdigest()  # noqa: S324
    else:
        sig = hmac.new(SECRET.encode(), text, getattr(hashlib, method)).hexdigest().upper()
    params.update({"sig": sig, **changes})
    return {**fx, "query_string": urlencode({**params, "token": TOKEN})}


@pytest.mark.parametrize("method", ["md5hash", "md5", "sha1", "sha256", "sha512"])
def test_a_good_signature_passes_and_is_the_replay_key(method):
    fx = _signed_get(method)
    sig = dict(parse_qsl(fx["query_string"]))["sig"]
    assert VONAGE.verify(wire(fx), SIGNED, _Settings()) == f"vonage:{sig.lower()}"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param({"text": "LAPOR jalan rusak parah"}, "bad sig", id="text-tampered"),
        pytest.param({"sig": "0" * 32}, "bad sig", id="wrong-sig"),
        pytest.param({"sig": "abc"}, "bad sig", id="odd-length"),
        pytest.param({"sig": ""}, "sig is required", id="missing-sig"),
    ],
)
def test_a_bad_signature_is_refused(changes, reason):
    with pytest.raises(CallbackRefused, match=reason):
        VONAGE.verify(wire(_signed_get(**changes)), SIGNED, _Settings())


def test_a_stale_timestamp_is_refused_even_when_signed():
    fx = _signed_get()
    params = dict(parse_qsl(fx["query_string"]))
    params["timestamp"] = str(int(time.time()) - 3600)
    params.pop("sig")
    params.pop("token")
    params["sig"] = hashlib.md5(signing_string(params).encode() + SECRET.encode()).hexdigest()  # noqa: S324
    stale = {**fx, "query_string": urlencode({**params, "token": TOKEN})}
    with pytest.raises(CallbackRefused, match="GATEWAY_SIGNATURE_WINDOW"):
        VONAGE.verify(wire(stale), SIGNED, _Settings())


def test_without_a_signature_secret_nothing_is_checked():
    assert VONAGE.verify(wire(load("vonage", "mo_get_text")), CONFIG, _Settings()) is None
