"""The outbox: queueing MTs once, sending them with classified retries, and applying
delivery reports without ever moving a message backwards."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from gateway.aggregators import REGISTRY
from gateway.aggregators.base import Aggregator, OutboundSMS, SendRequest, StatusUpdate
from gateway.edge import check_string, fits, printable, row_id
from gateway.errors import InvalidPayload, SendError
from gateway.gsm7 import encoding, segments
from gateway.logconfig import correlation, mt_correlation
from gateway.metrics import SEND_LATENCY, count_send
from gateway.models import (
    OUTBOUND_ORDER,
    TERMINAL_RANK,
    DeliveryReport,
    OutboundKind,
    OutboundMessage,
    OutboundStatus,
    QuarantineKind,
    as_utc,
    utcnow,
)
from gateway.msisdn import mask_msisdn
from gateway.outcomes import SendOutcome
from gateway.queueing import enqueue_send
from gateway.runtime import Runtime
from gateway.services import optout, quarantine

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
    # The exponent is capped: 2.0 ** 1024 overflows a float, and a webhook is retried for ever.
    delay = min(cap, base * 2.0 ** min(attempt - 1, 60)) * rng.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay


def queue_message(
    s: Session, rt: Runtime, dedupe_key: str, msisdn: str, text: str, fresh: bool = False, **fields
) -> OutboundMessage:
    """Create the MT for `dedupe_key` unless it already exists (then return that one).
    `fresh`: the caller knows it does not (a drain's batch), so it is neither looked up nor
    flushed now; its id is known after the commit (the unique key still guards).

    Every MT is made here, so here it gets its cost (segments, encoding) and here the
    opt-out is enforced: a NOTICE to a number that sent BERHENTI is stored SUPPRESSED, never
    sent (gateway.services.optout). A REPLY, the answer to the citizen's own text, always goes."""
    if not fresh:
        existing = s.scalar(select(OutboundMessage).where(OutboundMessage.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    if fields.get("kind") == OutboundKind.NOTICE and optout.is_opted_out(s, msisdn):
        fields["status"] = OutboundStatus.SUPPRESSED
        log.info("notice to %s stored SUPPRESSED: the number opted out", mask_msisdn(msisdn))
    out = OutboundMessage(
        dedupe_key=dedupe_key,
        aggregator=rt.settings.outbound,
        msisdn=msisdn,
        sender=rt.settings.short_code,
        text=text,
        segments=segments(text),
        encoding=encoding(text),
        **fields,
    )
    s.add(out)
    if not fresh:
        s.flush()
    return out


@dataclass(frozen=True)
class _Claimed:
    """An MT marked SENDING, with what its send needs (read inside the claiming transaction)."""

    id: int
    attempt: int
    name: str  # the MT's aggregator (or `log`), for metrics and the send-rate cap
    aggregator: Aggregator | None  # None: not a registered one (`log`: the LogSender prints it)
    sms: OutboundSMS
    cid: str  # its correlation id (gateway.logconfig)
    bulk: bool  # a notice: second to replies for the send-rate cap (gateway.sendrate)


def send_outbound(rt: Runtime, outbound_id: int) -> str:
    """One send attempt for a QUEUED message. Returns what happened (for logs and tests)."""
    return send_batch(rt, [outbound_id])[outbound_id]


def send_with_due_replies(rt: Runtime, outbound_id: int) -> str:
    """A send job's attempt for its MT and, for a reply, the other replies already due (up to
    a chunk), sent concurrently. A drain out of time (or past the TPS cap's horizon) hands
    its replies off one job each; at a real API's round trip (150 ms) one job each sent them
    one at a time, about 7/s per worker. A job that finds its MT taken along by another
    answers `skipped`. A notice goes alone: it keeps its own queue, behind replies."""
    with rt.sessions() as s:
        own = s.get(OutboundMessage, outbound_id)
        kind = own.kind if own is not None else None
        others = []
        if kind == OutboundKind.REPLY:
            others = list(
                s.scalars(
                    select(OutboundMessage.id)
                    .where(
                        OutboundMessage.status == OutboundStatus.QUEUED,
                        OutboundMessage.kind == OutboundKind.REPLY,
                        OutboundMessage.next_attempt_at <= utcnow(),
                        OutboundMessage.id != outbound_id,
                        # Not a number with a reply in flight elsewhere: its replies keep their order.
                        OutboundMessage.msisdn.not_in(
                            select(OutboundMessage.msisdn).where(
                                OutboundMessage.status == OutboundStatus.SENDING
                            )
                        ),
                    )
                    .order_by(OutboundMessage.id)
                    .limit(2 * rt.settings.send_concurrency - 1)
                )
            )
    if others:
        log.info("send job for MT %d takes along %d due repl(ies)", outbound_id, len(others))
    return send_batch(rt, [outbound_id, *others])[outbound_id]


def send_batch(
    rt: Runtime, outbound_ids: list[int], out_of_time: Callable[[], bool] = lambda: False
) -> dict[int, str]:
    """Send attempts for the due QUEUED ones of these MTs (a drain's replies), a chunk of
    2 x `send_concurrency` at a time: claimed in one transaction, submitted concurrently,
    answers recorded in one transaction. The chunk bounds what a worker killed mid-send
    leaves accepted by the aggregator but not recorded (sent again later). Those the sender
    does not get to (the aggregator failed retryably, or the calling job is `out_of_time`)
    stay QUEUED with no attempt counted and are handed to send jobs, which back off one by
    one. Returns what happened to each."""
    outcomes: dict[int, str] = {}
    retries: list[tuple[int, float]] = []
    size = 2 * rt.settings.send_concurrency
    for start in range(0, len(outbound_ids), size):
        chunk = outbound_ids[start : start + size]
        if {SendOutcome.RETRY, SendOutcome.HANDED_OFF} & set(outcomes.values()) or out_of_time():
            outcomes.update(dict.fromkeys(chunk, SendOutcome.HANDED_OFF))
        else:
            retries += _send_chunk_guarded(rt, chunk, out_of_time, outcomes)
    enqueue_sends(rt, [oid for oid, outcome in outcomes.items() if outcome == SendOutcome.HANDED_OFF])
    for oid, delay in retries:
        enqueue_sends(rt, [oid], delay=delay)
    return outcomes


def notice_ids(rt: Runtime, outbound_ids: list[int]) -> list[int]:
    """Those of these MTs that are notices (bulk sends, on the bulk queue)."""
    if not outbound_ids:
        return []
    with rt.transaction() as s:
        return list(
            s.scalars(
                select(OutboundMessage.id).where(
                    OutboundMessage.id.in_(outbound_ids), OutboundMessage.kind == OutboundKind.NOTICE
                )
            )
        )


def enqueue_sends(rt: Runtime, outbound_ids: list[int], delay: float = 0.0) -> None:
    """Enqueue send jobs for these MTs, each on its own queue (notices on the bulk one)."""
    if not outbound_ids:
        return
    bulk = set(notice_ids(rt, outbound_ids))
    enqueue_send(rt.queue, [i for i in outbound_ids if i not in bulk], delay=delay)
    enqueue_send(rt.queue, sorted(bulk), delay=delay, bulk=True)


def _send_chunk_guarded(
    rt: Runtime, outbound_ids: list[int], out_of_time: Callable[[], bool], outcomes: dict[int, str]
) -> list[tuple[int, float]]:
    """`_send_chunk`; if it fails as a whole (a row that cannot even be read or claimed),
    the MTs one by one, each quarantined if it keeps failing, so the others still go out."""
    try:
        return _send_chunk(rt, outbound_ids, out_of_time, outcomes)
    except Exception as exc:
        if quarantine.is_outage(rt, exc):
            raise
        log.warning(
            "a chunk of %d MT(s) failed (%s); one by one", len(outbound_ids), quarantine.safe_reason(exc)
        )
    retries: list[tuple[int, float]] = []
    for oid in outbound_ids:
        done = quarantine.run_guarded(
            rt, QuarantineKind.MT, oid, lambda i=oid: _send_chunk(rt, [i], out_of_time, outcomes)
        )
        if done is quarantine.SET_ASIDE:
            outcomes[oid] = SendOutcome.QUARANTINED
            # The row could not even be claimed, so its aggregator is not known here.
            count_send("unknown", SendOutcome.QUARANTINED, 0)
        else:
            retries += done
    return retries


def _send_chunk(
    rt: Runtime, outbound_ids: list[int], out_of_time: Callable[[], bool], outcomes: dict[int, str]
) -> list[tuple[int, float]]:
    """Claim, submit and record one chunk; note each outcome; the retries to schedule."""
    outcomes.update(dict.fromkeys(outbound_ids, SendOutcome.SKIPPED))
    claimed = _claim(rt, outbound_ids, outcomes)
    if not claimed:
        return []
    built = [_build(c, rt) for c in claimed]
    sendable = [(c, req) for c, req in zip(claimed, built, strict=True) if not isinstance(req, Exception)]
    answers = rt.sender.submit_many(
        [req for _, req in sendable],
        read=lambda i, response: _read(rt, sendable[i][0], response),
        lanes=[c.sms.to for c, _ in sendable],
        keep_going=lambda: not out_of_time(),
        observe=lambda i, seconds: SEND_LATENCY.labels(sendable[i][0].name).observe(seconds),
        cids=[c.cid for c, _ in sendable],
        pace=lambda i: _pace(rt, sendable[i][0], out_of_time),
    )
    results = dict(zip([c.id for c, _ in sendable], answers, strict=True))
    return _record_each(
        rt, [(c, results.get(c.id, req)) for c, req in zip(claimed, built, strict=True)], outcomes
    )


# The longest a send waits for the TPS cap before it is handed off to a send job: a notice
# briefly (its worker goes back to the main queue, where replies wait), a reply longer.
BULK_MAX_WAIT = 1.0
REPLY_MAX_WAIT = 10.0


def _pace(rt: Runtime, c: _Claimed, out_of_time: Callable[[], bool]) -> bool:
    """Right before the request: wait for a slot under the aggregator's TPS cap (and any
    shared 429 pause); False to hand the send off instead of waiting longer."""
    max_wait = BULK_MAX_WAIT if c.bulk else REPLY_MAX_WAIT
    return rt.send_rate.acquire(c.name, bulk=c.bulk, max_wait=max_wait) and not out_of_time()


def _read(rt: Runtime, c: _Claimed, response) -> str:
    """The aggregator's id for this answer; a throttling answer first pauses every worker."""
    try:
        return rt.sender.answer(c.aggregator, response) or ""
    except SendError as exc:
        if exc.throttled:
            rt.send_rate.pause(c.name, exc.retry_after)
        raise


def _record_each(
    rt: Runtime, results: list[tuple[_Claimed, str | Exception | None]], outcomes: dict[int, str]
) -> list[tuple[int, float]]:
    """`_record_sends`; if recording the chunk fails inside the gateway, each answer on its own,
    quarantining the MT whose answer cannot be recorded. Never by sending again: these MTs
    were claimed and submitted, and would otherwise sit SENDING until the sweeper resent them."""
    for pause in (*RECORD_LOCK_PAUSES, None):
        try:
            return _record_sends(rt, results, outcomes)
        except Exception as exc:
            if pause is not None and quarantine.is_lock_conflict(exc):
                time.sleep(pause)  # the requests were made: wait out a lock, do not resend
                continue
            if quarantine.is_outage(rt, exc):
                raise
            log.warning(
                "recording %d send(s) failed (%s); one by one", len(results), quarantine.safe_reason(exc)
            )
            break
    retries: list[tuple[int, float]] = []
    for pair in results:
        done = quarantine.run_guarded(
            rt, QuarantineKind.MT, pair[0].id, lambda p=pair: _record_sends(rt, [p], outcomes)
        )
        if done is quarantine.SET_ASIDE:
            _keep_accepted(rt, pair)
            outcomes[pair[0].id] = SendOutcome.QUARANTINED
            count_send(pair[0].name, SendOutcome.QUARANTINED, pair[0].attempt)
        else:
            retries += done
    return retries


# Waits before retrying the recording of answers when the database reports a lock conflict.
RECORD_LOCK_PAUSES = (0.1, 0.5, 2.0)


def _keep_accepted(rt: Runtime, pair: tuple[_Claimed, str | Exception | None]) -> None:
    """An MT the aggregator accepted but whose answer could not be recorded is marked ACCEPTED
    (a bare UPDATE, nothing else), not left QUARANTINED: an admin's retry would send it again."""
    c, result = pair
    if not isinstance(result, str):
        return
    try:
        with rt.transaction() as s:
            s.execute(
                sql_update(OutboundMessage)
                .where(OutboundMessage.id == c.id, OutboundMessage.status == OutboundStatus.QUARANTINED)
                .values(status=OutboundStatus.ACCEPTED, accepted_at=utcnow())
            )
    except Exception as exc:
        if quarantine.is_outage(rt, exc):
            raise
        # Even that is refused: it stays QUARANTINED, and its entry's reason says why.
        log.error("MT %d was accepted but cannot be marked so (%s)", c.id, quarantine.safe_reason(exc))


def _build(c: _Claimed, rt: Runtime) -> SendRequest | Exception:
    """The send request, or the exception building it raised (a poison MT: counted towards
    its quarantine, not allowed to stop the chunk)."""
    try:
        config = rt.settings.aggregator_config(c.name) if c.aggregator is not None else None
        return rt.sender.prepare(c.aggregator, c.sms, config)
    except Exception as exc:
        return exc


def _claim(rt: Runtime, outbound_ids: list[int], outcomes: dict[int, str]) -> list[_Claimed]:
    """Mark the due QUEUED messages SENDING (another worker's claim waits on the row lock,
    then sees SENDING and skips); note "not-due" for those waiting for a retry time."""
    soon = utcnow() + timedelta(seconds=1)
    claimed, set_aside = [], []
    with rt.transaction() as s:
        rows = s.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.id.in_(outbound_ids))
            .order_by(OutboundMessage.id)
            .with_for_update()
        )
        for out in rows:
            if out.status != OutboundStatus.QUEUED:
                continue
            if as_utc(out.next_attempt_at) > soon:
                outcomes[out.id] = SendOutcome.NOT_DUE
                continue
            if _crash_looping(s, out, rt):
                outcomes[out.id] = SendOutcome.QUARANTINED
                set_aside.append(out.aggregator if rt.sender.knows(out.aggregator) else "unknown")
                continue
            out.status, out.attempts = OutboundStatus.SENDING, out.attempts + 1
            sms = OutboundSMS(gateway_id=out.id, to=out.msisdn, sender=out.sender, text=out.text)
            cid = mt_correlation(out.id, out.inbound_id)
            claimed.append(
                _Claimed(
                    out.id,
                    out.attempts,
                    out.aggregator,
                    REGISTRY.get(out.aggregator),
                    sms,
                    cid,
                    out.kind == OutboundKind.NOTICE,
                )
            )
    for name in set_aside:  # counted once committed
        count_send(name, SendOutcome.QUARANTINED, 0)
    return claimed


def _crash_looping(s: Session, out: OutboundMessage, rt: Runtime) -> bool:
    """Quarantine, instead of claiming, an MT that can never be sent: one whose attempts are
    used up while it is still QUEUED (each attempt died mid-send without an answer recorded,
    and the sweeper put it back: it would kill worker after worker, and might reach the
    citizen each time), or one for an aggregator this process's sender does not know."""
    if not rt.sender.knows(out.aggregator):
        return quarantine.set_aside_now(s, QuarantineKind.MT, out.id, LookupError("unknown aggregator"))
    if out.attempts >= rt.settings.send_max_attempts:
        return quarantine.set_aside_now(s, QuarantineKind.MT, out.id, RuntimeError("attempts never answered"))
    return False


def _record_sends(
    rt: Runtime, results: list[tuple[_Claimed, str | Exception | None]], outcomes: dict[int, str]
) -> list[tuple[int, float]]:
    """Store each answer: ACCEPTED with the aggregator's id, the failure (QUEUED for a
    retry, FAILED for good), or, for a request not made (None), the claim undone. Returns
    the (id, delay) of the retries to schedule."""
    settings, retries, answered = rt.settings, [], []
    with rt.transaction() as s:
        rows = {
            out.id: out
            for out in s.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.id.in_([c.id for c, _ in results]))
                .with_for_update()
            )
        }
        accepted = []
        for c, result in results:
            with correlation(c.cid):
                was_accepted, delay = _record_send(s, rows[c.id], c, result, settings, outcomes)
            if result is not None:
                answered.append(c)
            if was_accepted:
                accepted.append(rows[c.id])
            if delay is not None:
                retries.append((c.id, delay))
        _apply_waiting_reports(s, accepted)
    for c in answered:  # counted once committed: a rolled-back recording counts nothing
        count_send(c.name, outcomes[c.id], c.attempt)
    return retries


