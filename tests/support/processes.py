"""The gateway as real processes for end-to-end tests: the same script `make run` uses
(gunicorn + RQ worker pool + cron), on a free loopback port, with its own SQLite file and
Redis database, stopped (whole process group) at the end."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class GatewayProcesses:
    proc: subprocess.Popen
    url: str
    log_path: Path
    env: dict

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM the whole process group, give it time to shut down, then SIGKILL what is left."""
        pgid = self.proc.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=20)
        deadline = time.monotonic() + 5
        while group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)


def group_alive(pgid: int) -> bool:
    """Whether any process of group `pgid` is still running (zombies do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def start_gateway(
    workdir: Path, env_overrides: dict[str, str], timeout: float = 30.0, port: int | None = None
) -> GatewayProcesses:
    """Start scripts/run-gateway.sh (on `port`, or a free one) and wait until /readyz says it is
    ready (database and Redis answer, schema migrated)."""
    return _start([str(ROOT / "scripts" / "run-gateway.sh")], workdir, env_overrides, timeout, port)


def start_receiver(
    workdir: Path, env_overrides: dict[str, str], args: tuple[str, ...] = (), timeout: float = 30.0
) -> GatewayProcesses:
    """Start the receiver alone as deploy/systemd/lapor-gateway.service does (gunicorn with
    deploy/gunicorn.conf.py, `args` added to its command line), after `alembic upgrade head` as
    a deployment runs it once per release, and wait until /readyz says it is ready."""
    from gateway.migrate import upgrade_to_head

    upgrade_to_head(env_overrides.get("DATABASE_URL", _default_database_url(workdir)))
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py", *args, "wsgi:app"]
    return _start(cmd, workdir, env_overrides, timeout, None)


def _default_database_url(workdir: Path) -> str:
    return f"sqlite:///{workdir}/gateway.db"


def _start(
    cmd: list[str], workdir: Path, env_overrides: dict[str, str], timeout: float, port: int | None
) -> GatewayProcesses:
    port = port or free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "GATEWAY_PORT": str(port),
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": _default_database_url(workdir),
        "GATEWAY_QUEUE": f"e2e-{port}",
        **env_overrides,
    }
    log_path = workdir / "gateway.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    gw = GatewayProcesses(proc, f"http://127.0.0.1:{port}", log_path, env)
    if wait_answering(
        proc, f"{gw.url}/readyz", timeout, lambda: f"gateway exited early:\n{gw.log()[-3000:]}"
    ):
        return gw
    gw.stop()
    raise RuntimeError(f"gateway did not answer within {timeout}s:\n{gw.log()[-3000:]}")


def wait_answering(proc: subprocess.Popen, url: str, timeout: float, exited: Callable[[], str]) -> bool:
    """Poll `url` until it answers 200 (True) or `timeout` passes (False); RuntimeError with
    `exited()` as its message if the process dies meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(exited())
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return True
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.1)
    return False


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.1):
    """Poll `predicate` until it returns something truthy; return it (or the last falsy value)."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value
