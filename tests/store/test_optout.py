"""Opt-out end to end (real pipeline, both databases): BERHENTI/STOP/UNREG stop notices to a
number, never the answer to its own texts; MULAI/START resumes; each is confirmed by one SMS;
every notice path (admin follow-up, reply and status, SLA closing, USSD dead draft) honours it;
the admin API shows it without the number."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from gateway import replies
from gateway.commands.berhenti import opted_out as opted_out_reply
from gateway.commands.mulai import opted_in as opted_in_reply
from gateway.models import OptOut, OutboundMessage, utcnow
from gateway.services import sla
from gateway.ussd import service
from tests.store.admin_helpers import bearer, no_quiet_hours
from tests.store.helpers import file_report, outbox, post_mo
from tests.store.test_ussd_drafts import drop, start_draft

CITIZEN, E164 = "081234567890", "+6281234567890"


def texts_to(fake, number: str = E164) -> list[str]:
    return [m["text"] for m in fake.sent() if m["to"] == number]


def opted_out(rt, number: str = E164) -> OptOut | None:
    with rt.sessions() as s:
        return s.get(OptOut, number)


@pytest.mark.parametrize(
    "keyword",
    [
        pytest.param("BERHENTI", id="berhenti"),
        pytest.param("stop", id="stop"),
        pytest.param("REG UNREG", id="unreg"),
    ],
)
def test_opted_out_citizen_gets_cek_reply_but_no_follow_up_notice(
    client, rt, run_jobs, fake_aggregator, keyword
):
    no_quiet_hours(rt)
    auth = bearer(rt)
    no = file_report(client, rt, run_jobs, fake_aggregator, sender=CITIZEN)
    post_mo(client, keyword, sender=CITIZEN)
    run_jobs()
    assert texts_to(fake_aggregator)[-1] == opted_out_reply("1708")
    row = opted_out(rt)
    assert row is not None and row.channel == "SMS" and row.inbound_id is not None and row.created_at

    before = len(fake_aggregator.sent())
    assert (
        client.post(
            f"/api/v1/reports/{no}/follow-ups", json={"text": "Sudah disurvei."}, headers=auth
        ).status_code
        == 201
    )
    run_jobs()
    assert len(fake_aggregator.sent()) == before  # the notice is not sent
    [notice] = [o for o in outbox(rt) if o.kind == "NOTICE"]
    assert notice.status == "SUPPRESSED" and notice.attempts == 0

    post_mo(client, f"CEK {no}", sender=CITIZEN)  # the answer to their own text still comes
    run_jobs()
    assert texts_to(fake_aggregator)[-1].startswith(f"Laporan {no}: Ditindaklanjuti")


def test_mulai_resumes_notices_and_each_confirmation_is_sent_once(client, rt, run_jobs, fake_aggregator):
    no_quiet_hours(rt)
    auth = bearer(rt)
    no = file_report(client, rt, run_jobs, fake_aggregator, sender=CITIZEN)
    post_mo(client, "BERHENTI", sender=CITIZEN, msg_id="stop-1")
    post_mo(client, "BERHENTI", sender=CITIZEN, msg_id="stop-1")  # the aggregator retries
    run_jobs()
    post_mo(client, "mulai", sender=CITIZEN, msg_id="start-1")
    post_mo(client, "mulai", sender=CITIZEN, msg_id="start-1")
    run_jobs()
    assert opted_out(rt) is None
    texts = texts_to(fake_aggregator)
    assert texts.count(opted_out_reply("1708")) == 1 and texts.count(opted_in_reply("1708")) == 1

    client.post(f"/api/v1/reports/{no}/replies", json={"text": "Mohon kirim foto lokasi."}, headers=auth)
    run_jobs()
    assert "foto lokasi" in texts_to(fake_aggregator)[-1]
    assert [o.status for o in outbox(rt) if o.kind == "NOTICE"] == ["ACCEPTED"]


def test_opt_out_suppresses_a_notice_already_waiting_for_the_morning(client, rt, run_jobs, fake_aggregator):
    """A notice held by quiet hours when the number opts out is not sent in the morning."""
    rt.settings = rt.settings.replace(quiet_hours_start="00:00", quiet_hours_end="23:59")
    auth = bearer(rt)
    no = file_report(client, rt, run_jobs, fake_aggregator, sender=CITIZEN)
    client.post(f"/api/v1/reports/{no}/status", json={"status": "VERIFIED"}, headers=auth)
    [waiting] = [o for o in outbox(rt) if o.kind == "NOTICE"]
    assert waiting.status == "QUEUED"
    post_mo(client, "STOP", sender=CITIZEN)
    run_jobs()
    assert [o.status for o in outbox(rt) if o.kind == "NOTICE"] == ["SUPPRESSED"]


def test_sla_closing_and_other_numbers(client, rt, run_jobs, fake_aggregator):
    """The SLA clock's closing notice is suppressed too; another reporter is not affected."""
    no_quiet_hours(rt)
    auth = bearer(rt)
    mine = file_report(client, rt, run_jobs, fake_aggregator, sender=CITIZEN)
    theirs = file_report(client, rt, run_jobs, fake_aggregator, sender="081311112222")
    post_mo(client, "UNREG", sender=CITIZEN)
    run_jobs()
    for no in (mine, theirs):
        client.post(f"/api/v1/reports/{no}/follow-ups", json={"text": "Perbaikan selesai."}, headers=auth)
    run_jobs()
    assert sorted(sla.run_clock(rt, now=utcnow() + timedelta(days=20))) == sorted([mine, theirs])
    run_jobs()
    with rt.sessions() as s:
        rows = s.scalars(select(OutboundMessage).where(OutboundMessage.kind == "NOTICE")).all()
        states = {(o.msisdn, o.status) for o in rows}
    assert states == {(E164, "SUPPRESSED"), ("+6281311112222", "ACCEPTED")}
    assert len(rows) == 4
    assert not any("Perbaikan" in t or "Selesai:" in t for t in texts_to(fake_aggregator))


