"""Hostile values on Infobip's JSON callbacks (MO and DLR `results[]`) and Twilio's form
callbacks (MO and status; the auth token unset here, so every value reaches the parser). Each
route: no 5xx, and a normal LAPOR still gets its reply."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from tests.hostile.conftest import budget
from tests.hostile.strategies import (
    any_timestamp,
    body_json,
    deep_body,
    hostile_text,
    json_value,
    sometimes,
    valid_msisdn,
)
from tests.store.helpers import AUTH

TEXTS = st.sampled_from(("LAPOR lampu jalan mati di gang melati", "CEK 1234567890", "INFO"))
SCALE = 0.5  # two formats, four routes: half the generic routes' budget each

infobip_mo = st.fixed_dictionaries(
    {
        "messageId": sometimes(st.uuids().map(str), json_value()),
        "from": sometimes(valid_msisdn.map(lambda n: n.lstrip("+")), json_value()),
        "text": sometimes(TEXTS, json_value()),
    },
    optional={
        "to": json_value(),
        "receivedAt": sometimes(any_timestamp, json_value()),
        "smsCount": json_value(),
    },
)
infobip_dlr = st.fixed_dictionaries(
    {"messageId": sometimes(st.uuids().map(str), json_value())},
    optional={
        "status": sometimes(
            st.fixed_dictionaries(
                {"groupName": st.sampled_from(("PENDING", "DELIVERED", "REJECTED")) | json_value()},
                optional={"name": json_value()},
            ),
            json_value(),
        ),
        "callbackData": json_value(),
        "error": json_value(),
    },
)


def _infobip(hostile, label, path, entry):
    route = hostile(label)
    bodies = st.one_of(
        st.lists(entry, max_size=3).map(lambda r: body_json({"results": r})),
        json_value().map(lambda v: body_json({"results": v})),
        deep_body,
        st.binary(max_size=40),
    )

    @given(bodies)
    @example(body_json({"results": [{"messageId": "m" * 129, "from": "6281234567890", "text": "LAPOR x"}]}))
    @example(
        body_json(
            {"results": [{"messageId": "x", "status": {"groupName": "DELIVERED"}, "callbackData": "9" * 30}]}
        )
    )
    @budget(SCALE)
    def probe(body):
        route.request("POST", path, data=body, headers=AUTH, content_type="application/json")

    probe()
    route.finish()


def test_infobip_inbound(hostile):
    _infobip(hostile, "POST /sms/infobip/inbound json", "/sms/infobip/inbound", infobip_mo)


def test_infobip_status(hostile):
    _infobip(hostile, "POST /sms/infobip/status json", "/sms/infobip/status", infobip_dlr)


twilio_mo = st.fixed_dictionaries(
    {
        "MessageSid": sometimes(st.uuids().map(lambda u: "SM" + u.hex), hostile_text),
        "From": sometimes(valid_msisdn, hostile_text),
        "Body": sometimes(TEXTS, hostile_text),
    },
    optional={"To": hostile_text, "NumSegments": hostile_text},
)
twilio_status = st.fixed_dictionaries(
    {},
    optional={
        "MessageSid": sometimes(st.uuids().map(lambda u: "SM" + u.hex), hostile_text),
        "MessageStatus": sometimes(st.sampled_from(("sent", "delivered", "failed")), hostile_text),
        "ErrorCode": hostile_text,
    },
)


def _twilio(hostile, label, path, fields, ids):
    route = hostile(label)

    @given(fields, ids)
    @example({"MessageSid": "SM" + "x" * 200, "From": "+6281234567890", "Body": "LAPOR x"}, "")
    @example({"MessageSid": "SM1", "MessageStatus": "delivered"}, "99999999999999999999")
    @budget(SCALE)
    def probe(data, our_id):
        route.request("POST", f"{path}?id={our_id}" if our_id else path, data=data, headers=AUTH)

    probe()
    route.finish()


def test_twilio_inbound(hostile):
    _twilio(hostile, "POST /sms/twilio/inbound form", "/sms/twilio/inbound", twilio_mo, st.just(""))


def test_twilio_status(hostile):
    ids = st.just("") | st.integers(-(2**40), 2**40).map(str) | hostile_text
    _twilio(hostile, "POST /sms/twilio/status form", "/sms/twilio/status", twilio_status, ids)
