"""The generic aggregator, over requests recorded from the shared contract client
(tests/fixtures/generic/), and its send request/answer rules."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from gateway.aggregators.base import InboundSMS, MessagePart, OutboundSMS, SendResponse, StatusUpdate
from gateway.aggregators.generic import Generic, GenericConfig
from gateway.errors import InvalidPayload, SendError
from tests.support.recorded import load, wire

GENERIC = Generic()
WIB = timezone(timedelta(hours=7))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "mo_form_local",
            InboundSMS(
                "081234567890", "1708", "LAPOR Saluran air di Jl. Melati RT 02 tersumbat", "acc-4242-1"
            ),
            id="form-local-number",
        ),
        pytest.param(
            "mo_json_plus62",
            InboundSMS("+6281234567890", "1708", "LAPOR halte bus rusak di jalan pemuda", "json-4242"),
            id="json-plus62",
        ),
        pytest.param(
            "mo_form_62_timestamp",
            InboundSMS(
                "6281234567890", "1708", "CEK#1234567890", "agg-77", datetime(2026, 11, 29, 8, 15, tzinfo=WIB)
            ),
            id="form-62-with-timestamp",
        ),
        pytest.param(
            "mo_form_unicode",
            InboundSMS("081234567890", "1708", "LAPOR jalan “rusak” — parah 🙏", "agg-78"),
            id="form-unicode-text",
        ),
        pytest.param(
            "mo_form_concat_part",
            InboundSMS(
                "081234567890", "1708", "ar Minggu, lubangnya ", "acc-4243-2", part=MessagePart("7", 2, 3)
            ),
            id="form-concat-part-spacing-kept",
        ),
    ],
)
def test_recorded_mo(name, expected):
    assert GENERIC.parse_inbound(wire(load("generic", name))) == [expected]


@pytest.mark.parametrize(
    ("name", "field"),
    [
        pytest.param("mo_form_missing_text", "text", id="missing-text"),
        pytest.param("dlr_form_bogus", "status", id="bogus-dlr-status"),
    ],
)
def test_recorded_bad_payloads_name_the_field(name, field):
    fx = load("generic", name)
    parse = GENERIC.parse_status if "/status" in fx["path"] else GENERIC.parse_inbound
    with pytest.raises(InvalidPayload) as exc:
        parse(wire(fx))
    assert exc.value.field == field


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            "dlr_form_delivered", StatusUpdate("agg-1", "DELIVERED", "DELIVERED"), id="form-delivered"
        ),
        pytest.param(
            "dlr_json_undelivered", StatusUpdate("agg-2", "UNDELIVERED", "UNDELIVERED"), id="json-lowercase"
        ),
    ],
)
def test_recorded_dlr(name, expected):
    assert GENERIC.parse_status(wire(load("generic", name))) == [expected]


def test_bad_from_is_left_to_the_receiver_to_normalise():
    # The wire parser keeps the raw sender; gateway.services.inbox rejects it with field "from".
    [sms] = GENERIC.parse_inbound(wire(load("generic", "mo_form_bad_from")))
    assert sms.sender == "not-a-number"


def test_build_send_is_the_contract_json_with_bearer_token():
    config = GenericConfig(send_url="http://127.0.0.1:9/send", send_token="s3cret")
    req = GENERIC.build_send(OutboundSMS(42, "+6281234567890", "1708", "Halo"), config)
    assert (req.method, req.url) == ("POST", "http://127.0.0.1:9/send")
    assert req.json == {"id": "42", "to": "+6281234567890", "from": "1708", "text": "Halo"}
    assert req.headers == {"Authorization": "Bearer s3cret"}


@pytest.mark.parametrize(
    ("status", "body", "headers", "retryable", "retry_after"),
    [
        pytest.param(429, "slow", {"Retry-After": "30"}, True, 30.0, id="429-retry-after"),
        pytest.param(500, "err", {}, True, None, id="500"),
        pytest.param(
            503, "down", {"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}, True, None, id="503-http-date"
        ),
        pytest.param(400, "bad number", {}, False, None, id="400"),
        pytest.param(404, "no route", {}, False, None, id="404"),
        pytest.param(200, "not json", {}, False, None, id="2xx-not-json"),
        pytest.param(200, '{"status": "ok"}', {}, False, None, id="2xx-without-id"),
    ],
)
def test_send_failures_are_classified(status, body, headers, retryable, retry_after):
    with pytest.raises(SendError) as exc:
        GENERIC.read_send_response(SendResponse(status, body, headers))
    assert (exc.value.retryable, exc.value.retry_after) == (retryable, retry_after)


@pytest.mark.parametrize("status", [200, 201, 202])
def test_2xx_with_id_is_accepted(status):
    assert GENERIC.read_send_response(SendResponse(status, '{"id": "agg-9"}')) == "agg-9"


def test_a_send_error_never_carries_the_number_the_aggregator_echoed():
    with pytest.raises(SendError) as exc:
        GENERIC.read_send_response(SendResponse(400, '{"error": "invalid destination +6281234567890"}'))
    assert "6281234567890" not in exc.value.reason and "+62812****890" in exc.value.reason
