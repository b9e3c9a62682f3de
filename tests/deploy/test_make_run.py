"""`make run` stays two commands: scripts/run-gateway.sh starts a local Redis (a daemon, data
append-only under var/redis) when the Redis on this host does not answer, and keeps a clear
error for a Redis elsewhere."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess

import pytest
import requests
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.conftest import INBOUND_TOKEN
from tests.support.processes import ROOT, free_port, start_gateway, wait_until

pytestmark = pytest.mark.deploy


@pytest.fixture
def local_port():
    """A free port for the local Redis; its data directory is removed afterwards."""
    port = free_port()
    yield port
    _stop_local_redis(port)
    shutil.rmtree(ROOT / "var" / "redis" / str(port), ignore_errors=True)


def _stop_local_redis(port: int) -> None:
    """Stop the Redis the script started on `port` (by the pid in its pid file)."""
    pidfile = ROOT / "var" / "redis" / str(port) / "redis.pid"
    if pidfile.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
    assert wait_until(lambda: not _answers(port), timeout=10)


def _answers(port: int) -> bool:
    try:
        return bool(Redis(port=port, socket_connect_timeout=0.5).ping())
    except RedisConnectionError:
        return False


def test_a_local_redis_is_started_under_var_when_none_answers(tmp_path, local_port):
    env = {"REDIS_URL": f"redis://127.0.0.1:{local_port}/0", "GATEWAY_INBOUND_TOKEN": INBOUND_TOKEN}
    assert not _answers(local_port)
    gw = start_gateway(tmp_path, env)
    try:
        assert "starting a local one" in gw.log()
        assert requests.get(f"{gw.url}/readyz", timeout=5).json()["redis"] == "ok"
        local = Redis(port=local_port, decode_responses=True)
        # Under var/redis/<port>, with an append-only file (queues survive its restart).
        assert local.config_get("dir")["dir"] == str(ROOT / "var" / "redis" / str(local_port))
        assert local.config_get("appendonly")["appendonly"] == "yes"
    finally:
        gw.stop()
    # A daemon like a system Redis: the workers shut down against a running Redis.
    assert _answers(local_port)
    assert "Connection refused" not in gw.log()


def test_a_redis_elsewhere_that_is_down_is_a_clear_error(tmp_path):
    with pytest.raises(RuntimeError, match="Redis is not answering at redis://192.0.2.1:6379/0"):
        start_gateway(
            tmp_path, {"REDIS_URL": "redis://192.0.2.1:6379/0", "GATEWAY_INBOUND_TOKEN": INBOUND_TOKEN}
        )


@pytest.mark.parametrize(
    ("target", "installs_dev"),
    [
        pytest.param("run", False, id="run-runtime-only"),
        pytest.param("test", True, id="test-adds-test-tools"),
        pytest.param("lint", True, id="lint-adds-test-tools"),
    ],
)
def test_make_run_installs_only_the_runtime_requirements(target, installs_dev):
    """What `make <target>` would install on a fresh clone (-n: print, -B: nothing is up to date)."""
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    plan = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True)
    installs = [line for line in plan.stdout.splitlines() if "pip install" in line]
    assert any(line.endswith("-r requirements.txt") for line in installs), plan.stdout
    assert any("requirements-dev.txt" in line for line in installs) == installs_dev, plan.stdout