def _record_send(
    s: Session,
    out: OutboundMessage,
    c: _Claimed,
    result: str | Exception | None,
    settings,
    outcomes: dict[int, str],
) -> tuple[bool, float | None]:
    """Store one answer on its (locked) row and note its outcome; (accepted, retry delay)."""
    if result is None:
        if out.status == OutboundStatus.SENDING:
            out.status, out.attempts = OutboundStatus.QUEUED, out.attempts - 1
        outcomes[c.id] = SendOutcome.HANDED_OFF
        return False, None
    if isinstance(result, Exception):
        if isinstance(result, SendError):
            retry, delay = _note_failure(out, c.attempt, result, settings)
            outcomes[c.id] = SendOutcome.RETRY if retry else SendOutcome.FAILED
        else:
            retry, delay = _note_poison(s, out, c.attempt, result, settings)
            outcomes[c.id] = SendOutcome.RETRY if retry else SendOutcome.QUARANTINED
        return False, delay if retry else None
    out.external_id = _storable_ref(result, c.id)
    out.accepted_at, out.last_error = utcnow(), None
    out.status = next_status(out.status, OutboundStatus.ACCEPTED)
    outcomes[c.id] = SendOutcome.ACCEPTED
    log.info("MT %d sent to %s: accepted by %s", c.id, mask_msisdn(c.sms.to), c.name)
    return True, None


