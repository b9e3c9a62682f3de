"""What complaint handlers do through the admin API (and the complaint system through
/api/v1/events): find reports, read a timeline, change a status, post a follow-up, write to
the reporter. Every action that concerns the reporter is recorded in the timeline and sends
a notice SMS (gateway.services.notices), addressed by tracking number, never by phone number.

Privacy: the reporter's number is only ever shown masked, and never for an anonymous report
nor for an SMS tied to no report (it may be an anonymous reporter's; see `outbound_view`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from gateway import clock
from gateway.errors import GatewayError
from gateway.models import (
    REPORT_STATUS_LABELS,
    EventKind,
    InboundMessage,
    OutboundMessage,
    Privacy,
    Report,
    ReportEvent,
    ReportStatus,
    as_utc,
    utcnow,
)
from gateway.msisdn import mask_msisdn
from gateway.queueing import enqueue_send
from gateway.runtime import Runtime
from gateway.services import costs, notices, optout
from gateway.services.sla import CLOSED_STATUSES, Rules, report_deadline


class ReportNotFound(GatewayError):
    """No report with that tracking number."""


@dataclass(frozen=True)
class ReportQuery:
    """Filters for listing reports; dates are local (GATEWAY_TIMEZONE) calendar days."""

    status: str | None = None
    channel: str | None = None
    since: date | None = None
    until: date | None = None
    text: str | None = None
    page: int = 1
    per_page: int = 50


def iso(dt: datetime | None) -> str | None:
    """A stored time as ISO 8601 UTC."""
    return as_utc(dt).isoformat() if dt is not None else None


def shown_number(msisdn: str, privacy: str) -> str | None:
    """The reporter's number as an admin may see it: masked, or nothing for an anonymous report."""
    return None if privacy == Privacy.ANONYMOUS else mask_msisdn(msisdn)


def list_reports(rt: Runtime, q: ReportQuery) -> tuple[list[dict], int]:
    """One page of reports matching `q`, newest first, and the total count."""
    zone = clock.parse_zone(rt.settings.timezone)
    conditions = []
    if q.status:
        conditions.append(Report.status == q.status)
    if q.channel:
        conditions.append(Report.channel == q.channel)
    if q.since:
        conditions.append(Report.created_at >= clock.day_start(q.since, zone))
    if q.until:
        conditions.append(Report.created_at < clock.day_start(q.until + timedelta(days=1), zone))
    if q.text:
        conditions.append(
            or_(Report.text.icontains(q.text, autoescape=True), Report.tracking_no == q.text.strip())
        )
    with rt.sessions() as s:
        total = s.scalar(select(func.count(Report.id)).where(*conditions))
        rows = s.scalars(
            select(Report)
            .where(*conditions)
            .order_by(Report.created_at.desc(), Report.id.desc())
            .offset((q.page - 1) * q.per_page)
            .limit(q.per_page)
        )
        rules = Rules.from_settings(rt.settings)
        return [report_summary(rt, r, rules) for r in rows], total


def report_summary(rt: Runtime, r: Report, rules: Rules | None = None) -> dict:
    """A report as listed: no timeline."""
    c = report_deadline(rules or Rules.from_settings(rt.settings), r)
    return {
        "tracking_no": r.tracking_no,
        "status": r.status,
        "status_label": REPORT_STATUS_LABELS[r.status],
        "channel": r.channel,
        "privacy": r.privacy,
        "reporter": shown_number(r.msisdn, r.privacy),
        "text": r.text,
        "created_at": iso(r.created_at),
        "updated_at": iso(r.updated_at),
        "verified_at": iso(r.verified_at),
        "last_follow_up_at": iso(r.last_follow_up_at),
        "last_citizen_reply_at": iso(r.last_citizen_reply_at),
        "closed_at": iso(r.closed_at),
        "sla": None if c is None else {"waiting_for": c.waiting_for, "due_at": iso(c.due_at)},
    }


