"""SMS callbacks from aggregators: MO (`/sms/<aggregator>/inbound`) and DLR
(`/sms/<aggregator>/status`). Each answers only after the database has the data.

The views know no aggregator by name: every one is found in the registry, passes the shared
inbound token check here, then its own `verify` (a native signature, where it has one)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.exc import DataError, IntegrityError

from gateway.aggregators import inbound_aggregator
from gateway.aggregators.base import Ack, Aggregator, WireRequest
from gateway.errors import CallbackRefused, InvalidPayload
from gateway.metrics import CALLBACKS_REFUSED, DLR_RECEIVED, MO_RECEIVED
from gateway.outcomes import Receipt
from gateway.services.inbox import Accepted, accept_inbound
from gateway.services.outbox import apply_status_updates
from gateway.web.auth import require_inbound_token
from gateway.web.signature import already_handled, remember_handled
from gateway.web.wire import unparsed_wire_request, wire_request

bp = Blueprint("sms", __name__, url_prefix="/sms")
log = logging.getLogger("gateway.web.sms")


def _authorised(name: str) -> tuple[Aggregator, WireRequest, str | None]:
    """The aggregator and the request, once the caller proved who it is; and the request's
    replay key when the aggregator checked a native signature (None otherwise)."""
    rt = current_app.extensions["gateway"]
    # The token first: a caller without it learns nothing, not even which names exist.
    require_inbound_token(request, rt.settings.inbound_token)
    aggregator = inbound_aggregator(name)
    if aggregator is None:
        abort(404, description=f"unknown aggregator {name!r}")
    try:
        wire, unreadable = wire_request(request), None
    except InvalidPayload as exc:  # answered 400, but only once the signature passed
        wire, unreadable = unparsed_wire_request(request), exc
    try:
        replay_key = aggregator.verify(wire, rt.settings.aggregator_config(aggregator.name), rt.settings)
    except CallbackRefused as exc:
        # A forged or misconfigured callback (say, GATEWAY_PUBLIC_URL not the URL the
        # aggregator calls): visible in the log and the metrics, never silently dropped.
        route = request.path.rsplit("/", 1)[-1]
        CALLBACKS_REFUSED.labels(aggregator.name, route if route in ("inbound", "status") else "other").inc()
        log.warning("%s callback to /%s refused: %s", aggregator.name, route, exc)
        abort(401, description=str(exc))
    if unreadable is not None:
        raise unreadable
    return aggregator, wire, replay_key


def _handled(replay_key: str | None) -> None:
    """After a successful commit: a replay of this signed request is a known duplicate."""
    if replay_key:
        rt = current_app.extensions["gateway"]
        remember_handled(rt.redis, replay_key, rt.settings.signature_window)


def _replayed(replay_key: str | None) -> bool:
    return bool(replay_key) and already_handled(current_app.extensions["gateway"].redis, replay_key)


def _respond(ack: Ack) -> Response:
    return Response(ack.body, status=ack.status, content_type=ack.content_type)


@bp.route("/<name>/inbound", methods=["GET", "POST"])
def inbound(name: str):
    """Store the MO, then acknowledge; a repeat is acknowledged without being stored twice."""
    try:
        aggregator, wire, replay_key = _authorised(name)
    except InvalidPayload:  # answered 400 by the app's handlers
        MO_RECEIVED.labels(name, Receipt.REFUSED).inc()  # `name` is registered: a bounded label set
        raise
    if _replayed(replay_key):  # stored before: the same answer as any duplicate, no database
        MO_RECEIVED.labels(aggregator.name, Receipt.DUPLICATE).inc()
        return _respond(aggregator.inbound_ack([], duplicate=True))
    result = receive_inbound(current_app.extensions["gateway"], aggregator, wire)
    _handled(replay_key)
    return _respond(aggregator.inbound_ack(result.ids, result.duplicate))


def receive_inbound(rt, aggregator: Aggregator, wire: WireRequest) -> Accepted:
    """Parse and store the MOs of one request, counted: the receive path of the inbound route,
    shared with the /phone simulator (gateway.web.phone) so it goes through the same steps."""
    try:
        messages = aggregator.parse_inbound(wire)
        try:
            result = accept_inbound(rt, aggregator.name, messages)
        except InvalidPayload as exc:  # checked by our name for the field: say the aggregator's
            raise InvalidPayload(aggregator.wire_field(exc.field), exc.reason) from None
    except (InvalidPayload, DataError, IntegrityError):  # answered 400 by the app's handlers
        MO_RECEIVED.labels(aggregator.name, Receipt.REFUSED).inc()
        raise
    # Counted from what the insert already told us: no extra round trip on the hot path.
    if result.ids:
        MO_RECEIVED.labels(aggregator.name, Receipt.ACCEPTED).inc(len(result.ids))
    if result.repeats:  # parts of long MOs are counted by gateway.services.multipart
        MO_RECEIVED.labels(aggregator.name, Receipt.DUPLICATE).inc(result.repeats)
    return result


@bp.route("/<name>/status", methods=["GET", "POST"])
def status(name: str):
    """Store and apply a delivery report."""
    aggregator, wire, replay_key = _authorised(name)
    if _replayed(replay_key):  # applied before: acknowledged again, not applied twice
        return _respond(aggregator.status_ack())
    updates = aggregator.parse_status(wire)
    try:
        apply_status_updates(current_app.extensions["gateway"], aggregator.name, updates)
    except InvalidPayload as exc:  # checked by our name for the field: say the aggregator's
        raise InvalidPayload(aggregator.wire_field(exc.field), exc.reason) from None
    _handled(replay_key)
    for update in updates:  # update.status is one of DLR_STATUSES: a fixed label set
        DLR_RECEIVED.labels(aggregator.name, update.status).inc()
    return _respond(aggregator.status_ack())
