"""The gateway as real processes for end-to-end tests: the same script `make run` uses
(gunicorn + RQ worker pool + cron), on a free loopback port, with its own SQLite file and
Redis database, stopped (whole process group) at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
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
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


def start_gateway(workdir: Path, env_overrides: dict[str, str], timeout: float = 30.0) -> GatewayProcesses:
    """Start scripts/run-gateway.sh and wait until /healthz answers."""
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "GATEWAY_PORT": str(port),
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": f"sqlite:///{workdir}/gateway.db",
        "GATEWAY_QUEUE": f"e2e-{port}",
        **env_overrides,
    }
    log_path = workdir / "gateway.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [str(ROOT / "scripts" / "run-gateway.sh")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    gw = GatewayProcesses(proc, f"http://127.0.0.1:{port}", log_path, env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gateway exited early:\n{gw.log()[-3000:]}")
        try:
            if requests.get(f"{gw.url}/healthz", timeout=1).status_code == 200:
                return gw
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    gw.stop()
    raise RuntimeError(f"gateway did not answer within {timeout}s:\n{gw.log()[-3000:]}")


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.1):
    """Poll `predicate` until it returns something truthy; return it (or the last falsy value)."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value
