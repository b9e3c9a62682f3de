"""Draining the inbox: every pending MO, a batch (GATEWAY_DRAIN_BATCH) per database
transaction, each batch's replies sent as soon as it commits.

One job per MO would cap the pipeline at RQ's own job rate (the "RQ no-op ceiling" that
`make bench-rq`, bench/rq_ceiling.py, measures; README "Performance"), whatever the job
does; a batch also pays one commit for many MOs. The receiver rings a doorbell
(gateway.queueing.Doorbell) and one drain job takes everything pending, so the number of
jobs follows the bursts, not the messages.

A batch's replies go out while the next batches are handled (`ReplyLane`): at a real send
API's round trip (150 ms) a batch's sends take longer than its database work, and doing one
after the other left the worker waiting on the network half the time (`make bench`,
pipeline-rtt150 against pipeline-sqlite). A few batches' sends are in flight at most, and a
batch with a reply to a number still in flight waits for it, so a citizen's replies still go
out in order.

Crash safety is the transaction's: a batch is committed whole or not at all, so a worker
killed mid-batch leaves its MOs PENDING for the next drain (rung by the next MO or by the
sweeper), and the per-MO unique keys keep a rerun from filing or replying twice.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from redis.exceptions import RedisError
from sqlalchemy import select

from gateway.db import batch_lock
from gateway.logconfig import correlation, mo_correlation
from gateway.models import InboundMessage, InboundStatus, QuarantineKind
from gateway.queueing import enqueue_drain
from gateway.runtime import Runtime
from gateway.services import conversation, quarantine
from gateway.services.quarantine import safe_reason

log = logging.getLogger("gateway.drain")


@dataclass
class DrainResult:
    """What one drain job did: MOs handled, batches committed, MOs set aside (QUARANTINED)
    because handling them kept failing, and whether it handed over to a fresh job because
    its time was up."""

    handled: int = 0
    batches: int = 0
    failed: list[int] = field(default_factory=list)
    continued: bool = False


class ReplyLane:
    """Sends each batch's replies in the background while the next batches are handled, up to
    MAX_IN_FLIGHT batches at once. A batch whose numbers have replies still in flight waits
    for those first, so one citizen's replies go out in the order they were written; the
    careful path waits for every batch (`wait()`), and so does the end of the drain."""

    MAX_IN_FLIGHT = 4

    def __init__(self):
        self._pool = ThreadPoolExecutor(self.MAX_IN_FLIGHT, thread_name_prefix="replies")
        self._in_flight: list[tuple[Future, frozenset[str]]] = []
        self._errors: list[BaseException] = []

    def send(self, job: Callable[[], None], numbers: frozenset[str] = frozenset()) -> None:
        """Start `job` (a batch's sends to `numbers`) once no batch in flight shares a number
        with it and fewer than MAX_IN_FLIGHT are. An earlier batch's error is raised here, but
        only after this batch has been started: its MOs are committed, its replies must go."""
        try:
            self._finish(lambda f, sent_to: f.done())
            self._finish(lambda f, sent_to: bool(sent_to & numbers))
        finally:
            while len(self._in_flight) >= self.MAX_IN_FLIGHT:
                first = self._in_flight[0][0]
                self._finish(lambda f, sent_to, first=first: f is first, raising=False)
            self._in_flight.append((self._pool.submit(job), numbers))

    def _finish(self, which: Callable[[Future, frozenset[str]], bool], raising: bool = True) -> None:
        """Wait for the batches in flight that `which` names. Each failure is logged; they are
        raised one per call (the first now, the next on a later call or at close())."""
        chosen = [entry for entry in self._in_flight if which(*entry)]
        self._in_flight = [entry for entry in self._in_flight if entry not in chosen]
        for future, _numbers in chosen:
            if (exc := future.exception()) is not None:
                log.warning(
                    "a batch's replies failed to go out (%s); the sweeper sends them", safe_reason(exc)
                )
                self._errors.append(exc)
        if raising and self._errors:
            raise self._errors.pop(0)

    def wait(self) -> None:
        """Until every batch in flight has been sent."""
        self._finish(lambda f, sent_to: True)

    def close(self) -> None:
        """Wait for the last batches and stop the threads (an error not raised yet is)."""
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)


def drain_inbound(rt: Runtime, clock=time.monotonic, sleep=time.sleep) -> DrainResult:
    """Handle pending MOs batch by batch until none is left, or until a third of the job
    timeout has gone (then enqueue a fresh drain, so no job ever runs into its timeout).
    The last look starts no sooner than the doorbell's quiet time after clearing it: a
    receiver that rang just before stores MOs without ringing for that long (BELL_QUIET)."""
    try:
        rt.doorbell.clear()
    except RedisError as exc:  # the job came from Redis; losing it now only costs a duplicate drain
        log.warning("could not clear the inbound bell: %s", exc)
    cleared = clock()
    deadline = cleared + rt.settings.job_timeout / 3
    last_look_from = cleared + rt.doorbell.quiet

    def out_of_time() -> bool:
        return clock() >= deadline

    result = DrainResult()
    skip: set[int] = set()
    lane = ReplyLane()
    try:
        while True:
            looked = clock()
            handled = _drain_batch(rt, skip, result, out_of_time, lane)
            if not handled:
                if looked >= last_look_from:
                    return result
                sleep(max(0.0, last_look_from - clock()))
                continue
            result.handled += handled
            result.batches += 1
            if out_of_time():
                enqueue_drain(rt.queue)
                result.continued = True
                return result
    finally:
        lane.close()


def _drain_batch(
    rt: Runtime, skip: set[int], result: DrainResult, out_of_time: Callable[[], bool], lane: ReplyLane
) -> int:
    """Handle one batch in one transaction and send its replies; how many MOs it handled.
    If the batch fails for any reason but a dependency being down, its MOs are handled one
    by one, so one bad MO cannot hold up the others."""
    ids: list[int] = []
    try:
        with batch_lock(rt.engine), rt.transaction() as s:
            ids = _claim_pending(s, rt.settings.drain_batch, skip)
            if not ids:
                return 0
            handled = conversation.handle_batch(rt, s, _load(s, ids))
    except Exception as exc:
        if quarantine.is_outage(rt, exc):
            raise  # the job fails, the MOs stay PENDING, the sweeper retries
        log.warning("a batch of %d MO(s) failed (%s); handling them one by one", len(ids), safe_reason(exc))
        with contextlib.suppress(Exception):  # logged by the lane; this batch still goes one by one
            lane.wait()  # the careful path replies inline: after the batches before, in order
        return _one_by_one(rt, ids, skip, result)
    numbers = frozenset(h.reply.msisdn for h in handled if h.reply is not None)
    lane.send(lambda: conversation.after_mos_committed(rt, handled, out_of_time), numbers)
    return len(ids)


def _claim_pending(s, limit: int, skip: set[int]) -> list[int]:
    """The ids of the oldest PENDING MOs, locked for this transaction; rows another drain
    holds are skipped (PostgreSQL), not waited for. Ids only: claiming must not read a row
    that cannot be read (a poison row), or no batch could ever start."""
    query = select(InboundMessage.id).where(InboundMessage.status == InboundStatus.PENDING)
    if skip:
        query = query.where(InboundMessage.id.not_in(skip))
    query = query.order_by(InboundMessage.id).limit(limit).with_for_update(skip_locked=True)
    return list(s.scalars(query))


def _load(s, ids: list[int]) -> list[InboundMessage]:
    """The claimed MOs, in id order (already locked by the claim)."""
    return list(
        s.scalars(select(InboundMessage).where(InboundMessage.id.in_(ids)).order_by(InboundMessage.id))
    )


def _one_by_one(rt: Runtime, ids: list[int], skip: set[int], result: DrainResult) -> int:
    """The careful path for a failed batch: each MO in its own transaction, looking for
    earlier writes first, tried up to quarantine.MAX_TRIES times; one that still fails is
    QUARANTINED and the drain goes on. Under the batch lock too: on SQLite another drain's
    batch would otherwise claim the same PENDING MO meanwhile, and fail on its unique keys."""
    for inbound_id in ids:
        with batch_lock(rt.engine), correlation(mo_correlation(inbound_id)):
            outcome = quarantine.run_guarded(
                rt, QuarantineKind.MO, inbound_id, lambda i=inbound_id: conversation.process_inbound(rt, i)
            )
        if outcome is quarantine.SET_ASIDE:
            skip.add(inbound_id)
            result.failed.append(inbound_id)
    return len(ids)
