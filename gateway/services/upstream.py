"""The link to the complaint system (optional: on when GATEWAY_UPSTREAM_URL / _SECRET are set).

Out: new reports and citizen replies become signed JSON webhooks. Each is a row in
`webhook_deliveries` written in the same transaction as the report or reply, so nothing is
lost; a job POSTs it with bounded exponential backoff until the upstream answers 2xx.
In: the complaint system POSTs status changes and follow-ups to /api/v1/events with the same
signature scheme; they act exactly like an admin's action (timeline + notice SMS). A stale
timestamp or bad signature is refused (401), an event id seen before is refused (409).

Signature (both directions): `X-Lapor-Timestamp: <unix seconds>` and
`X-Lapor-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.aggregators.base import SendRequest
from gateway.edge import loads_json
from gateway.errors import GatewayError, InvalidPayload, SendError
from gateway.models import (
    REPORT_STATUS_LABELS,
    QuarantineKind,
    Report,
    ReportEvent,
    UpstreamEvent,
    WebhookDelivery,
    WebhookStatus,
    utcnow,
)
from gateway.outcomes import DeliveryOutcome
from gateway.queueing import JobPath
from gateway.runtime import Runtime
from gateway.security import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify_signature
from gateway.services import admin, quarantine
from gateway.services.admin import iso, shown_number
from gateway.services.outbox import backoff_delay

log = logging.getLogger("gateway.upstream")

EVENT_ID_HEADER = "X-Lapor-Event-Id"
BATCH = 100


class SignatureRefused(GatewayError):
    """A /api/v1/events request whose signature or timestamp does not check out (401)."""


class Replayed(GatewayError):
    """An event id already processed (409)."""


# -- out: webhooks ---------------------------------------------------------------------------


def enabled(rt: Runtime) -> bool:
    """Whether webhooks go out (GATEWAY_UPSTREAM_URL set)."""
    return bool(rt.settings.upstream_url)


def _queue(
    s: Session, rt: Runtime, event_id: str, event_type: str, report: Report, data: dict, fresh: bool = False
) -> None:
    """Add the webhook row once per event id (`fresh`: the caller knows it is new; no
    look-up, and the INSERT waits for the commit's flush)."""
    if not enabled(rt):
        return
    if not fresh and s.scalar(select(WebhookDelivery.id).where(WebhookDelivery.event_id == event_id)):
        return
    envelope = {"id": event_id, "type": event_type, "occurred_at": iso(utcnow()), "data": data}
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
    s.add(WebhookDelivery(event_id=event_id, event_type=event_type, body=body, report=report))
    if not fresh:
        s.flush()


def report_created(s: Session, rt: Runtime, report: Report, fresh: bool = False) -> None:
    """Queue `report.created` for a new report (inside the transaction that filed it)."""
    data = {
        "tracking_no": report.tracking_no,
        "channel": report.channel,
        "privacy": report.privacy,
        "status": report.status,
        "reporter": shown_number(report.msisdn, report.privacy),
        "text": report.text,
        "created_at": iso(report.created_at or utcnow()),
    }
    _queue(s, rt, f"report.created:{report.tracking_no}", "report.created", report, data, fresh)


def citizen_reply(s: Session, rt: Runtime, report: Report, event: ReportEvent) -> None:
    """Queue `report.citizen_reply` for a reporter's BALAS (inside its transaction)."""
    data = {
        "tracking_no": report.tracking_no,
        "text": event.text,
        "received_at": iso(event.created_at or utcnow()),
    }
    _queue(s, rt, f"report.citizen_reply:{event.id}", "report.citizen_reply", report, data)


def kick(rt: Runtime, delay: float = 0.0) -> None:
    """Enqueue a delivery run (after commit). If Redis is down, the cron run catches up."""
    if not enabled(rt):
        return
    try:
        if delay > 0:
            rt.queue.enqueue_in(
                timedelta(seconds=delay),
                JobPath.DELIVER_WEBHOOKS.value,
                job_id="webhooks-later",
                result_ttl=0,
            )
        else:
            rt.queue.enqueue(JobPath.DELIVER_WEBHOOKS.value, job_id="webhooks-now", result_ttl=0)
    except RedisError as exc:
        log.warning("could not enqueue webhook delivery, cron will: %s", exc)


def deliver_due(rt: Runtime, now: datetime | None = None) -> dict[str, int]:
    """Send every due PENDING webhook once. Each row is claimed (its next attempt pushed past
    the request's timeout) before it is sent, so concurrent runs never send it twice at once."""
    now = (now or utcnow()).astimezone(UTC)
    counts = {DeliveryOutcome.DELIVERED: 0, DeliveryOutcome.RETRY: 0}
    if not enabled(rt):
        return counts
    with rt.sessions() as s:
        due = list(
            s.scalars(
                select(WebhookDelivery.id)
                .where(
                    WebhookDelivery.status == WebhookStatus.PENDING, WebhookDelivery.next_attempt_at <= now
                )
                .order_by(WebhookDelivery.id)
                .limit(BATCH)
            )
        )
    lease = now + timedelta(seconds=3 * rt.settings.send_timeout + 10)
    soonest = None
    for delivery_id in due:
        with rt.transaction() as s:
            claimed = s.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery_id,
                    WebhookDelivery.status == WebhookStatus.PENDING,
                    WebhookDelivery.next_attempt_at <= now,
                )
                .values(next_attempt_at=lease)
            ).rowcount
        if not claimed:
            continue
        delay = quarantine.run_guarded(
            rt, QuarantineKind.WEBHOOK, delivery_id, lambda i=delivery_id: _deliver(rt, i)
        )
        if delay is quarantine.SET_ASIDE:
            counts[DeliveryOutcome.QUARANTINED] = counts.get(DeliveryOutcome.QUARANTINED, 0) + 1
            continue
        if delay is None:
            counts[DeliveryOutcome.DELIVERED] += 1
        else:
            counts[DeliveryOutcome.RETRY] += 1
            soonest = delay if soonest is None else min(soonest, delay)
    if soonest is not None:
        kick(rt, soonest)
    return counts


