"""The handler console (`/console`): server-rendered pages over the same service functions as
the JSON API (gateway.services.admin, sla, quarantine, outbox), so a rule lives in one place.
Pages read without JavaScript; a little script adds the reply box's live SMS counter. Numbers
are only ever what the service layer shows: masked, and none for an anonymous report."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from gateway import clock, gsm7
from gateway.edge import MAX_ROW_ID
from gateway.errors import InvalidPayload
from gateway.metrics import CONSOLE_REQUESTS
from gateway.models import REPORT_STATUS_LABELS, ApiRole, OutboundStatus, QuarantineState
from gateway.outcomes import ConsoleOutcome
from gateway.runtime import Runtime
from gateway.services import admin, notices, quarantine, sla
from gateway.services.admin import ReportNotFound, ReportQuery
from gateway.services.outbox import requeue_failed
from gateway.web import console_auth
from gateway.web.console_auth import console_view, csrf_token
from gateway.web.params import MAX_TEXT, TRACKING_NO, choice_arg, clean_arg, int_arg

bp = Blueprint("console", __name__, url_prefix="/console")
log = logging.getLogger("gateway.console")

PER_PAGE = 25
OVERDUE_SHOWN = 20


def _rt() -> Runtime:
    return current_app.extensions["gateway"]


@bp.app_context_processor
def _template_globals():
    return {"csrf_token": csrf_token, "STATUS_LABELS": REPORT_STATUS_LABELS, "MAX_TEXT": MAX_TEXT}


@bp.app_template_filter("local")
def local_time(iso: str | None) -> str:
    """An ISO time from the service layer in the deployment's zone, to the minute."""
    if not iso:
        return ""
    zone = clock.parse_zone(_rt().settings.timezone)
    at = datetime.fromisoformat(iso)
    # Quarantine entries read back from SQLite carry no zone: stored times are UTC.
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(zone).strftime("%Y-%m-%d %H:%M")


# -- log-in ---------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The log-in form: an admin API token (`flask --app wsgi token create`)."""
    console_auth.require_console()
    if request.method == "POST":
        console_auth.check_csrf()
        if console_auth.log_in(request.form.get("token", "")) is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("console/login.html", error="Unknown or revoked token."), 401
    return render_template("console/login.html", error=None)


def _safe_next(target: str | None) -> str:
    # Only a path inside the console: an open redirect would hand the session's user elsewhere.
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return url_for("console.queue")


@bp.post("/logout")
@console_view(ApiRole.VIEWER)
def logout():
    """End the session."""
    console_auth.log_out()
    return redirect(url_for("console.login"))


# -- reading --------------------------------------------------------------------------------


