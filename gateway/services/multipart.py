"""Multipart MO: a long SMS whose parts an aggregator delivers separately (UDH concatenation,
Vonage's concat-ref/-part/-total, ...) becomes one inbox MO, made once.

Each part is committed in its own row before the aggregator is acknowledged (`multipart_parts`,
unique by the aggregator's id and by its index in its message). The parts of one long SMS share
a `multipart_messages` row, opened by whichever part arrives first: its `open_key` is unique
while the message is OPEN, so two receivers storing parts of a new message at once open it
once. A receiver that stored a part counts the parts present after its own commit, and when all
are there it closes the message: one conditional UPDATE (OPEN -> closed, only where still OPEN)
lets exactly one process make the inbox MO, in the same transaction. Whoever committed the last
part counts after every part is committed, so the message is made (never zero times), and the
UPDATE's row lock and predicate keep a second closer out (never twice).

A message still incomplete TIMEOUT after its first part is closed as it is by the sweeper
(`close_due`), which also closes a complete one whose receiver died before closing it. A part
that arrives after its message was closed (a straggler) is recorded as `late` and files nothing.

One sender holds at most MAX_OPEN_PER_SENDER OPEN messages per aggregator: a part that would
open one more first closes that sender's oldest OPEN message as it is (INCOMPLETE, its MO made
and filed as the timeout would), so parts under ever new references cannot pile up OPEN rows.
(Two receivers opening at the same instant may each pass the count: a soft bound.)

Phones reuse a reference once they have sent 256 long messages (8-bit UDH), so a closed
message takes stragglers only for STRAGGLER_WINDOW after it opened, and never a part whose index
it already holds with another text: such a part starts a new message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from gateway.aggregators.base import InboundSMS
from gateway.gsm7 import clean_text
from gateway.metrics import MO_ASSEMBLED, MO_PARTS
from gateway.models import (
    InboundMessage,
    MessagePartRow,
    MultipartMessage,
    MultipartStatus,
    QuarantineKind,
    as_utc,
    utcnow,
)
from gateway.msisdn import mask_msisdn
from gateway.outcomes import PartOutcome
from gateway.runtime import Runtime
from gateway.services import quarantine
from gateway.services.quarantine import safe_reason

log = logging.getLogger("gateway.multipart")

# How long after its first part an incomplete message waits for the rest (issue 14: 60 s).
# The sweeper looks every GATEWAY_SWEEP_INTERVAL, so it is processed within that much more.
TIMEOUT = timedelta(seconds=60)
# How long after it opened a closed message still takes its stragglers (see the module doc).
STRAGGLER_WINDOW = timedelta(hours=1)
BATCH = 500
# OPEN messages one sender may hold per aggregator. A phone sends a long SMS's parts within
# seconds; more long messages than the flood limit (10 in 60 s) open at once within TIMEOUT is
# a flood, whose texts are filed early rather than held.
MAX_OPEN_PER_SENDER = 10


@dataclass(frozen=True)
class PartStored:
    """What `store_part` did: the outcome, the long message the part belongs to, and the inbox
    MO made when this part completed its message (None otherwise)."""

    outcome: str
    message_id: int
    inbound_id: int | None = None


def store_part(rt: Runtime, aggregator: str, sms: InboundSMS, now: datetime | None = None) -> PartStored:
    """Store one part of a long SMS (`sms.part` set, validated by
    gateway.services.inbox.validate_inbound: sender in E.164) and, when it completes its message,
    make the message's one inbox MO (PENDING, for the drain; the caller rings the doorbell).
    A repeated part (same aggregator id, or same index of the same message) is not stored
    again. Database errors while storing propagate (503: nothing was acknowledged); once the
    part is committed, a failure to close its message is logged and left to the sweeper."""
    now = now or utcnow()
    message_id, is_open = _message_for(rt, aggregator, sms, now)
    outcome = _insert_part(rt, aggregator, sms, message_id, late=not is_open, now=now)
    MO_PARTS.labels(aggregator, outcome).inc()
    part = sms.part
    log.info(
        "MO part %d/%d from %s via %s: %s (multipart %d)",
        part.index,
        part.total,
        mask_msisdn(sms.sender),
        aggregator,
        outcome,
        message_id,
    )
    inbound_id = _close_if_complete(rt, message_id, now) if outcome == PartOutcome.STORED else None
    return PartStored(outcome, message_id, inbound_id)


def close_due(rt: Runtime, now: datetime | None = None) -> list[int]:
    """The sweeper's part: close every OPEN message whose first part came TIMEOUT ago or more
    (as it is: INCOMPLETE) or that has all its parts (its receiver died before closing it).
    Each is closed on its own under quarantine.run_guarded, so one that cannot be made into an
    MO is set aside (PARTS) and the others go on. The new inbox MOs' ids (ring the doorbell)."""
    now = now or utcnow()
    present = select(func.count()).where(MessagePartRow.message_id == MultipartMessage.id).scalar_subquery()
    with rt.sessions() as s:
        due = list(
            s.scalars(
                select(MultipartMessage.id)
                .where(
                    MultipartMessage.status == MultipartStatus.OPEN,
                    or_(MultipartMessage.opened_at <= now - TIMEOUT, present >= MultipartMessage.total),
                )
                .order_by(MultipartMessage.id)
                .limit(BATCH)
            )
        )
    made = []
    for message_id in due:
        inbound_id = quarantine.run_guarded(
            rt, QuarantineKind.PARTS, message_id, lambda m=message_id: close(rt, m, now)
        )
        if isinstance(inbound_id, int):
            made.append(inbound_id)
    return made


