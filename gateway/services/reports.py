"""Reports: filing one from an MO, finding one for a citizen, recording a citizen's reply."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.models import InboundMessage, Report, ReportEvent
from gateway.parsers import new_tracking_number

TRACKING_NO_ATTEMPTS = 5


def file_report(s: Session, inbound: InboundMessage, text: str, privacy: str) -> Report:
    """File the report an MO asks for, once: a rerun of the same MO returns the same report."""
    existing = s.scalar(select(Report).where(Report.source_inbound_id == inbound.id))
    if existing is not None:
        return existing
    for _ in range(TRACKING_NO_ATTEMPTS):
        report = Report(
            tracking_no=new_tracking_number(),
            msisdn=inbound.msisdn,
            text=text,
            privacy=privacy,
            source_inbound_id=inbound.id,
        )
        try:
            # A savepoint: a tracking-number collision (1 in 10^9 per report) retries a
            # fresh number without losing the surrounding transaction.
            with s.begin_nested():
                s.add(report)
                s.flush()
        except IntegrityError:
            continue
        s.add(
            ReportEvent(
                report_id=report.id, kind="CREATED", text=text, status=report.status, inbound_id=inbound.id
            )
        )
        return report
    raise RuntimeError("could not allocate a unique tracking number")


def find_own_report(s: Session, tracking_no: str, msisdn: str) -> Report | None:
    """The report with this number if, and only if, `msisdn` filed it."""
    report = s.scalar(select(Report).where(Report.tracking_no == tracking_no))
    if report is None or report.msisdn != msisdn:
        return None
    return report


def record_citizen_reply(s: Session, report: Report, inbound: InboundMessage, text: str) -> ReportEvent:
    """Add the reporter's BALAS to the timeline, once per MO."""
    existing = s.scalar(select(ReportEvent).where(ReportEvent.inbound_id == inbound.id))
    if existing is not None:
        return existing
    event = ReportEvent(report_id=report.id, kind="CITIZEN_REPLY", text=text, inbound_id=inbound.id)
    s.add(event)
    s.flush()
    return event
