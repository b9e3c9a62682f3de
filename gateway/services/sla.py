"""The SLA clock, from LAPOR! practice: a report is verified within 3 working days, gets a
follow-up within 5 working days of verification, and a report whose follow-up the reporter
has not answered for 10 working days is closed as DONE with a closing SMS. (The numbers are
settings.) The decisions are pure functions of a report's timestamps and an injected `now`;
`run_clock` is the scheduled job body (registered with `rq cron` in workers/cron.py)."""

from __future__ import annotations

import logging
from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select

from config.settings import Settings
from gateway import clock
from gateway.models import EventKind, QuarantineKind, Report, ReportEvent, ReportStatus, as_utc, utcnow
from gateway.queueing import enqueue_send
from gateway.runtime import Runtime
from gateway.services import notices, quarantine

log = logging.getLogger("gateway.sla")

# Statuses on which no clock runs: finished, or deliberately paused (POSTPONED).
CLOSED_STATUSES = frozenset({ReportStatus.DONE, ReportStatus.OUT_OF_SCOPE, ReportStatus.ARCHIVED})
PAUSED_STATUSES = frozenset({ReportStatus.POSTPONED})


@dataclass(frozen=True)
class Rules:
    """The SLA numbers and the calendar they are counted in."""

    verify_days: int = 3
    follow_up_days: int = 5
    close_days: int = 10
    zone: ZoneInfo = ZoneInfo("Asia/Jakarta")
    # Only the days given (none by default): the pure decisions are tested on plain dates.
    # A deployment's rules (from_settings) count Indonesia's public holidays too.
    holidays: Container[date] = frozenset()

    @classmethod
    def from_settings(cls, s: Settings) -> Rules:
        """The rules configured for this deployment."""
        return cls(
            s.sla_verify_days,
            s.sla_follow_up_days,
            s.sla_close_days,
            clock.parse_zone(s.timezone),
            clock.HolidayCalendar(extra=clock.parse_holidays(s.holidays)),
        )


class Waiting(StrEnum):
    """What a report waits for (`Deadline.waiting_for`, the admin API's `sla.waiting_for`)."""

    VERIFICATION = "VERIFICATION"  # by the agency
    FOLLOW_UP = "FOLLOW_UP"  # by the agency
    CITIZEN_REPLY = "CITIZEN_REPLY"  # by the reporter: closed as DONE when it does not come


@dataclass(frozen=True)
class Deadline:
    """What a report waits for: `VERIFICATION` or `FOLLOW_UP` by the agency, or `CITIZEN_REPLY`
    (closed as DONE when it does not come); `due_at` its deadline."""

    waiting_for: str
    due_at: datetime

    def overdue(self, now: datetime) -> bool:
        """Past the deadline at `now`."""
        return now >= self.due_at


def deadline_for(
    rules: Rules,
    *,
    status: str,
    created_at: datetime,
    verified_at: datetime | None,
    last_follow_up_at: datetime | None,
    last_citizen_reply_at: datetime | None,
) -> Deadline | None:
    """The deadline running on a report, or None (closed or paused)."""
    if status in CLOSED_STATUSES or status in PAUSED_STATUSES:
        return None

    def due(start: datetime, days: int) -> datetime:
        return clock.working_deadline(as_utc(start), days, rules.zone, rules.holidays)

    if last_follow_up_at is not None:
        follow_up = as_utc(last_follow_up_at)
        if last_citizen_reply_at is None or as_utc(last_citizen_reply_at) < follow_up:
            return Deadline(Waiting.CITIZEN_REPLY, due(follow_up, rules.close_days))
        # The reporter answered: the agency owes the next follow-up.
        return Deadline(Waiting.FOLLOW_UP, due(last_citizen_reply_at, rules.follow_up_days))
    if verified_at is not None or status != ReportStatus.RECEIVED:
        return Deadline(Waiting.FOLLOW_UP, due(verified_at or created_at, rules.follow_up_days))
    return Deadline(Waiting.VERIFICATION, due(created_at, rules.verify_days))


def report_deadline(rules: Rules, report: Report) -> Deadline | None:
    """`deadline_for` a stored report."""
    return deadline_for(
        rules,
        status=report.status,
        created_at=report.created_at,
        verified_at=report.verified_at,
        last_follow_up_at=report.last_follow_up_at,
        last_citizen_reply_at=report.last_citizen_reply_at,
    )


def overdue_reports(
    rt: Runtime, now: datetime | None = None, limit: int = 500
) -> list[tuple[Report, Deadline]]:
    """Open reports past their deadline at `now`, most overdue first."""
    now, rules = now or utcnow(), Rules.from_settings(rt.settings)
    found = []
    with rt.sessions() as s:
        open_reports = s.scalars(
            select(Report).where(Report.status.not_in(CLOSED_STATUSES | PAUSED_STATUSES)).order_by(Report.id)
        )
        for report in open_reports:
            c = report_deadline(rules, report)
            if c is not None and c.overdue(now):
                found.append((report, c))
    found.sort(key=lambda pair: pair[1].due_at)
    return found[:limit]


def run_clock(rt: Runtime, now: datetime | None = None) -> list[str]:
    """The scheduled job: close, with a closing SMS, every report whose follow-up has waited
    `close_days` working days for the reporter. Returns the tracking numbers closed. Safe to
    run twice or on several hosts at once: each report is re-checked under a row lock."""
    now, rules = (now or utcnow()).astimezone(UTC), Rules.from_settings(rt.settings)
    with rt.sessions() as s:
        candidates = list(
            s.scalars(
                select(Report.id).where(
                    Report.status.not_in(CLOSED_STATUSES | PAUSED_STATUSES),
                    Report.last_follow_up_at.is_not(None),
                )
            )
        )
        set_aside = quarantine.set_aside_refs(s, QuarantineKind.SLA)
    closed = []
    for report_id in candidates:
        if str(report_id) in set_aside:
            continue
        tracking_no = quarantine.run_guarded(
            rt, QuarantineKind.SLA, report_id, lambda i=report_id: _close_if_due(rt, rules, i, now)
        )
        if isinstance(tracking_no, str):
            closed.append(tracking_no)
    if closed:
        log.info("SLA clock closed %d report(s)", len(closed))
    return closed


def _close_if_due(rt: Runtime, rules: Rules, report_id: int, now: datetime) -> str | None:
    with rt.transaction() as s:
        report = s.get(Report, report_id, with_for_update=True)
        c = report_deadline(rules, report) if report is not None else None
        if c is None or c.waiting_for != Waiting.CITIZEN_REPLY or not c.overdue(now):
            return None
        report.status, report.closed_at = ReportStatus.DONE, now
        event = ReportEvent(
            report_id=report.id,
            kind=EventKind.STATUS,
            status=ReportStatus.DONE,
            actor="sla",
            text=f"Ditutup otomatis: tidak ada tanggapan pelapor {rules.close_days} hari kerja.",
            created_at=now,
        )
        s.add(event)
        s.flush()
        text = notices.closing_notice(report.tracking_no, rules.close_days, rt.settings.short_code)
        out = notices.queue_notice(s, rt, report, f"notice:{event.id}", text, now=now)
        tracking_no = report.tracking_no
    enqueue_send(rt.queue, [out.id], delay=notices.enqueue_delay(out), bulk=True)
    notices.log_queued(out, f"SLA clock closed report {tracking_no}")
    return tracking_no
