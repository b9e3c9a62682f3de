"""What the hostile rows of test_aggregator_routes.py found, one recorded payload each with one
field made bad: the 400 names that field by the aggregator's own name (the checks behind the
parser, gateway.services.inbox and outbox, use ours: `from`, `to`, `text`, `id`), and a
receipt whose extra diagnostic field (Vonage `err-code`) holds a control character is still
applied."""

from __future__ import annotations

import json

import pytest

from tests.hostile import recorded as rec

LONG_ID = "x" * 129  # the id columns hold 128
LONG_TO = "1" * 21  # the `to` column holds 20
TOO_LONG_TEXT = "a" * 2001  # GATEWAY_MAX_TEXT_CHARS (2000)


def _fixture(aggregator: str, name: str) -> rec.Recorded:
    for kind in (rec.QUERY, rec.FORM, rec.JSON):
        for route in ("inbound", "status"):
            for r in rec.load(aggregator, route, kind, strict=False):
                if r.name == name:
                    return r
    raise LookupError(name)


def _with(r: rec.Recorded, key: str, value: str):
    """The recorded request with `key` (dotted in JSON) set to `value`."""
    if r.kind == rec.JSON:
        return rec.json_body(rec._set_path(r.obj, key, value, drop=False))
    # Jasmin reads `binary` before `content` (the same octets): set `content`, `binary` goes.
    gone = {key, "binary"} if key == "content" else {key}
    return [(k, v) for k, v in r.pairs if k not in gone] + [(key, value)]


MISNAMED = [
    pytest.param("vonage", "mo_get_text", "msisdn", "0812-FLOWERS", id="vonage-msisdn-letters"),
    pytest.param("vonage", "mo_get_text", "messageId", LONG_ID, id="vonage-messageId-long"),
    pytest.param("vonage", "mo_post_unicode", "messageId", "a\x01b", id="vonage-form-messageId-control"),
    pytest.param("vonage", "mo_json_text", "msisdn", "62", id="vonage-json-msisdn-short"),
    pytest.param("vonage", "dlr_json_failed", "messageId", LONG_ID, id="vonage-dlr-json-messageId-long"),
    pytest.param("dartmedia", "mo_gsm7", "original", "not-a-number", id="dartmedia-original"),
    pytest.param("dartmedia", "mo_gsm7", "messageid", LONG_ID, id="dartmedia-messageid-long"),
    pytest.param("dartmedia", "mo_gsm7", "sendto", LONG_TO, id="dartmedia-sendto-long"),
    pytest.param("dartmedia", "mo_gsm7", "message", TOO_LONG_TEXT, id="dartmedia-message-long"),
    pytest.param("jasmin", "mo_gsm7", "content", TOO_LONG_TEXT, id="jasmin-content-long"),
    pytest.param("8x8", "mo_gsm7", "payload.source", "+62abc", id="8x8-source-letters"),
    pytest.param("8x8", "mo_gsm7", "payload.umid", LONG_ID, id="8x8-umid-long"),
    pytest.param("8x8", "mo_gsm7", "payload.destination", LONG_TO, id="8x8-destination-long"),
    pytest.param("8x8", "mo_gsm7", "payload.body", TOO_LONG_TEXT, id="8x8-body-long"),
    pytest.param("8x8", "dlr_sent_foreign_client_id", "payload.umid", LONG_ID, id="8x8-dlr-umid-long"),
    pytest.param("africastalking", "sms_mo_gsm7", "from", "+62abc", id="africastalking-from"),
    pytest.param("twilio", "mo_gsm", "From", "+62abc", id="twilio-From-letters"),
    pytest.param("twilio", "mo_gsm", "MessageSid", LONG_ID, id="twilio-MessageSid-long"),
    pytest.param("twilio", "mo_gsm", "To", LONG_TO, id="twilio-To-long"),
    pytest.param("twilio", "mo_gsm", "Body", TOO_LONG_TEXT, id="twilio-Body-long"),
]


@pytest.mark.parametrize("aggregator, fixture, key, value", MISNAMED)
def test_a_bad_field_is_named_as_the_aggregator_names_it(client, aggregator, fixture, key, value):
    r = _fixture(aggregator, fixture)
    resp = client.open(r.path, method=r.method, **rec.request_kwargs(r.kind, _with(r, key, value)))
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.get_json()["field"] == key


@pytest.mark.parametrize(
    "aggregator, fixture, key",
    [
        pytest.param("vonage", "dlr_get_delivered", "err-code", id="vonage-err-code"),
        pytest.param("africastalking", "sms_dlr_failed", "failureReason", id="africastalking-failureReason"),
        pytest.param("8x8", "dlr_undelivered", "payload.status.detail", id="8x8-detail"),
    ],
)
def test_a_control_character_in_a_receipts_diagnostic_field_does_not_refuse_it(
    client, aggregator, fixture, key
):
    r = _fixture(aggregator, fixture)
    resp = client.open(r.path, method=r.method, **rec.request_kwargs(r.kind, _with(r, key, "15\r\nX: 1")))
    assert resp.status_code == 200, resp.get_data(as_text=True)


def test_the_recorded_fixtures_load():
    assert json.loads(rec.json_body({"a": 1})) == {"a": 1}
