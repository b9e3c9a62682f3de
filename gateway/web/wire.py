"""Turning a Flask request into the plain WireRequest the aggregators parse."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from flask import Request

from gateway.aggregators.base import WireRequest
from gateway.edge import loads_json, text_codec, without_lone_surrogates
from gateway.errors import InvalidPayload

_NON_ASCII = re.compile(rb"[\x80-\xff]")


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
        url=request.url,
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
        url=request.url,
        headers=_headers(request),
    )


def _headers(request: Request) -> dict[str, str]:
    """The headers with lower-case names (WireRequest.header looks them up in any case)."""
    return {name.lower(): value for name, value in request.headers.items()}


def decode_urlencoded(raw: bytes, charset: str = "utf-8") -> dict[str, str]:
    """Decode `a=b&c=d` in `charset`, percent-escaped bytes and raw ones alike (some
    aggregators post raw UTF-8 without %-encoding it); invalid bytes become U+FFFD so a parser
    can name the field. (Werkzeug would leave invalid sequences percent-encoded,
    indistinguishable from text.)"""
    codec = text_codec(charset)
    # Escape the raw bytes too, so unquoting turns both forms into the same bytes, decoded once.
    escaped = _NON_ASCII.sub(lambda m: b"%%%02X" % m.group()[0], raw).decode("ascii")
    pairs = parse_qsl(escaped, keep_blank_values=True, encoding=codec, errors="replace")
    # A charset such as utf-7 can decode to a lone surrogate: replaced, as invalid bytes are.
    return {without_lone_surrogates(k): without_lone_surrogates(v) for k, v in pairs}
