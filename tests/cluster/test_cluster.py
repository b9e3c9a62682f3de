"""The gateway scaled out on the engines it already uses, with faults: 500 MOs stream in through
the edge nginx (each retried until a 2xx, as an aggregator does) while the Redis primary is
killed, a worker host is cut off its network, a receiver host is killed. Nothing is lost or
duplicated, every reply is sent once. Then: exactly one cron scheduler at a time across the
worker hosts, and the throughput of one and of two worker hosts, one core each."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from rq import Worker

from gateway.redisconn import redis_from_url
from tests.cluster.conftest import FIGURES, RESULTS
from tests.support.cluster import QUEUE, Cluster, CpuMeter
from tests.support.faults import all_replied, count, settle
from tests.support.processes import wait_until
from workers.leader import KEY

pytestmark = pytest.mark.cluster
N = 500
# The capacity runs: a backlog large enough that the workers' start (the second host's a little
# after the first's) is a small part of the time measured.
N_CAPACITY = 1500
FAULT_AT = 3.0  # seconds into the stream (40 MO/s: 120 acknowledged, 380 still to come)


def _run_fault(cluster: Cluster, inject: Callable[[], tuple[float, str]]):
    stream, messages = cluster.stream(N, threads=8, rate=40.0, deadline=150)
    thread = stream.start()
    time.sleep(FAULT_AT)
    restored_at, fault = inject()
    thread.join(timeout=180)
    assert len(stream.acked) == N, dict(stream.refusals)
    tally = settle(fault, cluster.sends.accepted, messages, cluster.database_url, restored_at, timeout=120)
    RESULTS.append(tally)
    assert (tally.lost, tally.duplicated, tally.quarantined) == (0, 0, 0), tally
    return tally, stream


def test_redis_primary_killed_sentinel_promotes_the_replica(cluster):
    def inject():
        old, killed_at = cluster.redis.kill_primary()
        cluster.redis.wait_promoted(old)
        failover = time.monotonic() - killed_at
        FIGURES.append(f"Redis failover (kill -9 of the primary to a promoted replica): {failover:.1f} s")
        promoted_at = time.monotonic()
        old.start()  # comes back empty; the Sentinels make it a replica of the new primary
        return promoted_at, f"Redis primary kill -9, failover {failover:.1f} s"

    _, stream = _run_fault(cluster, inject)
    # The receivers stored and acknowledged without Redis: no aggregator saw an error.
    assert sum(stream.refusals.values()) == 0, dict(stream.refusals)


def test_worker_host_cut_off_the_network(cluster):
    def inject():
        cluster.net.cut("wk2")
        time.sleep(8)
        cluster.net.restore("wk2")
        return time.monotonic(), "worker host wk2 off the network 8 s"

    _run_fault(cluster, inject)


def test_receiver_host_killed(cluster):
    def inject():
        cluster.kill_receiver("rx1")
        return time.monotonic(), "receiver host rx1 kill -9 (of 2)"

    try:
        _, stream = _run_fault(cluster, inject)
    finally:
        cluster.start_receiver("rx1")
    # nginx answered 502 for the dead upstream until it marked it failed; each was retried.
    assert set(stream.refusals) <= {"502"}, dict(stream.refusals)
    FIGURES.append(f"receiver host killed: nginx answered 502 {stream.refusals['502']} time(s), each retried")


LEASE_LINE = re.compile(
    r"^(\S+) \w+ gateway\.cron pid=(\d+) .*cron lease: (\S+) "
    r"(is the cron scheduler now|released the lease|lost the lease \(ran out at ([\d.]+)\)|waits)"
)


def _leadership(cluster: Cluster, deaths: dict[str, float]) -> tuple[list[tuple[float, float, str]], int]:
    """Every scheduler's time as leader (start, end, name) from both hosts' logs, and how many
    "waits" lines there were. A holder killed with -9 ends at its death (`deaths`: pid -> when)."""
    spans, open_at, waits = [], {}, 0
    for host in ("wk1", "wk2"):
        for line in (cluster.tmp / f"{host}-cron.log").read_text(errors="replace").splitlines():
            m = LEASE_LINE.match(line)
            if not m:
                continue
            at, pid, name, event = datetime.fromisoformat(m[1]).timestamp(), m[2], m[3], m[4]
            if event == "waits":
                waits += 1
            elif event.startswith("is the"):
                open_at[name] = (at, pid)
            elif name in open_at:
                start, _ = open_at.pop(name)
                spans.append((start, float(m[5]) if m[5] else at, name))
    now = time.time()
    spans += [(start, deaths.get(pid, now), name) for name, (start, pid) in open_at.items()]
    return sorted(spans), waits


def _assert_one_at_a_time(spans: list[tuple[float, float, str]]) -> None:
    for (_, end, name), (start, _, other) in zip(spans, spans[1:], strict=False):
        assert end <= start, f"{name} led until {end:.3f}, {other} from {start:.3f}"


def _holder(redis) -> str | None:
    value = redis.get(KEY)
    return value.decode() if value else None


def test_exactly_one_cron_scheduler_at_a_time_across_hosts(cluster):
    redis = redis_from_url(cluster.redis.url, socket_connect_timeout=2, socket_timeout=5)
    deaths: dict[str, float] = {}
    assert wait_until(lambda: _leadership(cluster, deaths)[1] >= 1, timeout=15), "no scheduler waits"
    spans, waits = _leadership(cluster, deaths)
    # The faults above moved it (a failover, a host cut off): still never two at once.
    _assert_one_at_a_time(spans)
    assert waits >= 1 and len(spans) >= 1

    holder = wait_until(lambda: _holder(redis), timeout=15)
    leader = next(h for h in ("wk1", "wk2") if f":{cluster.cron(h).proc.pid}:" in holder)
    killed_pid = cluster.cron(leader).proc.pid
    cluster.cron(leader).kill()  # kill -9: no release, its lease must run out
    deaths[str(killed_pid)] = time.time()
    killed_at = time.monotonic()
    # The other host's scheduler, or the killed one's restart on its own host: whoever asks first.
    new = wait_until(lambda: _holder(redis) not in (None, holder), timeout=30) and _holder(redis)
    takeover = time.monotonic() - killed_at
    assert new, "nobody took over"
    successor = next(h for h in ("wk1", "wk2") if f":{cluster.cron(h).proc.pid}:" in new)
    ttl = float(cluster.env["GATEWAY_CRON_LEASE_TTL"])
    assert takeover <= ttl + ttl / 4 + 3
    # The killed one is restarted (Restart=always) and waits behind the new holder.
    assert wait_until(lambda: cluster.cron(leader).proc.pid != killed_pid, timeout=15)
    time.sleep(ttl / 4 + 2)
    spans, waits_after = _leadership(cluster, deaths)
    _assert_one_at_a_time(spans)
    assert waits_after > waits
    FIGURES.append(
        f"cron: {len(spans)} leadership spans over the run, never two at once; kill -9 of the "
        f"leader on {leader}: the scheduler on {successor} took over in {takeover:.1f} s "
        f"(lease TTL {ttl:.0f} s)"
    )


def _workers_up(redis, n: int, since: datetime) -> bool:
    """At least `n` workers on the queue registered since `since` (a worker killed without
    unregistering stays listed until its TTL runs out: older ones do not count)."""
    fresh = [
        w
        for w in Worker.all(connection=redis)
        if QUEUE in w.queue_names() and w.birth_date and w.birth_date.replace(tzinfo=UTC) >= since
    ]
    return len(fresh) >= n


def test_capacity_one_and_two_worker_hosts(cluster):
    """A backlog of stored MOs, then the time until every reply is out, with one worker host,
    then two, each pinned to a core of its own. The backlog is posted while no worker runs; the
    clock starts when the first worker has registered (its process is up: start-up excluded)."""
    redis = redis_from_url(cluster.redis.url, socket_connect_timeout=2, socket_timeout=5)
    cores = os.cpu_count() or 1
    rates = {}
    for hosts in (1, 2):
        for host in list(cluster.workers):
            cluster.stop_worker_host(host)
        stream, messages = cluster.stream(N_CAPACITY, threads=16, rate=None, deadline=120)
        stream.run()
        assert len(stream.acked) == N_CAPACITY
        since = datetime.now(UTC).replace(microsecond=0)
        for i in range(hosts):
            cluster.start_worker_host(f"wk{i + 1}", cpu=i % cores)
        assert wait_until(lambda t=since: _workers_up(redis, 1, t), timeout=30, interval=0.05)
        started = time.monotonic()
        meter = CpuMeter(cluster, [*cluster.workers, "rx1", "rx2", "redis1", "redis2"])
        meter.start()
        sent = cluster.sends.accepted
        assert wait_until(lambda m=messages, s=sent: all_replied(s, m), timeout=240, interval=0.2)
        took = time.monotonic() - started
        usage = meter.stop()
        lost, duplicated, _, _ = count(cluster.sends.accepted, messages, cluster.database_url)
        assert (lost, duplicated) == (0, 0)
        rates[hosts] = N_CAPACITY / took
        busy = ", ".join(f"{k} {v:.2f}" for k, v in sorted(usage.items(), key=lambda kv: -kv[1]))
        FIGURES.append(f"  CPU used meanwhile, in cores: {busy}")
        FIGURES.append(
            f"capacity, {hosts} worker host(s) x 2 RQ workers, 1 core each: {N_CAPACITY} MOs -> reports + "
            f"replies in {took:.1f} s = {rates[hosts]:.0f} MO/s ({rates[hosts] / hosts:.0f} MO/s per host)"
        )
    FIGURES.append(f"scaling ratio, 2 worker hosts / 1: {rates[2] / rates[1]:.2f}x")
