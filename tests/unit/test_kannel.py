"""The Kannel wire format, over payloads recorded from a real Kannel 1.4.5 (tests/fixtures/kannel/)."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.aggregators.base import InboundSMS, OutboundSMS, SendResponse, StatusUpdate, WireRequest
from gateway.aggregators.kannel import DLR_STATUS, Kannel, KannelConfig, is_gsm7
from gateway.errors import InvalidPayload, SendError
from tests.support.kannel import parse_fakesmsc_line
from tests.support.recorded import body_of, load, wire

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kannel"
KANNEL = Kannel()
SENDER = "6281234567890"
TS = datetime(2026, 11, 29, 15, 27, 16, tzinfo=UTC)  # 1795966036
LATIN1 = "text/plain; charset=ISO-8859-1"
DENIED = "Number(s) has/have been denied by white- and/or black-lists."


def fixture(name: str) -> dict:
    return load("kannel", name)


def wire_werkzeug_args(fx: dict) -> WireRequest:
    """The same request as plain werkzeug `request.args` give it, without the raw query string."""
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    content_type = fx["headers"].get("Content-Type")
    env = EnvironBuilder(
        path=fx["path"], query_string=fx["query_string"], method=fx["method"], content_type=content_type
    ).get_environ()
    query = Request(env).args.to_dict()
    return WireRequest(method=fx["method"], query=query, body=body_of(fx), content_type=content_type or "")


def wire_stdlib(fx: dict) -> WireRequest:
    """The query decoded by the stdlib keeping non-UTF-8 bytes as surrogates, full content type."""
    query = dict(urllib.parse.parse_qsl(fx["query_string"], keep_blank_values=True, errors="surrogateescape"))
    content_type = fx["headers"].get("Content-Type", "")
    return WireRequest(method=fx["method"], query=query, body=body_of(fx), content_type=content_type)


def settings(**changes):
    values = dict(
        public_url="https://gateway.example.id/",
        inbound_token="tok/en+1",
        username="gateway",
        password="pw",
    )
    values.update(changes)
    return KannelConfig(**values)


# --- MO ------------------------------------------------------------------------------------------

SQUEEZED = "LAPOR jalan rusak di Jl. Sudirman no 5"  # %a squeezes runs of spaces
EXACT = "LAPOR  jalan rusak di Jl. Sudirman no 5"  # the post-url body does not
MO_CASES = [
    pytest.param("mo_get_gsm", SQUEEZED, id="get-gsm7"),
    pytest.param("mo_get_gsm_extended", "LAPOR lampu mati ü €", id="get-gsm7-non-ascii"),
    pytest.param("mo_get_ucs2_latin", "LAPOR jalan rusak ü", id="get-ucs2-utf16be"),
    pytest.param("mo_get_ucs2_arabic_emoji", "LAPOR جسر مكسور 😀", id="get-ucs2-arabic-emoji"),
    pytest.param("mo_get_ucs2_latin_recoded", "LAPOR jalan rusak ü", id="get-mo-recode-utf8"),
    pytest.param("mo_get_ucs2_arabic_emoji_recoded", "LAPOR جسر مكسور 😀", id="get-mo-recode-arabic"),
    pytest.param("mo_post_gsm", EXACT, id="post-gsm7-body-exact"),
    pytest.param("mo_post_gsm_extended", "LAPOR lampu mati ü €", id="post-gsm7-non-ascii"),
    pytest.param("mo_post_ucs2_latin", "LAPOR jalan rusak ü", id="post-ucs2-body"),
    pytest.param("mo_post_ucs2_arabic_emoji", "LAPOR جسر مكسور 😀", id="post-ucs2-arabic-emoji"),
]


@pytest.mark.parametrize(
    "decode",
    [wire, wire_werkzeug_args, wire_stdlib],
    ids=["web-layer", "werkzeug-args", "stdlib-surrogateescape"],
)
@pytest.mark.parametrize("name, text", MO_CASES)
def test_parse_inbound_recorded(name, text, decode):
    fx = fixture(name)
    sent_at = datetime.fromtimestamp(int(fx["query"]["ts"]), tz=UTC)
    expected = InboundSMS(sender=SENDER, to="1708", text=text, external_id=fx["query"]["id"], sent_at=sent_at)
    assert KANNEL.parse_inbound(decode(fx)) == [expected]


def test_retries_repeat_the_same_id():
    attempts = fixture("mo_get_retried")["attempts"]
    parsed = [KANNEL.parse_inbound(wire(a))[0] for a in attempts]
    assert len(parsed) == 3 and len({p.external_id for p in parsed}) == 1
    assert parsed[0] == parsed[1] == parsed[2]


def q(**fields) -> WireRequest:
    base = {"from": SENDER, "to": "1708", "text": "LAPOR x", "id": "abc-1", "ts": "1795966036"}
    base.update(fields)
    return WireRequest(method="GET", query={k: v for k, v in base.items() if v is not None})


@pytest.mark.parametrize(
    "req, field",
    [
        pytest.param(q(**{"from": None}), "from", id="from-missing"),
        pytest.param(q(**{"from": " "}), "from", id="from-empty"),
        pytest.param(q(text=None), "text", id="text-missing"),
        pytest.param(q(id=None), "id", id="id-missing"),
        pytest.param(q(id=""), "id", id="id-empty"),
        pytest.param(q(ts="yesterday"), "ts", id="ts-not-a-number"),
        pytest.param(q(charset="NOPE-9"), "charset", id="charset-unknown"),
        pytest.param(q(text="\x00L\ufffd", charset="UTF-16BE", coding="2"), "text", id="utf16-mangled"),
        pytest.param(
            WireRequest(
                query={"from": SENDER, "id": "x"}, body=b"hi", content_type="text/plain; charset=X-9"
            ),
            "charset",
            id="post-body-charset-unknown",
        ),
    ],
)
def test_parse_inbound_rejects(req, field):
    with pytest.raises(InvalidPayload) as err:
        KANNEL.parse_inbound(req)
    assert err.value.field == field


@pytest.mark.parametrize(
    "req, expected",
    [
        pytest.param(q(text=""), InboundSMS(SENDER, "1708", "", "abc-1", TS), id="empty-text"),
        pytest.param(q(ts=None, to=None), InboundSMS(SENDER, "", "LAPOR x", "abc-1", None), id="no-ts-no-to"),
        pytest.param(
            q(coding="2", charset=None, text="\x00h\x00i"),
            InboundSMS(SENDER, "1708", "hi", "abc-1", TS),
            id="ucs2-without-charset",
        ),
        pytest.param(
            WireRequest(
                method="POST",
                query=dict(q(text="ignored").query),
                body="Halo  ü".encode("latin-1"),
                content_type=LATIN1,
            ),
            InboundSMS(SENDER, "1708", "Halo  ü", "abc-1", TS),
            id="post-body-wins-latin1",
        ),
        pytest.param(
            WireRequest(method="POST", query=dict(q().query), body=b"", content_type="text/plain"),
            InboundSMS(SENDER, "1708", "LAPOR x", "abc-1", TS),
            id="post-empty-body-uses-query",
        ),
    ],
)
def test_parse_inbound_edges(req, expected):
    assert KANNEL.parse_inbound(req) == [expected]


# --- DLR -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        pytest.param("dlr_smsc_accepted", StatusUpdate("42", "SENT", "8", True), id="8-smsc-accepted"),
        pytest.param("dlr_delivered", StatusUpdate("42", "DELIVERED", "1", True), id="1-delivered"),
    ],
)
def test_parse_status_recorded(name, expected):
    assert KANNEL.parse_status(wire(fixture(name))) == [expected]


@pytest.mark.parametrize(
    "code, status",
    [pytest.param(code, status, id=f"{code}-{status}") for code, status in DLR_STATUS.items()],
)
def test_parse_status_table(code, status):
    req = WireRequest(method="GET", query={"id": "7", "status": code, "token": "t"})
    assert KANNEL.parse_status(req) == [StatusUpdate("7", status, code, by_gateway_id=True)]


def test_status_table_is_the_contract():
    assert DLR_STATUS == {"1": "DELIVERED", "2": "UNDELIVERED", "4": "SENT", "8": "SENT", "16": "REJECTED"}


@pytest.mark.parametrize(
    "query, field",
    [
        pytest.param({"id": "7", "status": "3"}, "status", id="status-unknown"),
        pytest.param({"id": "7", "status": "%d"}, "status", id="status-unfilled"),
        pytest.param({"id": "7"}, "status", id="status-missing"),
        pytest.param({"status": "1"}, "id", id="id-missing"),
        pytest.param({"id": "abc", "status": "1"}, "id", id="id-not-ours"),
    ],
)
def test_parse_status_rejects(query, field):
    with pytest.raises(InvalidPayload) as err:
        KANNEL.parse_status(WireRequest(method="GET", query=query))
    assert err.value.field == field


# --- MT ------------------------------------------------------------------------------------------


def test_build_send_exact_params():
    sms = OutboundSMS(gateway_id=42, to="+6281234567890", sender="1708", text="Ketik CEK 12345678")
    req = KANNEL.build_send(sms, settings())
    assert req.method == "GET" and req.url == "http://127.0.0.1:13013/cgi-bin/sendsms"
    assert req.json is None
    assert dict(req.params) == {
        "username": "gateway",
        "password": "pw",
        "from": "1708",
        "to": "+6281234567890",
        "text": "Ketik CEK 12345678",
        "charset": "UTF-8",
        "coding": "0",
        "dlr-mask": "31",
        "dlr-url": "https://gateway.example.id/sms/kannel/status?id=42&status=%d&smsc_id=%i&token=tok%2Fen%2B1",
    }


def test_build_send_matches_what_real_kannel_accepted():
    recorded = fixture("sendsms_accepted")["request_params"]
    sms = OutboundSMS(42, "+6281234567890", "1708", recorded["text"])
    dlr_url = recorded["dlr-url"]
    base = dlr_url.split("/sms/kannel/status")[0]
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(dlr_url).query)["token"][0]
    params = dict(KANNEL.build_send(sms, settings(public_url=base, inbound_token=token)).params)
    assert {k: v for k, v in params.items() if k not in ("username", "password")} == {
        k: v for k, v in recorded.items() if k not in ("username", "password")
    }


@pytest.mark.parametrize(
    "text, coding",
    [
        pytest.param("LAPOR jalan rusak", "0", id="ascii"),
        pytest.param("Harga 5€ {ok} [ya] ~ ^ | \\ ü é Ä ñ @ £", "0", id="gsm7-basic-and-extension"),
        pytest.param("Terima kasih “ya”", "2", id="curly-quotes"),
        pytest.param("Laporan – diterima", "2", id="en-dash"),
        pytest.param("جسر مكسور", "2", id="arabic"),
        pytest.param("ok 😀", "2", id="emoji"),
        pytest.param("", "0", id="empty"),
    ],
)
def test_build_send_coding(text, coding):
    params = KANNEL.build_send(OutboundSMS(1, "+628", "1708", text), settings()).params
    assert params["coding"] == coding
    assert is_gsm7(text) is (coding == "0")


def test_build_send_smsc_only_when_set():
    sms = OutboundSMS(9, "+6281234567890", "1708", "x")
    assert "smsc" not in KANNEL.build_send(sms, settings()).params
    assert KANNEL.build_send(sms, settings(smsc="telkomsel")).params["smsc"] == "telkomsel"


def test_dlr_url_carries_gateway_id_and_event_escape():
    url = KANNEL.build_send(OutboundSMS(123456, "+628", "1708", "x"), settings()).params["dlr-url"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["id"] == ["123456"] and query["status"] == ["%d"] and query["token"] == ["tok/en+1"]
    assert url.startswith("https://gateway.example.id/sms/kannel/status?")


def answer(name: str) -> SendResponse:
    fx = fixture(name)
    return SendResponse(fx["status_code"], fx["text"], fx["headers"])


@pytest.mark.parametrize(
    "resp",
    [
        pytest.param(answer("sendsms_accepted"), id="recorded-202-accepted"),
        pytest.param(answer("sendsms_accepted_ucs2"), id="recorded-202-accepted-ucs2"),
        pytest.param(answer("sendsms_queued"), id="recorded-202-queued"),
        pytest.param(SendResponse(200, "0: Accepted for delivery"), id="200-accepted"),
    ],
)
def test_read_send_response_accepts(resp):
    assert KANNEL.read_send_response(resp) == ""


@pytest.mark.parametrize(
    "resp, retryable, retry_after",
    [
        pytest.param(answer("sendsms_auth_failed"), False, None, id="recorded-403-authorization-failed"),
        pytest.param(answer("sendsms_missing_receiver"), False, None, id="recorded-400-missing-receiver"),
        pytest.param(answer("sendsms_bad_charset"), False, None, id="recorded-400-bad-charset"),
        pytest.param(answer("sendsms_post_form"), False, None, id="recorded-400-post-refused"),
        pytest.param(SendResponse(403, DENIED), False, None, id="403-denied"),
        pytest.param(SendResponse(503, "Temporal failure, try again later."), True, None, id="503-temporal"),
        pytest.param(SendResponse(500, "Sending failed."), True, None, id="500"),
        pytest.param(SendResponse(429, "", {"Retry-After": "7"}), True, 7.0, id="429-retry-after"),
        pytest.param(SendResponse(403, "Queue full, try again later"), True, None, id="4xx-queue-full"),
    ],
)
def test_read_send_response_errors(resp, retryable, retry_after):
    with pytest.raises(SendError) as err:
        KANNEL.read_send_response(resp)
    assert err.value.retryable is retryable
    assert err.value.retry_after == retry_after
    assert str(resp.status_code) in err.value.reason


def test_acks_are_empty_so_kannel_sends_nothing_back():
    assert (KANNEL.inbound_ack([1], duplicate=False).status, KANNEL.inbound_ack([1], True).body) == (202, "")
    assert KANNEL.inbound_ack([], duplicate=True).content_type.startswith("text/plain")
    ack = KANNEL.status_ack()
    assert (ack.status, ack.body) == (200, "") and ack.content_type.startswith("text/plain")


def test_fakesmsc_output_format():
    lines = fixture("fakesmsc_mt")["lines"]
    first, second = (parse_fakesmsc_line(line) for line in lines)
    assert (first.sender, first.receiver, first.coding) == ("1708", "+6281234567890", "text")
    assert first.text == "Laporan 12345678 diterima. Ketik CEK 12345678 untuk status."
    assert (second.coding, second.text) == ("ucs-2", "Terima kasih “ü” 😀")