def report_detail(rt: Runtime, tracking_no: str) -> dict:
    """A report with its whole timeline: inbound texts, status changes, follow-ups, citizen
    replies, and every SMS sent with its delivery state, oldest first; whether the reporter
    opted out of notices, and the MTs and segments spent on it (see gateway.services.costs)."""
    with rt.sessions() as s:
        report = _get(s, tracking_no)
        return {
            **report_summary(rt, report),
            # Whether notices reach the reporter (BERHENTI); a yes or no, never the number.
            "reporter_opted_out": optout.is_opted_out(s, report.msisdn),
            "spent": costs.spent_on_report(s, report.id),
            "timeline": timeline(s, report),
        }


def timeline(s: Session, report: Report) -> list[dict]:
    """The report's history merged from events, inbound and outbound messages."""
    items = []
    for e in s.scalars(select(ReportEvent).where(ReportEvent.report_id == report.id)):
        items.append(
            (
                as_utc(e.created_at),
                0,
                e.id,
                {"type": "event", "at": iso(e.created_at), "kind": e.kind, "text": e.text}
                | {"status": e.status, "actor": e.actor},
            )
        )
    inbound = s.scalars(select(InboundMessage).where(InboundMessage.report_id == report.id))
    for m in inbound:
        item = {"type": "inbound_sms", "at": iso(m.received_at), "id": m.id, "text": m.text}
        items.append(
            (as_utc(m.received_at), -1, m.id, item | {"from": shown_number(m.msisdn, report.privacy)})
        )
    for o in s.scalars(select(OutboundMessage).where(OutboundMessage.report_id == report.id)):
        items.append((as_utc(o.created_at), 1, o.id, {"type": "outbound_sms", **outbound_view(o, report)}))
    items.sort(key=lambda item: item[:3])
    return [item[3] for item in items]


def outbound_view(o: OutboundMessage, report: Report | None) -> dict:
    """An MT as an admin sees it. The number (masked) only when the MT is tied to a report
    that is not anonymous: an MT tied to no report (a look-up with a typo, the guide, a flood
    warning) may answer an anonymous reporter, and its text can name the report ("Nomor
    laporan 12345687 salah ketik"), so showing its number would link the two."""
    return {
        "id": o.id,
        "at": iso(o.created_at),
        "kind": o.kind,
        "to": shown_number(o.msisdn, report.privacy) if report is not None else None,
        "text": o.text,
        "state": o.status,
        "attempts": o.attempts,
        "next_attempt_at": iso(o.next_attempt_at),
        "last_error": o.last_error,
        "accepted_at": iso(o.accepted_at),
        "delivered_at": iso(o.delivered_at),
        "segments": o.segments,
        "encoding": o.encoding,
        "tracking_no": report.tracking_no if report is not None else None,
    }


