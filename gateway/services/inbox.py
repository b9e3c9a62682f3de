"""Receiving MOs: persist first, then enqueue (DESIGN.md "Persist before acknowledging")."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.aggregators.base import InboundSMS
from gateway.db import RowInserter
from gateway.edge import check_part, check_string
from gateway.errors import InvalidNumber, InvalidPayload
from gateway.gsm7 import clean_text, drop_controls
from gateway.logconfig import correlation, mo_correlation
from gateway.models import InboundMessage
from gateway.msisdn import mask_msisdn, normalise_msisdn
from gateway.outcomes import PartOutcome
from gateway.runtime import Runtime
from gateway.services import multipart

log = logging.getLogger("gateway.inbox")


@dataclass(frozen=True)
class Accepted:
    """What a request's MOs did: the inbox MOs made (new single MOs, and long ones a part
    completed), whether nothing was new (all repeats), and how many were repeats."""

    ids: list[int]
    duplicate: bool
    repeats: int = 0


def validate_inbound(sms: InboundSMS, region: str, max_text_chars: int) -> InboundSMS:
    """Normalise the sender to E.164 and clean the text (a part of a long SMS keeps its
    spacing: it is cleaned once joined); raise InvalidPayload naming the field."""
    try:
        sender = normalise_msisdn(sms.sender, region)
    except InvalidNumber as exc:
        raise InvalidPayload("from", f"not a valid {region} phone number ({exc})") from None
    if sms.part is not None:  # built by the aggregator: checked again, whoever built it
        check_part(sms.part.ref, sms.part.index, sms.part.total)
    text = clean_text(sms.text) if sms.part is None else drop_controls(sms.text)
    if len(text) > max_text_chars:
        raise InvalidPayload("text", f"longer than {max_text_chars} characters")
    # Every string column the MO row gets, against its size in gateway.models.
    external_id = check_string(sms.external_id, "id", 128)
    to = check_string(sms.to.strip(), "to", 20)
    return InboundSMS(
        sender=sender, to=to, text=text, external_id=external_id, sent_at=sms.sent_at, part=sms.part
    )


def accept_inbound(rt: Runtime, aggregator: str, messages: list[InboundSMS]) -> Accepted:
    """Store the MOs (each committed on its own), then enqueue them. A repeat of an already stored
    (aggregator, id) is acknowledged and not stored again. A part of a long SMS (`part` set) is
    stored as a part, and the long MO made once all its parts are in (gateway.services.multipart).
    Database errors propagate (503)."""
    valid = [validate_inbound(m, rt.settings.region, rt.settings.max_text_chars) for m in messages]
    new_ids, repeats, stored_parts = [], 0, 0
    for sms in valid:
        if sms.part is not None:
            stored = multipart.store_part(rt, aggregator, sms)
            if stored.outcome == PartOutcome.DUPLICATE:
                repeats += 1
            else:
                stored_parts += 1
            if stored.inbound_id is not None:  # this part completed its message
                new_ids.append(stored.inbound_id)
            continue
        row_id, is_new = _store_one(rt, aggregator, sms)
        with correlation(mo_correlation(row_id)):
            if is_new:
                new_ids.append(row_id)
                log.info("MO received from %s via %s", mask_msisdn(sms.sender), aggregator)
            else:
                repeats += 1
                log.info("MO repeated by %s (id %s): acknowledged, not stored", aggregator, sms.external_id)
    # After the commit: if Redis is down the rows stay PENDING and the sweeper enqueues them.
    rt.doorbell.ring(new_ids)
    return Accepted(ids=new_ids, duplicate=repeats > 0 and not new_ids and not stored_parts, repeats=repeats)


# The columns an MO brings; received_at and status take the model's defaults.
_INBOUND_INSERT = RowInserter(
    InboundMessage.__table__, ["aggregator", "external_id", "msisdn", "to", "text", "sent_at"]
)


def _store_one(rt: Runtime, aggregator: str, sms: InboundSMS) -> tuple[int, bool]:
    # Insert first: repeats are rare, and the unique key decides anyway (one round trip
    # fewer per message than a look-up before every insert).
    values = {
        "aggregator": aggregator,
        "external_id": sms.external_id,
        "msisdn": sms.sender,
        "to": sms.to,
        "text": sms.text,
        "sent_at": sms.sent_at,
    }
    try:
        return _INBOUND_INSERT.insert(rt.engine, values), True
    except IntegrityError:
        found = _find(rt, aggregator, sms.external_id)
        if found is None:
            raise
        return found, False


def _find(rt: Runtime, aggregator: str, external_id: str) -> int | None:
    with rt.sessions() as s:
        return s.scalar(
            select(InboundMessage.id).where(
                InboundMessage.aggregator == aggregator, InboundMessage.external_id == external_id
            )
        )
