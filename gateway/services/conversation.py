"""Answering a citizen's MO: parse the command, act on it, queue exactly one reply.

All of it runs in one database transaction keyed on the MO, so a job that runs twice
(a worker killed mid-job, a sweeper re-enqueue) files one report and queues one reply.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway import replies
from gateway.models import INBOUND_DONE, InboundMessage, OutboundMessage, as_utc, utcnow
from gateway.parsers import Command, is_valid_tracking_number, parse_command
from gateway.queueing import enqueue_send
from gateway.runtime import Runtime
from gateway.services import citizen, upstream
from gateway.services.flood import SILENT, WARN, check_flood
from gateway.services.outbox import queue_message

log = logging.getLogger("gateway.conversation")


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
            outcome, text = _respond(rt, s, msg)
            reply_id = None
            if text is not None:
                reply_id = queue_message(
                    s, rt, _reply_key(msg), msg.msisdn, text, inbound_id=msg.id, report_id=msg.report_id
                ).id
            msg.status, msg.command, msg.processed_at = INBOUND_DONE, outcome, utcnow()
    if reply_id is not None:
        # After the commit; if Redis fails here the sweeper sends the QUEUED reply later.
        enqueue_send(rt.queue, [reply_id])
    if outcome in ("REPORT", "REPLY"):
        upstream.kick(rt)  # send the new report's or BALAS's webhook (no-op when the link is off)
    return outcome


def _respond(rt: Runtime, s: Session, msg: InboundMessage) -> tuple[str, str | None]:
    """(what was done, reply text or None). A flooding number gets one warning, then nothing:
    its texts stay stored for the record but are not acted on."""
    received_at = as_utc(msg.received_at)
    verdict = check_flood(rt, msg.msisdn, msg.id, received_at)
    if verdict == WARN:
        return "FLOOD", replies.flood_warning()
    if verdict == SILENT:
        return "FLOOD", None
    command = parse_command(msg.text)
    return command.kind, answer(rt, s, msg, command)


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
        report = citizen.file(
            s,
            rt,
            msisdn=msg.msisdn,
            text=command.text,
            privacy=command.privacy,
            source_key=f"sms:{msg.id}",
            channel="SMS",
            inbound_id=msg.id,
        )
        msg.report_id = report.id
        return replies.report_filed(report.tracking_no, report.privacy, short_code)
    # CHECK and REPLY both name a report the sender must own.
    if command.problem == "MISSING_NUMBER":
        return replies.missing_number(command.kind)
    if command.problem == "BAD_NUMBER" or not is_valid_tracking_number(command.tracking_no):
        return replies.bad_number(command.tracking_no)
    found, report = citizen.look_up(s, rt, command.tracking_no, msg.msisdn)
    if found == citizen.THROTTLED:
        return replies.throttled()
    if report is None:
        return replies.not_found(command.tracking_no)
    msg.report_id = report.id
    if command.kind == "CHECK":
        return replies.status_for_owner(report.tracking_no, report.status, citizen.status_day(report))
    if command.problem == "MISSING_TEXT":
        return replies.reply_missing_text(report.tracking_no)
    citizen.answer_follow_up(s, rt, report, command.text, source_key=f"sms:{msg.id}", inbound_id=msg.id)
    return replies.reply_recorded(report.tracking_no)
