"""Reports: filing one from an MO, finding one for a citizen, recording a citizen's reply."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.models import Channel, EventKind, Report, ReportEvent, ReportStatus, utcnow
from gateway.parsers import new_tracking_number

TRACKING_NO_ATTEMPTS = 5
# Session.info key of the numbers reserve_tracking_numbers drew for a batch.
FRESH_TRACKING_NUMBERS = "fresh_tracking_numbers"


def file_report(
    s: Session,
    *,
    msisdn: str,
    text: str,
    privacy: str,
    source_key: str,
    channel: str = Channel.SMS,
    inbound_id: int | None = None,
    fresh: bool = False,
) -> Report:
    """File a report once per `source_key` (the MO or USSD session that asked for it): a rerun
    returns the report already filed. `fresh` (a drain's batch: nothing was filed for this
    source yet) skips that look-up and the savepoint, takes a number the batch reserved
    (reserve_tracking_numbers), and leaves the INSERTs to the commit's one flush; a unique
    key that still fires fails the batch, which is then redone carefully."""
    if fresh:
        drawn = s.info.get(FRESH_TRACKING_NUMBERS)
        tracking_no = next(drawn, None) if drawn is not None else None
        report = _new_report(msisdn, text, privacy, channel, source_key, inbound_id, tracking_no)
        s.add(report)
        return report
    existing = s.scalar(select(Report).where(Report.source_key == source_key))
    if existing is not None:
        return existing
    for _ in range(TRACKING_NO_ATTEMPTS):
        report = _new_report(msisdn, text, privacy, channel, source_key, inbound_id)
        try:
            # A savepoint: a tracking-number collision (1 in 10^9 per report) retries a
            # fresh number without losing the surrounding transaction.
            with s.begin_nested():
                s.add(report)
                s.flush()
        except IntegrityError:
            # Either a tracking-number collision (try another) or the same source filed
            # concurrently (return that one).
            existing = s.scalar(select(Report).where(Report.source_key == source_key))
            if existing is not None:
                return existing
            continue
        return report
    raise RuntimeError("could not allocate a unique tracking number")


def reserve_tracking_numbers(s: Session, count: int) -> None:
    """Draw `count` tracking numbers no report has yet (one query, redrawn on a hit) for the
    `fresh` reports of this session's batch. Without it a batch would fail on the unique
    key whenever a random number is taken, which grows likely as reports accumulate
    (1 in 100 per report at 10 million)."""
    numbers: set[str] = set()
    while len(numbers) < count:
        draw = {new_tracking_number() for _ in range(count - len(numbers))} - numbers
        taken = set(s.scalars(select(Report.tracking_no).where(Report.tracking_no.in_(draw))))
        numbers |= draw - taken
    s.info[FRESH_TRACKING_NUMBERS] = iter(list(numbers))


def _new_report(
    msisdn: str,
    text: str,
    privacy: str,
    channel: str,
    source_key: str,
    inbound_id: int | None,
    tracking_no: str | None = None,
) -> Report:
    """A new report with a fresh tracking number and its CREATED timeline event, both timed
    now (not at the flush, which in a batch comes after the reply is queued: the timeline
    orders by time)."""
    now = utcnow()
    report = Report(
        tracking_no=tracking_no or new_tracking_number(),
        msisdn=msisdn,
        text=text,
        privacy=privacy,
        status=ReportStatus.RECEIVED,
        channel=channel,
        source_key=source_key,
        source_inbound_id=inbound_id,
        created_at=now,
        updated_at=now,
    )
    report.events.append(
        ReportEvent(
            kind=EventKind.CREATED,
            text=text,
            status=ReportStatus.RECEIVED,
            source_key=source_key,
            inbound_id=inbound_id,
            created_at=now,
        )
    )
    return report


def find_own_report(s: Session, tracking_no: str, msisdn: str) -> Report | None:
    """The report with this number if, and only if, `msisdn` filed it."""
    report = s.scalar(select(Report).where(Report.tracking_no == tracking_no))
    if report is None or report.msisdn != msisdn:
        return None
    return report


def record_citizen_reply(
    s: Session, report: Report, text: str, source_key: str, inbound_id: int | None = None
) -> ReportEvent:
    """Add the reporter's BALAS to the timeline, once per `source_key`."""
    existing = s.scalar(select(ReportEvent).where(ReportEvent.source_key == source_key))
    if existing is not None:
        return existing
    event = ReportEvent(
        report_id=report.id,
        kind=EventKind.CITIZEN_REPLY,
        text=text,
        source_key=source_key,
        inbound_id=inbound_id,
    )
    s.add(event)
    s.flush()
    report.last_citizen_reply_at = event.created_at  # stops the SLA clock's auto-close
    return event