def _storable_ref(agg_id: str, outbound_id: int) -> str | None:
    """The aggregator's message id if the column can hold it. An aggregator that answers
    with a longer one must not fail the recording of the whole chunk (every MT in it would
    stay SENDING and be sent again); its DLRs just cannot be matched."""
    if not agg_id:
        return None
    if not fits(agg_id, 128):
        log.warning(
            "MT %d: the aggregator's id is unusable (%d chars); DLRs cannot match", outbound_id, len(agg_id)
        )
        return None
    return agg_id


def _note_poison(
    s: Session, out: OutboundMessage, attempt: int, exc: Exception, settings
) -> tuple[bool, float]:
    """A send that failed inside the gateway (not the aggregator's answer): count it towards
    quarantine; until then, retry after the usual backoff. (whether to retry, delay)"""
    if quarantine.note_failure(s, QuarantineKind.MT, out.id, exc):
        out.last_error = f"quarantined: {quarantine.safe_reason(exc)}"[:255]
        return False, 0.0
    delay = backoff_delay(attempt, settings.send_backoff_base, settings.send_backoff_max)
    out.status, out.next_attempt_at = OutboundStatus.QUEUED, utcnow() + timedelta(seconds=delay)
    return True, delay


def _note_failure(out: OutboundMessage, attempt: int, exc: SendError, settings) -> tuple[bool, float]:
    """Record a failed attempt on the row; (whether to retry, after how many seconds)."""
    retry = exc.retryable and attempt < settings.send_max_attempts
    delay = backoff_delay(attempt, settings.send_backoff_base, settings.send_backoff_max, exc.retry_after)
    out.last_error = exc.reason[:255]
    if out.status == OutboundStatus.SENDING:
        out.status = OutboundStatus.QUEUED if retry else OutboundStatus.FAILED
    out.next_attempt_at = utcnow() + timedelta(seconds=delay)
    if retry:
        log.warning("MT %d attempt %d failed (%s); retry in %.0fs", out.id, attempt, exc.reason, delay)
    else:
        log.error("MT %d failed for good after %d attempt(s): %s", out.id, attempt, exc.reason)
    return retry, delay


