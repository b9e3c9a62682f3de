"""The sweeper: re-enqueues what the database says is unfinished, so work lost with Redis
(restarted empty, unreachable at enqueue time) or with a killed worker is picked up again."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from gateway.models import InboundMessage, InboundStatus, OutboundMessage, OutboundStatus, utcnow
from gateway.queueing import requeue_unfinished
from gateway.runtime import Runtime
from gateway.services import multipart
from gateway.services.outbox import notice_ids

log = logging.getLogger("gateway.sweeper")
BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    inbound: int
    outbound: int
    unstuck: int
    assembled: int = 0  # long MOs made from their parts (timed out, or their receiver died)


def sweep(rt: Runtime, now: datetime | None = None) -> SweepResult:
    """Close long MOs whose parts stopped coming (gateway.services.multipart), enqueue a drain
    if MOs are still pending after `sweep_after` seconds, re-enqueue MTs due for a send by
    then, and put MTs stuck in SENDING (a worker died mid-request) back in the queue."""
    settings = rt.settings
    now = now or utcnow()
    assembled = multipart.close_due(rt, now)
    rt.doorbell.ring(assembled)
    older_than = now - timedelta(seconds=settings.sweep_after)
    # A send that has been SENDING for longer than its own timeout allows is not running any more.
    stuck_before = now - timedelta(seconds=max(settings.sweep_after, 3 * settings.send_timeout))
    with rt.transaction() as s:
        stuck_ids = list(
            s.scalars(
                select(OutboundMessage.id)
                .where(
                    OutboundMessage.status == OutboundStatus.SENDING,
                    OutboundMessage.updated_at < stuck_before,
                )
                .limit(BATCH)
            )
        )
        if stuck_ids:
            s.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id.in_(stuck_ids), OutboundMessage.status == OutboundStatus.SENDING)
                .values(status=OutboundStatus.QUEUED, next_attempt_at=now)
            )
        inbound_ids = list(
            s.scalars(
                select(InboundMessage.id)
                .where(
                    InboundMessage.status == InboundStatus.PENDING, InboundMessage.received_at < older_than
                )
                .order_by(InboundMessage.id)
                .limit(BATCH)
            )
        )
        due_ids = list(
            s.scalars(
                select(OutboundMessage.id)
                .where(
                    OutboundMessage.status == OutboundStatus.QUEUED,
                    OutboundMessage.next_attempt_at < older_than,
                )
                .order_by(OutboundMessage.id)
                .limit(BATCH)
            )
        )
    outbound_ids = sorted(set(due_ids) | set(stuck_ids))
    unstuck = len(stuck_ids)
    # Each MT back onto its own queue: notices on the bulk one, behind every reply.
    bulk = set(notice_ids(rt, outbound_ids))
    inbound, outbound = requeue_unfinished(
        rt.queue,
        inbound_ids,
        [i for i in outbound_ids if i not in bulk],
        settings.job_timeout,
        bulk_ids=sorted(bulk),
    )
    result = SweepResult(inbound, outbound, unstuck, len(assembled))
    if inbound_ids or outbound_ids or unstuck or assembled:
        log.warning("sweeper re-enqueued %s", result)
    return result
