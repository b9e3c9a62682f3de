"""The admin API (`/api/v1`): JSON, bearer tokens (roles `admin` and `viewer`). Each route
declares its contract once with `@operation` (gateway/web/openapi.py): the request models of
gateway/web/api_models.py validate its query or body, and the OpenAPI document at
`/api/v1/openapi.json` is generated from the same declarations. Handlers call
gateway.services.admin; nothing here touches a phone number."""

from __future__ import annotations

import functools
from dataclasses import asdict
from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, g, jsonify, request
from redis.exceptions import RedisError

from gateway import clock
from gateway.edge import MAX_ROW_ID
from gateway.errors import InvalidPayload
from gateway.models import ApiRole, ApiToken, OutboundStatus, QuarantineState
from gateway.runtime import Runtime
from gateway.security import SIGNATURE_HEADER, TIMESTAMP_HEADER
from gateway.services import admin, costs, quarantine, sla, upstream
from gateway.services.admin import ReportNotFound, ReportQuery
from gateway.services.outbox import requeue_failed
from gateway.services.tokens import actor_name, find_token
from gateway.web import api_models as m
from gateway.web.openapi import openapi_document, operation
from gateway.web.params import TRACKING_NO

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1")

DEFAULT_STATS_DAYS = 7


def _rt() -> Runtime:
    return current_app.extensions["gateway"]


def _authenticate() -> ApiToken:
    header = request.headers.get("Authorization", "")
    token = find_token(_rt(), header[len("Bearer ") :]) if header.startswith("Bearer ") else None
    if token is None:
        abort(401, description="missing, unknown or revoked API token")
    return token


def requires(role: str):
    """Decorator: a valid token; `admin` routes refuse `viewer` tokens with 403."""

    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            token = _authenticate()
            if role == ApiRole.ADMIN and token.role != ApiRole.ADMIN:
                abort(403, description="this token may only read (role viewer)")
            g.api_actor = actor_name(token.name)
            return view(*args, **kwargs)

        return inner

    return wrap


def _tracking(tracking_no: str) -> str:
    if not TRACKING_NO.fullmatch(tracking_no):
        abort(404, description="no report with this tracking number")
    return tracking_no


# -- routes ---------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 description of this API (no token needed)."""
    return jsonify(openapi_document(current_app))


@bp.get("/reports")
@requires(ApiRole.VIEWER)
@operation("List and search reports", m.ReportPage, errors=(400, 401, 503), query=m.ReportsQuery)
def list_reports(query: m.ReportsQuery):
    """Reports filtered by status, channel, local date range and text, newest first."""
    q = ReportQuery(
        status=query.status,
        channel=query.channel,
        since=query.since,
        until=query.until,
        text=query.q or None,
        page=query.page,
        per_page=query.per_page,
    )
    items, total = admin.list_reports(_rt(), q)
    return jsonify(items=items, page=query.page, per_page=query.per_page, total=total)


@bp.get("/reports/overdue")
@requires(ApiRole.VIEWER)
@operation(
    "Open reports past their SLA deadline", m.OverdueList, errors=(400, 401, 503), query=m.OverdueQuery
)
def overdue(query: m.OverdueQuery):
    """Open reports past their SLA deadline, most overdue first."""
    rt = _rt()
    items = [
        admin.report_summary(rt, report) | {"overdue_since": admin.iso(c.due_at)}
        for report, c in sla.overdue_reports(rt, limit=query.limit)
    ]
    return jsonify(items=items)


@bp.get("/reports/<tracking_no>")
@requires(ApiRole.VIEWER)
@operation("One report with its timeline", m.ReportDetail, errors=(401, 404, 503))
def report(tracking_no: str):
    """One report with its whole timeline."""
    return jsonify(admin.report_detail(_rt(), _tracking(tracking_no)))


_ACTION_ERRORS = (400, 401, 403, 404, 503)


@bp.post("/reports/<tracking_no>/status")
@requires(ApiRole.ADMIN)
@operation("Change the status", m.ActionResult, status=201, errors=_ACTION_ERRORS, body=m.StatusBody)
def change_status(tracking_no: str, body: m.StatusBody):
    """Change the status (with a note); the reporter gets a notice SMS."""
    result = admin.change_status(_rt(), _tracking(tracking_no), body.status, body.note, g.api_actor)
    return jsonify(result), 201


@bp.post("/reports/<tracking_no>/follow-ups")
@requires(ApiRole.ADMIN)
@operation("Post a follow-up", m.ActionResult, status=201, errors=_ACTION_ERRORS, body=m.TextBody)
def follow_up(tracking_no: str, body: m.TextBody):
    """Post a follow-up (tindak lanjut); the reporter gets a notice SMS."""
    return jsonify(admin.post_follow_up(_rt(), _tracking(tracking_no), body.text, g.api_actor)), 201


@bp.post("/reports/<tracking_no>/replies")
@requires(ApiRole.ADMIN)
@operation("SMS the reporter", m.ActionResult, status=201, errors=_ACTION_ERRORS, body=m.TextBody)
def reply(tracking_no: str, body: m.TextBody):
    """Send the reporter an SMS, addressed by tracking number."""
    return jsonify(admin.send_reply(_rt(), _tracking(tracking_no), body.text, g.api_actor)), 201


