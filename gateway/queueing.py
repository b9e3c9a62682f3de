"""Putting work on the RQ queue. Jobs carry ids only (or nothing): the database holds the
data, so a job lost with Redis is re-enqueued by the sweeper from what the database says is
pending.

MOs are not one job each: one job per message caps the pipeline at RQ's own job rate (the
"RQ no-op ceiling": `make bench-rq`, bench/rq_ceiling.py, README "Performance"). The
receiver rings a "doorbell" instead, and one drain job handles every pending MO in batches
(gateway.services.drain)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from redis.exceptions import RedisError
from rq import Queue, get_current_job
from rq.utils import utcparse

log = logging.getLogger("gateway.queue")


class JobPath(StrEnum):
    """Every RQ job the gateway enqueues, by its function's dotted path (workers/jobs.py).
    Enqueue `JobPath.X.value`, a plain str: RQ pickles the name into the job, and a plain
    str keeps the job readable by any worker (an enum member would pickle as a reference
    to this class). tests/unit/test_job_paths.py checks each one imports to a callable."""

    DRAIN_INBOUND = "workers.jobs.drain_inbound"
    SEND_OUTBOUND = "workers.jobs.send_outbound"
    SWEEP = "workers.jobs.sweep"
    SLA_CLOCK = "workers.jobs.sla_clock"
    DELIVER_WEBHOOKS = "workers.jobs.deliver_webhooks"
    USSD_DRAFT_CHECK = "workers.jobs.ussd_draft_check"
    APPLY_DELIVERY_REPORT = "workers.jobs.apply_delivery_report"


# How long a rung bell keeps later MOs from enqueueing another drain. The drain job clears
# it when it starts; the expiry only matters if the job was lost between bell and enqueue.
BELL_TTL = 10
# How long a receiver process stays quiet after ringing: MOs it stores meanwhile do not ring
# (under a burst that is nearly every MO, and the Redis round trip was an eighth of the
# receiver's CPU per MO). Why they are not left waiting: the spell starts when the ring is
# sent, so the next clear of the bell in Redis (by the drain that ring enqueued, or by the
# one already queued that it found) comes after the spell began; that drain's last look for
# pending MOs starts at least BELL_QUIET after its clear (gateway.services.drain), so after
# the spell ended, when every MO stored in it is committed.
BELL_QUIET = 0.02
BULK_SUFFIX = "-bulk"


def bell_key(queue: Queue) -> str:
    """The Redis key of the inbound doorbell for this queue."""
    return f"gw:bell:inbound:{queue.name}"


class Doorbell:
    """The inbound doorbell, as one process sees it: receivers ring it after storing MOs,
    drains clear it when they start. Ringing enqueues a drain job only if nobody rang since
    the last drain started, and reaches Redis at most once per `quiet` seconds."""

    def __init__(self, queue: Queue, quiet: float = BELL_QUIET, clock=time.monotonic):
        self.queue = queue
        self.quiet = quiet
        self._clock = clock
        self._quiet_until = float("-inf")

    def ring(self, inbound_ids: list[int]) -> bool:
        """Make sure a drain job will see these stored MOs. False (and logged) if Redis is
        unavailable: the sweeper catches up."""
        if not inbound_ids:
            return True
        now = self._clock()
        if now < self._quiet_until:
            return True  # rang moments ago: a drain's last look is still to come (BELL_QUIET)
        self._quiet_until = now + self.quiet
        try:
            if self.queue.connection.set(bell_key(self.queue), b"1", nx=True, ex=BELL_TTL):
                enqueue_drain(self.queue)
            # else a drain job is queued and has not looked yet: it will see these rows
            return True
        except RedisError as exc:
            self._quiet_until = float("-inf")  # the next MO tries again
            log.warning("could not enqueue a drain for %d MO(s), the sweeper will: %s", len(inbound_ids), exc)
            return False

    def clear(self) -> None:
        """Called by a drain before it looks for pending MOs, so an MO stored after that look
        rings again and is not left waiting."""
        self.queue.connection.delete(bell_key(self.queue))


def enqueue_drain(queue: Queue) -> None:
    """Enqueue one drain job (the sweeper's and a drain's own continuation; no bell)."""
    queue.enqueue_many([Queue.prepare_data(JobPath.DRAIN_INBOUND.value, result_ttl=0, failure_ttl=86400)])


def bulk_queue(queue: Queue) -> Queue:
    """The queue of bulk sends (notices: follow-ups, SLA closings, USSD hand-offs, admin
    replies), `<GATEWAY_QUEUE>-bulk`. Every worker listens on it after the main queue (RQ
    takes queues in the order given), so a citizen's reply never waits behind a campaign."""
    name = f"{queue.name}{BULK_SUFFIX}"
    return Queue(name, connection=queue.connection, default_timeout=queue._default_timeout)