def list_outbound(rt: Runtime, status: str | None, page: int, per_page: int) -> tuple[list[dict], int]:
    """Outbound messages (optionally in one state), newest first, and the total count."""
    conditions = [OutboundMessage.status == status] if status else []
    with rt.sessions() as s:
        total = s.scalar(select(func.count(OutboundMessage.id)).where(*conditions))
        rows = s.execute(
            select(OutboundMessage, Report)
            .outerjoin(Report, OutboundMessage.report_id == Report.id)
            .where(*conditions)
            .order_by(OutboundMessage.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        return [outbound_view(o, r) for o, r in rows], total


def change_status(
    rt: Runtime, tracking_no: str, status: str, note: str, actor: str, now: datetime | None = None
) -> dict:
    """Set a report's status, record it with the note, and notify the reporter."""
    with rt.transaction() as s:
        event, out = record_status_change(s, rt, tracking_no, status, note, actor, _utc(now))
    return after_commit(rt, event, out)


def post_follow_up(rt: Runtime, tracking_no: str, text: str, actor: str, now: datetime | None = None) -> dict:
    """Record a follow-up (tindak lanjut), move a new report to IN_PROGRESS, notify the reporter."""
    with rt.transaction() as s:
        event, out = record_follow_up(s, rt, tracking_no, text, actor, _utc(now))
    return after_commit(rt, event, out)


def send_reply(rt: Runtime, tracking_no: str, text: str, actor: str, now: datetime | None = None) -> dict:
    """A handler's SMS to the reporter of a report (by tracking number, never by phone number)."""
    now = _utc(now)
    with rt.transaction() as s:
        report = _get(s, tracking_no, lock=True)
        notice = notices.reply_notice(report.tracking_no, text, rt.settings.short_code)
        event, out = _record(s, rt, report, EventKind.ADMIN_REPLY, text, actor, notice, now)
    return after_commit(rt, event, out)


def record_status_change(
    s: Session, rt: Runtime, tracking_no: str, status: str, note: str, actor: str, now: datetime
) -> tuple[ReportEvent, OutboundMessage]:
    """The status change inside the caller's transaction (admin API and upstream events)."""
    report = _get(s, tracking_no, lock=True)
    report.status = status
    if status != ReportStatus.RECEIVED and report.verified_at is None:
        report.verified_at = now
    report.closed_at = now if status in CLOSED_STATUSES else None
    text = notices.status_notice(report.tracking_no, status, note, rt.settings.short_code)
    return _record(s, rt, report, EventKind.STATUS, note, actor, text, now, status=status)


def record_follow_up(
    s: Session, rt: Runtime, tracking_no: str, text: str, actor: str, now: datetime
) -> tuple[ReportEvent, OutboundMessage]:
    """The follow-up inside the caller's transaction (admin API and upstream events)."""
    report = _get(s, tracking_no, lock=True)
    if report.status in (ReportStatus.RECEIVED, ReportStatus.VERIFIED):
        report.status = ReportStatus.IN_PROGRESS
    if report.verified_at is None:
        report.verified_at = now
    report.last_follow_up_at = now
    notice = notices.follow_up_notice(report.tracking_no, text, rt.settings.short_code)
    return _record(s, rt, report, EventKind.FOLLOW_UP, text, actor, notice, now, status=report.status)


def _utc(now: datetime | None) -> datetime:
    # Stored times are UTC: SQLite would keep another zone's wall time and drop the zone.
    return (now or utcnow()).astimezone(UTC)


def _get(s: Session, tracking_no: str, lock: bool = False) -> Report:
    stmt = select(Report).where(Report.tracking_no == tracking_no)
    report = s.scalar(stmt.with_for_update() if lock else stmt)
    if report is None:
        raise ReportNotFound(tracking_no)
    return report


def _record(
    s: Session,
    rt: Runtime,
    report: Report,
    kind: str,
    text: str,
    actor: str,
    notice: str,
    now: datetime,
    status: str | None = None,
) -> tuple[ReportEvent, OutboundMessage]:
    event = ReportEvent(report_id=report.id, kind=kind, text=text, status=status, actor=actor, created_at=now)
    s.add(event)
    s.flush()
    return event, notices.queue_notice(s, rt, report, f"notice:{event.id}", notice, now=now)


def after_commit(rt: Runtime, event: ReportEvent, out: OutboundMessage) -> dict:
    """Enqueue the notice (delayed through quiet hours) and describe what was done."""
    delay = notices.enqueue_delay(out)
    enqueue_send(rt.queue, [out.id], delay=delay, bulk=True)  # if Redis is down, the sweeper sends it
    # Ids and the actor's token name only: never the number or the texts.
    notices.log_queued(out, f"report event {event.id} {event.kind} by {event.actor}")
    return {
        "event_id": event.id,
        "kind": event.kind,
        "notice": {
            "id": out.id,
            "text": out.text,
            "state": out.status,
            "send_after": iso(out.next_attempt_at),
        },
    }
