"""One targeted test per issue-12 finding the hostile suite hit, on both databases.
While a finding is open its test is a strict xfail naming it (and findings.py lists it); when
the fix lands the test passes, strict xfail turns it red, and the mark and the entry are removed
together, so the test stays as a plain regression test. Every finding below is fixed on main."""

from __future__ import annotations

import json

import pytest

from gateway.errors import InvalidPayload
from gateway.services.tokens import MAX_NAME_CHARS, create_token
from tests.conftest import INBOUND_TOKEN
from tests.hostile.conftest import LIVENESS_TEXT
from tests.hostile.strategies import deep_json
from tests.store.admin_helpers import bearer, no_quiet_hours
from tests.store.helpers import AUTH, file_report, post_mo


def _refused(resp, field: str | None = None) -> bool:
    """A 400 invalid_payload answer (naming `field` when given)."""
    body = resp.get_json(silent=True) or {}
    return resp.status_code == 400 and (field is None or body.get("field") == field)


def _call(client, method, url, **kwargs):
    """The status of one request; an exception the app raised counts as 500."""
    try:
        return client.open(url, method=method, **kwargs)
    except Exception as exc:  # app.testing propagates exceptions: that is a 500 in production
        pytest.fail(f"500 {type(exc).__name__}")


def test_poison_timestamp_never_stops_the_drain(client, run_jobs, fake_aggregator):
    """A timestamp past year 9999 in UTC (it stopped every drain on PostgreSQL) is refused with
    400 naming `timestamp`, and the next LAPOR is answered."""
    poison = post_mo(client, "LAPOR poison", msg_id="p-1", timestamp="9999-12-31T23:59:59-23:59")
    assert _refused(poison, "timestamp")
    assert post_mo(client, LIVENESS_TEXT, sender="085700000001").status_code == 202
    run_jobs()
    assert any(m["to"] == "+6285700000001" for m in fake_aggregator.sent())


# JSON nested 5,000 deep (it was a 500 RecursionError on every JSON route). A body that fits
# the 16 KiB request limit is refused with 400 naming `body`; one that does not (5,000 nested
# objects are 30 KB) gets the documented 413 before anything parses it.
DEEP_BODIES = [
    pytest.param(deep_json(5000, "list"), 400, id="list-10KB-400"),
    pytest.param(deep_json(5000, "object"), 413, id="object-30KB-413"),
]


def _deep_json_answer(resp, status: int) -> bool:
    return _refused(resp, "body") if status == 400 else resp.status_code == status


@pytest.mark.parametrize(("body", "status"), DEEP_BODIES)
@pytest.mark.parametrize(
    "path", ["/sms/generic/inbound", "/sms/generic/status", "/ussd/generic"], ids=["mo", "dlr", "ussd"]
)
def test_deep_json_is_refused(client, path, body, status):
    resp = _call(client, "POST", path, data=body, headers=AUTH, content_type="application/json")
    assert _deep_json_answer(resp, status)


@pytest.mark.parametrize(("body", "status"), DEEP_BODIES)
def test_deep_json_is_refused_by_the_admin_api(client, rt, run_jobs, fake_aggregator, body, status):
    no = file_report(client, rt, run_jobs, fake_aggregator)
    resp = _call(
        client,
        "POST",
        f"/api/v1/reports/{no}/follow-ups",
        data=body,
        headers=bearer(rt),
        content_type="application/json",
    )
    assert _deep_json_answer(resp, status)


@pytest.mark.parametrize("charset", ["uu", "bz2", "zlib"])
def test_kannel_codec_that_is_not_a_charset_is_refused(client, charset):
    query = f"from=081234567890&to=1708&text=LAPOR+x&id=k-1&charset={charset}&token={INBOUND_TOKEN}"
    assert _refused(_call(client, "GET", "/sms/kannel/inbound", query_string=query), "charset")


