"""Opt-out: a number that texts BERHENTI, STOP or UNREG gets no more notices (follow-ups,
status changes, admin replies, SLA closings, the USSD dead-draft SMS) until it texts MULAI or
START. The direct answer to a text the citizen sends is never held back: they asked.

Enforced in one place for new MTs, gateway.services.outbox.queue_message (every MT is made
there): a NOTICE to an opted-out number is stored as SUPPRESSED, never sent, so the report's
timeline shows it. A notice already waiting (quiet hours, a retry) when the number opts out
is suppressed here, in the same transaction.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from gateway.models import Channel, OptOut, OutboundKind, OutboundMessage, OutboundStatus, utcnow
from gateway.msisdn import mask_msisdn

log = logging.getLogger("gateway.optout")

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def is_opted_out(s: Session, msisdn: str) -> bool:
    """True when `msisdn` asked for no notices."""
    return s.scalar(select(OptOut.msisdn).where(OptOut.msisdn == msisdn)) is not None


def opt_out(s: Session, msisdn: str, inbound_id: int | None = None, channel: str = Channel.SMS) -> int:
    """Record the opt-out (once: a repeat, or two workers at once, keeps the first) and
    suppress the notices still waiting to be sent to the number; return how many."""
    insert = _INSERTS[s.get_bind().dialect.name]
    s.execute(
        insert(OptOut)
        .values(msisdn=msisdn, created_at=utcnow(), channel=channel, inbound_id=inbound_id)
        .on_conflict_do_nothing(index_elements=["msisdn"])
    )
    waiting = s.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.msisdn == msisdn,
            OutboundMessage.kind == OutboundKind.NOTICE,
            OutboundMessage.status == OutboundStatus.QUEUED,
        )
        .values(status=OutboundStatus.SUPPRESSED, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    log.info(
        "%s opted out of notices; %d waiting notice(s) suppressed", mask_msisdn(msisdn), waiting.rowcount
    )
    return waiting.rowcount


def opt_in(s: Session, msisdn: str) -> None:
    """Notices to `msisdn` again (those suppressed meanwhile stay suppressed)."""
    s.execute(delete(OptOut).where(OptOut.msisdn == msisdn).execution_options(synchronize_session=False))
    log.info("%s opted back in to notices", mask_msisdn(msisdn))
