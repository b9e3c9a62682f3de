"""What a citizen can do, whatever the channel (SMS or USSD): file a report, look one of
their own up, answer a follow-up. Each runs inside the caller's transaction and also queues
the complaint-system webhook in it; the caller kicks delivery after the commit."""

from __future__ import annotations

from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from gateway.models import Report, ReportEvent, as_utc
from gateway.runtime import Runtime
from gateway.services import upstream
from gateway.services.reports import file_report, find_own_report, record_citizen_reply
from gateway.services.throttle import count_failed_lookup, lookups_blocked

JAKARTA = ZoneInfo("Asia/Jakarta")


class Lookup(StrEnum):
    """What looking up a report by number found (`look_up`)."""

    FOUND = "FOUND"
    NOT_FOUND = "NOT_FOUND"  # no such report for this number (the same answer either way)
    THROTTLED = "THROTTLED"  # too many failed look-ups from this number


def file(
    s: Session,
    rt: Runtime,
    *,
    msisdn: str,
    text: str,
    privacy: str,
    source_key: str,
    channel: str,
    inbound_id: int | None = None,
    fresh: bool = False,
) -> Report:
    """File the report once per source, and queue its `report.created` webhook. `fresh`: the
    caller holds the source's lock and knows nothing was filed for it yet (a drain's batch),
    so nothing is looked up and nothing is flushed until the commit."""
    report = file_report(
        s,
        msisdn=msisdn,
        text=text,
        privacy=privacy,
        source_key=source_key,
        channel=channel,
        inbound_id=inbound_id,
        fresh=fresh,
    )
    upstream.report_created(s, rt, report, fresh=fresh)
    return report


def look_up(
    s: Session, rt: Runtime, tracking_no: str, msisdn: str, attempt: str
) -> tuple[str, Report | None]:
    """(FOUND, report) only for the reporter's own number; NOT_FOUND for anyone else or a
    number nobody owns (the same answer, so numbers cannot be probed); THROTTLED after too
    many failed look-ups from this number. `attempt` names this look-up (its MO or USSD
    step): made again, it is not counted again."""
    if lookups_blocked(rt, msisdn):
        return Lookup.THROTTLED, None
    report = find_own_report(s, tracking_no, msisdn)
    if report is None:
        count_failed_lookup(rt, msisdn, attempt)
        return Lookup.NOT_FOUND, None
    return Lookup.FOUND, report


def answer_follow_up(
    s: Session, rt: Runtime, report: Report, text: str, source_key: str, inbound_id: int | None = None
) -> ReportEvent:
    """Record the reporter's answer once per source, and queue its webhook."""
    event = record_citizen_reply(s, report, text, source_key=source_key, inbound_id=inbound_id)
    upstream.citizen_reply(s, rt, report, event)
    return event


def status_day(report: Report) -> str:
    """The day of the report's last change, as citizens read dates (Jakarta time)."""
    return as_utc(report.updated_at).astimezone(JAKARTA).strftime("%d/%m/%Y")
