"""`GET /metrics`: Prometheus text, behind its own bearer token (GATEWAY_METRICS_TOKEN).

With no token configured the route answers 404, as if it did not exist: nothing about the
traffic leaks from a gateway whose operator has not chosen to expose it. Only the
`Authorization: Bearer` header is accepted (no `?token=`: URLs end up in access logs)."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST

from gateway.metrics import scrape

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics():
    """Every metric, for a scraper that presents the metrics token."""
    rt = current_app.extensions["gateway"]
    expected = rt.settings.metrics_token
    if not expected:
        abort(404)
    header = request.headers.get("Authorization", "")
    presented = header[len("Bearer ") :].strip() if header.startswith("Bearer ") else ""
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        abort(401, description="missing or wrong metrics token")
    return Response(scrape(rt), content_type=CONTENT_TYPE_LATEST)
