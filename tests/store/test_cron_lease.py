"""The cron scheduler's lease (workers.leader) on a real Redis: one holder at a time, the
others wait; a release or a holder that stops renewing lets the next one take over; the
scheduler enqueues only while it holds the lease."""

from __future__ import annotations

import time

from rq import Queue

from workers.leader import KEY, Lease
from workers.scheduler import RETRY_PAUSE, LeaderCronScheduler


def test_one_holder_the_other_waits_and_takes_over_on_release(redis_db):
    a, b = Lease(redis_db, "host-a:1", ttl=5), Lease(redis_db, "host-b:1", ttl=5)
    assert a.hold() is True
    assert b.hold() is False
    assert a.hold() is True  # a renewal, not a second grant
    assert redis_db.get(KEY) == b"host-a:1"
    a.release()
    assert not a.held()
    assert b.hold() is True
    assert a.hold() is False


def test_a_holder_that_stops_renewing_is_replaced_after_the_ttl(redis_db):
    a, b = Lease(redis_db, "host-a:1", ttl=1), Lease(redis_db, "host-b:1", ttl=1)
    assert a.hold() is True
    assert b.hold() is False
    time.sleep(1.1)  # a is gone (killed, cut off): no renewal
    assert not a.held()  # by its own clock it knows before anyone else can take over
    assert b.hold() is True
    assert a.hold() is False


def test_a_release_never_drops_someone_elses_lease(redis_db):
    a, b = Lease(redis_db, "host-a:1", ttl=5), Lease(redis_db, "host-b:1", ttl=5)
    assert a.hold()
    b.release()
    assert redis_db.get(KEY) == b"host-a:1"


def test_only_the_holder_enqueues(redis_db):
    def enqueued(name: str) -> int:
        return Queue(name, connection=redis_db).count

    schedulers = []
    for host in ("a", "b"):
        lease = Lease(redis_db, f"host-{host}:1", ttl=5)
        scheduler = LeaderCronScheduler(redis_db, lease)
        scheduler.register(print, "cron-lease-test", interval=60)
        scheduler.register_birth()
        schedulers.append(scheduler)
    first, second = (s.enqueue_jobs() for s in schedulers)
    assert (len(first), len(second), enqueued("cron-lease-test")) == (1, 0, 1)
    schedulers[0].register_death()  # a clean stop gives the lease up
    assert len(schedulers[1].enqueue_jobs()) == 1
    assert enqueued("cron-lease-test") == 2


def test_a_waiting_scheduler_sleeps_instead_of_spinning(redis_db):
    holder = LeaderCronScheduler(redis_db, Lease(redis_db, "host-a:1", ttl=20))
    waiter = LeaderCronScheduler(redis_db, Lease(redis_db, "host-b:1", ttl=20))
    for scheduler in (holder, waiter):
        scheduler.register(print, "cron-lease-test", interval=60)
    assert len(holder.enqueue_jobs()) == 1
    assert waiter.enqueue_jobs() == []
    # To RQ the waiter's job is overdue (never enqueued by it): it would sleep 0 and spin.
    assert waiter.calculate_sleep_interval() == RETRY_PAUSE
    assert 0 < holder.calculate_sleep_interval() <= holder.lease.renew_every


def test_a_scheduler_sleeps_while_redis_is_away(redis_db):
    from redis import Redis

    from tests.support.processes import free_port

    down = Redis(port=free_port(), socket_connect_timeout=0.2)
    scheduler = LeaderCronScheduler(down, Lease(down, "host-a:1", ttl=20))
    scheduler.register(print, "cron-lease-test", interval=60)
    assert scheduler.enqueue_jobs() == []
    assert scheduler.calculate_sleep_interval() == RETRY_PAUSE