@bp.get("/")
@console_view(ApiRole.VIEWER)
def queue():
    """The reports queue: overdue reports first (deadline passed), then every report matching
    the filter (status) and search (tracking number or text), newest first."""
    status = choice_arg("status", tuple(REPORT_STATUS_LABELS))
    raw_q = request.args.get("q", "")
    text = clean_arg(raw_q, "q", required=False) or None
    page = int_arg("page", 1, 1, 100000)
    rt = _rt()
    items, total = admin.list_reports(rt, ReportQuery(status=status, text=text, page=page, per_page=PER_PAGE))
    overdue = []
    if not text and page == 1:
        overdue = [
            admin.report_summary(rt, report) | {"overdue_since": admin.iso(c.due_at)}
            for report, c in sla.overdue_reports(rt, limit=OVERDUE_SHOWN)
            if status is None or report.status == status
        ]
    pages = max(1, -(-total // PER_PAGE))
    return render_template(
        "console/queue.html", items=items, total=total, overdue=overdue, status=status, q=text or "",
        page=page, pages=pages,
    )  # fmt: skip


@bp.get("/reports/<tracking_no>")
@console_view(ApiRole.VIEWER)
def report(tracking_no: str):
    """One report's thread: every inbound text, status change, follow-up, citizen answer and
    SMS with its delivery state, in order; the forms for admins."""
    detail = admin.report_detail(_rt(), _tracking(tracking_no))
    return render_template("console/report.html", r=detail, can_write=g.console_token.role == ApiRole.ADMIN)


@bp.get("/outbox")
@console_view(ApiRole.VIEWER)
def outbox():
    """Failed messages (requeue) and quarantined work (retry or drop)."""
    rt = _rt()
    page = int_arg("page", 1, 1, 100000)
    failed, total = admin.list_outbound(rt, OutboundStatus.FAILED, page, PER_PAGE)
    entries = quarantine.list_entries(rt, QuarantineState.QUARANTINED, None, PER_PAGE)
    return render_template(
        "console/outbox.html", failed=failed, total=total, entries=entries, page=page,
        pages=max(1, -(-total // PER_PAGE)), counts=quarantine.count_quarantined(rt),
        can_write=g.console_token.role == ApiRole.ADMIN,
    )  # fmt: skip


# -- acting (admin role) ----------------------------------------------------------------------


@bp.post("/reports/<tracking_no>/status")
@console_view(ApiRole.ADMIN)
def change_status(tracking_no: str):
    """Change the status with a note; the reporter gets a notice SMS."""
    status = request.form.get("status", "")
    if status not in REPORT_STATUS_LABELS:
        raise InvalidPayload("status", f"must be one of {', '.join(REPORT_STATUS_LABELS)}")
    note = clean_arg(request.form.get("note", ""), "note", required=False)
    result = admin.change_status(_rt(), _tracking(tracking_no), status, note, g.api_actor)
    return _done("status", tracking_no, f"Status set to {REPORT_STATUS_LABELS[status]}.", result)


@bp.post("/reports/<tracking_no>/follow-up")
@console_view(ApiRole.ADMIN)
def follow_up(tracking_no: str):
    """Post a follow-up (tindak lanjut); the reporter gets a notice SMS."""
    text = clean_arg(request.form.get("text", ""), "text", required=True)
    result = admin.post_follow_up(_rt(), _tracking(tracking_no), text, g.api_actor)
    return _done("follow_up", tracking_no, "Follow-up recorded.", result)


@bp.post("/reports/<tracking_no>/reply")
@console_view(ApiRole.ADMIN)
def reply(tracking_no: str):
    """Send the reporter an SMS (addressed by tracking number)."""
    text = clean_arg(request.form.get("text", ""), "text", required=True)
    result = admin.send_reply(_rt(), _tracking(tracking_no), text, g.api_actor)
    return _done("reply", tracking_no, "Reply queued.", result)


@bp.post("/reports/<tracking_no>/reply/count")
@console_view(ApiRole.ADMIN)
def count_reply(tracking_no: str):
    """The reply box's live counter: what the typed text costs, which characters force UCS-2,
    and the SMS the reporter will get (the notice around it, made GSM-7 and fitted)."""
    data = request.get_json(silent=True)
    raw = data.get("text") if isinstance(data, dict) else None
    if not isinstance(raw, str):
        raise InvalidPayload("text", "must be a string")
    text = clean_arg(raw, "text", required=False)
    sent = notices.reply_notice(_tracking(tracking_no), text, _rt().settings.short_code)
    return jsonify(
        chars=len(text), segments=gsm7.segments(text), encoding=gsm7.encoding(text),
        unfit=gsm7.unfit_chars(text), sent=sent, sent_chars=len(sent), sent_segments=gsm7.segments(sent),
    )  # fmt: skip


@bp.post("/outbox/<int:outbound_id>/requeue")
@console_view(ApiRole.ADMIN)
def requeue(outbound_id: int):
    """Give a FAILED message a fresh set of send attempts (the JSON API's requeue)."""
    done = requeue_failed(_rt(), outbound_id) if outbound_id <= MAX_ROW_ID else None
    if done is None:
        return _outbox_flash("requeue", ConsoleOutcome.NOT_FOUND, f"No message {outbound_id}.", 404)
    if not done:
        return _outbox_flash("requeue", ConsoleOutcome.REFUSED, f"Message {outbound_id} is not FAILED.", 409)
    log.info("console: MT %d requeued by %s", outbound_id, g.api_actor)
    return _outbox_flash("requeue", ConsoleOutcome.OK, f"Message {outbound_id} requeued.")


@bp.post("/quarantine/<int:entry_id>/<any(retry, drop):act>")
@console_view(ApiRole.ADMIN)
def quarantine_act(entry_id: int, act: str):
    """Retry or drop one quarantined piece of work."""
    try:
        entry = getattr(quarantine, act)(_rt(), entry_id) if entry_id <= MAX_ROW_ID else None
    except RedisError:
        return _outbox_flash(act, "unavailable", "Redis is unavailable: the entry is kept; retry later.", 503)
    if entry is None:
        return _outbox_flash(act, ConsoleOutcome.NOT_FOUND, f"No quarantined entry {entry_id}.", 404)
    log.info("console: quarantine entry %d %s by %s", entry_id, act, g.api_actor)
    return _outbox_flash(act, ConsoleOutcome.OK, f"Entry {entry_id}: {entry.state}.")


# -- helpers --------------------------------------------------------------------------------


def _tracking(tracking_no: str) -> str:
    if not TRACKING_NO.fullmatch(tracking_no):
        raise ReportNotFound(tracking_no)
    return tracking_no


def _done(action: str, tracking_no: str, message: str, result: dict):
    CONSOLE_REQUESTS.labels(action, ConsoleOutcome.OK).inc()
    # Ids and the actor only: never the text or the number.
    event = result["event_id"]
    log.info("console: %s on report %s by %s (event %s)", action, tracking_no, g.api_actor, event)
    flash(f"{message} Notice SMS {result['notice']['id']}: {result['notice']['state']}.")
    return redirect(url_for("console.report", tracking_no=tracking_no), 303)


def _outbox_flash(action: str, outcome: str, message: str, status: int = 303):
    CONSOLE_REQUESTS.labels(action, outcome).inc()
    flash(message)
    if status == 303:
        return redirect(url_for("console.outbox"), 303)
    return render_template("console/message.html", message=message), status


@bp.errorhandler(InvalidPayload)
def _invalid(exc: InvalidPayload):
    CONSOLE_REQUESTS.labels(request.endpoint or "unknown", ConsoleOutcome.INVALID).inc()
    return render_template("console/message.html", message=f"{exc.field}: {exc.reason}"), 400


@bp.errorhandler(ReportNotFound)
def _not_found(_exc):
    CONSOLE_REQUESTS.labels(request.endpoint or "unknown", ConsoleOutcome.NOT_FOUND).inc()
    return render_template("console/message.html", message="No report with this tracking number."), 404


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return render_template("console/message.html", message=exc.description), exc.code
