"""USSD under hostile or careless aggregators and citizens (issue 12), on SQLite and PostgreSQL
with real Redis: a session id reused by another phone (or by the same phone later), session
ids at the edge of what we hold, a number filing report after report, and liveness: after all
of it a normal SMS LAPOR still gets its reply."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.gsm7 import is_gsm7, septets
from gateway.models import InboundMessage, OutboundMessage, Report, ReportEvent
from gateway.ussd import screens, service
from tests.store.helpers import file_report, post_mo, reports
from tests.store.test_ussd import FORMATS, OTHER, OWNER, STAR_TEXT, UssdSession, tracking_in
from tests.store.test_ussd_drafts import notices, start_draft

LONG_SID = "ATUid_" + "7c1f" * 12 + "abcdef01"  # 62 characters: more than we hold
MAX_SID = LONG_SID[:56]


def file_over_ussd(client, fmt: str, msisdn: str = OWNER, session_id: str | None = None, text=STAR_TEXT):
    """Dial, write, choose Biasa, send; return (session, final screen, ended)."""
    ussd = UssdSession(client, fmt, msisdn=msisdn, session_id=session_id)
    ussd.step(), ussd.step("1"), ussd.step(text), ussd.step("1")
    return (ussd, *ussd.step("1"))


def answer_over_ussd(client, fmt: str, msisdn: str, tracking_no: str, text: str, session_id: str):
    """Dial, 3 Balas, the number, the answer; return the final screen."""
    ussd = UssdSession(client, fmt, msisdn=msisdn, session_id=session_id)
    ussd.step(), ussd.step("3")
    assert ussd.step(tracking_no)[0].startswith(f"Tulis tanggapan untuk laporan {tracking_no}")
    screen, ended = ussd.step(text)
    assert ended
    return screen


def citizen_replies(rt) -> list[ReportEvent]:
    with rt.sessions() as s:
        return list(s.scalars(select(ReportEvent).where(ReportEvent.kind == "CITIZEN_REPLY")))


# --- a session id reused by another phone ---------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_second_phone_reusing_a_finished_session_id_files_its_own_report(
    client, rt, run_jobs, fake_aggregator, fmt
):
    first, a_screen, _ = file_over_ussd(client, fmt, OWNER)
    _, b_screen, ended = file_over_ussd(
        client, fmt, OTHER, session_id=first.session_id, text="Lampu jalan mati"
    )
    assert ended and "terkirim" in b_screen
    a_report, b_report = reports(rt)
    assert (a_report.msisdn, a_report.text) == (OWNER, STAR_TEXT)
    assert (b_report.msisdn, b_report.text) == (OTHER, "Lampu jalan mati")
    # B is shown B's own tracking number, never A's.
    assert tracking_in(a_screen) == a_report.tracking_no
    assert tracking_in(b_screen) == b_report.tracking_no != a_report.tracking_no
    assert a_report.source_key != b_report.source_key
    run_jobs()
    sent = {sms["to"]: sms["text"] for sms in fake_aggregator.sent()}
    assert a_report.tracking_no in sent[OWNER] and b_report.tracking_no in sent[OTHER]


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_phones_interleaving_one_session_id_keep_their_own_sessions(client, rt, fmt):
    """Both sessions live at once: B's start does not wipe A's draft half-way."""
    a = UssdSession(client, fmt, OWNER, session_id="shared-1")
    b = UssdSession(client, fmt, OTHER, session_id="shared-1")
    a.step(), b.step(), a.step("1"), b.step("1")
    assert "Jenis laporan" in a.step(STAR_TEXT)[0]
    assert "Jenis laporan" in b.step("Sampah menumpuk di pasar")[0]
    assert a.step("1")[0].startswith("Kirim laporan?") and b.step("1")[0].startswith("Kirim laporan?")
    a_screen, b_screen = a.step("1")[0], b.step("1")[0]
    by_phone = {r.msisdn: r for r in reports(rt)}
    assert by_phone[OWNER].text == STAR_TEXT and by_phone[OTHER].text == "Sampah menumpuk di pasar"
    assert tracking_in(a_screen) == by_phone[OWNER].tracking_no
    assert tracking_in(b_screen) == by_phone[OTHER].tracking_no
    # Redis keys carry neither the phone number nor the raw session id.
    keys = [k.decode() for k in rt.redis.keys("gw:ussd:[sw]:*")]
    assert not [k for k in keys if "shared-1" in k or OWNER in k or OTHER in k]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_ussd_balas_in_a_reused_session_is_recorded_for_each_phone(
    client, rt, run_jobs, fake_aggregator, fmt
):
    a_no = file_report(client, rt, run_jobs, fake_aggregator, sender=OWNER)
    b_no = file_report(client, rt, run_jobs, fake_aggregator, sender=OTHER, text="LAPOR lampu jalan mati")
    a_screen = answer_over_ussd(client, fmt, OWNER, a_no, "Jawaban dari A", session_id="reused-9")
    b_screen = answer_over_ussd(client, fmt, OTHER, b_no, "Jawaban dari B", session_id="reused-9")
    assert f"laporan {a_no} diterima" in a_screen and f"laporan {b_no} diterima" in b_screen
    with rt.sessions() as s:
        got = {
            (s.get(Report, e.report_id).tracking_no, e.text)
            for e in s.scalars(select(ReportEvent).where(ReportEvent.kind == "CITIZEN_REPLY"))
        }
    assert got == {(a_no, "Jawaban dari A"), (b_no, "Jawaban dari B")}


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_phone_reusing_its_own_session_id_later_files_anew(
    client, rt, run_jobs, fake_aggregator, fmt
):
    """One filing = one session state in Redis: a finished session's id dialled again (a
    telco recycling ids, days later) starts a fresh session and so a fresh filing."""
    first, first_screen, _ = file_over_ussd(client, fmt, OWNER, session_id="recycled-7")
    _, again_screen, _ = file_over_ussd(client, fmt, OWNER, session_id="recycled-7", text="Lampu jalan mati")
    old, new = reports(rt)
    assert tracking_in(first_screen) == old.tracking_no
    assert tracking_in(again_screen) == new.tracking_no != old.tracking_no
    assert new.text == "Lampu jalan mati"
    # And a BALAS in the recycled session again is recorded again.
    answer_over_ussd(client, fmt, OWNER, old.tracking_no, "Jawaban pertama", session_id="recycled-7")
    answer_over_ussd(client, fmt, OWNER, old.tracking_no, "Jawaban kedua", session_id="recycled-7")
    assert sorted(e.text for e in citizen_replies(rt)) == ["Jawaban kedua", "Jawaban pertama"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_retried_confirm_step_files_once(client, rt, fmt):
    """The same step twice while the session is alive (the aggregator retried before our
    answer arrived): one filing. Simulated by replaying the confirm against the saved state."""
    ussd = UssdSession(client, fmt)
    ussd.step(), ussd.step("1"), ussd.step(STAR_TEXT), ussd.step("1")
    [key] = rt.redis.keys("gw:ussd:s:*")
    saved = rt.redis.get(key)
    first = ussd.step("1")[0]
    rt.redis.set(key, saved)  # the retry read the session before the first answer ended it
    ussd.inputs.pop()
    assert ussd.step("1")[0] == first
    assert len(reports(rt)) == 1


def test_dead_drafts_of_two_phones_on_one_session_id_each_get_their_sms(
    client, rt, run_jobs, fake_aggregator
):
    a = start_draft(client, "generic")
    b = UssdSession(client, "generic", OTHER, session_id=a.session_id)
    b.step(), b.step("1"), b.step("Sampah menumpuk di pasar"), b.step("1")
    jobs = [rt.queue.fetch_job(i) for i in rt.queue.scheduled_job_registry.get_job_ids()]
    assert len(jobs) == 2 and not [j for j in jobs if OWNER in str(j.args) or OTHER in str(j.args)]
    for key in rt.redis.keys("gw:ussd:s:*"):
        rt.redis.delete(key)  # both calls drop
    assert sorted(service.check_dead_draft(rt, *j.args) for j in jobs) == ["sent", "sent"]
    run_jobs()
    assert sorted(sms["to"] for sms in fake_aggregator.sent()) == sorted([OWNER, OTHER])
    assert len(notices(rt)) == 2


# --- session ids at the edge ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_longest_session_id_files_and_answers_on_both_databases(
    client, rt, run_jobs, fake_aggregator, fmt
):
    _, screen, ended = file_over_ussd(client, fmt, OWNER, session_id=MAX_SID)
    assert ended and "terkirim" in screen
    number = tracking_in(screen)
    reply = answer_over_ussd(client, fmt, OWNER, number, "Sudah saya kirim fotonya", session_id=MAX_SID)
    assert f"laporan {number} diterima" in reply
    assert [e.text for e in citizen_replies(rt)] == ["Sudah saya kirim fotonya"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "session_id",
    [
        pytest.param(LONG_SID[:57], id="57-chars"),
        pytest.param(LONG_SID * 40, id="2480-chars"),
        pytest.param("ATUid_\x00abc", id="nul"),
        pytest.param("ATUid_é", id="non-ascii"),
    ],
)
def test_a_session_id_we_cannot_hold_is_400_naming_the_field(client, rt, fmt, session_id):
    ussd = UssdSession(client, fmt, session_id=session_id)
    resp = ussd.send()
    assert resp.status_code == 400
    field = "sessionId" if fmt == "africastalking" else "session_id"
    assert resp.get_json()["field"] == field and resp.get_json()["error"] == "invalid_payload"
    assert rt.redis.keys("gw:ussd:*") == []


# --- flooding -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_sms_flood_limit_covers_ussd_filings(client, rt, run_jobs, fake_aggregator, fmt):
    limit = rt.settings.flood_limit
    filed = [file_over_ussd(client, fmt, OWNER, text=f"Jalan rusak nomor {i}")[1] for i in range(limit + 1)]
    assert all("terkirim" in s for s in filed[:limit])
    assert filed[limit] == screens.flooded()
    assert is_gsm7(screens.flooded()) and septets(screens.flooded()) <= 160
    # The refused report stays a draft: dialling again offers it, and sending it is refused
    # again while the number is over the limit (15 tries in all).
    for _ in range(15 - limit - 1):
        again = UssdSession(client, fmt, OWNER)
        assert again.step()[0].startswith('Laporan belum terkirim:\n"Jalan rusak nomor 10"')
        assert again.step("1")[0].startswith("Kirim laporan?")
        assert again.step("1") == (screens.flooded(), True)
    assert len(reports(rt)) == limit
    run_jobs()
    assert len(fake_aggregator.sent()) == limit
    # One limit per number across channels: an SMS now is over it too (the screen was the
    # one warning, so it gets silence).
    post_mo(client, "LAPOR jalan berlubang di depan pasar", sender=OWNER)
    run_jobs()
    assert len(reports(rt)) == limit and len(fake_aggregator.sent()) == limit
    with rt.sessions() as s:
        assert s.scalars(select(InboundMessage.command)).all() == ["FLOOD"]
    # Other numbers are untouched.
    _, screen, _ = file_over_ussd(client, fmt, OTHER)
    assert "terkirim" in screen


def test_a_flooding_number_gets_no_draft_notice_either(client, rt, run_jobs, fake_aggregator):
    for i in range(rt.settings.flood_limit):
        post_mo(client, f"LAPOR jalan rusak nomor {i} di desa", sender=OWNER)
    run_jobs()
    ussd = start_draft(client, "generic")
    rt.redis.delete(f"gw:ussd:s:{ussd.owner}")  # the call drops with the draft unsent
    assert service.check_dead_draft(rt, "generic", ussd.session_key) == "flood"
    run_jobs()
    assert notices(rt) == [] and len(fake_aggregator.sent()) == rt.settings.flood_limit


def test_sms_texts_count_toward_the_ussd_limit(client, rt, run_jobs, fake_aggregator):
    for i in range(rt.settings.flood_limit):
        post_mo(client, f"LAPOR jalan rusak nomor {i} di desa", sender=OWNER)
    run_jobs()
    _, screen, ended = file_over_ussd(client, "generic", OWNER)
    assert ended and screen == screens.flooded()
    assert len(reports(rt)) == rt.settings.flood_limit
    with rt.sessions() as s:
        assert (
            s.scalar(select(OutboundMessage).where(OutboundMessage.dedupe_key.like("ussd-filed:%"))) is None
        )


# --- liveness -------------------------------------------------------------------------------


def test_after_the_hostile_cases_a_normal_sms_still_gets_its_reply(client, rt, run_jobs, fake_aggregator):
    for fmt in ("africastalking", "generic"):
        first, _, _ = file_over_ussd(client, fmt, OWNER, session_id="live-1")
        file_over_ussd(client, fmt, OTHER, session_id=first.session_id)
        UssdSession(client, fmt, session_id=LONG_SID).send()
        UssdSession(client, fmt, session_id="ATUid_\x00").send()
    for i in range(15):
        file_over_ussd(client, "generic", "+6281311112222", text=f"Banjir di gang nomor {i}")
    run_jobs()
    before = len(fake_aggregator.sent())
    assert (
        post_mo(client, "LAPOR jalan rusak parah di depan sekolah", sender="085722223333").status_code == 202
    )
    run_jobs()
    [reply] = fake_aggregator.sent()[before:]
    [report] = [r for r in reports(rt) if r.msisdn == "+6285722223333"]
    assert reply["to"] == "+6285722223333" and report.tracking_no in reply["text"]
