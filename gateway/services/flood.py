"""Per-number flood control: past a number of texts per window from one number, one polite
warning, then silence (no SMS cost) until the rate drops. Counted in Redis, shared by every
worker; idempotent, so a job that runs twice counts its MO once.

One count per number serves every channel that makes the gateway send SMS: an MO counts by
its inbound id, a USSD filing by its source key, a USSD "draft not sent" notice by its outbox
key. So a number cannot get more SMS out of the gateway over USSD than over SMS."""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from redis.exceptions import RedisError

from gateway.logconfig import mo_correlation
from gateway.msisdn import mask_msisdn
from gateway.runtime import Runtime

log = logging.getLogger("gateway.flood")


class FloodVerdict(StrEnum):
    """What to do with a number's text: answer it (OK), warn once (WARN), stay quiet (SILENT)."""

    OK = "OK"
    WARN = "WARN"
    SILENT = "SILENT"


def flood_verdict(count_in_window: int, limit: int) -> str:
    """What to do with a number's n-th text in the window: answer it, warn once, or stay quiet."""
    if count_in_window <= limit:
        return FloodVerdict.OK
    return FloodVerdict.WARN if count_in_window == limit + 1 else FloodVerdict.SILENT


# (number, what counts: an MO id or a USSD key, when), e.g. ("+62812...", 41, received_at)
Text = tuple[str, int | str, datetime]


def texts_in_window(rt: Runtime, texts: list[Text]) -> list[int]:
    """For each (number, MO id or USSD key, time): how many texts that number sent in the
    window ending at that one (that one included). A sorted set per number, member = MO id or
    USSD key (never alike: one is digits only), score = time: adding the same one twice changes
    nothing, so reruns and out-of-order processing count each once, and a batch is counted in
    one round trip (a count only covers scores up to its own time, so later texts of the batch
    do not inflate it)."""
    window = rt.settings.flood_window
    with rt.redis.pipeline(transaction=False) as p:
        for msisdn, member, received_at in texts:
            key, at = f"gw:flood:{msisdn}", received_at.timestamp()
            p.zadd(key, {str(member): at})
            p.zremrangebyscore(key, "-inf", at - 2 * window)
            p.expire(key, 2 * window)
        for msisdn, _, received_at in texts:
            at = received_at.timestamp()
            p.zcount(f"gw:flood:{msisdn}", at - window, at)
        answers = p.execute()
    return answers[3 * len(texts) :]


def check_floods(rt: Runtime, texts: list[Text]) -> list[str]:
    """OK, WARN or SILENT for each (number, MO id or USSD key, time). Fails open: without
    Redis every text is answered."""
    try:
        counts = texts_in_window(rt, texts)
    except RedisError:
        return [FloodVerdict.OK] * len(texts)
    verdicts = [flood_verdict(count, rt.settings.flood_limit) for count in counts]
    for (msisdn, key, _), count, verdict in zip(texts, counts, verdicts, strict=True):
        if verdict != FloodVerdict.OK:
            log.warning(
                "flood from %s: text %d in %ss -> %s",
                mask_msisdn(msisdn),
                count,
                rt.settings.flood_window,
                verdict,
                # An MO's line carries its id, as every other line about it (a USSD step has none).
                extra={"correlation_id": mo_correlation(key)} if isinstance(key, int) else None,
            )
    return verdicts
