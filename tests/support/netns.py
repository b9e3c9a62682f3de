"""Linux network namespaces as hosts for the cluster test: one bridge on this machine, one
namespace per host with its own address on it, nothing routed anywhere else (no default route,
no NAT): every packet stays on this machine. Needs root (`ip netns`).

The host side of the bridge (`.1`) is this machine itself: the test process (load generator,
aggregator), and the relay to PostgreSQL (which listens on 127.0.0.1 only). `cut(host)` takes
a host off the network (its cable pulled: connections hang, nothing is closed) and
`restore(host)` plugs it back in."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True, timeout=20)


def netns_available() -> str | None:
    """None when namespaces can be made here; otherwise why not."""
    if os.geteuid() != 0:
        return "needs root (ip netns)"
    if not shutil.which("ip"):
        return "needs iproute2 (ip)"
    return None


def _free_subnet() -> ipaddress.IPv4Network:
    used = _ip("-4", "-o", "addr").stdout
    for _ in range(100):
        net = ipaddress.IPv4Network(f"10.{secrets.randbelow(200) + 50}.{secrets.randbelow(250) + 1}.0/24")
        if f" {net.network_address + 1}/" not in used and str(net.network_address)[:-1] not in used:
            return net
    raise RuntimeError("no free 10.x.y.0/24 for the cluster bridge")


@dataclass
class Host:
    name: str
    netns: str
    ip: str
    veth: str  # the host-side end on the bridge: down = cable pulled


@dataclass
class Network:
    """A bridge and namespaces; `close()` removes all of it (and every process started in it)."""

    tag: str = field(default_factory=lambda: secrets.token_hex(2))
    hosts: dict[str, Host] = field(default_factory=dict)
    procs: list[subprocess.Popen] = field(default_factory=list)
    subnet: ipaddress.IPv4Network | None = None

    @property
    def bridge(self) -> str:
        return f"h3br{self.tag}"

    @property
    def gateway_ip(self) -> str:
        """This machine's address on the bridge."""
        return str(self.subnet.network_address + 1)

    def open(self) -> Network:
        self.subnet = _free_subnet()
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.gateway_ip}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        return self

    def add_host(self, name: str) -> Host:
        index = len(self.hosts) + 10
        ns, veth = f"h3{self.tag}-{name}", f"h3v{self.tag}{index}"
        ip = str(self.subnet.network_address + index)
        _ip("netns", "add", ns)
        self.hosts[name] = host = Host(name, ns, ip, veth)  # registered first: close() cleans it
        _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
        _ip("link", "set", veth, "master", self.bridge, "up")
        for args in (
            ["addr", "add", f"{ip}/24", "dev", "eth0"],
            ["link", "set", "eth0", "up"],
            ["link", "set", "lo", "up"],
        ):
            _ip("-n", ns, *args)
        return host

    def host_of(self, ip: str) -> Host:
        return next(h for h in self.hosts.values() if h.ip == ip)

    def wrap(self, host: str) -> list[str]:
        """The command prefix that runs a program on `host` (a name or an address)."""
        h = self.hosts.get(host) or self.host_of(host)
        return ["ip", "netns", "exec", h.netns]

    def spawn(self, host: str, argv: list[str], log: Path, env: dict, cwd: Path) -> subprocess.Popen:
        """Start `argv` on `host` in a session of its own (so it and its children can be
        killed together), output to `log`."""
        with open(log, "a") as out:
            proc = subprocess.Popen(
                [*self.wrap(host), *argv],
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def spawn_here(self, argv: list[str], log: Path) -> subprocess.Popen:
        """Start `argv` on this machine (the bridge's `.1`), stopped by `close()` too."""
        with open(log, "a") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def cut(self, host: str) -> None:
        _ip("link", "set", self.hosts[host].veth, "down")

    def restore(self, host: str) -> None:
        _ip("link", "set", self.hosts[host].veth, "up")

    def close(self) -> None:
        """Kill what was started here, delete the namespaces and the bridge. Never raises."""
        for proc in self.procs:
            kill_session(proc)
        for host in self.hosts.values():
            _ip("netns", "del", host.netns, check=False)  # its veth end goes, and the pair with it
            _ip("link", "del", host.veth, check=False)
        if self.subnet is not None:
            _ip("link", "del", self.bridge, check=False)


def kill_session(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Signal the session (process group) `proc` leads; reap `proc`."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
