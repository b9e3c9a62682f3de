"""REDIS_URL=redis+sentinel://... against a real primary + replica + 3 Sentinels on loopback:
the runtime (receiver, jobs, USSD sessions), /readyz and RQ's own command line (worker, its
scheduler) reach the primary through the Sentinels, and follow it when it is killed and the
replica promoted."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from rq import Queue
from rq.job import Job, JobStatus

from config.settings import load_settings
from gateway.app import create_app
from gateway.redisconn import redis_from_url
from gateway.runtime import build_runtime
from tests.support.processes import ROOT, free_port, wait_until
from tests.support.schema import copy_sqlite
from tests.support.sentinel import SentinelSet, require_sentinel
from workers.leader import Lease


@pytest.fixture(scope="module")
def sentinels(tmp_path_factory):
    require_sentinel()
    group = SentinelSet(tmp_path_factory.mktemp("sentinel"))
    try:
        group.start()
        yield group
    finally:
        group.stop()


@pytest.fixture
def app_client(sentinels, tmp_path, sqlite_template):
    url = f"sqlite:///{tmp_path}/gateway.db"
    copy_sqlite(sqlite_template, url)
    settings = load_settings(
        {"REDIS_URL": sentinels.url, "DATABASE_URL": url, "GATEWAY_INBOUND_TOKEN": "x"}, dotenv_path=None
    )
    rt = build_runtime(settings)
    app = create_app(runtime=rt)
    yield app.test_client(), rt
    rt.engine.dispose()


def _ready(client) -> dict | None:
    resp = client.get("/readyz")
    return resp.get_json() if resp.status_code == 200 else None


def test_readyz_reports_redis_through_sentinel_and_follows_a_failover(sentinels, app_client):
    client, rt = app_client
    assert client.get("/readyz").get_json() == {
        "status": "ok",
        "database": "ok",
        "schema": "ok",
        "redis": "ok",
    }
    before = sentinels.primary()
    rt.redis.set("gw:test:sentinel", "kept", ex=60)
    assert wait_until(lambda: before is not sentinels.redis[0] or _replicated(sentinels), timeout=5)

    old, killed_at = sentinels.kill_primary()
    new = sentinels.wait_promoted(old)
    failover_s = time.monotonic() - killed_at
    # The same process, no restart: its next connection asks the Sentinels again.
    assert wait_until(lambda: _ready(client), timeout=10), client.get("/readyz").get_json()
    assert rt.redis.get("gw:test:sentinel") == b"kept"
    assert rt.redis.connection_pool.get_master_address() == (new.host, new.port)
    print(f"failover: {failover_s:.1f} s from kill -9 of the primary to a promoted replica")
    old.start()  # back, and the Sentinels turn it into a replica of the new primary
    assert wait_until(lambda: old.client().info("replication")["role"] == "slave", timeout=20)


def _replicated(sentinels) -> bool:
    replica = next(n for n in sentinels.redis if n is not sentinels.primary())
    return replica.client().get("gw:test:sentinel") == b"kept"


def test_readyz_names_redis_when_no_sentinel_answers(tmp_path, sqlite_template):
    url = f"sqlite:///{tmp_path}/gateway.db"
    copy_sqlite(sqlite_template, url)
    nobody = f"redis+sentinel://127.0.0.1:{free_port()}/mymaster/0"
    settings = load_settings(
        {"REDIS_URL": nobody, "DATABASE_URL": url, "GATEWAY_INBOUND_TOKEN": "x"}, dotenv_path=None
    )
    rt = build_runtime(settings)
    resp = create_app(runtime=rt).test_client().get("/readyz")
    assert (resp.status_code, resp.get_json()["redis"]) == (503, "down")


def test_rq_command_line_worker_and_scheduler_use_sentinel(sentinels, tmp_path):
    redis = redis_from_url(sentinels.url)
    queue = Queue(f"sentinel-{free_port()}", connection=redis)
    now = queue.enqueue("posixpath.basename", "/a/now")
    later = queue.enqueue_in(timedelta(seconds=1), "posixpath.basename", "/a/later")
    time.sleep(1.2)  # `later` is due: a burst worker's scheduler moves it to the queue at start
    rq = Path(sys.executable).parent / "rq"
    out = subprocess.run(
        [str(rq), "worker", "--burst", "--with-scheduler", "--connection-class",
         "gateway.redisconn.GatewayRedis", "--url", sentinels.url, queue.name],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    for job, result in ((now, "now"), (later, "later")):
        job = Job.fetch(job.id, connection=redis)
        assert (job.get_status(), job.return_value()) == (JobStatus.FINISHED, result), out.stderr[-3000:]


def test_cron_lease_survives_a_failover_and_nobody_else_takes_it(sentinels):
    """The lease is on the replica before the holder counts it, so the promoted replica still
    names the holder: a second scheduler keeps waiting, the holder renews on the new primary."""
    holder = Lease(redis_from_url(sentinels.url, socket_connect_timeout=1, socket_timeout=1), "a:1", ttl=20)
    other = Lease(redis_from_url(sentinels.url, socket_connect_timeout=1, socket_timeout=1), "b:1", ttl=20)
    assert holder.hold() and not other.hold()
    old, _ = sentinels.kill_primary()
    sentinels.wait_promoted(old)
    assert wait_until(lambda: other.hold() is False and other.until is None and _answers(other), timeout=10)
    assert holder.held() and wait_until(holder.hold, timeout=10)
    old.start()


def _answers(lease: Lease) -> bool:
    try:
        return bool(lease.redis.ping())
    except Exception:
        return False
