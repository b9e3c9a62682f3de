"""`GET /metrics`: Prometheus text, behind its own bearer token (GATEWAY_METRICS_TOKEN).

With no token configured the route answers 404, as if it did not exist: nothing about the
traffic leaks from a gateway whose operator has not chosen to expose it. Only the
`Authorization: Bearer` header is accepted (no `?token=`: URLs end up in access logs)."""

from __future__ import annotations

import hmac
import logging
import time

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST

from gateway.metrics import scrape

bp = Blueprint("metrics", __name__)
log = logging.getLogger("gateway.metrics")

# The other processes' metric files are read while they write them: a read caught mid-write
# is tried again this much later, once.
RETRY_AFTER = 0.05


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
    for attempt in (1, 2):
        try:
            return Response(scrape(rt), content_type=CONTENT_TYPE_LATEST)
        except Exception as exc:  # a scrape failing must say why, and not as a 500
            log.warning("metrics: scrape %d failed (%s)", attempt, type(exc).__name__, exc_info=attempt == 2)
            if attempt == 2:
                abort(
                    503, description=f"metrics unreadable ({type(exc).__name__}); the next scrape may succeed"
                )
            time.sleep(RETRY_AFTER)
