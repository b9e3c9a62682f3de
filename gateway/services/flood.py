"""Per-number flood control: past a number of texts per window from one number, one polite
warning, then silence (no SMS cost) until the rate drops. Counted in Redis, shared by every
worker; idempotent, so a job that runs twice counts its MO once."""

from __future__ import annotations

import logging
from datetime import datetime

from redis.exceptions import RedisError

from gateway.msisdn import mask_msisdn
from gateway.runtime import Runtime

log = logging.getLogger("gateway.flood")

OK, WARN, SILENT = "OK", "WARN", "SILENT"


def flood_verdict(count_in_window: int, limit: int) -> str:
    """What to do with a number's n-th text in the window: answer it, warn once, or stay quiet."""
    if count_in_window <= limit:
        return OK
    return WARN if count_in_window == limit + 1 else SILENT


def texts_in_window(rt: Runtime, msisdn: str, inbound_id: int, received_at: datetime) -> int:
    """How many texts this number sent in the window ending at this one (this one included).
    A sorted set per number, member = MO id, score = time received: adding the same MO twice
    changes nothing, so reruns and out-of-order processing count each MO once."""
    window = rt.settings.flood_window
    key = f"gw:flood:{msisdn}"
    at = received_at.timestamp()
    with rt.redis.pipeline() as p:
        p.zadd(key, {str(inbound_id): at})
        p.zremrangebyscore(key, "-inf", at - 2 * window)
        p.zcount(key, at - window, at)
        p.expire(key, 2 * window)
        count = p.execute()[2]
    return count


def check_flood(rt: Runtime, msisdn: str, inbound_id: int, received_at: datetime) -> str:
    """OK, WARN or SILENT for this MO. Fails open: without Redis every text is answered."""
    try:
        count = texts_in_window(rt, msisdn, inbound_id, received_at)
    except RedisError:
        return OK
    verdict = flood_verdict(count, rt.settings.flood_limit)
    if verdict != OK:
        log.warning(
            "flood from %s: text %d in %ss -> %s",
            mask_msisdn(msisdn),
            count,
            rt.settings.flood_window,
            verdict,
        )
    return verdict
