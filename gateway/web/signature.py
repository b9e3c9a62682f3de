"""Replay memory for signed callbacks. An aggregator's `verify` checks its native signature
and returns a replay key (gateway.aggregators.base); the view remembers it here. The generic
aggregator's optional signature (`GATEWAY_GENERIC_SIGNING_SECRET`, checked in
gateway.aggregators.generic) is proof that the body came from the aggregator, unchanged and
recently, in the gateway's one signature scheme (gateway.security), the same as the
complaint-system link's:

    X-Lapor-Timestamp: 1795966036
    X-Lapor-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>

Replays. A signature is remembered only once its request was handled (after the commit); a
replay of it is answered as the duplicate it is, without touching the database, so a replay
does nothing and an aggregator's honest retry (it missed our 2xx) is not refused with a 401
it would give up on. A request that failed (503) was never remembered, so its retry is handled
in full. The HMAC covers the body, so a remembered signature cannot carry different content;
beyond the window the timestamp refuses it, and the (aggregator, id) unique key still dedupes.
"""

from __future__ import annotations

from redis import Redis
from redis.exceptions import RedisError

from gateway.security import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify_signature

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "already_handled",
    "remember_handled",
    "sign",
    "verify_signature",
]


def _key(signature: str) -> str:
    return f"gw:sig:{signature.strip()}"


def already_handled(redis: Redis, signature: str) -> bool:
    """True when a request with this signature was handled successfully (within twice the
    window). Without Redis, False: the request is handled and the unique keys dedupe it."""
    try:
        return bool(redis.exists(_key(signature)))
    except RedisError:
        return False


def remember_handled(redis: Redis, signature: str, window: int) -> None:
    """Remember a signature whose request was handled (call after the commit, never before:
    a request that failed must stay retryable). Best effort without Redis."""
    try:
        redis.set(_key(signature), 1, ex=2 * window)
    except RedisError:
        pass
