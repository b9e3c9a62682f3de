"""Pieces for the fault suite: a Redis server of our own (to kill and restart), a TCP proxy
in front of PostgreSQL (to cut the database off), an aggregator that sends MOs the way
Kannel does (retrying until it gets a 2xx), and the lost/duplicated count."""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
from redis import Redis
from sqlalchemy import create_engine, text

from tests.support.processes import free_port, wait_until


class RedisServer:
    """A throw-away redis-server on a free loopback port, no persistence: a restart loses
    everything, like a Redis that crashed and came back empty."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Redis(port=self.port, socket_connect_timeout=0.2)
        assert wait_until(lambda: _pings(client), timeout=5), "redis-server did not start"
        client.close()

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


def _pings(client: Redis) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


class TcpProxy:
    """127.0.0.1:<port> -> target. `cut()` closes every connection and refuses new ones (the
    database is unreachable); `restore()` accepts again."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self.open = threading.Event()
        self.open.set()
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.listener.settimeout(0.2)
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.running:
            try:
                client, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            if not self.open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError, ValueError):
            while True:
                ready, _, _ = select.select([a, b], [], [], 0.5)
                for src in ready:
                    data = src.recv(65536)
                    if not data:
                        raise OSError("closed")
                    (b if src is a else a).sendall(data)
        for s in (a, b):
            with contextlib.suppress(OSError):
                s.close()

    def cut(self) -> None:
        self.open.clear()
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
                s.close()

    def restore(self) -> None:
        self.open.set()

    def close(self) -> None:
        self.running = False
        self.cut()
        self.listener.close()


@dataclass
class Stream:
    """MOs posted like Kannel posts them: each retried until a 2xx (bounded in time)."""

    url: str
    token: str
    messages: list[dict]
    threads: int = 8
    deadline: float = 90.0
    # Paced, so the stream is still in flight when the fault strikes however fast the machine
    # is: message i goes out at start + i / rate (None: as fast as possible).
    rate: float | None = 40.0
    acked: set = field(default_factory=set)
    refusals: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _post_one(self, msg: dict, not_before: float) -> None:
        time.sleep(max(0.0, not_before - time.monotonic()))
        session = requests.Session()
        end = time.monotonic() + self.deadline
        while time.monotonic() < end:
            try:
                resp = session.post(
                    self.url, data=msg, headers={"Authorization": f"Bearer {self.token}"}, timeout=5
                )
                code = resp.status_code
            except requests.RequestException as exc:
                code = type(exc).__name__
            if code in (200, 202):
                with self.lock:
                    self.acked.add(msg["id"])
                return
            with self.lock:
                self.refusals[str(code)] += 1
            time.sleep(0.2)

    def run(self) -> None:
        start = time.monotonic()
        times = [start + (i / self.rate if self.rate else 0.0) for i in range(len(self.messages))]
        with ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(self._post_one, self.messages, times))

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        return thread


class DedupingSends:
    """Answers a send like an aggregator that dedupes on our message id: a resend of the same
    id gets the first answer's id back, not a second SMS."""

    def __init__(self):
        self.ids: dict[str, str] = {}
        self.lock = threading.Lock()
        self.mode = "ok"  # ok | 500 | 429
        self.delay = 0.0  # seconds each send takes (keeps workers busy mid-job)
        self.accepted: list[dict] = []  # bodies of the sends answered 200

    def __call__(self, recorded):
        time.sleep(self.delay)
        if self.mode == "500":
            return (500, "internal error")
        if self.mode == "429":
            return (429, "slow down", {"Retry-After": "1"})
        body = recorded.json()
        with self.lock:
            agg_id = self.ids.setdefault(body["id"], f"agg-{len(self.ids) + 1}")
            self.accepted.append(body)
        return (200, json.dumps({"id": agg_id}))


def citizen_messages(n: int, tag: str, first: int = 0) -> list[dict]:
    """N distinct complaints from N distinct numbers (one reply expected per number), the
    numbers counted from `first` (runs against one database use blocks of their own)."""
    return [
        {
            "from": f"0813{77000000 + first + i:08d}",
            "to": "1708",
            "id": f"{tag}-{i}",
            "text": f"LAPOR jalan rusak di RT {i % 20} desa nomor {i}",
        }
        for i in range(n)
    ]


