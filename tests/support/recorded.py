"""Recorded aggregator requests (tests/fixtures/<aggregator>/*.json) replayed through the
gateway's own web layer. Each file: method, path, query_string, headers, body or body_b64."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from gateway.aggregators.base import WireRequest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def load(aggregator: str, name: str) -> dict:
    """One recorded request."""
    return json.loads((FIXTURES / aggregator / f"{name}.json").read_text(encoding="utf-8"))


def body_of(fx: dict) -> bytes:
    """The request body as bytes."""
    return base64.b64decode(fx["body_b64"]) if "body_b64" in fx else fx.get("body", "").encode("utf-8")


def wire(fx: dict) -> WireRequest:
    """The WireRequest gateway.web.wire builds for the recorded request."""
    from flask import Request
    from werkzeug.test import EnvironBuilder

    from gateway.web.wire import wire_request

    content_type = next((v for k, v in fx["headers"].items() if k.lower() == "content-type"), None)
    builder = EnvironBuilder(
        path=fx["path"],
        query_string=fx.get("query_string", ""),
        method=fx["method"],
        data=body_of(fx),
        content_type=content_type,
    )
    return wire_request(Request(builder.get_environ()))
