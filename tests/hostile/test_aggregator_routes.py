"""Hostile variants of every recorded callback of the newer aggregators (Vonage, Jasmin,
Dartmedia, Africa's Talking, 8x8), one row per route and format: no 5xx, every 400 names one of
the route's own fields and is the edge's (not the database's), and a normal LAPOR still gets
its reply. Each field is mutated from a recorded payload, so most requests get past the first
check to the ones behind it; the fields whose format is the aggregator's own (Jasmin `coding`
and `binary`, Dartmedia `dcs`, `udhl` and `message` octets, Vonage `type` and `concat-*`, each
one's timestamp format) get values of their kind."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.hostile import recorded as rec
from tests.hostile.conftest import budget
from tests.hostile.strategies import any_timestamp, hostile_text, json_value

SCALE = 0.6  # examples per row, of HOSTILE_EXAMPLES: 13 rows, both databases, within ~30 s
octets_or_text = rec.form_value
hex_of = st.one_of(
    rec.udh_octets.map(bytes.hex),
    st.binary(max_size=30).map(bytes.hex),
    st.sampled_from(("0", "zz", "0x41", "4 1", "4" * 1001, "ffffffff" * 40, "٣٣")),
)
coding = st.one_of(
    st.integers(0, 255).map(lambda b: bytes((b,))),  # the raw byte Jasmin throws
    st.integers(0, 300).map(str),
    st.sampled_from(("", "-1", "08", "0008", "1e1", "٨")),
)
vonage_time = rec.compact_times("%Y-%m-%d %H:%M:%S") | rec.any_times | hostile_text
at_time = rec.compact_times("%Y-%m-%dT%H:%M:%SZ") | rec.compact_times("%Y-%m-%d %H:%M:%S") | hostile_text
iso_time = any_timestamp | hostile_text | json_value()

VONAGE = {
    "type": st.sampled_from(("text", "unicode", "binary", "TEXT", " unicode ", "wap", "")) | hostile_text,
    "concat": st.sampled_from(("true", "false", "1")),
    "concat-ref": rec.small_numbers | hostile_text,
    "concat-part": rec.small_numbers,
    "concat-total": rec.small_numbers,
    "message-timestamp": vonage_time,
    "timestamp": rec.small_numbers | hostile_text,
    "client-ref": rec.small_numbers | st.sampled_from(("2147483648", "²", "1" * 200)) | hostile_text,
    "status": st.sampled_from(("delivered", "DELIVERED", "accepted", "bogus")) | hostile_text,
}
JASMIN = {
    "coding": coding,
    "binary": hex_of,
    "content": rec.udh_octets | octets_or_text,
    "message_status": st.sampled_from(("DELIVRD", "ESME_RINVDSTADR", "ESME_", "esme_rok", "X"))
    | hostile_text,
}
DARTMEDIA = {
    "dcs": rec.small_numbers,
    "udhl": rec.small_numbers,
    "message": rec.udh_octets | octets_or_text,
    "date": rec.compact_times("%Y%m%d%H%M%S") | hostile_text,
    "messageid": st.sampled_from(("42.3", "42..", ".", "2147483648", "²", "1" * 200, "0")) | hostile_text,
    "status": rec.small_numbers | hostile_text,
}
AFRICASTALKING = {
    "date": at_time,
    "status": st.sampled_from(("Success", "success", "Failed", "Bogus")) | hostile_text,
}
EIGHT = {
    "payload.timestamp": iso_time,
    "payload.status.state": st.sampled_from(("delivered", "READ", "bogus")) | json_value(),
    "payload.clientMessageId": st.sampled_from(("1", "2147483648", "²", "1" * 200)) | json_value(),
    "eventType": st.sampled_from(("inbound_message_received", "outbound_message_status_changed"))
    | json_value(),
}

ROWS = [
    pytest.param("vonage", "inbound", rec.QUERY, VONAGE, id="vonage-inbound-get"),
    pytest.param("vonage", "inbound", rec.FORM, VONAGE, id="vonage-inbound-form"),
    pytest.param("vonage", "inbound", rec.JSON, VONAGE, id="vonage-inbound-json"),
    pytest.param("vonage", "status", rec.QUERY, VONAGE, id="vonage-status-get"),
    pytest.param("vonage", "status", rec.JSON, VONAGE, id="vonage-status-json"),
    pytest.param("jasmin", "inbound", rec.FORM, JASMIN, id="jasmin-inbound"),
    pytest.param("jasmin", "status", rec.FORM, JASMIN, id="jasmin-status"),
    pytest.param("dartmedia", "inbound", rec.QUERY, DARTMEDIA, id="dartmedia-inbound"),
    pytest.param("dartmedia", "status", rec.QUERY, DARTMEDIA, id="dartmedia-status"),
    pytest.param("africastalking", "inbound", rec.FORM, AFRICASTALKING, id="africastalking-inbound"),
    pytest.param("africastalking", "status", rec.FORM, AFRICASTALKING, id="africastalking-status"),
    pytest.param("8x8", "inbound", rec.JSON, EIGHT, id="8x8-inbound"),
    pytest.param("8x8", "status", rec.JSON, EIGHT, id="8x8-status"),
]


@pytest.mark.parametrize("aggregator, route, kind, special", ROWS)
def test_recorded_payloads_mutated(hostile, aggregator, route, kind, special):
    recorded = rec.load(aggregator, route, kind)
    method = recorded[0].method
    path = f"/sms/{aggregator}/{route}"
    every_format = [
        r for k in (rec.QUERY, rec.FORM, rec.JSON) for r in rec.load(aggregator, route, k, strict=False)
    ]
    probe = hostile(f"{method} {path} {kind}", fields=rec.field_names(every_format))

    @given(rec.strategy(recorded, special))
    @budget(SCALE)
    def run(fields):
        probe.request(method, path, **rec.request_kwargs(kind, fields))

    # Each recorded request as it is, first: none is a 5xx or names a field it does not have.
    for r in recorded:
        probe.request(
            method, path, **rec.request_kwargs(kind, r.pairs if kind != rec.JSON else rec.json_body(r.obj))
        )
    run()
    probe.finish()
