"""SMS callbacks from aggregators: MO (`/sms/<aggregator>/inbound`) and DLR
(`/sms/<aggregator>/status`). Each answers only after the database has the data."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from gateway.aggregators import inbound_aggregator
from gateway.aggregators.base import Ack, Aggregator
from gateway.services.inbox import accept_inbound
from gateway.services.outbox import apply_status_updates
from gateway.web.auth import token_ok
from gateway.web.wire import wire_request

bp = Blueprint("sms", __name__, url_prefix="/sms")


def _authorised_aggregator(name: str) -> Aggregator:
    aggregator = inbound_aggregator(name)
    if aggregator is None:
        abort(404, description=f"unknown aggregator {name!r}")
    if not token_ok(request, current_app.extensions["gateway"].settings.inbound_token):
        abort(401, description="missing or wrong token")
    return aggregator


def _respond(ack: Ack) -> Response:
    return Response(ack.body, status=ack.status, content_type=ack.content_type)


@bp.route("/<name>/inbound", methods=["GET", "POST"])
def inbound(name: str):
    """Store the MO, then acknowledge; a repeat is acknowledged without being stored twice."""
    aggregator = _authorised_aggregator(name)
    messages = aggregator.parse_inbound(wire_request(request))
    result = accept_inbound(current_app.extensions["gateway"], aggregator.name, messages)
    return _respond(aggregator.inbound_ack(result.ids, result.duplicate))


@bp.route("/<name>/status", methods=["GET", "POST"])
def status(name: str):
    """Store and apply a delivery report."""
    aggregator = _authorised_aggregator(name)
    updates = aggregator.parse_status(wire_request(request))
    apply_status_updates(current_app.extensions["gateway"], aggregator.name, updates)
    return _respond(aggregator.status_ack())