def close(rt: Runtime, message_id: int, now: datetime | None = None, early: bool = False) -> int | None:
    """Close an OPEN message and make its inbox MO from the parts present, in index order; the
    MO's id, or None when the message was not OPEN (another process closed it first). `early`:
    closed before its timeout to bound its sender's OPEN messages (counted as `early`). The
    conditional UPDATE comes first: it is the guard, and on SQLite it takes the write lock
    before anything is read."""
    now = now or utcnow()
    with rt.transaction() as s:
        won = s.execute(
            update(MultipartMessage)
            .where(MultipartMessage.id == message_id, MultipartMessage.status == MultipartStatus.OPEN)
            .values(status=MultipartStatus.INCOMPLETE, open_key=None, closed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            return None
        message = s.get(MultipartMessage, message_id)
        parts = list(
            s.scalars(
                select(MessagePartRow)
                .where(MessagePartRow.message_id == message_id)
                .order_by(MessagePartRow.part_index)
            )
        )
        if not parts:  # opened, but its part was a repeat or failed to store: nothing to file
            log.info("multipart %d closed without parts", message_id)
            return None
        inbound = _inbox_mo(message, parts, rt.settings.max_text_chars)
        s.add(inbound)
        s.flush()
        complete = len(parts) == message.total
        message.inbound_id = inbound.id
        message.status = MultipartStatus.COMPLETE if complete else MultipartStatus.INCOMPLETE
        aggregator, msisdn, total, inbound_id = message.aggregator, message.msisdn, message.total, inbound.id
    MO_ASSEMBLED.labels(aggregator, "complete" if complete else "early" if early else "incomplete").inc()
    log.info(
        "multipart %d from %s %s: %d of %d part(s), MO %d",
        message_id,
        mask_msisdn(msisdn),
        "complete" if complete else "closed incomplete",
        len(parts),
        total,
        inbound_id,
    )
    return inbound_id


def open_key(aggregator: str, sms: InboundSMS) -> str:
    """What identifies an OPEN message: aggregator, sender, part count and reference (last, so
    a '|' inside it cannot make two keys alike)."""
    return f"{aggregator}|{sms.sender}|{sms.part.total}|{sms.part.ref}"


def _message_for(rt: Runtime, aggregator: str, sms: InboundSMS, now: datetime) -> tuple[int, bool]:
    """The message this part belongs to, and whether it is OPEN: the OPEN one with its key,
    else a recently closed one it is a straggler of, else a new one opened now."""
    key = open_key(aggregator, sms)
    # Opening races only with another receiver opening the same message (its unique key
    # refuses the second, which then finds the first) or closing it in between (a straggler).
    for _ in range(4):
        with rt.sessions() as s:
            found = s.execute(
                select(MultipartMessage.id, MultipartMessage.status, MultipartMessage.opened_at).where(
                    MultipartMessage.open_key == key
                )
            ).first()
            if found is not None and not _abandoned(found, now):
                return found.id, found.status == MultipartStatus.OPEN
            if found is not None:  # quarantined (and maybe dropped) long ago: free its key
                _release_key(rt, found.id)
                continue
            closed = s.scalar(_straggler_of(aggregator, sms, now))
            if closed is not None:
                return closed, False
        _make_room(rt, aggregator, sms.sender, now)
        opened = _open(rt, aggregator, sms, key, now)
        if opened is not None:
            return opened, True
    raise RuntimeError(f"could not open or find multipart message {aggregator}|{mask_msisdn(sms.sender)}")


def _abandoned(found, now: datetime) -> bool:
    """A message set aside by the quarantine (it keeps its key) that opened longer ago than
    STRAGGLER_WINDOW: no part of it can still come, and the key may start a new message."""
    return found.status != MultipartStatus.OPEN and as_utc(found.opened_at) < now - STRAGGLER_WINDOW


def _release_key(rt: Runtime, message_id: int) -> None:
    with rt.transaction() as s:
        s.execute(
            update(MultipartMessage)
            .where(MultipartMessage.id == message_id, MultipartMessage.status != MultipartStatus.OPEN)
            .values(open_key=None)
            .execution_options(synchronize_session=False)
        )


def _straggler_of(aggregator: str, sms: InboundSMS, now: datetime):
    """The newest closed message this part may be a straggler of (see the module doc)."""
    clash = exists().where(
        MessagePartRow.message_id == MultipartMessage.id,
        MessagePartRow.part_index == sms.part.index,
        MessagePartRow.text != sms.text,
    )
    return (
        select(MultipartMessage.id)
        .where(
            MultipartMessage.aggregator == aggregator,
            MultipartMessage.msisdn == sms.sender,
            MultipartMessage.ref == sms.part.ref,
            MultipartMessage.total == sms.part.total,
            MultipartMessage.open_key.is_(None),
            MultipartMessage.opened_at >= now - STRAGGLER_WINDOW,
            ~clash,
        )
        .order_by(MultipartMessage.id.desc())
        .limit(1)
    )


def _make_room(rt: Runtime, aggregator: str, sender: str, now: datetime) -> None:
    """Before `sender` opens another message: while it holds MAX_OPEN_PER_SENDER OPEN ones,
    close the oldest as it is (its MO made, filed like a timed-out one: nothing is lost). A
    failure here is logged and left to the sweeper; the part is stored either way."""
    open_of_sender = (
        (MultipartMessage.aggregator == aggregator)
        & (MultipartMessage.msisdn == sender)
        & (MultipartMessage.status == MultipartStatus.OPEN)
    )
    try:
        with rt.sessions() as s:
            held = s.scalar(select(func.count()).select_from(MultipartMessage).where(open_of_sender))
            if held < MAX_OPEN_PER_SENDER:
                return
            oldest = list(
                s.scalars(
                    select(MultipartMessage.id)
                    .where(open_of_sender)
                    .order_by(MultipartMessage.opened_at, MultipartMessage.id)
                    .limit(held - MAX_OPEN_PER_SENDER + 1)
                )
            )
        made = [m for m in (close(rt, message_id, now, early=True) for message_id in oldest) if m]
    except Exception as exc:  # noqa: BLE001 (the part being received must still be stored)
        log.warning("multipart: could not close early for %s (%s)", mask_msisdn(sender), safe_reason(exc))
        return
    log.warning(
        "multipart: %s holds %d open long messages; closed %d early", mask_msisdn(sender), held, len(oldest)
    )
    rt.doorbell.ring(made)


def _open(rt: Runtime, aggregator: str, sms: InboundSMS, key: str, now: datetime) -> int | None:
    """A new OPEN message for this part's key; None when another process opened it first."""
    try:
        with rt.transaction() as s:
            message = MultipartMessage(
                aggregator=aggregator,
                msisdn=sms.sender,
                to=sms.to,
                ref=sms.part.ref,
                total=sms.part.total,
                status=MultipartStatus.OPEN,
                open_key=key,
                opened_at=now,
            )
            s.add(message)
            s.flush()
            return message.id
    except IntegrityError:
        return None


def _insert_part(
    rt: Runtime, aggregator: str, sms: InboundSMS, message_id: int, late: bool, now: datetime
) -> str:
    """Commit the part's row; DUPLICATE when a unique key says it is stored already."""
    try:
        with rt.transaction() as s:
            s.add(
                MessagePartRow(
                    message_id=message_id,
                    aggregator=aggregator,
                    external_id=sms.external_id,
                    part_index=sms.part.index,
                    text=sms.text,
                    sent_at=sms.sent_at,
                    received_at=now,
                    late=late,
                )
            )
        return PartOutcome.LATE if late else PartOutcome.STORED
    except IntegrityError:
        if not _part_exists(rt, aggregator, sms, message_id):
            raise
        return PartOutcome.DUPLICATE


def _part_exists(rt: Runtime, aggregator: str, sms: InboundSMS, message_id: int) -> bool:
    """Whether a part with this aggregator id, or this index of this message, is stored."""
    same_id = (MessagePartRow.aggregator == aggregator) & (MessagePartRow.external_id == sms.external_id)
    same_index = (MessagePartRow.message_id == message_id) & (MessagePartRow.part_index == sms.part.index)
    with rt.sessions() as s:
        found = s.scalar(select(MessagePartRow.id).where(or_(same_id, same_index)).limit(1))
    return found is not None


def _close_if_complete(rt: Runtime, message_id: int, now: datetime) -> int | None:
    """Close the message if all its parts are committed (counted after this part's commit)."""
    try:
        with rt.sessions() as s:
            total, present = s.execute(
                select(MultipartMessage.total, func.count(MessagePartRow.id))
                .join(MessagePartRow, MessagePartRow.message_id == MultipartMessage.id)
                .where(MultipartMessage.id == message_id)
                .group_by(MultipartMessage.total)
            ).one()
        return close(rt, message_id, now) if present >= total else None
    except Exception as exc:  # noqa: BLE001 (the part is stored and must be acknowledged)
        log.warning("multipart %d: closing failed (%s); the sweeper will", message_id, safe_reason(exc))
        return None


def _inbox_mo(message: MultipartMessage, parts: list[MessagePartRow], max_chars: int) -> InboundMessage:
    """The one inbox MO of a long message: its parts' texts joined in index order (split
    mid-word, so with nothing between), cleaned as any MO text. It carries the aggregator id of
    its lowest part, its send time, and when its first part arrived."""
    text = clean_text("".join(p.text for p in parts))
    if len(text) > max_chars:  # each part fits, 255 of them need not; the parts keep it all
        log.warning("multipart %d: text cut to GATEWAY_MAX_TEXT_CHARS (%d)", message.id, max_chars)
        text = text[:max_chars]
    first = parts[0]
    return InboundMessage(
        aggregator=message.aggregator,
        external_id=first.external_id,
        msisdn=message.msisdn,
        to=message.to,
        text=text,
        sent_at=first.sent_at,
        received_at=min(p.received_at for p in parts),
    )
