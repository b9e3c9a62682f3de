"""Turning a Flask request into the plain WireRequest the aggregators parse."""

from __future__ import annotations

import json

from flask import Request

from gateway.aggregators.base import WireRequest
from gateway.errors import InvalidPayload


def wire_request(request: Request) -> WireRequest:
    """Snapshot the request. Bad JSON or bad UTF-8 is a 400 naming the body."""
    body = request.get_data(cache=True)  # bounded by MAX_CONTENT_LENGTH (413 beyond it)
    content_type = (request.mimetype or "").lower()
    parsed_json = None
    form = {}
    if content_type == "application/json":
        try:
            parsed_json = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError):
            raise InvalidPayload("body", "is not valid UTF-8 JSON") from None
        if parsed_json is not None and not isinstance(parsed_json, dict):
            raise InvalidPayload("body", "must be a JSON object")
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = _decoded(request.form)
    return WireRequest(
        method=request.method,
        query=_decoded(request.args),
        form=form,
        json=parsed_json,
        body=body,
        content_type=content_type,
    )


def _decoded(multidict) -> dict[str, str]:
    # Werkzeug decodes percent-escapes as UTF-8, replacing invalid bytes with U+FFFD.
    values = {k: v for k, v in multidict.items()}
    for name, value in values.items():
        if "\ufffd" in value:
            raise InvalidPayload(name, "is not valid UTF-8")
    return values
