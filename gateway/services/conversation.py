"""Answering a citizen's MO: parse the command, act on it, queue exactly one reply. What each
command means (keywords, handler, reply text) is registered in gateway.commands; this module
only runs one MO through the registry, once.

All of it runs in the database transaction that marks the MO done (one per batch of MOs,
see gateway.services.drain), so a job that runs twice (a worker killed mid-job, a sweeper
re-enqueue) files one report and queues one reply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway import replies
from gateway.commands import REGISTRY, Turn
from gateway.logconfig import correlation, mo_correlation
from gateway.models import InboundMessage, InboundStatus, OutboundMessage, OutboundStatus, as_utc, utcnow
from gateway.outcomes import MoOutcome
from gateway.parsers import Command
from gateway.runtime import Runtime
from gateway.services import upstream
from gateway.services.flood import FloodVerdict, check_floods
from gateway.services.outbox import queue_message, send_batch
from gateway.services.reports import reserve_tracking_numbers

log = logging.getLogger("gateway.conversation")


@dataclass(frozen=True)
class Handled:
    """What handling one MO did: the command kind (or why nothing was done) and the reply
    to send after the commit, if one is waiting (its id is known once flushed); for the log,
    the MO, whether a report or a citizen's answer was filed, and the report's number."""

    outcome: str
    reply: OutboundMessage | None
    inbound_id: int = 0
    filed: bool = False
    tracking_no: str | None = None

    @property
    def reply_id(self) -> int | None:
        return self.reply.id if self.reply is not None else None


def process_inbound(rt: Runtime, inbound_id: int) -> str:
    """Handle one stored MO in a transaction of its own, then send its reply; return the
    command kind handled (or why nothing was done). The drain's careful path for a batch
    that failed, one MO at a time: every write looks for an earlier one first."""
    with rt.transaction() as s:
        msg = s.get(InboundMessage, inbound_id, with_for_update=True)
        if msg is None:
            return MoOutcome.MISSING
        if msg.status == InboundStatus.QUARANTINED:
            return MoOutcome.QUARANTINED  # set aside while this job waited; an admin decides
        [verdict] = check_floods(rt, [_flood_key(msg)]) if msg.status != InboundStatus.DONE else [None]
        handled = _handle(rt, s, msg, verdict, fresh=False)
    after_mos_committed(rt, [handled])
    return handled.outcome


def handle_batch(rt: Runtime, s: Session, msgs: list[InboundMessage]) -> list[Handled]:
    """Handle PENDING MOs the caller has claimed (row-locked) in its transaction: one Redis
    round trip for their flood counts, and new rows written in one flush at commit, without
    looking for earlier ones (a claimed PENDING MO has none; if that were ever wrong, a
    unique key fails the batch and the drain redoes it with `process_inbound`)."""
    verdicts = check_floods(rt, [_flood_key(m) for m in msgs])
    reserve_tracking_numbers(s, len(msgs))
    return [_handle(rt, s, m, v, fresh=True) for m, v in zip(msgs, verdicts, strict=True)]


def _handle(rt: Runtime, s: Session, msg: InboundMessage, verdict: str | None, fresh: bool) -> Handled:
    """Act on one MO and queue its reply, inside the caller's transaction. An MO already
    done is not acted on again; its reply is only handed back if it was never sent. A
    flooding number gets one warning, then nothing: its texts stay stored for the record
    but are not acted on."""
    if msg.status == InboundStatus.DONE:
        reply = s.scalar(select(OutboundMessage).where(OutboundMessage.dedupe_key == _reply_key(msg)))
        return Handled(
            MoOutcome.ALREADY_DONE, reply if reply and reply.status == OutboundStatus.QUEUED else None, msg.id
        )
    filed = False
    if verdict in (FloodVerdict.WARN, FloodVerdict.SILENT):
        outcome, text = MoOutcome.FLOOD, replies.flood_warning() if verdict == FloodVerdict.WARN else None
    else:
        command = REGISTRY.parse(msg.text)
        outcome, text = command.kind, answer(rt, s, msg, command, fresh)
        # A report (LAPOR) or the citizen's answer to a follow-up (BALAS) is now on record.
        filed = msg.report is not None and REGISTRY.files(command) and not command.problem
    reply = None
    if text is not None:
        reply = queue_message(
            s, rt, _reply_key(msg), msg.msisdn, text, fresh=fresh, inbound_id=msg.id, report=msg.report
        )
    msg.status, msg.command, msg.processed_at = InboundStatus.DONE, outcome, utcnow()
    tracking_no = msg.report.tracking_no if msg.report is not None else None
    return Handled(outcome, reply, msg.id, filed, tracking_no)


def after_mos_committed(
    rt: Runtime, handled: list[Handled], out_of_time: Callable[[], bool] = lambda: False
) -> None:
    """Send the committed replies now, from this job (if this process dies first, they are
    QUEUED rows the sweeper sends; when the job is out of time, send jobs take the rest),
    and kick the complaint-system webhooks."""
    for h in handled:
        log_handled(h)
    reply_ids = [h.reply_id for h in handled if h.reply is not None]
    if reply_ids:
        send_batch(rt, reply_ids, out_of_time)
    if any(h.filed for h in handled):
        upstream.kick(rt)  # send the new reports' or BALAS's webhooks (no-op when the link is off)


def log_handled(h: Handled) -> None:
    """The MO's lifecycle lines once its transaction committed: filed or answered (command
    kind and report number, never the text), and its reply queued."""
    with correlation(mo_correlation(h.inbound_id)):
        report = f", report {h.tracking_no}" if h.tracking_no else ""
        if h.outcome == MoOutcome.ALREADY_DONE:
            log.info("MO already handled%s", ", its reply still to send" if h.reply is not None else "")
        else:
            log.info("MO %s: %s%s", "filed" if h.filed else "answered", h.outcome, report)
        if h.reply is not None and h.outcome != MoOutcome.ALREADY_DONE:
            log.info("reply queued as MT %d", h.reply.id)


def _flood_key(msg: InboundMessage) -> tuple[str, int, datetime]:
    return msg.msisdn, msg.id, as_utc(msg.received_at)


def _reply_key(msg: InboundMessage) -> str:
    return f"reply:{msg.id}"


def answer(rt: Runtime, s: Session, msg: InboundMessage, command: Command, fresh: bool = False) -> str:
    """Act on the command with its registered handler and return the reply text (`fresh`:
    see handle_batch)."""
    return REGISTRY.answer(Turn(rt, s, msg, fresh), command)
