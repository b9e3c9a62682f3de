"""Turning a Flask request into the plain WireRequest the aggregators parse."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

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
    elif content_type == "application/x-www-form-urlencoded":
        form = decode_urlencoded(body)
    elif content_type == "multipart/form-data":
        form = dict(request.form.items())
    return WireRequest(
        method=request.method,
        query=decode_urlencoded(request.query_string),
        form=form,
        json=parsed_json,
        body=body,
        content_type=content_type,
        raw_query=request.query_string,
    )


def decode_urlencoded(raw: bytes) -> dict[str, str]:
    """Percent-decode as UTF-8, invalid bytes becoming U+FFFD so a parser can name the field.
    (Werkzeug would leave invalid sequences percent-encoded, indistinguishable from text.)"""
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="replace")
    return dict(pairs)