@pytest.mark.parametrize("charset", ["idna", "punycode"])
@pytest.mark.parametrize("post_url", [False, True], ids=["get-url", "post-url"])
def test_kannel_charset_that_cannot_decode_is_refused(client, charset, post_url):
    query = f"from=081234567890&to=1708&text=%C2%80&id=k-2&charset={charset}&token={INBOUND_TOKEN}"
    body = {"data": b"\x80\xff", "content_type": "text/plain"} if post_url else {}
    resp = _call(client, "POST" if post_url else "GET", "/sms/kannel/inbound", query_string=query, **body)
    assert _refused(resp, "charset") or _refused(resp, "text")


def test_kannel_dlr_id_of_unicode_digits_is_refused(client):
    resp = _call(
        client, "GET", "/sms/kannel/status", query_string=f"id=%C2%B2&status=1&token={INBOUND_TOKEN}"
    )
    assert _refused(resp, "id")


@pytest.mark.parametrize("ref", [str(2**31), str(2**63)], ids=["2^31", "2^63"])
def test_kannel_dlr_id_beyond_the_column_is_refused_or_ignored(client, ref):
    resp = _call(client, "GET", "/sms/kannel/status", query_string=f"id={ref}&status=1&token={INBOUND_TOKEN}")
    assert resp.status_code < 500


@pytest.mark.parametrize("query", ["until=9999-12-31", "since=0001-01-01"])
def test_report_list_dates_at_the_ends_of_the_calendar(client, rt, query):
    resp = _call(client, "GET", "/api/v1/reports", query_string=query, headers=bearer(rt, "viewer"))
    assert resp.status_code == 200 or _refused(resp, query.split("=")[0])


@pytest.mark.parametrize(
    ("outbound_id", "status"),
    [
        # In the column's range but no such row: "not found or not FAILED" (README, OpenAPI).
        pytest.param(2**31 - 1, 404, id="2^31-1-404"),
        # Beyond the int4 column (it was a PG 503 DataError): no row can have it, 404 (OpenAPI).
        pytest.param(2**31, 404, id="2^31-404"),
        pytest.param(2**63, 404, id="2^63-404"),
    ],
)
def test_requeue_of_an_id_beyond_the_column(client, rt, outbound_id, status):
    resp = _call(client, "POST", f"/api/v1/outbound/{outbound_id}/requeue", headers=bearer(rt))
    assert resp.status_code == status


@pytest.mark.parametrize(
    ("path", "data", "field"),
    [
        pytest.param(
            "/sms/generic/inbound",
            {"from": "081234567890", "to": "1" * 21, "text": "LAPOR x", "id": "a"},
            "to",
            id="mo-to-21",
        ),
        pytest.param(
            "/sms/generic/inbound",
            {"from": "081234567890", "to": "1708", "text": "LAPOR x", "id": "a\x00b"},
            "id",
            id="mo-id-nul",
        ),
        pytest.param("/sms/generic/status", {"id": "x" * 129, "status": "DELIVERED"}, "id", id="dlr-id-129"),
        pytest.param("/sms/generic/status", {"id": "a\x00b", "status": "DELIVERED"}, "id", id="dlr-id-nul"),
    ],
)
def test_what_the_schema_cannot_hold_is_a_400_on_both_databases(client, path, data, field):
    assert _refused(_call(client, "POST", path, data=data, headers=AUTH), field)


def test_a_token_name_too_long_for_the_actor_column_is_refused_at_creation(rt):
    """A 64-character name was stored, then its actor `token:<name>` overflowed
    report_events.actor (String(64)) on every action (PG 503). README: at most 58 characters."""
    with pytest.raises(InvalidPayload) as refused:
        create_token(rt, "n" * (MAX_NAME_CHARS + 1), "admin")
    assert refused.value.field == "name"


def test_the_longest_token_name_allowed_works_for_admin_actions(client, rt, run_jobs, fake_aggregator):
    no_quiet_hours(rt)
    no = file_report(client, rt, run_jobs, fake_aggregator)
    auth = {"Authorization": f"Bearer {create_token(rt, 'n' * MAX_NAME_CHARS, 'admin')}"}
    resp = _call(
        client, "POST", f"/api/v1/reports/{no}/follow-ups", json={"text": "Sudah dijadwalkan."}, headers=auth
    )
    assert resp.status_code == 201


__all__ = ["json"]
