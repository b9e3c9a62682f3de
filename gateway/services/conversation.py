"""Answering a citizen's MO: parse the command, act on it, queue exactly one reply.

All of it runs in one database transaction keyed on the MO, so a job that runs twice
(a worker killed mid-job, a sweeper re-enqueue) files one report and queues one reply.
"""

from __future__ import annotations

import logging
from datetime import UTC
from zoneinfo import ZoneInfo

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway import replies
from gateway.models import INBOUND_DONE, InboundMessage, OutboundMessage, utcnow
from gateway.parsers import Command, is_valid_tracking_number, parse_command
from gateway.queueing import enqueue_send
from gateway.runtime import Runtime
from gateway.services.outbox import queue_message
from gateway.services.reports import file_report, find_own_report, record_citizen_reply

log = logging.getLogger("gateway.conversation")
JAKARTA = ZoneInfo("Asia/Jakarta")


def process_inbound(rt: Runtime, inbound_id: int) -> str:
    """Handle one stored MO; return the command kind handled (or why nothing was done)."""
    with rt.transaction() as s:
        msg = s.get(InboundMessage, inbound_id, with_for_update=True)
        if msg is None:
            return "missing"
        if msg.status == INBOUND_DONE:
            reply = s.scalar(select(OutboundMessage).where(OutboundMessage.dedupe_key == _reply_key(msg)))
            outcome, reply_id = "already-done", reply.id if reply and reply.status == "QUEUED" else None
        else:
            command = parse_command(msg.text)
            text = answer(rt, s, msg, command)
            reply_id = queue_message(
                s, rt, _reply_key(msg), msg.msisdn, text, inbound_id=msg.id, report_id=msg.report_id
            ).id
            msg.status, msg.command, msg.processed_at = INBOUND_DONE, command.kind, utcnow()
            outcome = command.kind
    if reply_id is not None:
        # After the commit; if Redis fails here the sweeper sends the QUEUED reply later.
        enqueue_send(rt.queue, [reply_id])
    return outcome


def _reply_key(msg: InboundMessage) -> str:
    return f"reply:{msg.id}"


def answer(rt: Runtime, s: Session, msg: InboundMessage, command: Command) -> str:
    """Act on the command and return the reply text."""
    short_code = rt.settings.short_code
    if command.kind == "HELP":
        return replies.help_text(short_code)
    if command.kind == "REPORT":
        if command.problem:
            return replies.report_missing_text()
        report = file_report(
            s,
            msisdn=msg.msisdn,
            text=command.text,
            privacy=command.privacy,
            source_key=f"sms:{msg.id}",
            inbound_id=msg.id,
        )
        msg.report_id = report.id
        return replies.report_filed(report.tracking_no, report.privacy, short_code)
    # CHECK and REPLY both name a report the sender must own.
    if command.problem == "MISSING_NUMBER":
        return replies.missing_number(command.kind)
    if command.problem == "BAD_NUMBER" or not is_valid_tracking_number(command.tracking_no):
        return replies.bad_number(command.tracking_no)
    if _lookups_blocked(rt, msg.msisdn):
        return replies.throttled()
    report = find_own_report(s, command.tracking_no, msg.msisdn)
    if report is None:
        _count_failed_lookup(rt, msg.msisdn)
        return replies.not_found(command.tracking_no)
    msg.report_id = report.id
    if command.kind == "CHECK":
        updated = report.updated_at.replace(tzinfo=report.updated_at.tzinfo or UTC)
        return replies.status_for_owner(
            report.tracking_no, report.status, updated.astimezone(JAKARTA).strftime("%d/%m/%Y")
        )
    if command.problem == "MISSING_TEXT":
        return replies.reply_missing_text(report.tracking_no)
    record_citizen_reply(s, report, command.text, source_key=f"sms:{msg.id}", inbound_id=msg.id)
    return replies.reply_recorded(report.tracking_no)


def _failed_lookup_key(msisdn: str) -> str:
    return f"gw:lookup-fail:{msisdn}"


def _lookups_blocked(rt: Runtime, msisdn: str) -> bool:
    """Too many failed CEK/BALAS look-ups from this number within the window."""
    try:
        count = rt.redis.get(_failed_lookup_key(msisdn))
    except RedisError:
        return False  # a throttle is not worth refusing a citizen an answer
    return count is not None and int(count) >= rt.settings.check_fail_limit


def _count_failed_lookup(rt: Runtime, msisdn: str) -> None:
    key = _failed_lookup_key(msisdn)
    try:
        with rt.redis.pipeline() as p:
            p.incr(key)
            p.expire(key, rt.settings.check_fail_window, nx=True)
            p.execute()
    except RedisError:
        log.warning("could not count a failed look-up (Redis unavailable)")