def apply_status_updates(rt: Runtime, aggregator: str, updates: list[StatusUpdate]) -> int:
    """Store every DLR and apply the ones whose MT we know; return how many were applied.
    If applying them together fails inside the gateway, they are stored unapplied and applied
    one by one, each quarantined if it keeps failing: the aggregator still gets its 2xx (the
    DLR is stored) and one bad DLR cannot stop the others."""
    for update in updates:  # before the transaction: a 400 names the field, never a 503
        check_string(update.message_ref, "id", 128)
    try:
        with rt.transaction() as s:
            return sum(_store_and_apply(s, aggregator, update) for update in updates)
    except InvalidPayload:
        raise
    except Exception as exc:
        if quarantine.is_outage(rt, exc):
            raise
        log.warning(
            "%d DLR(s) from %s failed together (%s)", len(updates), aggregator, quarantine.safe_reason(exc)
        )
    with rt.transaction() as s:
        stored = [_stored(aggregator, update) for update in updates]
        s.add_all(stored)
        s.flush()
        ids = [dlr.id for dlr in stored]
    outcomes = [
        quarantine.run_guarded(rt, QuarantineKind.DLR, i, lambda i=i: apply_stored_dlr(rt, i)) for i in ids
    ]
    return sum(1 for applied in outcomes if applied is True)