def enqueue_send(queue: Queue, outbound_ids: list[int], delay: float = 0.0, bulk: bool = False) -> bool:
    """Enqueue send attempts, now or after `delay` seconds (needs a worker --with-scheduler),
    one MT per job; `bulk` (notices) on the bulk queue, so a worker goes back to the main
    queue after every one."""
    if bulk:
        queue = bulk_queue(queue)
    if delay > 0:
        try:
            for oid in outbound_ids:
                queue.enqueue_in(
                    timedelta(seconds=delay), JobPath.SEND_OUTBOUND.value, oid, job_id=f"out-{oid}-later"
                )
            return True
        except RedisError as exc:
            log.warning("could not schedule %d send(s), the sweeper will: %s", len(outbound_ids), exc)
            return False
    return _enqueue_many(queue, JobPath.SEND_OUTBOUND.value, "out", outbound_ids)


# RQ job states in which a job will still run by itself: re-enqueueing it would only
# make it run twice (harmlessly, but at a cost under a burst).
WAITING_JOB_STATES = {b"scheduled", b"deferred"}


def job_is_live(
    status: bytes | None, started_at: bytes | None, in_queue: bool, now: datetime, job_timeout: float
) -> bool:
    """Whether a job will still run by itself.
    - "queued" only while its id is really in the queue list: a worker moves the id to an
      intermediate list before marking the job started, and one killed in between leaves a
      job that says "queued" but that nothing will run (RQ only cleans that up much later);
    - "started" only for as long as its timeout: longer means its worker died (kill -9, OOM)."""
    if status in WAITING_JOB_STATES:
        return True
    if status == b"queued":
        return in_queue
    if status != b"started" or not started_at:
        return False
    return now - utcparse(started_at.decode()) < timedelta(seconds=job_timeout)


def not_in_flight(queue: Queue, prefix: str, ids: list[int], job_timeout: float) -> list[int]:
    """The ids whose job is not live in Redis (finished, failed, abandoned, or lost with Redis),
    `queue` being the one their jobs are put on."""
    with queue.connection.pipeline() as p:
        for i in ids:
            p.hmget(f"rq:job:{prefix}-{i}", "status", "started_at")
            p.lpos(queue.key, f"{prefix}-{i}")
        answers = p.execute()
    now = datetime.now(UTC)
    states = zip(ids, answers[0::2], answers[1::2], strict=True)
    return [
        i
        for i, (status, started), position in states
        if not job_is_live(status, started, position is not None, now, job_timeout)
    ]


def requeue_unfinished(
    queue: Queue,
    inbound_ids: list[int],
    outbound_ids: list[int],
    job_timeout: float,
    bulk_ids: list[int] = (),
) -> tuple[int, int]:
    """The sweeper's enqueue: a drain job if MOs are pending, a send job for each MT that has
    no live job, on its own queue (`bulk_ids`, notices, on the bulk one). Returns (pending
    MOs seen, sends enqueued)."""
    try:
        if inbound_ids:
            # Unconditional: the pending rows prove no drain reached them (a dead worker's,
            # or one lost with Redis). A second drain at the same time is harmless.
            enqueue_drain(queue)
        outbound = not_in_flight(queue, "out", outbound_ids, job_timeout)
        bulk = not_in_flight(bulk_queue(queue), "out", list(bulk_ids), job_timeout)
    except RedisError as exc:
        log.warning("sweeper cannot reach Redis: %s", exc)
        return 0, 0
    enqueue_send(queue, outbound)
    enqueue_send(queue, bulk, bulk=True)
    return len(inbound_ids), len(outbound) + len(bulk)


def _enqueue_many(queue: Queue, func: str, prefix: str, ids: list[int]) -> bool:
    if not ids:
        return True
    try:
        # The job id is the cheap idempotency guard; the database's unique keys are the real one.
        jobs = [Queue.prepare_data(func, args=(i,), job_id=_job_id(prefix, i), result_ttl=0) for i in ids]
        queue.enqueue_many(jobs)
        return True
    except RedisError as exc:
        log.warning("could not enqueue %d %s job(s), the sweeper will: %s", len(ids), prefix, exc)
        return False


def _job_id(prefix: str, i: int) -> str:
    """`<prefix>-<id>`, or `<prefix>-<id>-again` when the job running now is that one (a send
    handed back to the queue by its own job, e.g. a notice that found no send-rate slot):
    RQ deletes a finished job's hash (result_ttl=0), so re-using its id would lose the new one."""
    job_id = f"{prefix}-{i}"
    current = get_current_job()
    return f"{job_id}-again" if current is not None and current.id == job_id else job_id
