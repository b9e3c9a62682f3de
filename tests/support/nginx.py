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


def render_site(site: str, port: int, upstream: str | list[str], logs: Path, host: str = "127.0.0.1") -> str:
    """The shipped site with the test's listen address, upstream address(es) and log directory."""
    site, n_listen = re.subn(r"listen 80;", f"listen {host}:{port};", site)
    site = re.sub(r"\s*listen \[::\]:80;", "", site)
    servers = "\n    ".join(f"server {u};" for u in ([upstream] if isinstance(upstream, str) else upstream))
    site, n_upstream = re.subn(r"server 127\.0\.0\.1:8000;", servers, site)
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


def start_nginx(
    prefix: Path,
    upstream: str | list[str],
    timeout: float = 10.0,
    host: str = "127.0.0.1",
    port: int | None = None,
    wrap: list[str] | None = None,
) -> Nginx:
    """Run nginx with the shipped site in front of `upstream` (host:port, or several: round
    robin); wait until it answers. It listens on `host`:`port` (a free loopback port by default),
    started with the command prefix `wrap` (the cluster test: on a host of its own)."""
    binary = nginx_binary()
    assert binary, "nginx is not installed (apt-get install -y nginx)"
    logs, tmp = prefix / "logs", prefix / "tmp"
    logs.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(exist_ok=True)
    port = port or free_port()
    (prefix / "site.conf").write_text(render_site(SITE.read_text(), port, upstream, logs, host))
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
    subprocess.run([*(wrap or []), binary, "-e", err, "-p", str(prefix), "-c", conf, "-t", "-q"], check=True)
    proc = subprocess.Popen(
        [*(wrap or []), binary, "-e", err, "-p", str(prefix), "-c", conf, "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=(logs / "stderr.log").open("w"),
    )
    nginx = Nginx(proc, f"http://{host}:{port}", port, prefix)
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