def test_ussd_dead_draft_sms_is_suppressed(client, rt, run_jobs, fake_aggregator):
    post_mo(client, "BERHENTI", sender=CITIZEN)
    run_jobs()
    before = len(fake_aggregator.sent())
    ussd = start_draft(client)
    drop(rt, ussd)
    service.check_dead_draft(rt, "africastalking", ussd.session_key)
    run_jobs()
    assert len(fake_aggregator.sent()) == before
    assert [o.status for o in outbox(rt) if o.kind == "NOTICE"] == ["SUPPRESSED"]


def test_flood_limit_still_counts_opt_out_texts(client, rt, run_jobs, fake_aggregator):
    """BERHENTI is an MO like any other: a number sending it in a loop gets the flood warning."""
    limit = rt.settings.flood_limit
    for _ in range(limit + 3):
        post_mo(client, "STOP", sender=CITIZEN)
    run_jobs()
    texts = texts_to(fake_aggregator)
    assert texts == [opted_out_reply("1708")] * limit + [replies.flood_warning()]
    assert opted_out(rt) is not None


def test_admin_api_shows_opt_out_without_the_number_and_filters_suppressed(
    client, rt, run_jobs, fake_aggregator
):
    no_quiet_hours(rt)
    auth = bearer(rt, "viewer")
    no = file_report(client, rt, run_jobs, fake_aggregator, sender=CITIZEN)
    detail = client.get(f"/api/v1/reports/{no}", headers=auth).get_json()
    assert detail["reporter_opted_out"] is False
    post_mo(client, "BERHENTI", sender=CITIZEN)
    run_jobs()
    client.post(f"/api/v1/reports/{no}/follow-ups", json={"text": "Sudah disurvei."}, headers=bearer(rt))
    run_jobs()
    detail = client.get(f"/api/v1/reports/{no}", headers=auth)
    assert detail.get_json()["reporter_opted_out"] is True
    assert "81234567890" not in detail.get_data(as_text=True)
    [shown] = [
        i for i in detail.get_json()["timeline"] if i["type"] == "outbound_sms" and i["kind"] == "NOTICE"
    ]
    assert shown["state"] == "SUPPRESSED"
    page = client.get("/api/v1/outbound", query_string={"status": "suppressed"}, headers=auth).get_json()
    assert page["total"] == 1 and page["items"][0]["tracking_no"] == no


def test_opting_out_and_in_is_logged_with_the_number_masked(client, rt, run_jobs, fake_aggregator, caplog):
    caplog.set_level("INFO", logger="gateway.optout")
    post_mo(client, "BERHENTI", sender=CITIZEN)
    run_jobs()
    post_mo(client, "MULAI", sender=CITIZEN)
    run_jobs()
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.optout"]
    assert [line.split(" ", 1)[1] for line in lines] == [
        "opted out of notices; 0 waiting notice(s) suppressed",
        "opted back in to notices",
    ]
    assert all(line.startswith("+62812****") for line in lines)
    assert E164 not in caplog.text and CITIZEN not in caplog.text
