"""USSD steps from aggregators (`POST /ussd/<format>`), answered in the same request: the
telco holds the citizen's screen open while it waits, so nothing slow happens here."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from gateway.aggregators.base import Ack, WireRequest
from gateway.metrics import USSD_STEP_LATENCY
from gateway.ussd.base import UssdFormat
from gateway.ussd.formats import REGISTRY
from gateway.ussd.service import handle_step
from gateway.web.auth import require_inbound_token
from gateway.web.wire import wire_request

bp = Blueprint("ussd", __name__, url_prefix="/ussd")


@bp.post("/<name>")
def step(name: str):
    """One step of a session: parse, run the menu, render CON/END in the format's own way."""
    rt = current_app.extensions["gateway"]
    # The token first: a caller without it learns nothing, not even which formats exist.
    require_inbound_token(request, rt.settings.inbound_token)
    fmt = REGISTRY.get(name)
    if fmt is None:
        abort(404, description=f"unknown USSD format {name!r}")
    ack = answer_step(rt, fmt, wire_request(request))
    return Response(ack.body, status=ack.status, content_type=ack.content_type)


def answer_step(rt, fmt: UssdFormat, wire: WireRequest) -> Ack:
    """Parse one step, run the menu, render the answer, timed: the route's path, shared with
    the /phone simulator (gateway.web.phone)."""
    with USSD_STEP_LATENCY.labels(fmt.name).time():
        ussd_step = fmt.parse(wire, rt.settings.region)
        return fmt.render(ussd_step.session_id, handle_step(rt, fmt, ussd_step))
