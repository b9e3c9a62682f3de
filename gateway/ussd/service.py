"""The glue between one USSD step and the rest of the gateway: load the session from Redis, run
the pure menu, perform its effect through the same services as SMS (reports, outbox, the
look-up throttle), keep the draft, and schedule the dead-draft check.

Inside the request there is only Redis (two or three round trips) and, for the steps that
file, check or answer, one short database transaction. Every SMS goes out through the outbox
and an RQ job after the commit.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from gateway import replies
from gateway.commands.lapor import report_filed
from gateway.models import Channel, EventKind, OutboundKind, OutboundStatus, Report, ReportEvent, utcnow
from gateway.msisdn import mask_msisdn
from gateway.queueing import JobPath, enqueue_send
from gateway.runtime import Runtime
from gateway.services import citizen, upstream
from gateway.services.citizen import Lookup
from gateway.services.flood import FloodVerdict, check_floods
from gateway.services.outbox import queue_message
from gateway.ussd import menu, screens
from gateway.ussd.base import UssdFormat, UssdReply, UssdRequest
from gateway.ussd.menu import Effect, EffectKind, Found, Result
from gateway.ussd.sessions import (
    Draft,
    MenuSession,
    SessionStore,
    draft_notice_key,
    session_owner,
    ussd_source_key,
)

log = logging.getLogger("gateway.ussd")
DRAFT_CHECK_GRACE = 5.0  # seconds after the session's expiry before its draft counts as dead


def store_for(rt: Runtime) -> SessionStore:
    """The session store with the configured TTLs."""
    return SessionStore(rt.redis, rt.settings.ussd_session_ttl, rt.settings.ussd_draft_ttl)


def handle_step(rt: Runtime, fmt: UssdFormat, step: UssdRequest) -> UssdReply:
    """Answer one step. Redis or database trouble ends the session with an apology instead of
    an error the telco would show as a failure (the draft, if any, stays for the SMS)."""
    short_code = rt.settings.short_code
    owner = session_owner(fmt.name, step.msisdn, step.session_id)
    store = store_for(rt)
    try:
        session = store.load(owner)
        before = session.state if session is not None else None
        if session is None:
            draft = store.draft(step.msisdn)
            out = menu.start(short_code, draft.text, draft.privacy) if draft else menu.start(short_code)
            session = MenuSession(step.msisdn, out.state)
        else:
            latest = fmt.latest_input(step, session.history)
            out = menu.show(session.state) if latest is None else menu.step(session.state, latest)
            if out.effect is not None:
                source_key = ussd_source_key(fmt.name, step.msisdn, step.session_id, session.filing)
                out = menu.resolve(out.state, out.effect, _perform(rt, step.msisdn, out.effect, source_key))
        session.state, session.history = out.state, fmt.history(step)
        _keep_draft(rt, store, owner, session, before)
        if out.end:
            store.end(owner)
        else:
            store.save(owner, session)
    except RedisError as exc:
        log.error("USSD %s step failed, Redis unavailable: %s", fmt.name, type(exc).__name__)
        return UssdReply(screens.unavailable(short_code), end=True)
    except SQLAlchemyError as exc:
        log.error("USSD %s step failed, database unavailable: %s", fmt.name, type(exc).__name__)
        return UssdReply(screens.unavailable(short_code), end=True)
    return UssdReply(out.screen, out.end)


def _keep_draft(rt: Runtime, store: SessionStore, owner: str, session: MenuSession, before) -> None:
    """Mirror the session's draft outside it (for resuming and the dead-draft SMS)."""
    state = session.state
    if state.draft:
        changed = before is None or (before.draft, before.privacy) != (state.draft, state.privacy)
        if changed or not session.watching:
            store.save_draft(session.msisdn, Draft(state.draft, state.privacy, owner, session.filing))
        if not session.watching:
            store.watch(owner, session.msisdn)
            session.watching = schedule_draft_check(rt, owner, rt.settings.ussd_session_ttl)
    elif before is not None and before.draft:
        store.drop_draft(session.msisdn)  # filed, cancelled or deleted


def schedule_draft_check(rt: Runtime, owner: str, session_seconds: float) -> bool:
    """Look at the draft a few seconds after the session would expire (RQ's scheduler, which
    every worker runs). The job carries the session's owner (`<format>:<digest>`), never the
    phone number."""
    grace = min(DRAFT_CHECK_GRACE, float(rt.settings.ussd_session_ttl))
    fmt_name, session_id = owner.split(":", 1)
    try:
        rt.queue.enqueue_in(
            timedelta(seconds=session_seconds + grace),
            JobPath.USSD_DRAFT_CHECK.value,
            fmt_name,
            session_id,
            result_ttl=0,
            description=f"ussd draft check {owner}",
        )
        return True
    except RedisError:
        log.warning("could not schedule the draft check for USSD session %s", owner)
        return False


