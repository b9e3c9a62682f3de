"""The handler console (/console) through the Flask test client on both databases: log-in and
sessions, CSRF, the viewer role, the queue (filters, overdue first, search), a report's thread,
the forms (status, follow-up, reply and its live counter), the outbox, and masking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from gateway.models import QuarantineKind, QuarantineState, Report, ReportEvent, utcnow
from gateway.services import quarantine
from gateway.services.tokens import revoke_tokens
from tests.store.console_helpers import CONSOLE_SECRET, console_client, csrf_of, log_in
from tests.store.helpers import file_report, outbox, post_mo, reports

CITIZEN = "081234567890"
SECRETS_OF_THE_NUMBER = ("6281234567890", "081234567890")


@pytest.fixture
def console(rt):
    return console_client(rt)


def _events(rt, kind: str) -> list[ReportEvent]:
    with rt.sessions() as s:
        return list(s.query(ReportEvent).filter_by(kind=kind))


def _backdate(rt, tracking_no: str, days: int) -> None:
    with rt.transaction() as s:
        s.execute(
            update(Report)
            .where(Report.tracking_no == tracking_no)
            .values(created_at=utcnow() - timedelta(days=days))
        )


# -- log-in, sessions, CSRF -------------------------------------------------------------------


def test_the_console_is_off_without_a_secret(client):
    assert client.get("/console/").status_code == 404
    assert client.get("/console/login").status_code == 404


def test_pages_send_a_stranger_to_the_log_in(console):
    resp = console.get("/console/reports/12345678")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/console/login?next=/console/reports/12345678")


@pytest.mark.parametrize(
    "public_url, secure",
    [
        pytest.param("http://127.0.0.1:8000", False, id="plain-http"),
        pytest.param("https://x.go.id", True, id="tls"),
    ],
)
def test_log_in_sets_a_guarded_session_cookie(rt, public_url, secure):
    console = console_client(rt, public_url=public_url)
    log_in(console, rt)
    cookie = console.get_cookie("lapor_console")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert cookie.secure is secure
    assert console.get("/console/").status_code == 200


@pytest.mark.parametrize(
    "form, status",
    [
        pytest.param({"token": "lpr_nope.nope"}, 401, id="unknown-token"),
        pytest.param({"token": ""}, 401, id="empty-token"),
        pytest.param({"token": "x", "csrf_token": "forged"}, 400, id="forged-csrf"),
    ],
)
def test_log_in_refuses(console, form, status):
    csrf = csrf_of(console.get("/console/login").get_data(as_text=True))
    resp = console.post("/console/login", data={"csrf_token": csrf, **form})
    assert resp.status_code == status
    assert console.get("/console/").status_code == 302  # still logged out


def test_log_in_without_the_csrf_token_is_refused(console):
    console.get("/console/login")
    assert console.post("/console/login", data={"token": "x"}).status_code == 400


def test_revoking_the_token_ends_the_session(console, rt):
    log_in(console, rt, name="petugas-a")
    assert console.get("/console/").status_code == 200
    revoke_tokens(rt, "petugas-a")
    assert console.get("/console/").status_code == 302


def test_log_out_ends_the_session(console, rt):
    csrf = log_in(console, rt)
    assert console.post("/console/logout", data={"csrf_token": csrf}).status_code == 302
    assert console.get("/console/").status_code == 302


def test_a_redirect_after_log_in_stays_inside_the_console(console, rt):
    from gateway.services.tokens import create_token

    token = create_token(rt, "t", "viewer")
    csrf = csrf_of(console.get("/console/login").get_data(as_text=True))
    resp = console.post("/console/login?next=//evil.example/x", data={"token": token, "csrf_token": csrf})
    assert resp.headers["Location"] == "/console/"


# -- reading --------------------------------------------------------------------------------


def test_the_queue_masks_numbers_shows_none_for_anonymous_and_puts_overdue_first(
    console, client, rt, run_jobs, fake_aggregator
):
    public = file_report(client, rt, run_jobs, fake_aggregator, CITIZEN, "LAPOR jalan berlubang di Jl Mawar")
    anon = file_report(client, rt, run_jobs, fake_aggregator, CITIZEN, "LAPOR ANONIM pungli di kantor desa")
    late = file_report(
        client, rt, run_jobs, fake_aggregator, "081298765432", "LAPOR lampu jalan mati sebulan"
    )
    _backdate(rt, late, 10)
    log_in(console, rt, "viewer")
    html = console.get("/console/").get_data(as_text=True)
    for no in (public, anon, late):
        assert f">{no}</a>" in html
    assert "+62812****890" in html and "<em>anonim</em>" in html
    assert not any(secret in html for secret in SECRETS_OF_THE_NUMBER)
    # The overdue table comes first and holds only the late report, with its deadline.
    overdue, rest = html.split("1 overdue (SLA deadline passed)")[1].split("report(s), newest first")
    assert late in overdue and public not in overdue and "verification:" in overdue
    assert public in rest and "verification by" in rest


def test_the_queue_filters_by_status_and_searches_number_and_text(
    console, client, rt, run_jobs, fake_aggregator
):
    a = file_report(client, rt, run_jobs, fake_aggregator, text="LAPOR jembatan gantung putus")
    b = file_report(client, rt, run_jobs, fake_aggregator, text="LAPOR sampah menumpuk di pasar")
    csrf = log_in(console, rt)
    console.post(f"/console/reports/{b}/status", data={"status": "VERIFIED", "csrf_token": csrf})

    def shown(**query) -> set[str]:
        html = console.get("/console/", query_string=query).get_data(as_text=True)
        return {no for no in (a, b) if f">{no}</a>" in html}

    assert shown() == {a, b}
    assert shown(status="verified") == {b}
    assert shown(q="JEMBATAN") == {a}
    assert shown(q=b) == {b}
    assert shown(q="tidak ada") == set()


@pytest.mark.parametrize(
    "query, field",
    [
        pytest.param({"status": "LOST"}, "status", id="bad-status"),
        pytest.param({"page": "0"}, "page", id="bad-page"),
        pytest.param({"q": "x" * 1001}, "q", id="long-search"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(console, rt, query, field):
    log_in(console, rt, "viewer")
    resp = console.get("/console/", query_string=query)
    assert resp.status_code == 400 and f"{field}: " in resp.get_data(as_text=True)


@pytest.mark.parametrize("no", ["12345678", "abc", "1" * 11])
def test_an_unknown_report_is_a_404(console, rt, no):
    log_in(console, rt, "viewer")
    assert console.get(f"/console/reports/{no}").status_code == 404


def test_the_thread_shows_every_step_in_order(console, client, rt, run_jobs, fake_aggregator):
    no = file_report(client, rt, run_jobs, fake_aggregator, CITIZEN, "LAPOR saluran air tersumbat di RT 03")
    csrf = log_in(console, rt)
    resp = console.post(
        f"/console/reports/{no}/follow-up", data={"text": "Petugas datang Senin", "csrf_token": csrf}
    )
    assert resp.status_code == 303 and resp.headers["Location"] == f"/console/reports/{no}"
    run_jobs()
    post_mo(client, f"BALAS {no} baik saya tunggu", sender=CITIZEN)
    run_jobs()
    html = console.get(f"/console/reports/{no}").get_data(as_text=True).split('<ol class="timeline"')[1]
    steps = [
        "SMS from reporter",  # the LAPOR text
        "saluran air tersumbat",
        "Report filed",
        "SMS to reporter",  # the receipt
        "Follow-up",
        "Petugas datang Senin",
        "ACCEPTED",  # the notice, with its delivery state
        "baik saya tunggu",
    ]
    at = 0
    for step in steps:  # each found after the one before it
        at = html.find(step, at)
        assert at >= 0, f"{step!r} missing or out of order"
    assert "Citizen answer (BALAS)" in html
    assert not any(secret in html for secret in SECRETS_OF_THE_NUMBER)


def test_an_anonymous_thread_shows_no_number(console, client, rt, run_jobs, fake_aggregator):
    no = file_report(
        client, rt, run_jobs, fake_aggregator, CITIZEN, "LAPOR ANONIM pungli di kantor kelurahan"
    )
    log_in(console, rt, "viewer")
    html = console.get(f"/console/reports/{no}").get_data(as_text=True)
    assert "pungli" in html and "****" not in html
    assert not any(secret in html for secret in SECRETS_OF_THE_NUMBER)


# -- acting ---------------------------------------------------------------------------------


def test_forms_change_status_post_follow_ups_and_send_replies(console, client, rt, run_jobs, fake_aggregator):
    no = file_report(client, rt, run_jobs, fake_aggregator)
    csrf = log_in(console, rt, name="petugas-pu")
    for path, form in (
        ("status", {"status": "VERIFIED", "note": "Sudah dicek"}),
        ("follow-up", {"text": "Perbaikan dijadwalkan"}),
        ("reply", {"text": "Mohon kirim lokasi tepat"}),
    ):
        resp = console.post(f"/console/reports/{no}/{path}", data={**form, "csrf_token": csrf})
        assert resp.status_code == 303, resp.get_data(as_text=True)
    run_jobs()
    [report] = reports(rt)
    assert report.status == "IN_PROGRESS"
    texts = [m["text"] for m in fake_aggregator.sent()]
    assert any("Terverifikasi" in t and "Sudah dicek" in t for t in texts)
    assert any("Perbaikan dijadwalkan" in t for t in texts)
    assert any("Mohon kirim lokasi tepat" in t for t in texts)
    assert {e.actor for e in _events(rt, "FOLLOW_UP")} == {"token:petugas-pu"}
    # Each form's outcome is flashed once, on the next page, then gone.
    assert "Follow-up recorded." in console.get(f"/console/reports/{no}").get_data(as_text=True)
    assert "Follow-up recorded." not in console.get(f"/console/reports/{no}").get_data(as_text=True)


@pytest.mark.parametrize(
    "form, field",
    [
        pytest.param({"status": "LOST"}, "status", id="bad-status"),
        pytest.param({"status": "DONE", "note": "x" * 1001}, "note", id="long-note"),
    ],
)
def test_a_bad_status_form_is_a_400_naming_the_field(
    console, client, rt, run_jobs, fake_aggregator, form, field
):
    no = file_report(client, rt, run_jobs, fake_aggregator)
    csrf = log_in(console, rt)
    resp = console.post(f"/console/reports/{no}/status", data={**form, "csrf_token": csrf})
    assert resp.status_code == 400 and f"{field}: " in resp.get_data(as_text=True)
    assert _events(rt, "STATUS") == []


def test_an_empty_follow_up_is_a_400(console, client, rt, run_jobs, fake_aggregator):
    no = file_report(client, rt, run_jobs, fake_aggregator)
    csrf = log_in(console, rt)
    resp = console.post(f"/console/reports/{no}/follow-up", data={"text": "  ", "csrf_token": csrf})
    assert resp.status_code == 400 and "text: must not be empty" in resp.get_data(as_text=True)


def test_a_post_without_the_sessions_csrf_token_changes_nothing(
    console, client, rt, run_jobs, fake_aggregator
):
    no = file_report(client, rt, run_jobs, fake_aggregator)
    log_in(console, rt)
    for data in ({"text": "x"}, {"text": "x", "csrf_token": "forged"}):
        assert console.post(f"/console/reports/{no}/follow-up", data=data).status_code == 400
    assert _events(rt, "FOLLOW_UP") == []


def test_a_viewer_sees_no_forms_and_cannot_post(console, client, rt, run_jobs, fake_aggregator):
    no = file_report(client, rt, run_jobs, fake_aggregator)
    csrf = log_in(console, rt, "viewer")
    html = console.get(f"/console/reports/{no}").get_data(as_text=True)
    assert "Post follow-up" not in html and "may only read" in html
    for path, form in (
        ("status", {"status": "DONE"}),
        ("follow-up", {"text": "x"}),
        ("reply", {"text": "x"}),
    ):
        resp = console.post(f"/console/reports/{no}/{path}", data={**form, "csrf_token": csrf})
        assert resp.status_code == 403
    assert (
        console.post(
            f"/console/reports/{no}/reply/count", json={"text": "x"}, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 403
    )
    assert reports(rt)[0].status == "RECEIVED" and _events(rt, "FOLLOW_UP") == []


@pytest.mark.parametrize(
    "text, chars, segs, encoding, unfit",
    [
        pytest.param("Mohon kirim foto", 16, 1, "GSM-7", [], id="plain"),
        pytest.param("a" * 161, 161, 2, "GSM-7", [], id="two-segments"),
        pytest.param("Terima kasih “Pak”", 18, 1, "UCS-2", ["“", "”"], id="curly-quotes-force-ucs2"),
        pytest.param("b" * 71 + "’", 72, 2, "UCS-2", ["’"], id="ucs2-cuts-to-70"),
    ],
)
def test_the_reply_counter_counts_segments_and_names_what_forces_ucs2(
    console, client, rt, run_jobs, fake_aggregator, text, chars, segs, encoding, unfit
):
    no = file_report(client, rt, run_jobs, fake_aggregator)
    csrf = log_in(console, rt)
    resp = console.post(
        f"/console/reports/{no}/reply/count", json={"text": text}, headers={"X-CSRF-Token": csrf}
    )
    body = resp.get_json()
    assert (body["chars"], body["segments"], body["encoding"], body["unfit"]) == (
        chars,
        segs,
        encoding,
        unfit,
    )
    # What the reporter gets is the notice around it, always GSM-7 and within 3 segments.
    assert no in body["sent"] and "“" not in body["sent"] and 1 <= body["sent_segments"] <= 3
    assert (
        console.post(f"/console/reports/{no}/reply/count", json={"text": "x"}).status_code == 400
    )  # no CSRF


def test_the_outbox_lists_failed_messages_and_requeues_them(console, client, rt, run_jobs, fake_aggregator):
    fake_aggregator.answer_next((400, "unknown subscriber"))
    assert post_mo(client, "LAPOR jalan rusak parah di desa").status_code == 202
    run_jobs()
    [failed] = [m for m in outbox(rt) if m.status == "FAILED"]
    csrf = log_in(console, rt)
    html = console.get("/console/outbox").get_data(as_text=True)
    assert "1 failed message(s)" in html and f"/console/outbox/{failed.id}/requeue" in html
    assert not any(secret in html for secret in SECRETS_OF_THE_NUMBER)
    resp = console.post(f"/console/outbox/{failed.id}/requeue", data={"csrf_token": csrf})
    assert resp.status_code == 303
    run_jobs()
    assert {m.id: m.status for m in outbox(rt)}[failed.id] == "ACCEPTED"
    again = console.post(f"/console/outbox/{failed.id}/requeue", data={"csrf_token": csrf})
    assert again.status_code == 409
    assert console.post("/console/outbox/999999/requeue", data={"csrf_token": csrf}).status_code == 404


def test_the_outbox_lists_quarantined_work_and_retries_it(console, rt):
    with rt.transaction() as s:
        quarantine.set_aside_now(s, QuarantineKind.DLR, "77", ValueError("unreadable"))
    [entry] = quarantine.list_entries(rt)
    csrf = log_in(console, rt)
    html = console.get("/console/outbox").get_data(as_text=True)
    assert "DLR 77" in html and "ValueError" in html
    assert console.post(f"/console/quarantine/{entry.id}/drop", data={"csrf_token": csrf}).status_code == 303
    assert quarantine.list_entries(rt, QuarantineState.DROPPED)[0].id == entry.id
    assert console.post(f"/console/quarantine/{entry.id}/retry", data={"csrf_token": csrf}).status_code == 404


def test_pages_stay_under_100_kb(console, client, rt, run_jobs, fake_aggregator):
    long_text = "LAPOR " + "jalan rusak parah " * 110  # ~2,000 characters each
    for i in range(30):
        post_mo(client, long_text, sender=f"08129876{i:04d}")
    run_jobs()
    log_in(console, rt, "viewer")
    assert len(reports(rt)) == 30
    for path in (
        "/console/",
        f"/console/reports/{reports(rt)[0].tracking_no}",
        "/console/outbox",
        "/console/login",
    ):
        assert len(console.get(path).data) < 100_000, path


def test_the_console_secret_is_checked_at_start_up():
    from config.settings import load_settings
    from gateway.errors import ConfigError

    with pytest.raises(ConfigError, match="GATEWAY_CONSOLE_SECRET"):
        load_settings({"GATEWAY_INBOUND_TOKEN": "t", "GATEWAY_CONSOLE_SECRET": "short"}, dotenv_path=None)
    assert CONSOLE_SECRET  # the tests' own is long enough (console_client would fail otherwise)