def _deliver(rt: Runtime, delivery_id: int) -> float | None:
    """POST one webhook; None when delivered, else the delay before the next attempt."""
    with rt.sessions() as s:
        d = s.get(WebhookDelivery, delivery_id)
        body, event_id = d.body.encode("utf-8"), d.event_id
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(rt.settings.upstream_secret, timestamp, body),
        EVENT_ID_HEADER: event_id,
    }
    try:
        # The process's one shared sender: pooled connections, (connect, read) timeouts, no
        # redirects, the environment's proxies; a transport failure is a SendError.
        resp = rt.sender.request(SendRequest("POST", rt.settings.upstream_url, headers=headers, data=body))
        error = None if 200 <= resp.status_code < 300 else f"HTTP {resp.status_code}"
    except SendError as exc:
        error = f"request failed: {exc.reason}"
    with rt.transaction() as s:
        d = s.get(WebhookDelivery, delivery_id, with_for_update=True)
        d.attempts += 1
        if error is None:
            d.status, d.delivered_at, d.last_error = WebhookStatus.DELIVERED, utcnow(), None
            log.info("webhook %d (%s) delivered", delivery_id, d.event_type)
            return None
        # Never given up on (the complaint system must get every report): the delay grows
        # to GATEWAY_UPSTREAM_BACKOFF_MAX and stays there.
        settings = rt.settings
        delay = backoff_delay(d.attempts, settings.send_backoff_base, settings.upstream_backoff_max)
        d.last_error, d.next_attempt_at = error, utcnow() + timedelta(seconds=delay)
        log.warning(
            "webhook %d attempt %d failed (%s); retry in %.0fs", delivery_id, d.attempts, error, delay
        )
        return delay


# -- in: events from the complaint system -----------------------------------------------------


def handle_event(rt: Runtime, body: bytes, timestamp: str | None, signature: str | None) -> dict:
    """Verify, parse and apply one event; raise SignatureRefused, Replayed or InvalidPayload."""
    settings = rt.settings
    reason = verify_signature(
        settings.upstream_secret, timestamp, signature, body, time.time(), settings.upstream_window
    )
    if reason is not None:
        raise SignatureRefused(reason)
    event = _parse_event(body)
    try:
        with rt.transaction() as s:
            row = UpstreamEvent(event_id=event["id"], event_type=event["type"])
            s.add(row)
            s.flush()
            actor = f"upstream:{event['actor']}"[:64]
            if event["type"] == "status_changed":
                done, out = admin.record_status_change(
                    s, rt, event["tracking_no"], event["status"], event["note"], actor, utcnow()
                )
            else:
                done, out = admin.record_follow_up(
                    s, rt, event["tracking_no"], event["text"], actor, utcnow()
                )
            row.report_id = done.report_id
    except IntegrityError:
        raise Replayed(event["id"]) from None
    return admin.after_commit(rt, done, out)


def _parse_event(body: bytes) -> dict:
    data = loads_json(body)
    if not isinstance(data, dict):
        raise InvalidPayload("body", "must be a JSON object")

    def text(name: str, required: bool, limit: int = 1000) -> str:
        value = data.get(name, "")
        if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
            raise InvalidPayload(name, f"must be a {'non-empty ' if required else ''}string of <= {limit}")
        if "\x00" in value:
            raise InvalidPayload(name, "must not contain NUL")
        return value.strip()

    event = {"id": text("id", True, 128), "type": text("type", True, 32), "actor": text("actor", False, 40)}
    event["tracking_no"] = text("tracking_no", True, 10)
    event["actor"] = event["actor"] or "complaint-system"
    if event["type"] == "status_changed":
        event["status"] = text("status", True, 16)
        if event["status"] not in REPORT_STATUS_LABELS:
            raise InvalidPayload("status", f"must be one of {', '.join(REPORT_STATUS_LABELS)}")
        event["note"] = text("note", False)
    elif event["type"] == "follow_up":
        event["text"] = text("text", True)
    else:
        raise InvalidPayload("type", "must be status_changed or follow_up")
    return event
