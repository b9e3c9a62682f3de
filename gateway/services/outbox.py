"""The outbox: queueing MTs once, sending them with classified retries, and applying
delivery reports without ever moving a message backwards."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.aggregators import REGISTRY
from gateway.aggregators.base import OutboundSMS, StatusUpdate
from gateway.errors import InvalidPayload, SendError
from gateway.models import OUTBOUND_ORDER, TERMINAL_RANK, DeliveryReport, OutboundMessage, as_utc, utcnow
from gateway.msisdn import mask_msisdn
from gateway.queueing import enqueue_send
from gateway.runtime import Runtime

log = logging.getLogger("gateway.outbox")


def next_status(current: str, incoming: str) -> str:
    """The status after `incoming` arrives: only forward, never out of a terminal state."""
    cur, new = OUTBOUND_ORDER[current], OUTBOUND_ORDER[incoming]
    if cur >= TERMINAL_RANK or new <= cur:
        return current
    return incoming


def backoff_delay(
    attempt: int, base: float, cap: float, retry_after: float | None = None, rng=random
) -> float:
    """Seconds before retry number `attempt` (1-based): exponential, capped, with +-20% jitter
    so a recovered aggregator is not hit by every retry at once; at least its Retry-After."""
    delay = min(cap, base * 2 ** (attempt - 1)) * rng.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay


def queue_message(
    s: Session, rt: Runtime, dedupe_key: str, msisdn: str, text: str, **fields
) -> OutboundMessage:
    """Create the MT for `dedupe_key` unless it already exists (then return that one)."""
    existing = s.scalar(select(OutboundMessage).where(OutboundMessage.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    out = OutboundMessage(
        dedupe_key=dedupe_key,
        aggregator=rt.settings.outbound,
        msisdn=msisdn,
        sender=rt.settings.short_code,
        text=text,
        **fields,
    )
    s.add(out)
    s.flush()
    return out


def send_outbound(rt: Runtime, outbound_id: int) -> str:
    """One send attempt for a QUEUED message. Returns what happened (for logs and tests)."""
    now = utcnow()
    with rt.transaction() as s:
        out = s.get(OutboundMessage, outbound_id, with_for_update=True)
        if out is None or out.status != "QUEUED":
            return "skipped"
        if as_utc(out.next_attempt_at) > now + timedelta(seconds=1):
            return "not-due"
        out.status, out.attempts = "SENDING", out.attempts + 1
        sms = OutboundSMS(gateway_id=out.id, to=out.msisdn, sender=out.sender, text=out.text)
        aggregator, attempt = REGISTRY[out.aggregator], out.attempts
    try:
        resp = rt.sender.submit(aggregator.build_send(sms, rt.settings))
        external_id = aggregator.read_send_response(resp)
    except SendError as exc:
        return _record_failure(rt, outbound_id, attempt, exc)
    with rt.transaction() as s:
        out = s.get(OutboundMessage, outbound_id, with_for_update=True)
        out.external_id = external_id or None
        out.accepted_at = utcnow()
        out.last_error = None
        out.status = next_status(out.status, "ACCEPTED")
        _apply_waiting_reports(s, out)
    log.info("MT %d to %s accepted by %s", outbound_id, mask_msisdn(sms.to), aggregator.name)
    return "accepted"


def _record_failure(rt: Runtime, outbound_id: int, attempt: int, exc: SendError) -> str:
    settings = rt.settings
    retry = exc.retryable and attempt < settings.send_max_attempts
    delay = backoff_delay(attempt, settings.send_backoff_base, settings.send_backoff_max, exc.retry_after)
    with rt.transaction() as s:
        out = s.get(OutboundMessage, outbound_id, with_for_update=True)
        out.last_error = exc.reason[:255]
        if out.status == "SENDING":
            out.status = "QUEUED" if retry else "FAILED"
        out.next_attempt_at = utcnow() + timedelta(seconds=delay)
    if retry:
        log.warning("MT %d attempt %d failed (%s); retry in %.0fs", outbound_id, attempt, exc.reason, delay)
        enqueue_send(rt.queue, [outbound_id], delay=delay)
        return "retry"
    log.error("MT %d failed for good after %d attempt(s): %s", outbound_id, attempt, exc.reason)
    return "failed"


def apply_status_updates(rt: Runtime, aggregator: str, updates: list[StatusUpdate]) -> int:
    """Store every DLR and apply the ones whose MT we know; return how many were applied."""
    applied = 0
    with rt.transaction() as s:
        for update in updates:
            dlr = DeliveryReport(
                aggregator=aggregator,
                message_ref=update.message_ref,
                by_gateway_id=update.by_gateway_id,
                status=update.status,
                raw_status=update.raw_status[:64],
            )
            s.add(dlr)
            out = _find_outbound(s, aggregator, update)
            if out is not None:
                _apply(out, dlr)
                applied += 1
    return applied


def _find_outbound(s: Session, aggregator: str, update: StatusUpdate) -> OutboundMessage | None:
    if update.by_gateway_id:
        if not update.message_ref.isdigit():
            raise InvalidPayload("id", "must be the gateway's numeric message id")
        out = s.get(OutboundMessage, int(update.message_ref), with_for_update=True)
        return out if out is not None and out.aggregator == aggregator else None
    return s.scalar(
        select(OutboundMessage)
        .where(OutboundMessage.aggregator == aggregator, OutboundMessage.external_id == update.message_ref)
        .with_for_update()
    )


def _apply(out: OutboundMessage, dlr: DeliveryReport) -> None:
    out.status = next_status(out.status, dlr.status)
    if out.status == "DELIVERED" and out.delivered_at is None:
        out.delivered_at = utcnow()
    dlr.outbound_id, dlr.applied = out.id, True


def _apply_waiting_reports(s: Session, out: OutboundMessage) -> None:
    """DLRs that came before we recorded the aggregator's id for this MT."""
    if not out.external_id:
        return
    waiting = s.scalars(
        select(DeliveryReport)
        .where(
            DeliveryReport.aggregator == out.aggregator,
            DeliveryReport.message_ref == out.external_id,
            DeliveryReport.applied.is_(False),
        )
        .order_by(DeliveryReport.id)
    )
    for dlr in waiting:
        _apply(out, dlr)


def requeue_failed(rt: Runtime, outbound_id: int) -> bool:
    """An admin's retry of a FAILED MT: a fresh set of attempts. False if it is not FAILED."""
    with rt.transaction() as s:
        out = s.get(OutboundMessage, outbound_id, with_for_update=True)
        if out is None or out.status != "FAILED":
            return False
        out.status, out.attempts, out.next_attempt_at = "QUEUED", 0, utcnow()
    enqueue_send(rt.queue, [outbound_id])
    return True