@dataclass
class Tally:
    fault: str
    in_flight: int
    lost: int
    duplicated: int
    resent: int
    recovery_s: float
    # Work set aside as poison. A fault is an outage, never the messages' fault: must be 0.
    quarantined: int = 0

    def row(self) -> str:
        return (
            f"{self.fault:<44} {self.in_flight:>6} {self.lost:>5} {self.duplicated:>6} {self.resent:>7}"
            f" {self.quarantined:>11} {self.recovery_s:>9.1f}"
        )


_COLUMNS = ("in flight", 6), ("lost", 5), ("dup", 6), ("resent", 7), ("quarantined", 11), ("recovery s", 9)
HEADER = f"{'fault':<44} " + " ".join(f"{name:>{width}}" for name, width in _COLUMNS)


def write_table(terminalreporter, title: str, results: list[Tally]) -> None:
    """The fault table at the end of a run (the fault suite's and the cluster test's)."""
    terminalreporter.write_sep("=", title)
    terminalreporter.write_line(HEADER)
    for tally in results:
        terminalreporter.write_line(tally.row())


def replies_by_number(accepted: list[dict]) -> dict[str, set[str]]:
    """Distinct gateway message ids the aggregator accepted, per destination number. The same
    id twice is a resend of one message (an aggregator dedupes on it); two ids are two SMS."""
    by_number: dict[str, set[str]] = {}
    for body in list(accepted):
        by_number.setdefault(body["to"], set()).add(body["id"])
    return by_number


def count(accepted: list[dict], messages: list[dict], database_url: str) -> tuple[int, int, int, int]:
    """(lost, duplicated, resent, quarantined): per MO, one report in the database and one
    reply at the aggregator is right; none is lost, more than one is duplicated."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        reports = Counter(r[0] for r in conn.execute(text("SELECT msisdn FROM reports")))
        quarantined = conn.execute(
            text("SELECT count(*) FROM quarantined_work WHERE state = 'QUARANTINED'")
        ).scalar_one()
    engine.dispose()
    by_number = replies_by_number(accepted)
    lost = duplicated = 0
    for msg in messages:
        e164 = "+62" + msg["from"][1:]
        got_reports, got_replies = reports.get(e164, 0), len(by_number.get(e164, ()))
        lost += got_reports == 0 or got_replies == 0
        duplicated += max(0, got_reports - 1) + max(0, got_replies - 1)
    resent = len(accepted) - sum(len(ids) for ids in by_number.values())
    return lost, duplicated, resent, quarantined


def settle(
    fault: str,
    accepted: list[dict],
    messages: list[dict],
    database_url: str,
    restored_at: float,
    timeout: float,
) -> Tally:
    """Wait (bounded) until every MO has its reply, then count: the row of the fault table.
    Recovery is from `restored_at` (the fault over) to the last reply, 0 if none was left."""
    wait_until(lambda: all_replied(accepted, messages), timeout=timeout, interval=0.25)
    recovery = max(0.0, time.monotonic() - restored_at)
    time.sleep(1.5)  # a duplicate would show up now
    lost, duplicated, resent, quarantined = count(accepted, messages, database_url)
    return Tally(fault, len(messages), lost, duplicated, resent, recovery, quarantined)


def all_replied(accepted: list[dict], messages: list[dict]) -> bool:
    by_number = replies_by_number(accepted)
    return all(("+62" + m["from"][1:]) in by_number for m in messages)


def kill_group_member(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    cmdline: str


def group_processes(pgid: int) -> list[Proc]:
    """The live processes of process group `pgid` (the gateway started by start_gateway)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid or fields[0] == "Z":
                continue
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            found.append(Proc(int(stat.parent.name), int(fields[1]), cmdline))
    return found


def worker_children(pgid: int, parent_needle: str) -> list[int]:
    """PIDs of the processes forked by the group's process whose command line has
    `parent_needle`: the RQ workers of `rq worker-pool`, the gunicorn workers of its master."""
    procs = group_processes(pgid)
    matching = {p.pid for p in procs if parent_needle in p.cmdline}
    # Forked workers carry their parent's command line: a match whose parent matches too.
    return [p.pid for p in procs if p.pid in matching and p.ppid in matching]


def dump(results: list[Tally], path: Path) -> None:
    path.write_text(json.dumps([r.__dict__ for r in results], indent=2))
