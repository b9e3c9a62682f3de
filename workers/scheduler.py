"""The cron scheduler (`python -m workers.scheduler`, started by `make run` and
deploy/systemd/lapor-cron.service): RQ's CronScheduler with the jobs of workers/cron.py, which
enqueues them only while it holds the lease of workers.leader. Run one on every worker host:
one of them runs the jobs, the others wait and take over within GATEWAY_CRON_LEASE_TTL when it
dies or is cut off. A Redis outage (a Sentinel failover) does not stop the process: it waits
for Redis like the workers do."""

from __future__ import annotations

import logging
import os
import socket
import uuid

from redis.exceptions import RedisError
from rq.cron import CronJob, CronScheduler

from config.settings import load_settings
from gateway.logconfig import configure_logging
from gateway.redisconn import redis_from_url
from workers.leader import Lease

log = logging.getLogger("gateway.cron")
RETRY_PAUSE = 1.0  # seconds between tries while waiting for the lease or for Redis


class LeaderCronScheduler(CronScheduler):
    """A CronScheduler that enqueues only while `lease` is held and rides out Redis errors."""

    def __init__(self, connection, lease: Lease, **kwargs):
        super().__init__(connection, name=lease.name, **kwargs)
        self.lease = lease
        self._redis_failed = False

    def enqueue_jobs(self) -> list[CronJob]:
        """Enqueue what is due, if this scheduler holds the lease."""
        self._redis_failed = False
        if not self.lease.hold():
            return []
        try:
            return super().enqueue_jobs()
        except RedisError as exc:
            # A job not enqueued keeps its old time: it is due again at the next pass.
            log.warning("cron: enqueue failed, Redis unavailable (%s)", type(exc).__name__)
            self._redis_failed = True
            return []

    def calculate_sleep_interval(self) -> float:
        """Wake often enough to renew the lease, or to notice it is free; never spin: a waiting
        scheduler's jobs all look overdue to RQ, and so do jobs Redis refused."""
        if not self.lease.held() or self._redis_failed or not self.lease.redis_ok:
            return min(self.lease.renew_every, RETRY_PAUSE)
        return min(super().calculate_sleep_interval(), self.lease.renew_every)

    def heartbeat(self) -> None:
        """RQ's registry heartbeat; skipped while Redis is away."""
        try:
            super().heartbeat()
        except RedisError as exc:
            log.warning("cron: heartbeat failed, Redis unavailable (%s)", type(exc).__name__)

    def save(self, pipeline=None) -> None:
        """RQ's record of this scheduler; skipped while Redis is away (outside a pipeline)."""
        if pipeline is not None:
            return super().save(pipeline)
        try:
            super().save()
        except RedisError as exc:
            log.warning("cron: could not save the schedule, Redis unavailable (%s)", type(exc).__name__)

    def register_death(self, pipeline=None) -> None:
        """Give the lease up on the way out, then RQ's own bookkeeping."""
        self.lease.release()
        try:
            super().register_death(pipeline)
        except RedisError as exc:
            log.warning("cron: could not unregister, Redis unavailable (%s)", type(exc).__name__)


def main() -> None:
    """Build the scheduler from the environment and run it until SIGTERM/SIGINT."""
    settings = load_settings()
    configure_logging(settings)
    redis = redis_from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=5)
    name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    scheduler = LeaderCronScheduler(redis, Lease(redis, name, settings.cron_lease_ttl))
    scheduler.load_config_from_file("workers.cron")
    scheduler.start()


if __name__ == "__main__":
    main()
