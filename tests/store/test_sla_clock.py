"""The SLA clock's job on real databases with an injected clock: it closes exactly the
reports whose follow-up waited 10 working days for the reporter, once, with a closing SMS
that respects quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from gateway.models import OutboundMessage, Report
from gateway.services import admin, sla
from tests.store.admin_helpers import no_quiet_hours
from tests.store.helpers import file_report, outbox, post_mo

JKT = ZoneInfo("Asia/Jakarta")
FOLLOWED = datetime(2026, 9, 7, 10, 0, tzinfo=JKT)  # Monday
DUE = datetime(2026, 9, 22, 0, 0, tzinfo=JKT)  # 10 working days later (two weekends, no holiday)


def _report(rt, no) -> Report:
    with rt.sessions() as s:
        return s.scalar(select(Report).where(Report.tracking_no == no))


def test_only_unanswered_follow_ups_close_after_ten_working_days(client, rt, run_jobs, fake_aggregator):
    no_quiet_hours(rt)
    silent = file_report(client, rt, run_jobs, fake_aggregator, sender="081234567890")
    answered = file_report(client, rt, run_jobs, fake_aggregator, sender="085711112222")
    postponed = file_report(client, rt, run_jobs, fake_aggregator, sender="081398765432")
    untouched = file_report(client, rt, run_jobs, fake_aggregator, sender="081398765432")
    for no in (silent, answered, postponed):
        admin.post_follow_up(rt, no, "Sudah ditangani.", "token:t", now=FOLLOWED)
    admin.change_status(rt, postponed, "POSTPONED", "menunggu anggaran", "token:t", now=FOLLOWED)
    post_mo(client, f"BALAS {answered} belum selesai", sender="085711112222")
    run_jobs()
    assert sla.run_clock(rt, now=DUE - timedelta(seconds=1)) == []
    assert sla.run_clock(rt, now=DUE) == [silent]
    assert sla.run_clock(rt, now=DUE + timedelta(days=30)) == []  # once only
    run_jobs()
    closing = [o for o in outbox(rt) if o.text.startswith(f"LAPOR! Laporan {silent} Selesai")]
    assert len(closing) == 1 and closing[0].status == "ACCEPTED" and closing[0].msisdn == "+6281234567890"
    assert _report(rt, silent).status == "DONE"
    assert _report(rt, answered).status == "IN_PROGRESS"
    assert _report(rt, postponed).status == "POSTPONED"
    assert _report(rt, untouched).status == "RECEIVED"


@pytest.mark.parametrize(
    ("extra", "followed", "due"),
    [
        # GATEWAY_HOLIDAYS unset: 17 Agustus (a Monday) is still not a working day.
        pytest.param(
            "", datetime(2026, 8, 3, 10, tzinfo=JKT), datetime(2026, 8, 19, tzinfo=JKT), id="17-agustus"
        ),
        # A decreed collective-leave day on top of the public holidays.
        pytest.param("2026-09-14", FOLLOWED, DUE + timedelta(days=1), id="cuti-bersama"),
    ],
)
def test_a_holiday_moves_the_deadline(client, rt, run_jobs, fake_aggregator, extra, followed, due):
    no_quiet_hours(rt)
    rt.settings = rt.settings.replace(holidays=extra)
    no = file_report(client, rt, run_jobs, fake_aggregator)
    admin.post_follow_up(rt, no, "Sudah ditangani.", "token:t", now=followed)
    assert sla.run_clock(rt, now=due - timedelta(seconds=1)) == []
    assert sla.run_clock(rt, now=due) == [no]


def test_a_closing_at_night_waits_for_the_morning(client, rt, run_jobs, fake_aggregator):
    no = file_report(client, rt, run_jobs, fake_aggregator)  # default quiet hours 21:00-06:00
    admin.post_follow_up(rt, no, "Sudah ditangani.", "token:t", now=FOLLOWED.replace(hour=10))
    assert sla.run_clock(rt, now=DUE + timedelta(minutes=15)) == [no]  # 00:15 in Jakarta
    with rt.sessions() as s:
        notices = list(s.scalars(select(OutboundMessage).where(OutboundMessage.kind == "NOTICE")))
    closing = notices[-1]
    due = closing.next_attempt_at.replace(tzinfo=closing.next_attempt_at.tzinfo or UTC)
    assert due == datetime(2026, 9, 22, 6, 0, tzinfo=JKT)
