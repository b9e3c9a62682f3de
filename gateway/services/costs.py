"""Cost accounting: SMS segments spent, per report and per local day.

Every MT stores its segments and encoding when it is queued (gateway.services.outbox
.queue_message). Spent means the aggregator accepted it (`accepted_at` is set: ACCEPTED or
any later state, DELIVERED, UNDELIVERED, a FAILED by delivery report...): that is what an
aggregator bills. QUEUED, SENDING, SUPPRESSED, QUARANTINED and MTs that FAILED before
acceptance cost nothing. An MT re-sent after an admin requeue is counted once.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway import clock
from gateway.models import OutboundKind, OutboundMessage, as_utc, values
from gateway.runtime import Runtime

MAX_DAYS = 366  # one query reads every accepted MT of the range: at most a year of them
KINDS = values(OutboundKind)
_SPENT = OutboundMessage.accepted_at.is_not(None)


def spent_on_report(s: Session, report_id: int) -> dict:
    """The MTs tied to the report that were sent, and their segments."""
    mts, segs = s.execute(
        select(func.count(OutboundMessage.id), func.coalesce(func.sum(OutboundMessage.segments), 0)).where(
            OutboundMessage.report_id == report_id, _SPENT
        )
    ).one()
    return {"mts": mts, "segments": int(segs)}


def segments_per_day(rt: Runtime, since: date, until: date) -> dict:
    """Per local day (GATEWAY_TIMEZONE) from `since` to `until` inclusive, by the day each
    MT was accepted: the MTs sent and their segments, by kind, every day listed (zeros too)."""
    zone = clock.parse_zone(rt.settings.timezone)
    days = [since + timedelta(days=n) for n in range((until - since).days + 1)]
    table = {day: _empty() for day in days}
    with rt.sessions() as s:
        rows = s.execute(
            select(OutboundMessage.accepted_at, OutboundMessage.kind, OutboundMessage.segments).where(
                OutboundMessage.accepted_at >= clock.day_start(since, zone),
                OutboundMessage.accepted_at < clock.day_start(until + timedelta(days=1), zone),
            )
        )
        for accepted_at, kind, segs in rows:
            _add(table[as_utc(accepted_at).astimezone(zone).date()], kind, segs or 0)
    total = _empty()
    for counts in table.values():
        for kind, c in counts.items():
            _add(total, kind, c["segments"], c["mts"])
    return {
        "timezone": rt.settings.timezone,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "days": [{"day": day.isoformat(), **_flat(table[day])} for day in days],
        "total": _flat(total),
    }


def _empty() -> dict[str, dict[str, int]]:
    return {kind: {"mts": 0, "segments": 0} for kind in KINDS}


def _add(counts: dict[str, dict[str, int]], kind: str, segs: int, mts: int = 1) -> None:
    c = counts.setdefault(kind, {"mts": 0, "segments": 0})
    c["mts"] += mts
    c["segments"] += segs


def _flat(counts: dict[str, dict[str, int]]) -> dict:
    return {
        "mts": sum(c["mts"] for c in counts.values()),
        "segments": sum(c["segments"] for c in counts.values()),
        "by_kind": counts,
    }