def check_dead_draft(rt: Runtime, fmt_name: str, session_key: str) -> str:
    """The dead-draft job: if the session is gone and still owns an unsent draft, queue one SMS
    (once per session state: the outbox dedupe key) saying the report was not sent and how to
    finish it. A session still alive is looked at again when it would expire. `session_key` is
    the digest part of the owner (a job scheduled before sessions were scoped to phones carries
    the raw session id, which names its old keys just as well)."""
    owner = f"{fmt_name}:{session_key}"
    store = store_for(rt)
    left = store.seconds_left(owner)
    if left is not None:
        schedule_draft_check(rt, owner, left)
        return "alive"
    msisdn = store.watched(owner)
    draft = store.draft(msisdn) if msisdn else None
    if draft is None or draft.owner != owner:
        return "finished"  # filed, thrown away, or resumed by a later session
    notice_key = draft_notice_key(draft)
    if not _within_flood_limit(rt, msisdn, notice_key):
        return "flood"
    text = replies.ussd_draft_not_sent(rt.settings.short_code, max(1, rt.settings.ussd_draft_ttl // 3600))
    with rt.transaction() as s:
        out = queue_message(s, rt, notice_key, msisdn, text, kind=OutboundKind.NOTICE)
        send_id = out.id if out.status == OutboundStatus.QUEUED else None
    if send_id is not None:
        enqueue_send(rt.queue, [send_id], bulk=True)
    log.info(
        "USSD session %s ended with an unsent draft; SMS %s to %s",
        owner,
        "queued" if send_id is not None else "not queued (opted out or already handled)",
        mask_msisdn(msisdn),
    )
    return "sent"


def _perform(rt: Runtime, msisdn: str, effect: Effect, source_key: str) -> Result:
    """Do what the menu asked, keyed by this session state's `source_key`."""
    if effect.kind == EffectKind.FILE:
        return _file(rt, msisdn, effect, source_key)
    with rt.transaction() as s:
        found, report = citizen.look_up(
            s, rt, effect.tracking_no, msisdn, f"ussd:{source_key}:{effect.tracking_no}"
        )
        if found == Lookup.THROTTLED:
            return Result(Found.THROTTLED)
        if report is None:
            return Result(Found.NOT_FOUND)
        if effect.kind == EffectKind.CHECK:
            return Result(Found.DONE, report.tracking_no, report.status, citizen.status_day(report))
        if effect.kind == EffectKind.OPEN_REPLY:
            return Result(Found.DONE, report.tracking_no, follow_up=_latest_follow_up(s, report))
        citizen.answer_follow_up(s, rt, report, effect.text, source_key=f"{source_key}:reply")
        tracking_no = report.tracking_no
    upstream.kick(rt)
    return Result(Found.DONE, tracking_no)


def _file(rt: Runtime, msisdn: str, effect: Effect, source_key: str) -> Result:
    """File the report and queue its SMS confirmation in one transaction; send after the commit.
    A filing counts against the number's SMS flood limit (it costs an SMS): past it, nothing is
    filed or sent."""
    if not _within_flood_limit(rt, msisdn, source_key):
        return Result(Found.FLOODED)
    with rt.transaction() as s:
        report = citizen.file(
            s,
            rt,
            msisdn=msisdn,
            text=effect.text,
            privacy=effect.privacy,
            source_key=source_key,
            channel=Channel.USSD,
        )
        text = report_filed(report.tracking_no, report.privacy, rt.settings.short_code)
        sms = queue_message(s, rt, f"ussd-filed:{report.id}", msisdn, text, report_id=report.id)
        tracking_no, sms_id, queued = report.tracking_no, sms.id, sms.status == OutboundStatus.QUEUED
        report_id = report.id
    if queued:
        enqueue_send(rt.queue, [sms_id])
    upstream.kick(rt)
    log.info("USSD report %d filed for %s", report_id, mask_msisdn(msisdn))
    return Result(Found.DONE, tracking_no)


def _within_flood_limit(rt: Runtime, msisdn: str, key: str) -> bool:
    """Count one SMS-costing USSD action (`key` names it, so a retry counts once) with the SMS
    channel's flood counter; fails open like it."""
    [verdict] = check_floods(rt, [(msisdn, key, utcnow())])
    return verdict == FloodVerdict.OK


def _latest_follow_up(s, report: Report) -> str:
    """The officer's most recent follow-up question on the report, "" if none."""
    event = s.scalar(
        select(ReportEvent)
        .where(ReportEvent.report_id == report.id, ReportEvent.kind == EventKind.FOLLOW_UP)
        .order_by(ReportEvent.id.desc())
        .limit(1)
    )
    return event.text if event is not None else ""
