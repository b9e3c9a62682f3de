"""Hostile values on the USSD callbacks: the generic JSON format and Africa's Talking's form.
Session ids come from a small pool, so hostile steps land in live sessions too."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.hostile.conftest import budget
from tests.hostile.strategies import body_json, deep_body, hostile_text, json_value, sometimes, valid_msisdn
from tests.store.helpers import AUTH

SESSIONS = st.sampled_from(("s-1", "s-2", "ATUid_1", "x" * 56))
INPUTS = st.sampled_from(("", "1", "2", "3", "jalan rusak di depan pasar*7", "1234567890", "0", "9"))
# Africa's Talking's text is cumulative: a plausible history, or anything.
AT_TEXTS = st.lists(INPUTS, max_size=4).map("*".join)


def test_ussd_generic(hostile):
    route = hostile("POST /ussd/generic json")
    steps = st.fixed_dictionaries(
        {
            "session_id": sometimes(SESSIONS, json_value()),
            "msisdn": sometimes(valid_msisdn, json_value()),
            "input": sometimes(INPUTS, json_value()),
        },
        optional={"service_code": sometimes(st.just("*1708#"), json_value())},
    )

    @given(st.one_of(steps.map(body_json), steps.map(body_json), deep_body, st.binary(max_size=40)))
    @budget()
    def probe(body):
        route.request("POST", "/ussd/generic", data=body, headers=AUTH, content_type="application/json")

    probe()
    route.finish()


def test_ussd_africastalking(hostile):
    route = hostile("POST /ussd/africastalking form")
    steps = st.fixed_dictionaries(
        {
            "sessionId": sometimes(SESSIONS, hostile_text),
            "serviceCode": sometimes(st.just("*384*1708#"), hostile_text),
            "phoneNumber": sometimes(valid_msisdn, hostile_text),
            "text": sometimes(AT_TEXTS, hostile_text),
        },
        optional={"networkCode": sometimes(st.just("51010"), hostile_text)},
    )

    @given(steps)
    @budget()
    def probe(data):
        route.request("POST", "/ussd/africastalking", data=data, headers=AUTH)

    probe()
    route.finish()
