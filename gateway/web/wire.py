"""Turning a Flask request into the plain WireRequest the aggregators parse."""

from __future__ import annotations

from flask import Request

from gateway.aggregators.base import WireRequest
from gateway.edge import decode_urlencoded, loads_json
from gateway.errors import InvalidPayload


def wire_request(request: Request) -> WireRequest:
    """Snapshot the request. Bad JSON or bad UTF-8 is a 400 naming the body. `content_type`
    keeps its parameters: a `charset=` there says how the body's text is encoded."""
    body = request.get_data(cache=True)  # bounded by MAX_CONTENT_LENGTH (413 beyond it)
    mimetype = (request.mimetype or "").lower()
    parsed_json = None
    form = {}
    if mimetype == "application/json":
        parsed_json = loads_json(body) if body else None
        if parsed_json is not None and not isinstance(parsed_json, dict):
            raise InvalidPayload("body", "must be a JSON object")
    elif mimetype == "application/x-www-form-urlencoded":
        form = decode_urlencoded(body, request.mimetype_params.get("charset") or "utf-8")
    elif mimetype == "multipart/form-data":
        form = dict(request.form.items())
    return WireRequest(
        method=request.method,
        query=decode_urlencoded(request.query_string),
        form=form,
        json=parsed_json,
        body=body,
        content_type=request.content_type or "",
        raw_query=request.query_string,
        path=request.path,
        headers=_headers(request),
    )


def unparsed_wire_request(request: Request) -> WireRequest:
    """The request without its body parsed (a body that cannot be parsed is a 400, but only
    after a signature check has had the chance to say 401)."""
    return WireRequest(
        method=request.method,
        query=decode_urlencoded(request.query_string),
        body=request.get_data(cache=True),
        content_type=request.content_type or "",
        raw_query=request.query_string,
        path=request.path,
        headers=_headers(request),
    )


def _headers(request: Request) -> dict[str, str]:
    """The headers with lower-case names (WireRequest.header looks them up in any case)."""
    return {name.lower(): value for name, value in request.headers.items()}
