"""The admin API (`/api/v1`): JSON, bearer tokens (roles `admin` and `viewer`), described by
the OpenAPI document at `/api/v1/openapi.json` (gateway/web/openapi.py). Handlers read and
validate the request and call gateway.services.admin; nothing here touches a phone number."""

from __future__ import annotations

import functools
from dataclasses import asdict
from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, g, jsonify, request
from redis.exceptions import RedisError

from gateway import clock
from gateway.edge import MAX_ROW_ID, loads_json
from gateway.errors import InvalidPayload
from gateway.models import REPORT_STATUS_LABELS, ApiToken
from gateway.runtime import Runtime
from gateway.security import SIGNATURE_HEADER, TIMESTAMP_HEADER
from gateway.services import admin, costs, quarantine, sla, upstream
from gateway.services.admin import ReportNotFound, ReportQuery
from gateway.services.outbox import requeue_failed
from gateway.services.tokens import actor_name, find_token
from gateway.web.openapi import OUTBOUND_STATES, openapi_document
from gateway.web.params import EARLIEST_DATE, TRACKING_NO, choice_arg, clean_arg, date_arg, int_arg

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1")

CHANNELS = ("SMS", "USSD")
MAX_PER_PAGE = 200
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
            if role == "admin" and token.role != "admin":
                abort(403, description="this token may only read (role viewer)")
            g.api_actor = actor_name(token.name)
            return view(*args, **kwargs)

        return inner

    return wrap


# -- request reading ------------------------------------------------------------------------


def _body() -> dict:
    data = loads_json(request.get_data(cache=True)) if request.is_json else None
    if not isinstance(data, dict):
        raise InvalidPayload("body", "must be a JSON object")
    return data


def _text_field(data: dict, field: str, required: bool = True) -> str:
    value = data.get(field, "" if not required else None)
    if value is None and not required:
        value = ""
    if not isinstance(value, str):
        raise InvalidPayload(field, "must be a string" if value is not None else "is required")
    return clean_arg(value, field, required)


def _tracking(tracking_no: str) -> str:
    if not TRACKING_NO.fullmatch(tracking_no):
        abort(404, description="no report with this tracking number")
    return tracking_no


def _page() -> tuple[int, int]:
    return int_arg("page", 1, 1, 100000), int_arg("per_page", 50, 1, MAX_PER_PAGE)


# -- routes ---------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 description of this API (no token needed)."""
    return jsonify(openapi_document())


@bp.get("/reports")
@requires("viewer")
def list_reports():
    """Reports filtered by status, channel, local date range and text, newest first."""
    page, per_page = _page()
    text = request.args.get("q")
    q = ReportQuery(
        status=choice_arg("status", tuple(REPORT_STATUS_LABELS)),
        channel=choice_arg("channel", CHANNELS),
        since=date_arg("since"),
        until=date_arg("until"),
        text=clean_arg(text, "q", required=False) or None if text is not None else None,
        page=page,
        per_page=per_page,
    )
    items, total = admin.list_reports(_rt(), q)
    return jsonify(items=items, page=page, per_page=per_page, total=total)


@bp.get("/reports/overdue")
@requires("viewer")
def overdue():
    """Open reports past their SLA deadline, most overdue first."""
    limit = int_arg("limit", 100, 1, 500)
    rt = _rt()
    items = [
        admin.report_summary(rt, report) | {"overdue_since": admin.iso(c.due_at)}
        for report, c in sla.overdue_reports(rt, limit=limit)
    ]
    return jsonify(items=items)


@bp.get("/reports/<tracking_no>")
@requires("viewer")
def report(tracking_no: str):
    """One report with its whole timeline."""
    return jsonify(admin.report_detail(_rt(), _tracking(tracking_no)))


@bp.post("/reports/<tracking_no>/status")
@requires("admin")
def change_status(tracking_no: str):
    """Change the status (with a note); the reporter gets a notice SMS."""
    data = _body()
    status = data.get("status")
    if not isinstance(status, str) or status not in REPORT_STATUS_LABELS:
        raise InvalidPayload("status", f"must be one of {', '.join(REPORT_STATUS_LABELS)}")
    note = _text_field(data, "note", required=False)
    result = admin.change_status(_rt(), _tracking(tracking_no), status, note, g.api_actor)
    return jsonify(result), 201


@bp.post("/reports/<tracking_no>/follow-ups")
@requires("admin")
def follow_up(tracking_no: str):
    """Post a follow-up (tindak lanjut); the reporter gets a notice SMS."""
    text = _text_field(_body(), "text")
    return jsonify(admin.post_follow_up(_rt(), _tracking(tracking_no), text, g.api_actor)), 201


@bp.post("/reports/<tracking_no>/replies")
@requires("admin")
def reply(tracking_no: str):
    """Send the reporter an SMS, addressed by tracking number."""
    text = _text_field(_body(), "text")
    return jsonify(admin.send_reply(_rt(), _tracking(tracking_no), text, g.api_actor)), 201


@bp.get("/outbound")
@requires("viewer")
def outbound():
    """Outbound messages, optionally in one state, newest first."""
    page, per_page = _page()
    status = choice_arg("status", OUTBOUND_STATES)
    items, total = admin.list_outbound(_rt(), status, page, per_page)
    return jsonify(items=items, page=page, per_page=per_page, total=total)


@bp.get("/stats/segments")
@requires("viewer")
def segments_stats():
    """SMS sent and segments spent per local day, by kind (default: the last 7 days)."""
    rt = _rt()
    until = date_arg("until") or datetime.now(clock.parse_zone(rt.settings.timezone)).date()
    since = date_arg("since") or max(EARLIEST_DATE, until - timedelta(days=DEFAULT_STATS_DAYS - 1))
    if since > until:
        raise InvalidPayload("since", "must not be after until")
    if (until - since).days >= costs.MAX_DAYS:
        raise InvalidPayload("until", f"must be at most {costs.MAX_DAYS} days after since")
    return jsonify(costs.segments_per_day(rt, since, until))


@bp.post("/outbound/<int:outbound_id>/requeue")
@requires("admin")
def requeue(outbound_id: int):
    """Give a FAILED message a fresh set of send attempts."""
    # An id no row can have is not looked up (the database would refuse it): the same 404.
    requeued = requeue_failed(_rt(), outbound_id) if outbound_id <= MAX_ROW_ID else None
    if requeued is None:
        abort(404, description="no outbound message with this id")
    if not requeued:
        abort(409, description="message not FAILED")
    return jsonify(id=outbound_id, state="QUEUED")


@bp.get("/quarantine")
@requires("viewer")
def quarantined():
    """Work set aside because it kept failing, with the QUARANTINED count per kind."""
    state = choice_arg("state", quarantine.STATES) or quarantine.QUARANTINED
    kind = choice_arg("kind", quarantine.KINDS)
    limit = int_arg("limit", 100, 1, 500)
    items = quarantine.list_entries(_rt(), state, kind, limit)
    return jsonify(items=[asdict(e) for e in items], counts=quarantine.count_quarantined(_rt()))


@bp.post("/quarantine/<int:entry_id>/retry")
@requires("admin")
def quarantine_retry(entry_id: int):
    """Put one quarantined entry's work back in its queue with fresh tries."""
    return _quarantine_act(quarantine.retry, entry_id)


@bp.post("/quarantine/<int:entry_id>/drop")
@requires("admin")
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
