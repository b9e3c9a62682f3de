"""The aggregator's send rate is law: at most `GATEWAY_<NAME>_TPS` requests in any one
second, counted across every worker on every host (a sliding window in Redis), and when the
aggregator answers 429 anyway every worker pauses together (a shared key with the backoff).

Why a sliding window of send times and not a token bucket: a bucket lets a full bucket's
burst through at the start of a second and the refill right after, which an aggregator
counting per second sees as more than the cap; a window of the actual send times cannot be
exceeded over any one-second span. The check and the reservation are one Lua script, so two
workers can never both take the last slot. The clock is Redis's own (`TIME`), so hosts whose
clocks disagree still share one window.

Even spacing, as Kannel's `throughput` and Jasmin's connector throughput send: sends are at
least 1/TPS of the window apart, never the whole second's slots at once. A window's worth
taken at once reaches the aggregator with uneven delays (new connections, 64 threads
waking on one GIL) and some land in its next second: `make bench`'s cap of 50 saw 59 in
one second and nine 429s that way. Each send reserves its slot in one script call (the
slot may lie a little in the future; the thread sleeps until it), so waiting threads do
not poll Redis.

Replies first: a bulk send (a notice) is admitted only while the window has more than
`reserve` free slots, so a citizen's reply always finds room (`bulk_limit`).

If Redis is unreachable, sending does not stop: each process keeps its own window of
TPS / FALLBACK_SHARE (we cannot know how many workers share the cap), and says so in the log.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError

from gateway.metrics import SEND_RATE_WAITS

log = logging.getLogger("gateway.sendrate")

WINDOW = 1.0
# Slack on the window: a request admitted at t reaches the aggregator a little later, and
# not always equally later; counting 1.05 s keeps its own one-second count under the cap.
MARGIN = 0.1
# Without Redis, each process gets this share of the cap (a deployment runs a few workers).
FALLBACK_SHARE = 4
# Pause every worker this long after a 429 that gave no Retry-After.
DEFAULT_PAUSE = 1.0
# The longest pause a Retry-After can impose (a bogus huge one must not stop sending for days).
MAX_PAUSE = 60.0
# Without a cap, a send only asks Redis whether another worker paused us after a 429, and a
# process asks at most this often per aggregator (not once per MT, on the send path): another
# worker's pause is seen within this long; this process's own pause at once.
PAUSE_RECHECK = 0.1
# A notice reserves a slot at most this far ahead (it asks again when the slot is near), so a
# reply that comes in finds the next slots free and goes within about this long.
BULK_AHEAD = 0.2
# A reserved slot missed by more than this (the process was descheduled, or its threads
# queued for the GIL) is given up for a fresh one rather than sent late.
MAX_LATE = 0.03
# What SendRate._admit found: a slot reserved (maybe a little ahead), a reason to wait and ask
# again (a pause), or no slot within the caller's patience.
_RESERVED, _WAIT, _FULL = "reserved", "wait", "full"

# KEYS: the window (sorted set of reserved send times, microseconds) and the pause key.
# ARGV: limit, window (us), now (us; empty: Redis's clock), a unique member, spacing (us),
# horizon (us: the latest slot the caller will wait for).
# Returns {1, us until the slot} when reserved; {0, us} when paused; {-1, us} when the
# first free slot lies beyond the horizon (nothing reserved).
_RESERVE = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return {0, paused * 1000} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - window))
local count = redis.call('ZCARD', KEYS[1])
local slot = now
if count > 0 then
  local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  slot = math.max(slot, tonumber(newest[2]) + tonumber(ARGV[5]))
  if count >= limit then
    local kth = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
    slot = math.max(slot, tonumber(kth[2]) + window + 1)
  end
end
if slot - now > tonumber(ARGV[6]) then return {-1, slot - now} end
redis.call('ZADD', KEYS[1], slot, ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil((slot - now + window) / 1000) + 1000)
return {1, slot - now}
"""


