"""The shared-secret check every aggregator callback passes."""

from __future__ import annotations

import hmac

from flask import Request, abort


def presented_token(request: Request) -> str:
    """`Authorization: Bearer <token>`, or `?token=` for aggregators that only configure a URL."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[len("Bearer ") :].strip()
    return request.args.get("token", "")


def token_ok(request: Request, expected: str) -> bool:
    """Constant-time comparison, so response timing leaks nothing about the secret."""
    return hmac.compare_digest(presented_token(request).encode(), expected.encode())


def require_inbound_token(request: Request, expected: str) -> None:
    """Abort with 401 unless the aggregator presented the inbound secret."""
    if not token_ok(request, expected):
        abort(401, description="missing or wrong token")