def apply_stored_dlr(rt: Runtime, dlr_id: int) -> bool:
    """Apply one stored, unapplied DLR if its MT is known (a quarantined one, retried)."""
    with rt.transaction() as s:
        dlr = s.get(DeliveryReport, dlr_id, with_for_update=True)
        if dlr is None or dlr.applied:
            return False
        ref = StatusUpdate(dlr.message_ref, dlr.status, dlr.raw_status, dlr.by_gateway_id)
        out = _find_outbound(s, dlr.aggregator, ref)
        if out is None:
            return False
        _apply(out, dlr)
        return True


def _stored(aggregator: str, update: StatusUpdate) -> DeliveryReport:
    return DeliveryReport(
        aggregator=aggregator,
        message_ref=update.message_ref,
        by_gateway_id=update.by_gateway_id,
        status=update.status,
        raw_status=printable(update.raw_status)[:64],  # composed by the adapter: no 400 over it
    )


def _store_and_apply(s: Session, aggregator: str, update: StatusUpdate) -> int:
    dlr = _stored(aggregator, update)
    s.add(dlr)
    out = _find_outbound(s, aggregator, update)
    if out is None:
        return 0
    _apply(out, dlr)
    return 1


def _find_outbound(s: Session, aggregator: str, update: StatusUpdate) -> OutboundMessage | None:
    if update.by_gateway_id:
        gateway_id = row_id(update.message_ref)
        if gateway_id is None:
            raise InvalidPayload("id", "must be the gateway's numeric message id")
        out = s.get(OutboundMessage, gateway_id, with_for_update=True)
        return out if out is not None and out.aggregator == aggregator else None
    return s.scalar(
        select(OutboundMessage)
        .where(OutboundMessage.aggregator == aggregator, OutboundMessage.external_id == update.message_ref)
        .with_for_update()
    )