def most_in_any_window(times: list[float], window: float = WINDOW) -> int:
    """The largest number of these times inside one closed span of `window` seconds (what
    the tests and the bench check the cap against)."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] < t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def bulk_limit(tps: int) -> int:
    """How many of the window's `tps` slots bulk sends may fill: a fifth (at least one) stays
    free for replies; with a cap of 1 there is nothing to share, and notices take it too."""
    return tps if tps < 2 else tps - max(1, tps // 5)


class LocalWindow:
    """The same sliding window, in one process (the fallback when Redis is down). Pure apart
    from the clock it is given, so its guarantee is tested with a controlled clock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, window: float = WINDOW + MARGIN):
        self.clock = clock
        self.window = window
        self._times: deque[float] = deque()
        self._paused_until = float("-inf")
        self._lock = threading.Lock()

    def admit(self, limit: int) -> float:
        """0.0 if a send may go now (and it is recorded), else the seconds to wait."""
        with self._lock:
            now = self.clock()
            if now < self._paused_until:
                return self._paused_until - now
            while self._times and self._times[0] < now - self.window:
                self._times.popleft()
            if len(self._times) < limit:
                self._times.append(now)
                return 0.0
            # Just past the moment the oldest send that counts leaves the window.
            return max(1e-6, self._times[len(self._times) - limit] + self.window - now + 1e-6)

    def pause(self, seconds: float) -> None:
        """No sends for `seconds` from now (a 429 while Redis is down)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self.clock() + seconds)


class SendRate:
    """Each aggregator's send-rate cap, as one process applies it. `caps`: aggregator name to
    TPS, 0 or missing for no cap (a 429 still pauses every worker)."""

    def __init__(
        self,
        redis: Redis,
        caps: dict[str, int],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        redis_now: Callable[[], int | None] = lambda: None,
    ):
        self.redis = redis
        self.caps = caps
        self.clock = clock
        self.sleep = sleep
        self.redis_now = redis_now  # tests: a controlled clock for the script (microseconds)
        self._script = redis.register_script(_RESERVE)
        self._local: dict[str, LocalWindow] = {}
        self._lock = threading.Lock()
        self._degraded = False
        self._pause_seen: dict[str, tuple[float, float]] = {}  # aggregator: (checked at, until)

    def acquire(self, aggregator: str, bulk: bool = False, max_wait: float = 30.0) -> bool:
        """Wait until a send to `aggregator` may go and take its slot; False if that would
        take longer than `max_wait` seconds (the caller hands the send off for later)."""
        deadline = self.clock() + max_wait
        waited = False
        while True:
            left = deadline - self.clock()
            ahead = min(left, BULK_AHEAD) if bulk else left
            state, wait, member = self._admit(aggregator, bulk, max(0.0, ahead))
            if wait > 0 and not waited:
                waited = True
                SEND_RATE_WAITS.labels(aggregator, "bulk" if bulk else "reply").inc()
            if state == _FULL:
                if wait > left:
                    return False
                self.sleep(wait - ahead)  # a notice: ask again once its slot is near
                continue
            if state == _RESERVED:
                if wait <= 0:
                    return True
                slot = self.clock() + wait
                self.sleep(wait)
                # Woken well after the slot (this process stalled): sending now would bunch
                # with the sends after it, so the slot is given back and a fresh one taken.
                # And a 429 to another worker while this one slept: honour the pause.
                if self.clock() - slot <= MAX_LATE and self._shared_pause_left(aggregator) <= 0:
                    return True
                self._give_back(aggregator, member)
                continue
            left = deadline - self.clock()
            if left <= 0:
                return False
            self.sleep(min(wait, left))

    def pause(self, aggregator: str, seconds: float | None) -> None:
        """The aggregator said 429 (or its throttling code): every worker waits `seconds`
        (its Retry-After; DEFAULT_PAUSE without one) before its next request."""
        seconds = min(MAX_PAUSE, seconds if seconds and seconds > 0 else DEFAULT_PAUSE)
        log.warning("%s throttled us: every worker pauses %.1fs", aggregator, seconds)
        self._window(aggregator).pause(seconds)
        now = self.clock()
        self._pause_seen[aggregator] = (now, now + seconds)
        try:
            self.redis.set(_pause_key(aggregator), b"1", px=max(1, int(seconds * 1000)))
        except RedisError as exc:
            log.warning("cannot share the pause for %s (Redis): %s", aggregator, exc)

    def _admit(self, aggregator: str, bulk: bool, horizon: float) -> tuple[str, float, str]:
        """(_RESERVED, seconds until the slot taken, its member in the window), (_WAIT,
        seconds before asking again: a pause, or this process's own window without Redis) or
        (_FULL, seconds): no slot within `horizon` seconds."""
        tps = self.caps.get(aggregator, 0)
        limit = bulk_limit(tps) if bulk else tps
        try:
            if not limit:  # no cap: only a shared pause can hold the send
                wait = self._shared_pause_left(aggregator)
                return (_WAIT, wait, "") if wait > 0 else (_RESERVED, 0.0, "")
            window_us, member = int((WINDOW + MARGIN) * 1e6), os.urandom(8).hex()
            args = [limit, window_us, self.redis_now() or "", member, window_us // tps]
            state, wait_us = self._script(
                keys=[_window_key(aggregator), _pause_key(aggregator)], args=[*args, int(horizon * 1e6)]
            )
        except RedisError as exc:
            wait = self._admit_locally(aggregator, limit, exc)
            return (_WAIT, wait, "") if wait > 0 else (_RESERVED, 0.0, "")
        if self._degraded:
            self._degraded = False
            log.warning("Redis is back: send rates shared again")
        return {1: _RESERVED, 0: _WAIT}.get(int(state), _FULL), wait_us / 1e6, member

    def _give_back(self, aggregator: str, member: str) -> None:
        """Take an unused slot out of the window, so a stall does not cost the cap a send."""
        if member:
            try:
                self.redis.zrem(_window_key(aggregator), member)
            except RedisError:
                pass  # the slot just counts until it leaves the window

    def _shared_pause_left(self, aggregator: str) -> float:
        """Seconds left of a pause any worker set (0: none), asking Redis at most every
        PAUSE_RECHECK seconds."""
        now = self.clock()
        checked, until = self._pause_seen.get(aggregator, (float("-inf"), 0.0))
        if now - checked >= PAUSE_RECHECK:
            try:
                until = now + max(0, self.redis.pttl(_pause_key(aggregator))) / 1000
            except RedisError:  # only this process's own pause is known until Redis is back
                pass
            self._pause_seen[aggregator] = (now, until)
        return max(0.0, until - now)

    def _admit_locally(self, aggregator: str, limit: int, exc: Exception) -> float:
        if not self._degraded:
            self._degraded = True
            log.warning(
                "Redis unreachable (%s): each process sends at most 1/%d of the TPS cap until it is back",
                type(exc).__name__,
                FALLBACK_SHARE,
            )
        share = max(1, limit // FALLBACK_SHARE) if limit else 1 << 40
        return self._window(aggregator).admit(share)

    def _window(self, aggregator: str) -> LocalWindow:
        with self._lock:  # the sender's threads may ask for a new aggregator's window at once
            if aggregator not in self._local:
                self._local[aggregator] = LocalWindow(self.clock)
            return self._local[aggregator]


def _window_key(aggregator: str) -> str:
    return f"gw:sendrate:{aggregator}:window"


def _pause_key(aggregator: str) -> str:
    return f"gw:sendrate:{aggregator}:pause"
