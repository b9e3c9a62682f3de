"""The failed-look-up throttle shared by every channel (SMS CEK/BALAS, the USSD menu): too many
look-ups of reports a number does not own, within a window, and it gets a "try later" answer,
so tracking numbers cannot be probed from one phone. Counters live in Redis; a Redis outage
opens the throttle rather than refusing a citizen an answer."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from gateway.runtime import Runtime

log = logging.getLogger("gateway.throttle")


def _failed_lookup_key(msisdn: str) -> str:
    # A set of look-up ids (not a counter): a look-up made again, because its batch failed
    # after Redis counted it and was redone MO by MO, is the same member, counted once.
    return f"gw:lookup-fails:{msisdn}"


def lookups_blocked(rt: Runtime, msisdn: str) -> bool:
    """Too many failed CEK/BALAS look-ups from this number within the window."""
    try:
        count = rt.redis.scard(_failed_lookup_key(msisdn))
    except RedisError:
        return False  # a throttle is not worth refusing a citizen an answer
    return count >= rt.settings.check_fail_limit


def count_failed_lookup(rt: Runtime, msisdn: str, attempt: str) -> None:
    """Count one failed look-up, once per `attempt` (the MO, or the USSD step, that made it);
    the window starts with the first failure."""
    key = _failed_lookup_key(msisdn)
    try:
        with rt.redis.pipeline() as p:
            p.sadd(key, attempt)
            p.expire(key, rt.settings.check_fail_window, nx=True)
            p.execute()
    except RedisError:
        log.warning("could not count a failed look-up (Redis unavailable)")
