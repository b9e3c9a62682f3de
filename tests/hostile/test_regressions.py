"""One targeted test per open issue-12 finding the hostile suite hits, on both databases.
Each is a strict xfail naming its finding: when the fix lands the test passes, strict xfail
turns it red, and the mark here and the entry in findings.py are removed together."""

from __future__ import annotations

import json

import pytest

from gateway.services.tokens import create_token
from tests.conftest import INBOUND_TOKEN
from tests.hostile import findings
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


def on_postgres(request, backend: str, name: str) -> None:
    """A strict xfail on PostgreSQL only: SQLite already passes, and must keep passing."""
    if backend == "postgres":
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"issue 12: {name}"))


def test_poison_timestamp_never_stops_the_drain(client, rt, run_jobs, fake_aggregator, backend, request):
    """Refused with 400 naming `timestamp`, or stored clamped; either way the next LAPOR is answered."""
    on_postgres(request, backend, findings.POISON_TIMESTAMP)
    post_mo(client, "LAPOR poison", msg_id="p-1", timestamp="9999-12-31T23:59:59-23:59")
    post_mo(client, LIVENESS_TEXT, sender="085700000001")
    run_jobs()
    assert any(m["to"] == "+6285700000001" for m in fake_aggregator.sent())


@pytest.mark.xfail(strict=True, reason=f"issue 12: {findings.DEEP_JSON}")
@pytest.mark.parametrize(
    "path", ["/sms/generic/inbound", "/sms/generic/status", "/ussd/generic"], ids=["mo", "dlr", "ussd"]
)
def test_deep_json_is_refused(client, path):
    resp = _call(client, "POST", path, data=deep_json(5000), headers=AUTH, content_type="application/json")
    assert _refused(resp)


@pytest.mark.xfail(strict=True, reason=f"issue 12: {findings.DEEP_JSON}")
def test_deep_json_is_refused_by_the_admin_api(client, rt, run_jobs, fake_aggregator):
    no = file_report(client, rt, run_jobs, fake_aggregator)
    resp = _call(
        client,
        "POST",
        f"/api/v1/reports/{no}/follow-ups",
        data=deep_json(5000),
        headers=bearer(rt),
        content_type="application/json",
    )
    assert _refused(resp)


@pytest.mark.xfail(strict=True, reason=f"issue 12: {findings.KANNEL_CHARSET}")
@pytest.mark.parametrize("charset", ["uu", "bz2", "zlib"])
def test_kannel_codec_that_is_not_a_charset_is_refused(client, charset):
    query = f"from=081234567890&to=1708&text=LAPOR+x&id=k-1&charset={charset}&token={INBOUND_TOKEN}"
    assert _refused(_call(client, "GET", "/sms/kannel/inbound", query_string=query), "charset")


@pytest.mark.xfail(strict=True, reason=f"issue 12: {findings.KANNEL_CODEC_DECODE}")
@pytest.mark.parametrize("charset", ["idna", "punycode"])
@pytest.mark.parametrize("post_url", [False, True], ids=["get-url", "post-url"])
def test_kannel_charset_that_cannot_decode_is_refused(client, charset, post_url):
    query = f"from=081234567890&to=1708&text=%C2%80&id=k-2&charset={charset}&token={INBOUND_TOKEN}"
    body = {"data": b"\x80\xff", "content_type": "text/plain"} if post_url else {}
    resp = _call(client, "POST" if post_url else "GET", "/sms/kannel/inbound", query_string=query, **body)
    assert _refused(resp, "charset") or _refused(resp, "text")


@pytest.mark.xfail(strict=True, reason=f"issue 12: {findings.KANNEL_DLR_DIGITS}")
def test_kannel_dlr_id_of_unicode_digits_is_refused(client):
    resp = _call(
        client, "GET", "/sms/kannel/status", query_string=f"id=%C2%B2&status=1&token={INBOUND_TOKEN}"
    )
    assert _refused(resp, "id")


@pytest.mark.parametrize("ref", [str(2**31), str(2**63)], ids=["2^31", "2^63"])
def test_kannel_dlr_id_beyond_the_column_is_refused_or_ignored(client, ref, backend, request):
    if backend == "postgres" or ref == str(2**63):
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"issue 12: {findings.KANNEL_DLR_HUGE}"))
    resp = _call(client, "GET", "/sms/kannel/status", query_string=f"id={ref}&status=1&token={INBOUND_TOKEN}")
    assert resp.status_code < 500


@pytest.mark.xfail(strict=True, reason=f"issue 12: {findings.UNTIL_9999}")
@pytest.mark.parametrize("query", ["until=9999-12-31", "since=0001-01-01"])
def test_report_list_dates_at_the_ends_of_the_calendar(client, rt, query):
    resp = _call(client, "GET", "/api/v1/reports", query_string=query, headers=bearer(rt, "viewer"))
    assert resp.status_code == 200 or _refused(resp, query.split("=")[0])


def test_requeue_of_an_id_beyond_the_column(client, rt, backend, request):
    on_postgres(request, backend, findings.REQUEUE_HUGE)
    resp = _call(client, "POST", f"/api/v1/outbound/{2**31}/requeue", headers=bearer(rt))
    assert resp.status_code == 409


@pytest.mark.xfail(strict=True, reason=f"issue 12: {findings.TOO_LONG_FOR_PG}")
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


TOKEN_NAME_59 = "token name over 58 chars: its actor `token:<name>` overflows report_events.actor (PG 503)"


def test_a_long_token_name_does_not_break_admin_actions(
    client, rt, run_jobs, fake_aggregator, backend, request
):
    on_postgres(request, backend, TOKEN_NAME_59)
    no_quiet_hours(rt)
    no = file_report(client, rt, run_jobs, fake_aggregator)
    auth = {"Authorization": f"Bearer {create_token(rt, 'n' * 64, 'admin')}"}
    resp = _call(
        client, "POST", f"/api/v1/reports/{no}/follow-ups", json={"text": "Sudah dijadwalkan."}, headers=auth
    )
    assert resp.status_code == 201


__all__ = ["json"]
