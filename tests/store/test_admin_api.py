"""The admin API on SQLite and PostgreSQL: tokens and roles, listing and search, the
timeline and its privacy, actions that send notices, quiet hours, outbound and requeue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from gateway.app import create_app
from gateway.models import ApiToken, OutboundMessage, Report, utcnow
from gateway.services.tokens import revoke_tokens
from tests.store.admin_helpers import bearer, no_quiet_hours
from tests.store.helpers import file_report, outbox, post_mo

JKT = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def api(client, rt):
    no_quiet_hours(rt)
    return client


@pytest.fixture
def admin_auth(rt):
    return bearer(rt, "admin", "petugas")


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="none"),
        pytest.param("Bearer nonsense", id="malformed"),
        pytest.param("Bearer lpr_000000000000_" + "0" * 48, id="unknown-key"),
        pytest.param("Basic dXNlcjpwYXNz", id="basic"),
    ],
)
def test_requests_without_a_valid_token_get_401(api, header):
    headers = {"Authorization": header} if header else {}
    resp = api.get("/api/v1/reports", headers=headers)
    assert resp.status_code == 401 and resp.get_json()["error"] == "unauthorized"


def test_a_token_with_a_wrong_secret_or_revoked_is_refused(api, rt, admin_auth):
    token = admin_auth["Authorization"].removeprefix("Bearer ")
    tampered = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert api.get("/api/v1/reports", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401
    assert api.get("/api/v1/reports", headers=admin_auth).status_code == 200
    assert revoke_tokens(rt, "petugas") == 1
    assert api.get("/api/v1/reports", headers=admin_auth).status_code == 401


def test_only_the_hash_of_a_token_is_stored(rt, admin_auth):
    token = admin_auth["Authorization"].removeprefix("Bearer ")
    with rt.sessions() as s:
        [row] = s.scalars(select(ApiToken))
    assert row.role == "admin" and row.key_id in token
    assert token.split("_")[2] not in row.secret_hash


def test_viewer_reads_but_may_not_act(api, rt, run_jobs, fake_aggregator):
    no = file_report(api, rt, run_jobs, fake_aggregator)
    viewer = bearer(rt, "viewer")
    assert api.get(f"/api/v1/reports/{no}", headers=viewer).status_code == 200
    for path, body in [
        (f"/api/v1/reports/{no}/status", {"status": "VERIFIED"}),
        (f"/api/v1/reports/{no}/follow-ups", {"text": "x"}),
        (f"/api/v1/reports/{no}/replies", {"text": "x"}),
        ("/api/v1/outbound/1/requeue", None),
    ]:
        resp = api.post(path, json=body, headers=viewer)
        assert resp.status_code == 403, path
    assert len(fake_aggregator.sent()) == 1  # only the filing reply


def test_cli_creates_a_token_printed_once(rt):
    app = create_app(runtime=rt)
    result = app.test_cli_runner().invoke(args=["token", "create", "--name", "dinas-pu", "--role", "admin"])
    token = result.output.strip()
    assert result.exit_code == 0 and token.startswith("lpr_")
    resp = app.test_client().get("/api/v1/reports", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    bad = app.test_cli_runner().invoke(args=["token", "create", "--name", "x", "--role", "root"])
    assert bad.exit_code != 0


def _backdate(rt, tracking_no: str, days: float) -> None:
    with rt.transaction() as s:
        s.execute(
            update(Report)
            .where(Report.tracking_no == tracking_no)
            .values(created_at=utcnow() - timedelta(days=days))
        )


def test_list_filters_and_paginates(api, rt, run_jobs, fake_aggregator, admin_auth):
    a = file_report(api, rt, run_jobs, fake_aggregator, text="LAPOR jalan berlubang di jalan Merdeka")
    b = file_report(api, rt, run_jobs, fake_aggregator, text="LAPOR sampah menumpuk di pasar 100% bau")
    c = file_report(
        api, rt, run_jobs, fake_aggregator, sender="085711112222", text="LAPOR jalan licin berlumpur"
    )
    _backdate(rt, a, 40)
    api.post(f"/api/v1/reports/{b}/status", json={"status": "VERIFIED"}, headers=admin_auth)

    def tracking(**query):
        resp = api.get("/api/v1/reports", query_string=query, headers=admin_auth)
        assert resp.status_code == 200, resp.get_json()
        return [item["tracking_no"] for item in resp.get_json()["items"]]

    assert tracking() == [c, b, a]  # newest first
    assert tracking(q="JALAN") == [c, a]
    assert tracking(q="100%") == [b]  # % is literal, not a wildcard
    assert tracking(q="_") == []
    assert tracking(q=a) == [a]
    assert tracking(status="verified") == [b]
    assert tracking(channel="SMS") == [c, b, a] and tracking(channel="USSD") == []
    old = (utcnow() - timedelta(days=40)).astimezone(JKT).date()
    assert tracking(until=str(old)) == [a]
    assert tracking(since=str(old + timedelta(days=1))) == [c, b]
    assert tracking(since=str(old), until=str(old)) == [a]
    page = api.get("/api/v1/reports", query_string={"per_page": 2, "page": 2}, headers=admin_auth).get_json()
    assert (page["total"], [i["tracking_no"] for i in page["items"]]) == (3, [a])


def test_date_filters_use_local_days(api, rt, run_jobs, fake_aggregator, admin_auth):
    no = file_report(api, rt, run_jobs, fake_aggregator)
    with rt.transaction() as s:  # 20:00 UTC on the 3rd is 03:00 on the 4th in Jakarta
        s.execute(
            update(Report)
            .where(Report.tracking_no == no)
            .values(created_at=datetime(2026, 8, 3, 20, tzinfo=UTC))
        )

    def count(**query):
        return api.get("/api/v1/reports", query_string=query, headers=admin_auth).get_json()["total"]

    assert count(since="2026-08-04", until="2026-08-04") == 1
    assert count(until="2026-08-03") == 0 and count(since="2026-08-05") == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param({"status": "OPEN"}, "status", id="status"),
        pytest.param({"since": "2026-02-30"}, "since", id="bad-date"),
        pytest.param({"until": "yesterday"}, "until", id="not-a-date"),
        pytest.param({"page": "0"}, "page", id="page-zero"),
        pytest.param({"per_page": "1000"}, "per_page", id="per-page-too-big"),
        pytest.param({"q": "a\x00b"}, "q", id="nul"),
    ],
)
def test_bad_filters_are_400_naming_the_field(api, admin_auth, query, field):
    resp = api.get("/api/v1/reports", query_string=query, headers=admin_auth)
    assert resp.status_code == 400 and resp.get_json()["field"] == field


def test_timeline_has_every_text_event_and_sms_with_masked_number(
    api, rt, run_jobs, fake_aggregator, admin_auth
):
    no = file_report(api, rt, run_jobs, fake_aggregator, sender="081234567789")
    post_mo(api, f"CEK {no}", sender="081234567789")
    run_jobs()
    fake_aggregator.answer_next((400, '{"error": "bad number"}'))
    api.post(
        f"/api/v1/reports/{no}/status",
        json={"status": "VERIFIED", "note": "cek lapangan"},
        headers=admin_auth,
    )
    run_jobs()
    detail = api.get(f"/api/v1/reports/{no}", headers=admin_auth).get_json()
    assert detail["reporter"] == "+62812****789"
    items = [(i["type"], i.get("kind")) for i in detail["timeline"]]
    assert items == [
        ("inbound_sms", None),
        ("event", "CREATED"),
        ("outbound_sms", "REPLY"),
        ("inbound_sms", None),
        ("outbound_sms", "REPLY"),
        ("event", "STATUS"),
        ("outbound_sms", "NOTICE"),
    ]
    timeline = detail["timeline"]
    assert timeline[3]["text"] == f"CEK {no}" and timeline[3]["from"] == "+62812****789"
    assert timeline[5]["status"] == "VERIFIED" and timeline[5]["actor"] == "token:petugas"
    assert timeline[6]["state"] == "FAILED" and timeline[6]["last_error"]
    assert [i["state"] for i in timeline if i["type"] == "outbound_sms"][:2] == ["ACCEPTED", "ACCEPTED"]
    assert "+6281234567789" not in str(detail) and "081234567789" not in str(detail)


def test_anonymous_reports_never_show_the_number(api, rt, run_jobs, fake_aggregator, admin_auth):
    no = file_report(api, rt, run_jobs, fake_aggregator, text="LAPOR ANONIM pungutan liar di kantor desa")
    detail = api.get(f"/api/v1/reports/{no}", headers=admin_auth).get_json()
    listed = api.get("/api/v1/reports", headers=admin_auth).get_json()["items"][0]
    outbound = api.get("/api/v1/outbound", headers=admin_auth).get_json()["items"][0]
    assert detail["reporter"] is None and listed["reporter"] is None and outbound["to"] is None
    assert all(i.get("from") is None and i.get("to") is None for i in detail["timeline"])
    assert "****" not in str(detail)


def _swap_two_digits(no: str) -> str:
    for i in range(len(no) - 1):
        if no[i] != no[i + 1]:
            return no[:i] + no[i + 1] + no[i] + no[i + 2 :]
    raise AssertionError(no)


@pytest.mark.parametrize(
    "look_up",
    [
        pytest.param(lambda no: f"CEK {_swap_two_digits(no)}", id="cek-swapped-digits"),
        pytest.param(lambda no: f"BALAS {_swap_two_digits(no)} sudah saya kirim", id="balas-swapped-digits"),
        pytest.param(lambda no: f"CEK {no[:-1]}", id="cek-digit-missing"),
        pytest.param(lambda no: "INFO", id="help"),
    ],
)
def test_an_anonymous_reporters_other_texts_do_not_reveal_the_number(
    api, rt, run_jobs, fake_aggregator, admin_auth, look_up
):
    """A reply that is tied to no report (a look-up with a typo, the guide) may still answer
    an anonymous reporter, and its text can name the report: the outbound list shows a number
    only for an MT tied to a report that is not anonymous."""
    anonymous = "081311112222"
    no = file_report(
        api, rt, run_jobs, fake_aggregator, sender=anonymous, text="LAPOR ANONIM pungli di kantor desa"
    )
    public = file_report(
        api, rt, run_jobs, fake_aggregator, sender="081234567890", text="LAPOR jalan rusak parah"
    )
    assert post_mo(api, look_up(no), sender=anonymous).status_code == 202
    run_jobs()
    items = api.get("/api/v1/outbound", headers=admin_auth).get_json()["items"]
    assert len(items) == 3
    assert "+62813****222" not in str(items) and "+6281311112222" not in str(items)
    shown = {i["tracking_no"] for i in items if i["to"] is not None}
    assert shown == {public}  # the control: numbers are still shown where they may be


def test_unknown_or_malformed_tracking_numbers_are_404(api, admin_auth):
    for no in ["1234567890", "12ab", "1" * 30]:
        assert api.get(f"/api/v1/reports/{no}", headers=admin_auth).status_code == 404
        resp = api.post(f"/api/v1/reports/{no}/follow-ups", json={"text": "x"}, headers=admin_auth)
        assert resp.status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        pytest.param("status", {"status": "CLOSED"}, "status", id="unknown-status"),
        pytest.param("status", {"status": "DONE", "note": 5}, "note", id="note-not-text"),
        pytest.param("follow-ups", {"text": "   "}, "text", id="blank-follow-up"),
        pytest.param("follow-ups", {}, "text", id="missing-text"),
        pytest.param("replies", {"text": "x" * 1001}, "text", id="too-long"),
        pytest.param("replies", ["text"], "body", id="not-an-object"),
    ],
)
def test_bad_action_bodies_are_400_and_send_nothing(
    api, rt, run_jobs, fake_aggregator, admin_auth, path, body, field
):
    no = file_report(api, rt, run_jobs, fake_aggregator)
    resp = api.post(f"/api/v1/reports/{no}/{path}", json=body, headers=admin_auth)
    assert resp.status_code == 400 and resp.get_json()["field"] == field
    assert len(outbox(rt)) == 1


@pytest.mark.parametrize(
    ("path", "body", "status", "expect"),
    [
        pytest.param(
            "status", {"status": "VERIFIED", "note": "akan dicek"}, "VERIFIED", "Terverifikasi", id="status"
        ),
        pytest.param(
            "status", {"status": "OUT_OF_SCOPE"}, "OUT_OF_SCOPE", "Bukan wewenang", id="out-of-scope"
        ),
        pytest.param(
            "follow-ups", {"text": "Sudah diperbaiki"}, "IN_PROGRESS", "Tindak lanjut", id="follow-up"
        ),
        pytest.param("replies", {"text": "Mohon kirim lokasi"}, "RECEIVED", "Pesan petugas", id="reply"),
    ],
)
def test_actions_notify_the_reporter_by_sms(
    api, rt, run_jobs, fake_aggregator, admin_auth, path, body, status, expect
):
    no = file_report(api, rt, run_jobs, fake_aggregator)
    resp = api.post(f"/api/v1/reports/{no}/{path}", json=body, headers=admin_auth)
    assert resp.status_code == 201
    result = resp.get_json()
    run_jobs()
    sent = fake_aggregator.sent()[-1]
    assert sent["to"] == "+6281234567890" and sent["text"] == result["notice"]["text"]
    assert expect in sent["text"] and f"BALAS {no}" in sent["text"]
    with rt.sessions() as s:
        report = s.scalar(select(Report).where(Report.tracking_no == no))
        notice = s.get(OutboundMessage, result["notice"]["id"])
    assert report.status == status and notice.kind == "NOTICE" and notice.report_id == report.id
    assert (report.verified_at is not None) == (status != "RECEIVED")
    assert (report.closed_at is not None) == (status == "OUT_OF_SCOPE")


def _quiet_window_around_now(rt) -> datetime:
    local = utcnow().astimezone(JKT)
    start, end = (local - timedelta(hours=1)), (local + timedelta(hours=1))
    rt.settings = rt.settings.replace(
        quiet_hours_start=start.strftime("%H:%M"), quiet_hours_end=end.strftime("%H:%M")
    )
    release = end.replace(second=0, microsecond=0)
    return release if release > local else release + timedelta(days=1)


def test_notices_wait_through_quiet_hours_but_replies_to_citizens_do_not(
    api, rt, run_jobs, fake_aggregator, admin_auth
):
    release = _quiet_window_around_now(rt)
    no = file_report(api, rt, run_jobs, fake_aggregator)  # the direct reply goes out at once
    assert len(fake_aggregator.sent()) == 1
    resp = api.post(f"/api/v1/reports/{no}/follow-ups", json={"text": "Sudah dicek"}, headers=admin_auth)
    send_after = datetime.fromisoformat(resp.get_json()["notice"]["send_after"])
    assert send_after == release.astimezone(UTC)
    run_jobs(with_scheduler=True)
    assert len(fake_aggregator.sent()) == 1  # waiting for the morning
    notice = [o for o in outbox(rt) if o.kind == "NOTICE"][0]
    assert notice.status == "QUEUED" and notice.attempts == 0
    # In the morning (here: the window moved away), the due notice is sent.
    with rt.transaction() as s:
        s.get(OutboundMessage, notice.id).next_attempt_at = utcnow() - timedelta(seconds=1)
    from gateway.services.outbox import send_outbound

    assert send_outbound(rt, notice.id) == "accepted"
    assert "Sudah dicek" in fake_aggregator.sent()[-1]["text"]


def test_outbound_by_state_and_requeue(api, rt, run_jobs, fake_aggregator, admin_auth):
    fake_aggregator.answer_next((400, '{"error": "invalid"}'))
    file_report(api, rt, run_jobs, fake_aggregator)
    failed = api.get("/api/v1/outbound", query_string={"status": "FAILED"}, headers=admin_auth).get_json()
    [item] = failed["items"]
    assert item["state"] == "FAILED" and item["to"] == "+62812****890" and item["tracking_no"]
    assert (
        api.get("/api/v1/outbound", query_string={"status": "ACCEPTED"}, headers=admin_auth).get_json()[
            "items"
        ]
        == []
    )
    resp = api.post(f"/api/v1/outbound/{item['id']}/requeue", headers=admin_auth)
    assert resp.status_code == 200
    run_jobs()
    assert len(fake_aggregator.sent()) == 2 and outbox(rt)[0].status == "ACCEPTED"
    again = api.post(f"/api/v1/outbound/{item['id']}/requeue", headers=admin_auth)
    assert again.status_code == 409
    assert api.post("/api/v1/outbound/99999/requeue", headers=admin_auth).status_code == 404


def test_overdue_reports_are_listed(api, rt, run_jobs, fake_aggregator, admin_auth):
    late = file_report(api, rt, run_jobs, fake_aggregator)
    fresh = file_report(api, rt, run_jobs, fake_aggregator)
    done = file_report(api, rt, run_jobs, fake_aggregator)
    for no in (late, done):
        _backdate(rt, no, 30)
    api.post(f"/api/v1/reports/{done}/status", json={"status": "DONE"}, headers=admin_auth)
    items = api.get("/api/v1/reports/overdue", headers=admin_auth).get_json()["items"]
    assert [i["tracking_no"] for i in items] == [late]
    assert items[0]["sla"]["waiting_for"] == "VERIFICATION" and items[0]["overdue_since"]
    assert fresh not in str(items)
