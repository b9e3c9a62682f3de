"""A Redis primary, its replica and three Sentinels as real processes (Debian package
`redis-sentinel`), for the Sentinel tests on loopback and for the cluster test, where each runs
on a "host" of its own: `wrap(host)` is the command prefix that runs a process there (nothing
on loopback, `ip netns exec <ns>` in the cluster)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis

from tests.support.processes import free_port, wait_until

SERVICE = "mymaster"


def sentinel_binary() -> str | None:
    """redis-sentinel, or None when the package is not installed."""
    fallback = Path("/usr/bin/redis-sentinel")
    return shutil.which("redis-sentinel") or (str(fallback) if fallback.exists() else None)


def require_sentinel() -> None:
    """pytest.skip without redis-sentinel; a failure instead when REQUIRE_SENTINEL=1 (CI)."""
    import pytest

    if sentinel_binary():
        return
    if os.environ.get("REQUIRE_SENTINEL") == "1":
        pytest.fail("REQUIRE_SENTINEL=1 but redis-sentinel is not installed (apt-get install redis-sentinel)")
    pytest.skip("redis-sentinel is not installed (Debian package redis-sentinel)")


@dataclass
class Node:
    """One redis-server or redis-sentinel process."""

    name: str
    host: str
    port: int
    argv: list[str]
    log: Path
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT)
        client = self.client(timeout=0.3)
        assert wait_until(lambda: _pings(client), timeout=10), f"{self.name} did not start: {self.log}"
        client.close()

    def client(self, timeout: float = 1.0) -> Redis:
        return Redis(host=self.host, port=self.port, socket_connect_timeout=timeout, socket_timeout=timeout)

    def kill(self) -> None:
        """SIGKILL: a crash, nothing written on the way out."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def alive(self) -> bool:
        return bool(self.proc) and self.proc.poll() is None


def _pings(client: Redis) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


@dataclass
class SentinelSet:
    """Primary on `hosts[0]`, replica on `hosts[1]`, a Sentinel on each of `sentinel_hosts`
    (quorum 2). A primary unreachable for `down_after_ms` is failed over."""

    workdir: Path
    hosts: tuple[str, str] = ("127.0.0.1", "127.0.0.1")
    sentinel_hosts: tuple[str, ...] = ("127.0.0.1", "127.0.0.1", "127.0.0.1")
    wrap: Callable[[str], list[str]] = lambda host: []
    fixed_ports: bool = False  # the cluster: each host its own address, the usual ports
    down_after_ms: int = 1000
    redis: list[Node] = field(default_factory=list)
    sentinels: list[Node] = field(default_factory=list)

    @property
    def url(self) -> str:
        """REDIS_URL in the Sentinel form, database 0."""
        hosts = ",".join(f"{s.host}:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        primary_port = 6379 if self.fixed_ports else free_port()
        for i, host in enumerate(self.hosts):
            port = primary_port if self.fixed_ports or i == 0 else free_port()
            self.redis.append(self._redis_node(f"redis{i + 1}", host, port))
        replica = self.redis[1]
        replica.argv += ["--replicaof", self.hosts[0], str(primary_port)]
        for node in self.redis:
            node.start()
        for i, host in enumerate(self.sentinel_hosts):
            self.sentinels.append(self._sentinel_node(f"sentinel{i + 1}", host, primary_port))
        for node in self.sentinels:
            node.start()
        assert wait_until(self._settled, timeout=30), "the Sentinels did not find the replica and each other"

    def _redis_node(self, name: str, host: str, port: int) -> Node:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        argv = [*self.wrap(host), binary, "--port", str(port), "--bind", host, "--save", "",
                "--appendonly", "no", "--dir", str(self.workdir), "--protected-mode", "no",
                "--dbfilename", f"{name}.rdb"]  # fmt: skip
        return Node(name, host, port, argv, self.workdir / f"{name}.log")

    def _sentinel_node(self, name: str, host: str, primary_port: int) -> Node:
        port = 26379 if self.fixed_ports else free_port()
        conf = self.workdir / f"{name}.conf"  # Sentinel rewrites its file: one each
        conf.write_text(
            f"port {port}\nbind {host}\nprotected-mode no\ndir {self.workdir}\n"
            f"sentinel monitor {SERVICE} {self.hosts[0]} {primary_port} 2\n"
            f"sentinel down-after-milliseconds {SERVICE} {self.down_after_ms}\n"
            f"sentinel failover-timeout {SERVICE} 10000\n"
            f"sentinel parallel-syncs {SERVICE} 1\n"
        )
        argv = [*self.wrap(host), sentinel_binary() or "redis-sentinel", str(conf)]
        return Node(name, host, port, argv, self.workdir / f"{name}.log")

    def _settled(self) -> bool:
        try:
            for s in self.sentinels:
                client = s.client()
                info = client.sentinel_master(SERVICE)
                client.close()
                if int(info["num-slaves"]) < 1 or int(info["num-other-sentinels"]) < len(self.sentinels) - 1:
                    return False
            return True
        except Exception:
            return False

    def primary(self) -> Node:
        """The node the Sentinels currently name as primary."""
        host, port = self._ask_primary()
        return next(n for n in self.redis if (n.host, n.port) == (host, int(port)))

    def _ask_primary(self) -> tuple[str, int]:
        for s in self.sentinels:
            if not s.alive():
                continue
            with contextlib.suppress(Exception):
                client = s.client()
                host, port = client.sentinel_get_master_addr_by_name(SERVICE)
                client.close()
                return host.decode() if isinstance(host, bytes) else host, int(port)
        raise RuntimeError("no Sentinel answers")

    def kill_primary(self) -> tuple[Node, float]:
        """SIGKILL the current primary; (that node, when)."""
        node = self.primary()
        node.kill()
        return node, time.monotonic()

    def wait_promoted(self, old: Node, timeout: float = 30) -> Node:
        """Wait until the Sentinels name another node primary and it says it is one."""

        def promoted() -> Node | None:
            with contextlib.suppress(Exception):
                node = self.primary()
                if node is not old:
                    client = node.client()
                    role = client.info("replication")["role"]
                    client.close()
                    return node if role == "master" else None
            return None

        node = wait_until(promoted, timeout=timeout, interval=0.05)
        assert node, f"no failover within {timeout}s"
        return node

    def stop(self) -> None:
        for node in [*self.sentinels, *self.redis]:
            node.kill()
