"""The gateway as a cluster of hosts (network namespaces, tests/support/netns.py), each running
what deploy/ ships: an edge host with the nginx site in front of two receiver hosts (gunicorn
with deploy/gunicorn.conf.py), worker hosts running the ExecStart lines of
lapor-worker@.service (twice) and lapor-cron.service under a restart loop (the units'
Restart=always, RestartSec=2), Redis as a primary + replica with three Sentinels, and
PostgreSQL on this machine reached through a relay on the bridge (it listens on 127.0.0.1
only: `socat` forwards <bridge address>:5432 to it, so no server setting changes).

Nothing here is clustering code of the gateway's own: the processes find each other through
REDIS_URL (redis+sentinel://) and DATABASE_URL alone."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.conftest import INBOUND_TOKEN, SEND_TOKEN
from tests.support.aggregator import FakeAggregator, start_fake_aggregator
from tests.support.faults import DedupingSends, Stream, citizen_messages
from tests.support.netns import Network, kill_session
from tests.support.nginx import Nginx, start_nginx
from tests.support.processes import ROOT, wait_answering
from tests.support.schema import reset_schema
from tests.support.sentinel import SentinelSet

UNITS = ROOT / "deploy" / "systemd"
VENV_BIN = Path(sys.executable).parent
QUEUE = "cluster"


def unit_command(unit: str, env: dict[str, str], instance: str = "", hostname: str = "") -> list[str]:
    """A unit's ExecStart as it would run here: the install path pointed at this checkout's
    virtualenv, `${VAR}` from `env`, `%i` and `%H` filled in."""
    text = (UNITS / unit).read_text().replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    line = line.removeprefix("ExecStart=").replace("/opt/lapor-gateway/.venv/bin/", f"{VENV_BIN}/")
    line = line.replace("%i", instance).replace("%H", hostname)
    line = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], line)
    return line.split()


class Supervised:
    """A command kept running on a host like systemd's Restart=always, RestartSec=2 does."""

    def __init__(self, net: Network, host: str, argv: list[str], log: Path, env: dict):
        self.net, self.host, self.argv, self.log, self.env = net, host, argv, log, env
        self.proc: subprocess.Popen | None = None
        self.stopped = threading.Event()
        self.starts = 0
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stopped.is_set():
            self.proc = self.net.spawn(self.host, self.argv, self.log, self.env, ROOT)
            self.starts += 1
            self.proc.wait()
            self.stopped.wait(2)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the running process (the loop starts it again)."""
        if self.proc:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def stop(self) -> None:
        """SIGTERM (a unit's stop), SIGKILL after 20 s, and no restart."""
        self.stopped.set()
        if self.proc:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                kill_session(self.proc)
        self.thread.join(timeout=5)


@dataclass
class Cluster:
    net: Network
    tmp: Path
    redis: SentinelSet
    sends: DedupingSends
    fake: FakeAggregator
    database_url: str  # as this machine reaches it (for counting)
    env: dict = field(default_factory=dict)
    receivers: dict[str, subprocess.Popen] = field(default_factory=dict)
    workers: dict[str, list[Supervised]] = field(default_factory=dict)
    nginx: Nginx | None = None
    runs: int = 0

    def host_env(self, host: str) -> dict[str, str]:
        prom = self.tmp / host / "prometheus"
        prom.mkdir(parents=True, exist_ok=True)
        for old in prom.glob("*.db"):
            old.unlink()
        ip = self.net.hosts[host].ip
        # HOME: gunicorn's control socket lives under it, one per host as on real hosts.
        home = str(self.tmp / host)
        return {**self.env, "PROMETHEUS_MULTIPROC_DIR": str(prom), "GATEWAY_HOST": ip, "HOME": home}

    def start_receiver(self, host: str) -> None:
        """gunicorn as lapor-gateway.service runs it, on the host's address, until /readyz."""
        env = self.host_env(host)
        argv = unit_command("lapor-gateway.service", env)
        proc = self.net.spawn(host, argv, self.tmp / f"{host}.log", env, ROOT)
        self.receivers[host] = proc
        url = f"http://{env['GATEWAY_HOST']}:{env['GATEWAY_PORT']}/readyz"
        assert wait_answering(proc, url, 30, lambda: self.log(host)), self.log(host)

    def kill_receiver(self, host: str) -> None:
        """kill -9 of gunicorn and its workers: the host's receiver is gone."""
        kill_session(self.receivers.pop(host))

    def start_worker_host(self, host: str, workers: int = 2, cpu: int | None = None) -> None:
        """`workers` x lapor-worker@N and lapor-cron, each restarted when it exits; all on CPU
        `cpu` when given (taskset: the host has that one core)."""
        env = self.host_env(host)
        pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
        log = self.tmp / f"{host}.log"
        units = [unit_command("lapor-worker@.service", env, str(i), host) for i in range(1, workers + 1)]
        self.workers[host] = [Supervised(self.net, host, [*pin, *argv], log, env) for argv in units]
        cron_log = self.tmp / f"{host}-cron.log"
        self.workers[host].append(
            Supervised(self.net, host, [*pin, *unit_command("lapor-cron.service", env)], cron_log, env)
        )

    def cron(self, host: str) -> Supervised:
        return self.workers[host][-1]

    def stop_worker_host(self, host: str) -> None:
        for proc in self.workers.pop(host, []):
            proc.stop()

    def log(self, host: str) -> str:
        path = self.tmp / f"{host}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stream(self, n: int, **kw) -> tuple[Stream, list[dict]]:
        """N new MOs (numbers no earlier run used) posted to the edge nginx."""
        self.runs += 1
        messages = citizen_messages(n, f"run{self.runs}", first=self.runs * 10000)
        return Stream(f"{self.nginx.url}/sms/generic/inbound", INBOUND_TOKEN, messages, **kw), messages

    def close(self) -> None:
        for host in list(self.workers):
            self.stop_worker_host(host)
        if self.nginx:
            self.nginx.stop()
        self.redis.stop()
        self.fake.close()
        self.net.close()


def start_cluster(tmp: Path, database_url: str, worker_hosts: int = 2) -> Cluster:
    """The whole cluster, ready (every receiver's /readyz answers 200 through the edge). On any
    failure everything started so far is removed before the error propagates."""
    net = Network().open()
    cluster: Cluster | None = None
    try:
        for name in ("edge", "rx1", "rx2", "wk1", "wk2", "redis1", "redis2", "sentinel3"):
            net.add_host(name)
        hosts = net.hosts
        relay = f"TCP-LISTEN:5432,bind={net.gateway_ip},fork,reuseaddr"
        target = f"TCP:127.0.0.1:{make_url(database_url).port or 5432}"
        net.spawn_here(["socat", relay, target], tmp / "relay.log")
        reset_schema(database_url)
        sends = DedupingSends()
        fake = start_fake_aggregator(on_send=sends, host=net.gateway_ip)
        redis = SentinelSet(
            tmp / "redis",
            hosts=(hosts["redis1"].ip, hosts["redis2"].ip),
            sentinel_hosts=(hosts["redis1"].ip, hosts["redis2"].ip, hosts["sentinel3"].ip),
            wrap=net.wrap,
            fixed_ports=True,
        )
        cluster = Cluster(net, tmp, redis, sends, fake, database_url)
        redis.start()
        cluster.env = _environment(cluster, database_url)
        for rx in ("rx1", "rx2"):
            cluster.start_receiver(rx)
        upstreams = [f"{hosts[rx].ip}:8000" for rx in ("rx1", "rx2")]
        edge = hosts["edge"].ip
        cluster.nginx = start_nginx(tmp / "nginx", upstreams, host=edge, port=80, wrap=net.wrap("edge"))
        for i in range(worker_hosts):
            cluster.start_worker_host(f"wk{i + 1}")
        return cluster
    except BaseException:
        if cluster is not None:
            cluster.close()
        net.close()
        raise


def _environment(cluster: Cluster, database_url: str) -> dict[str, str]:
    """/etc/lapor-gateway/env of every host: PostgreSQL through the relay, Redis through the
    Sentinels, the aggregator on this machine; fault-rig timings (sweeps every second)."""
    net = cluster.net
    return {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "LANG": "C.UTF-8",
        "REDIS_URL": cluster.redis.url,
        "DATABASE_URL": str(make_url(database_url).set(host=net.gateway_ip, port=5432)),
        "GATEWAY_QUEUE": QUEUE,
        "GATEWAY_PORT": "8000",
        "GATEWAY_PUBLIC_URL": f"http://{net.hosts['edge'].ip}",
        "GATEWAY_TRUSTED_PROXIES": "1",
        "GATEWAY_WEB_WORKERS": "2",
        "GATEWAY_INBOUND_TOKEN": INBOUND_TOKEN,
        "GATEWAY_OUTBOUND": "generic",
        "GATEWAY_GENERIC_SEND_URL": cluster.fake.url,
        "GATEWAY_GENERIC_SEND_TOKEN": SEND_TOKEN,
        "GATEWAY_SWEEP_AFTER": "2",
        "GATEWAY_SWEEP_INTERVAL": "1",
        "GATEWAY_JOB_TIMEOUT": "5",
        "GATEWAY_SEND_TIMEOUT": "2",
        "GATEWAY_SEND_BACKOFF_BASE": "0.2",
        "GATEWAY_SEND_BACKOFF_MAX": "2",
        "GATEWAY_SEND_MAX_ATTEMPTS": "40",
        "GATEWAY_FLOOD_LIMIT": "1000",
        "GATEWAY_CRON_LEASE_TTL": "6",
    }


def socat_available() -> bool:
    return shutil.which("socat") is not None


def elapsed(since: float) -> float:
    return time.monotonic() - since


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the live processes `pids` have used so far (children that
    exited and were reaped count in their parent's cutime/cstime, which is included)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return total / tick


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has been busy (not idle, not waiting on I/O)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def netns_pids(net: Network, host: str) -> list[int]:
    """Every process running on `host`."""
    out = subprocess.run(["ip", "netns", "pids", net.hosts[host].netns], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def postgres_pids(database_url: str) -> list[int]:
    """The PostgreSQL backends serving `database_url`'s database (this cluster's connections)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        query += " AND pid <> pg_backend_pid()"
        rows = conn.execute(text(query))
        pids = [r[0] for r in rows]
    engine.dispose()
    return pids


class CpuMeter:
    """CPU used per part of the cluster between `start()` and `stop()`, as a share of one core."""

    def __init__(self, cluster: Cluster, hosts: list[str]):
        self.cluster, self.hosts = cluster, hosts

    def _sample(self) -> dict[str, float]:
        c = self.cluster
        parts = {host: cpu_seconds(netns_pids(c.net, host)) for host in self.hosts}
        parts["postgres"] = cpu_seconds(postgres_pids(c.database_url))
        parts["this process (aggregator)"] = cpu_seconds([os.getpid()])
        parts["machine, all cores (everyone's)"] = machine_busy_seconds()
        return parts

    def start(self) -> None:
        self.before, self.t0 = self._sample(), time.monotonic()

    def stop(self) -> dict[str, float]:
        after, took = self._sample(), time.monotonic() - self.t0
        return {k: (after[k] - self.before.get(k, 0.0)) / took for k in after}
