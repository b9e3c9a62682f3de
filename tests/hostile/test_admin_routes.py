"""Hostile values on the admin API (`/api/v1`) with a real admin token and a real report,
and on the signed complaint-system events (`/api/v1/events`)."""

from __future__ import annotations

import json
import time
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.models import REPORT_STATUS_LABELS
from gateway.security import sign
from tests.hostile.conftest import budget
from tests.hostile.strategies import (
    HUGE_INTS,
    any_timestamp,
    body_json,
    deep_body,
    hostile_text,
    huge_int_text,
    json_value,
    sometimes,
)
from tests.store.admin_helpers import bearer, no_quiet_hours
from tests.store.helpers import file_report

UPSTREAM_SECRET = "hostile-upstream-secret"
STATUSES = st.sampled_from(tuple(REPORT_STATUS_LABELS))
dates = any_timestamp.map(lambda t: t[:10]) | st.sampled_from(("0001-01-01", "9999-12-31", "0000-00-00"))


@pytest.fixture
def admin_ctx(client, rt, run_jobs, fake_aggregator):
    """An admin token and one filed report (its tracking number)."""
    no_quiet_hours(rt)
    rt.settings = rt.settings.replace(upstream_secret=UPSTREAM_SECRET)
    tracking = file_report(client, rt, run_jobs, fake_aggregator)
    return bearer(rt, "admin"), tracking


def _query(params: dict) -> str:
    return urlencode(params, encoding="utf-8")


def test_list_reports(hostile, admin_ctx):
    auth, _ = admin_ctx
    route = hostile("GET /api/v1/reports")
    params = st.fixed_dictionaries(
        {},
        optional={
            "page": huge_int_text | hostile_text,
            "per_page": huge_int_text | hostile_text,
            "status": sometimes(STATUSES, hostile_text),
            "channel": sometimes(st.sampled_from(("SMS", "ussd")), hostile_text),
            "since": sometimes(dates, hostile_text),
            "until": sometimes(dates, hostile_text),
            "q": hostile_text,
        },
    )

    @given(params)
    @budget()
    def probe(query):
        route.request("GET", "/api/v1/reports", query_string=_query(query), headers=auth)

    probe()
    route.finish()


tracking_nos = st.one_of(
    st.integers(0, 10**12).map(str), hostile_text.filter(lambda t: t not in ("", ".", "..")), huge_int_text
)


def test_report_by_tracking_no(hostile, admin_ctx):
    auth, tracking = admin_ctx
    route = hostile("GET /api/v1/reports/<no>")

    @given(st.one_of(st.just(tracking), tracking_nos))
    @budget(0.5)
    def probe(no):
        route.request("GET", f"/api/v1/reports/{quote(no, safe='')}", headers=auth)

    probe()
    route.finish()


@pytest.mark.parametrize("action", ["status", "follow-ups", "replies"])
def test_report_actions(hostile, admin_ctx, action):
    auth, tracking = admin_ctx
    route = hostile(f"POST /api/v1/reports/<no>/{action}")
    fields = st.fixed_dictionaries(
        {},
        optional={
            "status": sometimes(STATUSES, json_value()),
            "note": json_value(),
            "text": sometimes(st.just("Petugas sudah dijadwalkan."), json_value()),
        },
    )
    bodies = st.one_of(fields.map(body_json), fields.map(body_json), deep_body, st.binary(max_size=30))

    @given(st.one_of(st.just(tracking), st.just(tracking), tracking_nos), bodies)
    @budget()
    def probe(no, body):
        url = f"/api/v1/reports/{quote(no, safe='')}/{action}"
        route.request("POST", url, data=body, headers=auth, content_type="application/json")

    probe()
    route.finish()


def test_outbound_list_and_requeue(hostile, admin_ctx):
    auth, _ = admin_ctx
    route = hostile("GET /api/v1/outbound, POST .../requeue")
    params = st.fixed_dictionaries(
        {},
        optional={"page": huge_int_text | hostile_text, "per_page": huge_int_text, "status": hostile_text},
    )
    ids = st.sampled_from(HUGE_INTS).map(str) | st.integers(0, 2**80).map(str) | hostile_text

    @given(st.one_of(params.map(lambda p: ("list", p)), ids.map(lambda i: ("requeue", i))))
    @budget()
    def probe(call):
        kind, value = call
        if kind == "list":
            route.request("GET", "/api/v1/outbound", query_string=_query(value), headers=auth)
        else:
            route.request("POST", f"/api/v1/outbound/{quote(value, safe='')}/requeue", headers=auth)

    probe()
    route.finish()


def post_event(client, body: bytes, secret: str = UPSTREAM_SECRET):
    """POST a body to /api/v1/events signed like the complaint system signs it."""
    ts = int(time.time())
    headers = {"X-Lapor-Timestamp": str(ts), "X-Lapor-Signature": sign(secret, ts, body)}
    return headers


def test_upstream_events(hostile, admin_ctx, client):
    _, tracking = admin_ctx
    route = hostile("POST /api/v1/events signed")
    events = st.fixed_dictionaries(
        {
            "id": sometimes(st.uuids().map(str), json_value()),
            "type": sometimes(st.sampled_from(("status_changed", "follow_up")), json_value()),
            "tracking_no": sometimes(st.just(tracking), json_value()),
        },
        optional={
            "status": sometimes(STATUSES, json_value()),
            "text": sometimes(st.just("Dinas PU menjadwalkan perbaikan."), json_value()),
            "note": json_value(),
            "actor": json_value(),
        },
    )

    @given(st.one_of(events.map(body_json), events.map(body_json), deep_body, st.binary(max_size=30)))
    @budget()
    def probe(body):
        headers = post_event(client, body)
        route.request("POST", "/api/v1/events", data=body, headers=headers, content_type="application/json")

    probe()
    route.finish()


__all__ = ["json", "post_event"]