@bp.get("/outbound")
@requires(ApiRole.VIEWER)
@operation("Outbound SMS by state", m.OutboundPage, errors=(400, 401, 503), query=m.OutboundQuery)
def outbound(query: m.OutboundQuery):
    """Outbound messages, optionally in one state, newest first."""
    items, total = admin.list_outbound(_rt(), query.status, query.page, query.per_page)
    return jsonify(items=items, page=query.page, per_page=query.per_page, total=total)


@bp.get("/stats/segments")
@requires(ApiRole.VIEWER)
@operation(
    "SMS sent and segments spent per local day, by kind",
    m.SegmentStats,
    errors=(400, 401, 503),
    query=m.SegmentsQuery,
    description="Counts MTs the aggregator accepted, by the local day (GATEWAY_TIMEZONE) it "
    "accepted them; QUEUED, SUPPRESSED and never-accepted FAILED ones cost nothing.",
)
def segments_stats(query: m.SegmentsQuery):
    """SMS sent and segments spent per local day, by kind (default: the last 7 days)."""
    rt = _rt()
    until = query.until or datetime.now(clock.parse_zone(rt.settings.timezone)).date()
    since = query.since or max(m.EARLIEST_DATE, until - timedelta(days=DEFAULT_STATS_DAYS - 1))
    if since > until:
        raise InvalidPayload("since", "must not be after until")
    if (until - since).days >= costs.MAX_DAYS:
        raise InvalidPayload("until", f"must be at most {costs.MAX_DAYS} days after since")
    return jsonify(costs.segments_per_day(rt, since, until))


@bp.post("/outbound/<int:outbound_id>/requeue")
@requires(ApiRole.ADMIN)
@operation("Requeue a FAILED SMS", m.Requeued, errors=(401, 403, 404, 409, 503))
def requeue(outbound_id: int):
    """Give a FAILED message a fresh set of send attempts."""
    # An id no row can have is not looked up (the database would refuse it): the same 404.
    requeued = requeue_failed(_rt(), outbound_id) if outbound_id <= MAX_ROW_ID else None
    if requeued is None:
        abort(404, description="no outbound message with this id")
    if not requeued:
        abort(409, description="message not FAILED")
    return jsonify(id=outbound_id, state=OutboundStatus.QUEUED)


@bp.get("/quarantine")
@requires(ApiRole.VIEWER)
@operation(
    "Work set aside because it kept failing (MOs, sends, DLRs, webhooks...)",
    m.QuarantineList,
    errors=(400, 401, 503),
    query=m.QuarantineQuery,
)
def quarantined(query: m.QuarantineQuery):
    """Work set aside because it kept failing, with the QUARANTINED count per kind."""
    state = query.state or QuarantineState.QUARANTINED
    items = quarantine.list_entries(_rt(), state, query.kind, query.limit)
    return jsonify(items=[asdict(e) for e in items], counts=quarantine.count_quarantined(_rt()))


_QUARANTINE_ERRORS = (401, 403, 404, 503)


@bp.post("/quarantine/<int:entry_id>/retry")
@requires(ApiRole.ADMIN)
@operation("Put quarantined work back with fresh tries", m.Quarantined, errors=_QUARANTINE_ERRORS)
def quarantine_retry(entry_id: int):
    """Put one quarantined entry's work back in its queue with fresh tries."""
    return _quarantine_act(quarantine.retry, entry_id)


@bp.post("/quarantine/<int:entry_id>/drop")
@requires(ApiRole.ADMIN)
@operation("Give up on quarantined work (kept as DROPPED)", m.Quarantined, errors=_QUARANTINE_ERRORS)
def quarantine_drop(entry_id: int):
    """Give up on one quarantined entry's work (kept for the record as DROPPED)."""
    return _quarantine_act(quarantine.drop, entry_id)


def _quarantine_act(act, entry_id: int):
    try:
        entry = act(_rt(), entry_id) if entry_id <= MAX_ROW_ID else None
    except RedisError:
        abort(503, description="Redis is unavailable: the entry is kept; retry later")
    if entry is None:
        abort(404, description="no quarantined entry with this id")
    return jsonify(asdict(entry))


@bp.post("/events")
@operation(
    "An event from the complaint system (signed, see README)",
    m.EventApplied,
    errors=(400, 401, 404, 409, 503),
    signed=True,
    body_schema=m.UpstreamEvent,
)
def upstream_event():
    """A status change or follow-up from the complaint system, signed like our webhooks."""
    rt = _rt()
    if not rt.settings.upstream_secret:
        abort(404, description="the complaint-system link is not configured")
    try:
        result = upstream.handle_event(
            rt,
            request.get_data(cache=True),
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
        )
    except upstream.SignatureRefused as exc:
        return jsonify(error="unauthorized", reason=str(exc)), 401
    except upstream.Replayed:
        return jsonify(error="replayed", reason="this event id was already processed"), 409
    return jsonify(status="applied", **result)


@bp.errorhandler(ReportNotFound)
def report_not_found(_exc):
    """Unknown tracking number."""
    return jsonify(error="not_found", reason="no report with this tracking number"), 404
