"""Hostile values on the SMS callbacks: the generic MO and DLR (form and JSON) and Kannel's
get-url, post-url and dlr-url. Each route: no 5xx, and a normal LAPOR still gets its reply."""

from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import example, given
from hypothesis import strategies as st

from tests.conftest import INBOUND_TOKEN
from tests.hostile.conftest import budget
from tests.hostile.strategies import (
    UTF7_SURROGATE,
    any_timestamp,
    body_json,
    charset,
    deep_body,
    hostile_text,
    json_value,
    no_surrogates,
    sometimes,
    valid_msisdn,
)
from tests.store.helpers import AUTH

NORMAL_TEXTS = st.sampled_from(("LAPOR lampu jalan mati di gang melati", "CEK 1234567890", "INFO", "ok"))


def _mo_fields(values):
    return st.fixed_dictionaries(
        {
            "from": sometimes(valid_msisdn, values),
            "to": sometimes(st.just("1708"), values),
            "text": sometimes(NORMAL_TEXTS, values),
            "id": sometimes(st.uuids().map(str), values),
        },
        optional={
            "timestamp": sometimes(any_timestamp, values),
        },
    )


mo_form = _mo_fields(hostile_text)
mo_json = _mo_fields(json_value())
dlr_form = st.fixed_dictionaries(
    {},
    optional={
        "id": sometimes(st.uuids().map(str), hostile_text),
        "status": sometimes(st.just("DELIVERED"), hostile_text),
    },
)
dlr_json = st.fixed_dictionaries(
    {}, optional={"id": sometimes(st.uuids().map(str), json_value()), "status": json_value()}
)


# The issue's own cases, tried on every run whatever hypothesis draws.
POISON_MO = {
    "from": "081234567890",
    "to": "1708",
    "text": "LAPOR poison",
    "id": "p-1",
    "timestamp": "9999-12-31T23:59:59-23:59",
}
LONG_TO_MO = {"from": "081234567890", "to": "1" * 21, "text": "LAPOR x", "id": "p-2"}
SURROGATE_MO = body_json({"from": "081234567890", "to": "1708", "text": "LAPOR x\ud800", "id": "s-1"})


def _form_test(hostile, label, path, fields):
    route = hostile(label)

    @given(fields)
    @example(POISON_MO)
    @example(LONG_TO_MO)
    @example({"id": "x" * 129, "status": "DELIVERED"})
    @budget()
    def probe(data):
        route.request("POST", path, data=data, headers=AUTH)

    probe()
    route.finish()


def _json_test(hostile, label, path, fields):
    route = hostile(label)

    @given(st.one_of(fields.map(body_json), deep_body, st.binary(max_size=40)))
    @example(SURROGATE_MO)
    @budget()
    def probe(body):
        route.request("POST", path, data=body, headers=AUTH, content_type="application/json")

    probe()
    route.finish()


def test_generic_inbound_form(hostile):
    _form_test(hostile, "POST /sms/generic/inbound form", "/sms/generic/inbound", mo_form)


def test_generic_inbound_json(hostile):
    _json_test(hostile, "POST /sms/generic/inbound json", "/sms/generic/inbound", mo_json)


def test_generic_status_form(hostile):
    _form_test(hostile, "POST /sms/generic/status form", "/sms/generic/status", dlr_form)


def test_generic_status_json(hostile):
    _json_test(hostile, "POST /sms/generic/status json", "/sms/generic/status", dlr_json)


kannel_query = st.fixed_dictionaries(
    {
        "token": st.just(INBOUND_TOKEN),
        "from": sometimes(valid_msisdn, hostile_text),
        "to": sometimes(st.just("1708"), hostile_text),
        "text": sometimes(NORMAL_TEXTS, hostile_text),
        "id": sometimes(st.uuids().map(str), hostile_text),
    },
    optional={
        "ts": sometimes(st.integers(0, 2**31).map(str), hostile_text),
        "coding": st.sampled_from(("0", "1", "2", "3", "-1", "99999999999999999999")) | hostile_text,
        "charset": charset,
    },
)


def _qs(query: dict) -> str:
    return urlencode(query, encoding="utf-8")


# utf-7 text that decodes to a lone surrogate (a 500 on both databases until main's bc49767).
UTF7_MO = {"token": INBOUND_TOKEN, "from": "081234567890", "to": "1708", "id": "u7-1", "charset": "utf-7"}


def test_kannel_inbound_get(hostile):
    route = hostile("GET /sms/kannel/inbound")

    @given(kannel_query)
    @example({**UTF7_MO, "text": UTF7_SURROGATE})
    @budget()
    def probe(query):
        route.request("GET", "/sms/kannel/inbound", query_string=_qs(query))

    probe()
    route.finish()


# A charset the Content-Type header can carry (the test client refuses control characters).
header_charset = charset.filter(lambda c: c.isascii() and c.isprintable() and '"' not in c)


def test_kannel_inbound_post_url(hostile):
    route = hostile("POST /sms/kannel/inbound post-url")

    @given(
        kannel_query,
        st.one_of(
            st.binary(max_size=60), st.text(no_surrogates, max_size=60).map(lambda t: t.encode("utf-16-be"))
        ),
        st.none() | header_charset,
    )
    @example({**UTF7_MO, "text": "x"}, UTF7_SURROGATE.encode(), None)
    @budget()
    def probe(query, body, body_charset):
        content_type = "text/plain" + (f'; charset="{body_charset}"' if body_charset is not None else "")
        route.request(
            "POST", "/sms/kannel/inbound", query_string=_qs(query), data=body, content_type=content_type
        )

    probe()
    route.finish()


def test_kannel_status(hostile):
    route = hostile("GET /sms/kannel/status")
    ids = (
        st.integers(-(2**70), 2**70).map(str)
        | hostile_text
        | st.sampled_from(("%C2%B2", "²", "٣", "1" * 200))
    )

    @given(
        st.fixed_dictionaries(
            {"token": st.just(INBOUND_TOKEN)},
            optional={
                "id": ids,
                "status": st.sampled_from(("1", "2", "4", "8", "16")) | hostile_text,
                "smsc_id": hostile_text,
            },
        )
    )
    @budget()
    def probe(query):
        route.request("GET", "/sms/kannel/status", query_string=_qs(query))

    probe()
    route.finish()
