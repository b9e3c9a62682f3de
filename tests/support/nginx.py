"""A real nginx (Debian package `nginx`) for tests: the site file deploy/nginx/lapor-gateway.conf
as shipped, with only its listen port, upstream and log paths moved to a temp dir; its own
prefix and pid file (no root config, no system service), a child process in the foreground."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import ROOT, free_port, wait_answering

SITE = ROOT / "deploy" / "nginx" / "lapor-gateway.conf"


def nginx_binary() -> str | None:
    """The nginx executable, or None when the package is not installed."""
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def render_site(site: str, port: int, upstream: str, logs: Path) -> str:
    """The shipped site with the test's listen port, upstream address and log directory."""
    site, n_listen = re.subn(r"listen 80;", f"listen 127.0.0.1:{port};", site)
    site = re.sub(r"\s*listen \[::\]:80;", "", site)
    site, n_upstream = re.subn(r"server 127\.0\.0\.1:8000;", f"server {upstream};", site)
    site = site.replace("/var/log/nginx/", f"{logs}/")
    assert (n_listen, n_upstream) == (1, 1), "the site file no longer has the expected listen/upstream lines"
    return site


@dataclass
class Nginx:
    proc: subprocess.Popen
    url: str
    port: int
    prefix: Path

    def access_log(self) -> str:
        return (self.prefix / "logs" / "lapor-gateway.access.log").read_text(errors="replace")

    def error_log(self) -> str:
        path = self.prefix / "logs" / "lapor-gateway.error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """SIGQUIT (graceful), then SIGKILL if it lingers."""
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(3)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_nginx(prefix: Path, upstream: str, timeout: float = 10.0) -> Nginx:
    """Run nginx with the shipped site in front of `upstream` (host:port); wait until it answers."""
    binary = nginx_binary()
    assert binary, "nginx is not installed (apt-get install -y nginx)"
    logs, tmp = prefix / "logs", prefix / "tmp"
    logs.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(exist_ok=True)
    port = free_port()
    (prefix / "site.conf").write_text(render_site(SITE.read_text(), port, upstream, logs))
    temp_paths = "".join(
        f"{kind}_temp_path {tmp}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (prefix / "nginx.conf").write_text(
        f"""worker_processes 1;
pid {prefix}/nginx.pid;
error_log {logs}/error.log warn;
events {{ worker_connections 1024; }}
http {{
{temp_paths}include {prefix}/site.conf;
}}
"""
    )
    conf = str(prefix / "nginx.conf")
    err = str(logs / "error.log")
    subprocess.run([binary, "-e", err, "-p", str(prefix), "-c", conf, "-t", "-q"], check=True)
    proc = subprocess.Popen(
        [binary, "-e", err, "-p", str(prefix), "-c", conf, "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=(logs / "stderr.log").open("w"),
    )
    nginx = Nginx(proc, f"http://127.0.0.1:{port}", port, prefix)
    if wait_answering(
        proc, f"{nginx.url}/healthz", timeout, lambda: f"nginx exited: {(logs / 'stderr.log').read_text()}"
    ):
        return nginx
    nginx.stop()
    raise RuntimeError("nginx did not answer")


def require_nginx() -> None:
    """pytest.skip when nginx is not installed; a failure instead when REQUIRE_NGINX=1 (CI
    installs it, so a skip there would hide a gap)."""
    import os

    import pytest

    if nginx_binary():
        return
    if os.environ.get("REQUIRE_NGINX") == "1":
        pytest.fail("REQUIRE_NGINX=1 but nginx is not installed (apt-get install -y nginx)")
    pytest.skip("nginx is not installed (Debian package nginx)")
