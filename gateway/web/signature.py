"""Optional signed callbacks for the generic aggregator (`GATEWAY_GENERIC_SIGNING_SECRET`):
proof that the body came from the aggregator, unchanged, recently, and only once. The scheme
is the gateway's one signature scheme (gateway.security), the same as the complaint-system
link's:

    X-Lapor-Timestamp: 1795966036
    X-Lapor-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>
"""

from __future__ import annotations

from redis import Redis
from redis.exceptions import RedisError

from gateway.security import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify_signature

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "first_use", "sign", "verify_signature"]


def first_use(redis: Redis, signature: str, window: int) -> bool:
    """True the first time a signature is seen within the window; a replay is refused. Without
    Redis the timestamp window alone limits replays (the MO id dedupe still holds)."""
    try:
        return bool(redis.set(f"gw:sig:{signature.strip()}", 1, nx=True, ex=2 * window))
    except RedisError:
        return True
