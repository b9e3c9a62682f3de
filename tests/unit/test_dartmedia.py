"""The Dartmedia wire format over courier's recorded calls (tests/fixtures/dartmedia/, each
with its `_source`; the `udhl` parts are inferred and marked so)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from gateway.aggregators.base import (
    InboundSMS,
    MessagePart,
    OutboundSMS,
    SendResponse,
    StatusUpdate,
    WireRequest,
)
from gateway.aggregators.dartmedia import Dartmedia, DartmediaConfig
from gateway.errors import InvalidPayload, SendError
from tests.support.recorded import load, wire

DART = Dartmedia()
SENT_AT = datetime(2017, 5, 3, 13, 15, 59, tzinfo=timezone(timedelta(hours=7)))


@pytest.mark.parametrize(
    ("name", "external_id"),
    [
        pytest.param("mo_gsm7", "170503131327@170504131327@93456SMS9755064", id="gsm7-courier-sample"),
        pytest.param("mo_ucs2", "m-ucs2", id="ucs2-dcs8-utf8"),
        pytest.param("mo_long_whole", "m-long", id="long-whole"),
        pytest.param("mo_part1", "m-p1", id="part-1-udhl"),
        pytest.param("mo_part2", "m-p2", id="part-2-udhl"),
    ],
)
def test_recorded_mo(name, external_id):
    fx = load("dartmedia", name)
    part = MessagePart(*fx["expected_part"]) if fx["expected_part"] else None
    expected = InboundSMS("6285218761111", "1708", fx["expected_text"], external_id, SENT_AT, part)
    assert DART.parse_inbound(wire(fx)) == [expected]


def q(**fields) -> WireRequest:
    base = {"original": "6285218761111", "sendto": "1708", "messageid": "m", "message": "LAPOR x"}
    base.update(fields)
    return WireRequest(method="GET", query={k: v for k, v in base.items() if v is not None})


@pytest.mark.parametrize(
    ("req", "field"),
    [
        pytest.param(q(original=None), "original", id="original-missing"),
        pytest.param(q(sendto=""), "sendto", id="sendto-empty"),
        pytest.param(q(messageid=None), "messageid", id="messageid-missing"),
        pytest.param(q(message=None), "message", id="message-missing"),
        pytest.param(q(date="kemarin"), "date", id="date-not-a-date"),
        pytest.param(q(date="20990101000000"), "date", id="date-far-ahead"),
        pytest.param(q(udhl="x"), "udhl", id="udhl-not-a-number"),
        pytest.param(q(udhl="5"), "udhl", id="udhl-without-a-header"),
        pytest.param(q(charset="x-nope"), "charset", id="charset-unknown"),
    ],
)
def test_bad_mo_names_the_field(req, field):
    with pytest.raises(InvalidPayload) as exc:
        DART.parse_inbound(req)
    assert exc.value.field == field


@pytest.mark.parametrize(
    ("status", "ours"),
    [
        pytest.param("1", "SENT", id="1"),
        pytest.param("10", "DELIVERED", id="10"),
        pytest.param("11", "DELIVERED", id="11"),
        pytest.param("12", "DELIVERED", id="12"),
        pytest.param("13", "SENT", id="13"),
        pytest.param("20", "SENT", id="20"),
        pytest.param("21", "UNDELIVERED", id="21"),
        pytest.param("30", "UNDELIVERED", id="30-courier-failed"),
    ],
)
def test_every_status_range_maps_to_ours(status, ours):
    req = WireRequest(method="GET", query={"messageid": "42", "status": status})
    assert DART.parse_status(req) == [StatusUpdate("42", ours, status, by_gateway_id=True)]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("dlr_delivered", StatusUpdate("42", "DELIVERED", "10", True), id="delivered"),
        pytest.param(
            "dlr_part_failed", StatusUpdate("42", "UNDELIVERED", "30", True), id="part-suffix-dropped"
        ),
    ],
)
def test_recorded_dlr(name, expected):
    assert DART.parse_status(wire(load("dartmedia", name))) == [expected]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param({"messageid": "abc", "status": "10"}, "messageid", id="not-our-id"),
        pytest.param({"messageid": "42", "status": "foo"}, "status", id="status-not-a-number"),
        pytest.param({"messageid": "42"}, "status", id="status-missing"),
    ],
)
def test_bad_dlr_names_the_field(query, field):
    with pytest.raises(InvalidPayload) as exc:
        DART.parse_status(WireRequest(method="GET", query=query))
    assert exc.value.field == field


@pytest.mark.parametrize(
    ("text", "dcs"),
    [
        pytest.param("Laporan 12345678 diterima. Ketik CEK 12345678 untuk status.", "0", id="gsm7"),
        pytest.param("Terima kasih 🙏", "8", id="ucs2"),
        pytest.param("x" * 400, "0", id="long-whole-in-one-request"),
    ],
)
def test_build_send_field_by_field(text, dcs):
    config = DartmediaConfig(base_url="http://127.0.0.1:9/", userid="lapor", password="pw")
    req = DART.build_send(OutboundSMS(42, "+6281234567890", "1708", text), config)
    assert (req.method, req.url) == ("GET", "http://127.0.0.1:9/APIhttpU/receive2waysms.php")
    assert req.params == {
        "userid": "lapor",
        "password": "pw",
        "sendto": "6281234567890",
        "original": "1708",
        "messageid": "42",
        "message": text,
        "dcs": dcs,
        "udhl": "0",
        "charset": "utf-8",
    }


@pytest.mark.parametrize(
    ("status", "body", "retryable"),
    [
        pytest.param(200, "001", False, id="001-authentication"),
        pytest.param(200, "101", False, id="101-expired-or-invalid"),
        pytest.param(200, "999 what", False, id="unknown-code"),
        pytest.param(400, "Error", False, id="400-courier"),
        pytest.param(429, "Error", True, id="429-courier-throttled"),
        pytest.param(502, "bad gateway", True, id="502"),
    ],
)
def test_send_failures_are_classified(status, body, retryable):
    with pytest.raises(SendError) as exc:
        DART.read_send_response(SendResponse(status, body))
    assert exc.value.retryable is retryable
    assert exc.value.throttled is (status == 429)


def test_000_is_accepted_and_every_callback_is_answered_000():
    assert DART.read_send_response(SendResponse(200, "000")) == ""
    for ack in (DART.inbound_ack([1], False), DART.inbound_ack([], True), DART.status_ack()):
        assert (ack.status, ack.body) == (200, "000")
