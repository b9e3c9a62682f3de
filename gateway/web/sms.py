"""SMS callbacks from aggregators: MO (`/sms/<aggregator>/inbound`) and DLR
(`/sms/<aggregator>/status`). Each answers only after the database has the data."""

from __future__ import annotations

import time

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.exc import DataError, IntegrityError

from gateway.aggregators import inbound_aggregator
from gateway.aggregators.base import Ack, Aggregator, WireRequest
from gateway.errors import InvalidPayload
from gateway.metrics import DLR_RECEIVED, MO_RECEIVED
from gateway.services.inbox import Accepted, accept_inbound
from gateway.services.outbox import apply_status_updates
from gateway.web.auth import require_inbound_token
from gateway.web.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    already_handled,
    remember_handled,
    verify_signature,
)
from gateway.web.wire import wire_request

bp = Blueprint("sms", __name__, url_prefix="/sms")


def _authorised_aggregator(name: str) -> tuple[Aggregator, str | None]:
    """The aggregator, once the caller proved who it is; and the request's signature when
    signed callbacks are configured (None otherwise)."""
    rt = current_app.extensions["gateway"]
    # The token first: a caller without it learns nothing, not even which names exist.
    require_inbound_token(request, rt.settings.inbound_token)
    aggregator = inbound_aggregator(name)
    if aggregator is None:
        abort(404, description=f"unknown aggregator {name!r}")
    if aggregator.name == "generic" and rt.settings.generic_signing_secret:
        return aggregator, _check_signature(rt)
    return aggregator, None


def _check_signature(rt) -> str:
    settings = rt.settings
    signature_value = request.headers.get(SIGNATURE_HEADER)
    problem = verify_signature(
        settings.generic_signing_secret,
        request.headers.get(TIMESTAMP_HEADER),
        signature_value,
        request.get_data(cache=True),
        time.time(),
        settings.signature_window,
    )
    if problem:
        abort(401, description=problem)
    return signature_value


def _handled(signature: str | None) -> None:
    """After a successful commit: a replay of this signed request is a known duplicate."""
    if signature:
        rt = current_app.extensions["gateway"]
        remember_handled(rt.redis, signature, rt.settings.signature_window)


def _replayed(signature: str | None) -> bool:
    return bool(signature) and already_handled(current_app.extensions["gateway"].redis, signature)


def _respond(ack: Ack) -> Response:
    return Response(ack.body, status=ack.status, content_type=ack.content_type)


@bp.route("/<name>/inbound", methods=["GET", "POST"])
def inbound(name: str):
    """Store the MO, then acknowledge; a repeat is acknowledged without being stored twice."""
    aggregator, signature = _authorised_aggregator(name)
    if _replayed(signature):  # stored before: the same answer as any duplicate, no database
        MO_RECEIVED.labels(aggregator.name, "duplicate").inc()
        return _respond(aggregator.inbound_ack([], duplicate=True))
    result = receive_inbound(current_app.extensions["gateway"], aggregator, wire_request(request))
    _handled(signature)
    return _respond(aggregator.inbound_ack(result.ids, result.duplicate))


def receive_inbound(rt, aggregator: Aggregator, wire: WireRequest) -> Accepted:
    """Parse and store the MOs of one request, counted: the receive path of the inbound route,
    shared with the /phone simulator (gateway.web.phone) so it goes through the same steps."""
    try:
        messages = aggregator.parse_inbound(wire)
        result = accept_inbound(rt, aggregator.name, messages)
    except (InvalidPayload, DataError, IntegrityError):  # answered 400 by the app's handlers
        MO_RECEIVED.labels(aggregator.name, "refused").inc()
        raise
    # Counted from what the insert already told us: no extra round trip on the hot path.
    if result.ids:
        MO_RECEIVED.labels(aggregator.name, "accepted").inc(len(result.ids))
    if len(messages) > len(result.ids):
        MO_RECEIVED.labels(aggregator.name, "duplicate").inc(len(messages) - len(result.ids))
    return result


@bp.route("/<name>/status", methods=["GET", "POST"])
def status(name: str):
    """Store and apply a delivery report."""
    aggregator, signature = _authorised_aggregator(name)
    if _replayed(signature):  # applied before: acknowledged again, not applied twice
        return _respond(aggregator.status_ack())
    updates = aggregator.parse_status(wire_request(request))
    apply_status_updates(current_app.extensions["gateway"], aggregator.name, updates)
    _handled(signature)
    for update in updates:  # update.status is one of DLR_STATUSES: a fixed label set
        DLR_RECEIVED.labels(aggregator.name, update.status).inc()
    return _respond(aggregator.status_ack())
