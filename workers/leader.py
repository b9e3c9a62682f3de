"""Exactly one cron scheduler at a time, on any number of hosts: a lease in Redis.

`rq cron` has no such guard: two of them (two hosts, or a restart that overlaps) each enqueue
every periodic job. The jobs are idempotent, so that was only waste while there was one host;
with cron on every worker host it is N times the sweeps. Here every scheduler tries to hold
the lease `gw:cron:leader` (SET NX PX, renewed by its owner only, through a script), enqueues
jobs only while it holds it, and the others wait.

Across a Sentinel failover: replication is asynchronous, so a lease written to the old primary
may be missing on the promoted replica and a second scheduler would take it while the first
still believes it holds it. So the holder counts a grant or renewal only once every connected
replica has it (WAIT), and it believes in its lease only until `ttl` after the moment it
*sent* the last such renewal, by its own monotonic clock. The promoted replica has the lease
with at least that expiry (Redis replicates expiries as absolute times), so nobody else can
take it before the holder has stopped believing in it. A holder that cannot reach Redis steps
down when its lease runs out. What this assumes: the Redis hosts' clocks agree to well within
`ttl` (NTP), and a failover takes less than `ttl` (GATEWAY_CRON_LEASE_TTL)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError

from gateway.metrics import CRON_LEADERSHIP

log = logging.getLogger("gateway.cron")

KEY = "gw:cron:leader"
# Take the lease if free, or renew it if it is ours; 1 if we hold it now, 0 if another does.
_HOLD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Lease:
    """The cron scheduler's lease. Call `hold()` at least every `renew_every` seconds; it says
    whether this process may enqueue now."""

    def __init__(self, redis: Redis, name: str, ttl: float, clock: Callable[[], float] = time.monotonic):
        self.redis, self.name, self.ttl, self.clock = redis, name, ttl, clock
        self.until: float | None = None  # our lease is ours until then (monotonic), if held
        self.renew_every = ttl / 4
        self._seen_holder: str | None = None
        self.redis_ok = True  # whether the last hold() reached Redis

    def held(self) -> bool:
        """Whether our lease has not run out (no Redis round trip)."""
        return self.until is not None and self.clock() < self.until

    def hold(self) -> bool:
        """Take or renew the lease; True while it is ours."""
        was_held, until = self.held(), self.until
        sent_at = self.clock()
        self.redis_ok = False
        try:
            ours = bool(self.redis.eval(_HOLD, 1, KEY, self.name, int(self.ttl * 1000)))
            if ours and self._replicated():
                self.until = sent_at + self.ttl
            elif not ours:
                self.until = None
                self._note_waiting()
            self.redis_ok = True
        except RedisError as exc:
            # Keep what we had: our lease runs out by itself if Redis stays away.
            log.warning("cron lease: Redis unavailable (%s)", type(exc).__name__)
        return self._report(was_held, self.held(), until)

    def _replicated(self) -> bool:
        """Whether every replica connected to the primary has the write (none: trivially)."""
        replicas = int(self.redis.info("replication").get("connected_slaves", 0))
        if replicas == 0:
            return True
        acked = self.redis.wait(replicas, int(min(1000, self.ttl * 100)))
        if acked < replicas:
            log.warning("cron lease: renewal reached %s of %s replicas; not counted", acked, replicas)
        return acked >= replicas

    def _note_waiting(self) -> None:
        holder = self.redis.get(KEY)
        holder = holder.decode(errors="replace") if holder else None
        if holder != self._seen_holder:
            log.info("cron lease: %s waits; held by %s", self.name, holder or "nobody (expiring)")
            self._seen_holder = holder

    def _report(self, was_held: bool, is_held: bool, until: float | None) -> bool:
        if is_held and not was_held:
            log.info("cron lease: %s is the cron scheduler now", self.name)
            CRON_LEADERSHIP.labels("acquired").inc()
            self._seen_holder = None
        elif was_held and not is_held:
            # When it ran out by our clock, in wall-clock time: this line may be written much
            # later (the renewal that finds out can wait on a dead connection).
            ended = time.time() - (self.clock() - (until or self.clock()))
            log.warning("cron lease: %s lost the lease (ran out at %.3f); stops enqueuing", self.name, ended)
            CRON_LEADERSHIP.labels("lost").inc()
        return is_held

    def release(self) -> None:
        """Give the lease up (a clean stop), so a waiting scheduler takes over at once."""
        held, self.until = self.held(), None
        try:
            self.redis.eval(_RELEASE, 1, KEY, self.name)
        except RedisError as exc:
            log.warning("cron lease: could not release (%s); it runs out by itself", type(exc).__name__)
        if held:
            log.info("cron lease: %s released the lease", self.name)
            CRON_LEADERSHIP.labels("released").inc()