def _apply(out: OutboundMessage, dlr: DeliveryReport) -> None:
    before = out.status
    out.status = next_status(out.status, dlr.status)
    if out.status == OutboundStatus.DELIVERED and out.delivered_at is None:
        out.delivered_at = utcnow()
    dlr.outbound_id, dlr.applied = out.id, True
    with correlation(mt_correlation(out.id, out.inbound_id)):
        if out.status == before:
            log.info("MT %d stays %s: DLR %s from %s", out.id, before, dlr.status, dlr.aggregator)
        elif out.status == OutboundStatus.DELIVERED:
            log.info("MT %d delivered: DLR from %s", out.id, dlr.aggregator)
        else:
            log.info("MT %d now %s: DLR from %s", out.id, out.status, dlr.aggregator)


def _apply_waiting_reports(s: Session, accepted: list[OutboundMessage]) -> None:
    """DLRs that came before we recorded the aggregator's id for these MTs (one query)."""
    by_ref = {(out.aggregator, out.external_id): out for out in accepted if out.external_id}
    if not by_ref:
        return
    waiting_ids = set(
        s.scalars(
            select(DeliveryReport.id).where(
                # The aggregator too, so the look-up uses ix_dlr_ref instead of scanning every DLR.
                DeliveryReport.aggregator.in_({aggregator for aggregator, _ in by_ref}),
                DeliveryReport.message_ref.in_([ref for _, ref in by_ref]),
                DeliveryReport.applied.is_(False),
            )
        )
    )
    # A DLR set aside as poison stays aside (ids first: its row may be what cannot be read).
    waiting_ids -= (
        {int(ref) for ref in quarantine.set_aside_refs(s, QuarantineKind.DLR)} if waiting_ids else set()
    )
    if not waiting_ids:
        return
    waiting = s.scalars(
        select(DeliveryReport).where(DeliveryReport.id.in_(waiting_ids)).order_by(DeliveryReport.id)
    )
    for dlr in waiting:
        out = by_ref.get((dlr.aggregator, dlr.message_ref))
        if out is not None:
            _apply(out, dlr)


def requeue_failed(rt: Runtime, outbound_id: int) -> bool | None:
    """An admin's retry of a FAILED MT: a fresh set of attempts. False if it is not FAILED,
    None if there is no such MT."""
    with rt.transaction() as s:
        out = s.get(OutboundMessage, outbound_id, with_for_update=True)
        if out is None:
            return None
        if out.status != OutboundStatus.FAILED:
            return False
        out.status, out.attempts, out.next_attempt_at = OutboundStatus.QUEUED, 0, utcnow()
    enqueue_sends(rt, [outbound_id])
    return True
