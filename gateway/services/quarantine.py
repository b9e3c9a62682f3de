"""Poison isolation: one unit of work that keeps failing is set aside, and the rest goes on.

Every kind of work the workers do (handle an MO, send an MT, apply a DLR, deliver a
webhook, a USSD hand-off, a report's SLA close) runs through `run_guarded` or records its
own failures with `note_failure`. A failure is counted in `quarantined_work` with the
exception's type and a short reason (never row values: database errors quote the failing
row). At MAX_TRIES the work is QUARANTINED: its own row is marked so no drain, sweep or
clock picks it up again, and it waits for an admin (`GET /api/v1/quarantine`,
`flask --app wsgi quarantine list|retry|drop`).

What is *not* the work's fault is not counted: the database or Redis being unreachable
(OperationalError, RedisError) fails the job as before, so an outage never quarantines
good messages; the sweeper retries them when the dependency is back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from redis.exceptions import RedisError
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DisconnectionError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from gateway.dberrors import describe_db_error
from gateway.models import (
    InboundMessage,
    InboundStatus,
    MultipartMessage,
    MultipartStatus,
    OutboundMessage,
    OutboundStatus,
    QuarantinedWork,
    QuarantineKind,
    QuarantineState,
    WebhookDelivery,
    WebhookStatus,
    utcnow,
    values,
)
from gateway.queueing import JobPath
from gateway.runtime import Runtime

log = logging.getLogger("gateway.quarantine")

MAX_TRIES = 3
# Kinds of work and entry states, as stored in quarantined_work (enums in gateway.models).
KINDS = values(QuarantineKind)
STATES = values(QuarantineState)
# Errors that always mean a dependency is down or busy, not that this piece of work is bad.
_ALWAYS_OUTAGES = (RedisError, DisconnectionError, InterfaceError, PoolTimeout)
# Lock conflicts and serialization failures (PostgreSQL SQLSTATE; SQLite's busy/locked): the
# work is fine and will go through later. The job fails and the sweeper retries it.
_LOCK_CONFLICTS = {"40001", "40P01", "55P03"}
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
# Pauses between the tries `run_guarded` makes itself: enough for a lock or a transient
# conflict to clear, short enough that a poison MO costs its drain well under a second.
RETRY_PAUSES = (0.05, 0.2)

T = TypeVar("T")


class Quarantined:
    """What `run_guarded` returns when the work was set aside instead of done."""

    def __repr__(self) -> str:
        return QuarantineState.QUARANTINED.value


SET_ASIDE = Quarantined()


def safe_reason(exc: BaseException) -> str:
    """What went wrong, fit for a log or an admin screen: the exception's type and, for a
    database error, what the driver names (constraint, table, column). Never the rest: SQL
    errors quote parameters and failing rows (numbers, complaint text)."""
    return describe_db_error(exc)


def note_failure(s: Session, kind: str, ref: str | int, exc: BaseException, at_once: bool = False) -> bool:
    """Count one failure of this work inside the caller's transaction; True when the work is
    now set aside (this failure made it QUARANTINED, or it already was), its own row marked.
    `at_once`: quarantine now (its own attempts already showed no try of ours would help)."""
    ref = str(ref)
    row = s.scalar(
        select(QuarantinedWork)
        .where(QuarantinedWork.kind == kind, QuarantinedWork.ref == ref)
        .with_for_update()
    )
    now = utcnow()
    if row is None:
        row = QuarantinedWork(
            kind=kind, ref=ref, failures=0, first_failed_at=now, state=QuarantineState.FAILING
        )
        s.add(row)
    row.failures += 1
    row.error_type, row.reason, row.last_failed_at = type(exc).__name__[:64], safe_reason(exc)[:200], now
    if row.state == QuarantineState.FAILING and row.failures < MAX_TRIES and not at_once:
        log.warning("%s %s failed (%s), try %d of %d", kind, ref, row.reason, row.failures, MAX_TRIES)
        return False
    if row.state == QuarantineState.FAILING:
        row.state, row.quarantined_at = QuarantineState.QUARANTINED, now
        log.error("%s %s QUARANTINED after %d failure(s) (%s)", kind, ref, row.failures, row.reason)
    _set_aside(s, kind, ref)
    return True


def set_aside_now(s: Session, kind: str, ref: str | int, exc: BaseException) -> bool:
    """`note_failure(at_once=True)`: True."""
    return note_failure(s, kind, ref, exc, at_once=True)


def record_failure(rt: Runtime, kind: str, ref: str | int, exc: BaseException) -> bool:
    """`note_failure` in a transaction of its own (the work's own one was rolled back)."""
    for _ in range(2):  # two workers counting the same new failure at once: one insert wins
        try:
            with rt.transaction() as s:
                return note_failure(s, kind, ref, exc)
        except IntegrityError:
            continue
    return False


def is_lock_conflict(exc: BaseException) -> bool:
    """A lock wait, deadlock or serialization failure: transient, never the work's fault."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in _LOCK_CONFLICTS:
        return True
    return isinstance(exc, OperationalError) and str(orig).startswith(_SQLITE_BUSY)


def is_outage(rt: Runtime, exc: BaseException) -> bool:
    """Whether `exc` means a dependency is down or busy (the job fails uncounted; the sweeper
    retries) rather than that this piece of work is bad. An OperationalError is an outage
    only if the connection was lost, it is a lock conflict, or the database does not answer
    now: SQLite reports a stored value it cannot decode as an OperationalError too, and that
    row must be quarantined, not retried by every drain for ever."""
    if isinstance(exc, _ALWAYS_OUTAGES):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if exc.connection_invalidated or is_lock_conflict(exc):
        return True
    return not _database_answers(rt)


def _database_answers(rt: Runtime) -> bool:
    try:
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 (any failure to answer means: down)
        return False


def run_guarded(
    rt: Runtime, kind: str, ref: str | int, work: Callable[[], T], sleep=time.sleep
) -> T | Quarantined:
    """Run `work` until it succeeds, trying at most until its failures reach MAX_TRIES (those
    of earlier runs count too); then it is QUARANTINED and SET_ASIDE is returned. Outages
    (`is_outage`) propagate uncounted. Work already quarantined is not tried."""
    pauses, failed = iter(RETRY_PAUSES), False
    while True:
        if is_set_aside(rt, kind, ref):
            return SET_ASIDE
        try:
            result = work()
        except Exception as exc:
            if is_outage(rt, exc):
                raise
            failed = True
            if record_failure(rt, kind, ref, exc):
                return SET_ASIDE
            sleep(next(pauses, RETRY_PAUSES[-1]))
            continue
        if failed:
            forget_failures(rt, kind, ref)  # it went through: earlier failures do not add up
        return result


def forget_failures(rt: Runtime, kind: str, ref: str | int) -> None:
    """Drop a FAILING count once the work succeeded (quarantined entries stay)."""
    with rt.transaction() as s:
        s.execute(
            delete(QuarantinedWork).where(
                QuarantinedWork.kind == kind,
                QuarantinedWork.ref == str(ref),
                QuarantinedWork.state == QuarantineState.FAILING,
            )
        )


def is_set_aside(rt: Runtime, kind: str, ref: str | int) -> bool:
    """Whether this work is quarantined or dropped."""
    with rt.sessions() as s:
        state = s.scalar(
            select(QuarantinedWork.state).where(QuarantinedWork.kind == kind, QuarantinedWork.ref == str(ref))
        )
    return state in (QuarantineState.QUARANTINED, QuarantineState.DROPPED)


def set_aside_refs(s: Session, kind: str) -> set[str]:
    """The refs of this kind's quarantined or dropped work (for periodic jobs to skip)."""
    rows = s.scalars(
        select(QuarantinedWork.ref).where(
            QuarantinedWork.kind == kind,
            QuarantinedWork.state.in_((QuarantineState.QUARANTINED, QuarantineState.DROPPED)),
        )
    )
    return set(rows)


# -- marking the work's own row ---------------------------------------------------------------
# Core UPDATEs by id: the row itself may be one Python cannot read (that may be why it failed).


@dataclass(frozen=True)
class _OwnRow:
    """Where a kind of work keeps its state: set aside from `live` states to QUARANTINED,
    put back by a retry into `resumed` with `fresh()` values. Kinds without a row of their
    own (DLRs stay unapplied; USSD hand-offs and SLA closes are skipped by their runs) have
    none."""

    model: type
    live: tuple[str, ...]
    resumed: str
    quarantined: str  # the row's own QUARANTINED status
    fresh: Callable[[], dict]


_OWN_ROWS = {
    QuarantineKind.MO: _OwnRow(
        InboundMessage, (InboundStatus.PENDING,), InboundStatus.PENDING, InboundStatus.QUARANTINED, dict
    ),
    QuarantineKind.MT: _OwnRow(
        OutboundMessage,
        (OutboundStatus.QUEUED, OutboundStatus.SENDING),
        OutboundStatus.QUEUED,
        OutboundStatus.QUARANTINED,
        lambda: {"attempts": 0, "next_attempt_at": utcnow()},
    ),
    QuarantineKind.WEBHOOK: _OwnRow(
        WebhookDelivery,
        (WebhookStatus.PENDING,),
        WebhookStatus.PENDING,
        WebhookStatus.QUARANTINED,
        lambda: {"next_attempt_at": utcnow()},
    ),
    # Put back OPEN, it is past its timeout: the next sweep closes it.
    QuarantineKind.PARTS: _OwnRow(
        MultipartMessage, (MultipartStatus.OPEN,), MultipartStatus.OPEN, MultipartStatus.QUARANTINED, dict
    ),
}


def _set_aside(s: Session, kind: str, ref: str) -> None:
    own = _OWN_ROWS.get(kind)
    if own is not None:
        s.execute(
            update(own.model)
            .where(own.model.id == int(ref), own.model.status.in_(own.live))
            .values(status=own.quarantined)
        )


def _put_back(s: Session, kind: str, ref: str) -> None:
    own = _OWN_ROWS.get(kind)
    if own is not None:
        s.execute(
            update(own.model)
            .where(own.model.id == int(ref), own.model.status == own.quarantined)
            .values(status=own.resumed, **own.fresh())
        )


# -- for admins -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One quarantine entry as admins see it (no row values)."""

    id: int
    kind: str
    ref: str
    state: str
    failures: int
    error_type: str
    reason: str
    first_failed_at: str
    last_failed_at: str
    quarantined_at: str | None

    @classmethod
    def of(cls, row: QuarantinedWork) -> Entry:
        def iso(dt):
            return dt.isoformat() if dt is not None else None

        return cls(
            row.id,
            row.kind,
            row.ref,
            row.state,
            row.failures,
            row.error_type,
            row.reason,
            iso(row.first_failed_at),
            iso(row.last_failed_at),
            iso(row.quarantined_at),
        )


def list_entries(
    rt: Runtime, state: str | None = QuarantineState.QUARANTINED, kind: str | None = None, limit: int = 100
):
    """Entries in a state (None: every state), newest first."""
    query = select(QuarantinedWork).order_by(QuarantinedWork.id.desc()).limit(limit)
    if state is not None:
        query = query.where(QuarantinedWork.state == state)
    if kind is not None:
        query = query.where(QuarantinedWork.kind == kind)
    with rt.sessions() as s:
        return [Entry.of(row) for row in s.scalars(query)]


def count_quarantined(rt: Runtime) -> dict[str, int]:
    """Quarantined entries per kind (the admin list's counts)."""
    with rt.sessions() as s:
        return count_quarantined_in(s)


def count_quarantined_in(s: Session) -> dict[str, int]:
    """The same inside a caller's session (the metrics collector's scrape)."""
    return dict(
        s.execute(
            select(QuarantinedWork.kind, func.count())
            .where(QuarantinedWork.state == QuarantineState.QUARANTINED)
            .group_by(QuarantinedWork.kind)
        ).all()
    )


def drop(rt: Runtime, entry_id: int) -> Entry | None:
    """Give up on quarantined work for good (kept for the record as DROPPED); None if there
    is no such quarantined entry."""
    with rt.transaction() as s:
        row = s.get(QuarantinedWork, entry_id, with_for_update=True)
        if row is None or row.state != QuarantineState.QUARANTINED:
            return None
        row.state = QuarantineState.DROPPED
        log.warning("%s %s dropped from quarantine by an admin", row.kind, row.ref)
        return Entry.of(row)


def retry(rt: Runtime, entry_id: int) -> Entry | None:
    """Put quarantined work back with a fresh set of tries: its row back in its queue state,
    the entry removed, the job enqueued. None if there is no such quarantined entry."""
    with rt.transaction() as s:
        row = s.get(QuarantinedWork, entry_id, with_for_update=True)
        if row is None or row.state != QuarantineState.QUARANTINED:
            return None
        entry = Entry.of(row)
        _put_back(s, row.kind, row.ref)
        s.delete(row)
    try:
        _ENQUEUE[entry.kind](rt, entry.ref)
    except RedisError:
        _restore(rt, entry)  # nothing sweeps DLRs or USSD checks: keep the entry to retry later
        raise
    log.warning("%s %s retried from quarantine by an admin", entry.kind, entry.ref)
    return entry


def _restore(rt: Runtime, entry: Entry) -> None:
    with rt.transaction() as s:
        s.add(
            QuarantinedWork(
                kind=entry.kind,
                ref=entry.ref,
                state=QuarantineState.QUARANTINED,
                failures=entry.failures,
                error_type=entry.error_type,
                reason=entry.reason,
                quarantined_at=utcnow(),
            )
        )
        _set_aside(s, entry.kind, entry.ref)


def _enqueue_drain(rt: Runtime, _ref: str) -> None:
    from gateway.queueing import enqueue_drain

    enqueue_drain(rt.queue)


def _enqueue_send(rt: Runtime, ref: str) -> None:
    from gateway.services.outbox import enqueue_sends  # outbox imports this module

    enqueue_sends(rt, [int(ref)])  # on its own queue: notices on the bulk one


def _enqueue_dlr(rt: Runtime, ref: str) -> None:
    rt.queue.enqueue(JobPath.APPLY_DELIVERY_REPORT.value, int(ref))


def _enqueue_webhooks(rt: Runtime, _ref: str) -> None:
    from gateway.services import upstream

    upstream.kick(rt)


def _enqueue_ussd(rt: Runtime, ref: str) -> None:
    fmt_name, _, session_id = ref.partition(":")
    rt.queue.enqueue(JobPath.USSD_DRAFT_CHECK.value, fmt_name, session_id)


def _enqueue_sweep(rt: Runtime, _ref: str) -> None:
    rt.queue.enqueue(JobPath.SWEEP.value)  # the sweeper closes OPEN long MOs past their timeout


def _next_clock_run(_rt: Runtime, _ref: str) -> None:
    """The SLA clock (every 15 minutes) looks at the report again."""


_ENQUEUE: dict[str, Callable[[Runtime, str], None]] = {
    QuarantineKind.MO: _enqueue_drain,
    QuarantineKind.MT: _enqueue_send,
    QuarantineKind.DLR: _enqueue_dlr,
    QuarantineKind.WEBHOOK: _enqueue_webhooks,
    QuarantineKind.USSD: _enqueue_ussd,
    QuarantineKind.SLA: _next_clock_run,
    QuarantineKind.PARTS: _enqueue_sweep,
}
