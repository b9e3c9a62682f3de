"""Memory (issue #6, goal 5): peak RSS of every process of the gateway as `make run` starts it,
by kind of process, at idle, under a burst of MOs that builds a backlog, and under the same
burst with many reports already in the database (RSS must not grow with the reports stored).

    .venv/bin/python bench/memory.py [--bursts 2000,8000] [--preload 100000] [--drain 10] [--json PATH]

Each phase starts a fresh gateway (SQLite file of its own, Redis db 9 flushed before and after,
GATEWAY_OUTBOUND=generic against a fake aggregator on 127.0.0.1) and samples VmRSS and VmHWM
from /proc every 0.2 s for every process in the gateway's process group, classified by command
line: gunicorn master and workers, the rq worker-pool parent and its workers, rq cron. The backlog
(pending inbound rows, RQ queue length, Redis used_memory) is sampled every 0.5 s. A burst is
posted as fast as --clients raw-socket client processes can; the phase then watches the backlog
drain for at most --drain seconds and stops the gateway.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redis import Redis  # noqa: E402
from rq import Queue  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

import bench.receiver as receiver  # noqa: E402
from gateway.db import make_engine  # noqa: E402
from gateway.migrate import upgrade_to_head  # noqa: E402
from gateway.models import InboundMessage, Report  # noqa: E402
from gateway.parsers.tracking import new_tracking_number  # noqa: E402
from tests.support.aggregator import start_fake_aggregator  # noqa: E402
from tests.support.processes import GatewayProcesses, group_alive, start_gateway  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/9"
QUEUE = "bench-memory"
CLASSES = ("gunicorn master", "gunicorn worker", "rq pool parent", "rq worker", "rq cron")
SAMPLE_EVERY = 0.2
BACKLOG_EVERY = 0.5


def read_proc(pid: str) -> tuple[int, int, str, int, int] | None:
    """(ppid, pgrp, cmdline, VmRSS kB, VmHWM kB) of one process, None if gone or a kernel thread."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    vm = {
        k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in status.splitlines()) if k[:2] == "Vm"
    }
    if "VmRSS" not in vm:
        return None
    return int(stat[1]), int(stat[2]), cmd, vm["VmRSS"], vm.get("VmHWM", 0)


def classify(cmd: str, parent_cmd: str) -> str | None:
    """Which kind of gateway process a command line is (None for the shell and its subshells)."""
    if "gunicorn" in cmd:
        return "gunicorn worker" if "gunicorn" in parent_cmd else "gunicorn master"
    if "worker-pool" in cmd:
        return "rq worker" if "worker-pool" in parent_cmd else "rq pool parent"
    if " cron " in cmd:
        return "rq cron"
    return None


def sample_group(pgid: int) -> dict[int, tuple[str, int, int]]:
    """{pid: (class, VmRSS kB, VmHWM kB)} for the gateway processes of process group pgid."""
    procs = {}
    for path in Path("/proc").glob("[0-9]*"):
        info = read_proc(path.name)
        if info and info[1] == pgid:
            procs[int(path.name)] = info
    out = {}
    for pid, (ppid, _, cmd, rss, hwm) in procs.items():
        parent = procs.get(ppid)
        kind = classify(cmd, parent[2] if parent else "")
        if kind:
            out[pid] = (kind, rss, hwm)
    return out


@dataclass
class Peaks:
    """What the sampler saw during one phase."""

    idle_kb: dict[str, int] = field(default_factory=dict)
    peak_kb: dict[str, int] = field(default_factory=dict)
    count: dict[str, int] = field(default_factory=dict)
    pending: int = 0
    queued: int = 0
    redis_bytes: int = 0

    def add(self, procs: dict[int, tuple[str, int, int]], idle: bool) -> None:
        """Fold one sample in: the largest process of each class."""
        by_class: dict[str, list[int]] = {}
        for kind, rss, hwm in procs.values():
            by_class.setdefault(kind, []).append(max(rss, hwm))
        for kind, sizes in by_class.items():
            self.peak_kb[kind] = max(self.peak_kb.get(kind, 0), *sizes)
            self.count[kind] = max(self.count.get(kind, 0), len(sizes))
            if idle:
                self.idle_kb[kind] = max(self.idle_kb.get(kind, 0), *sizes)


class Sampler(threading.Thread):
    """Samples RSS every SAMPLE_EVERY and the backlog every BACKLOG_EVERY until stopped."""

    def __init__(self, pgid: int, db_url: str):
        super().__init__(daemon=True)
        self.pgid, self.peaks, self.idle = pgid, Peaks(), True
        self.engine = make_engine(db_url)
        self.redis = Redis.from_url(REDIS_URL)
        self.halt = threading.Event()

    def run(self) -> None:
        """Loop until stop()."""
        last_backlog = 0.0
        while not self.halt.is_set():
            self.peaks.add(sample_group(self.pgid), self.idle)
            if time.monotonic() - last_backlog >= BACKLOG_EVERY:
                last_backlog = time.monotonic()
                self.sample_backlog()
            self.halt.wait(SAMPLE_EVERY)

    def sample_backlog(self) -> None:
        """Pending rows, queue length and Redis memory now; keep the peaks."""
        p = self.peaks
        p.pending = max(p.pending, self.pending_rows())
        p.queued = max(p.queued, Queue(QUEUE, connection=self.redis).count)
        p.redis_bytes = max(p.redis_bytes, self.redis.info("memory")["used_memory"])

    def pending_rows(self) -> int:
        """Inbound messages stored but not processed yet."""
        with self.engine.connect() as conn:
            query = select(func.count()).select_from(InboundMessage).where(InboundMessage.status == "PENDING")
            return conn.scalar(query)

    def stop(self) -> Peaks:
        """Stop sampling; the peaks."""
        self.halt.set()
        self.join(5)
        self.engine.dispose()
        return self.peaks


def post_slice(job: tuple[int, str, int, int]) -> int:
    """One client process: post MOs first..last-1 (each from its own number); 2xx count."""
    port, tag, first, last = job
    conn, ok = receiver.Connection(port), 0
    for i in range(first, last):
        form = {
            "from": f"0812{70000000 + i:08d}",
            "to": "1708",
            "text": f"LAPOR jalan rusak {i}",
            "id": f"{tag}-{i}",
        }
        ok += 200 <= conn.post(urlencode(form).encode()) < 300
    conn.close()
    return ok


def burst(port: int, n: int, clients: int, tag: str) -> tuple[int, float]:
    """Post n MOs from `clients` processes as fast as they go; (2xx answers, seconds)."""
    bounds = [n * k // clients for k in range(clients + 1)]
    jobs = [(port, tag, bounds[k], bounds[k + 1]) for k in range(clients)]
    start = time.monotonic()
    ok = sum(receiver.map_in_processes(post_slice, jobs))
    return ok, time.monotonic() - start


def preload(db_url: str, n: int) -> float:
    """Insert n reports in bulk (SQLAlchemy Core); seconds taken."""
    start, engine, seen = time.monotonic(), make_engine(db_url), set()
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for chunk in range(0, n, 10_000):
            rows = []
            for i in range(chunk, min(n, chunk + 10_000)):
                tracking = new_tracking_number()
                while tracking in seen:
                    tracking = new_tracking_number()
                seen.add(tracking)
                rows.append(
                    {
                        "tracking_no": tracking,
                        "msisdn": f"+62811{i:08d}",
                        "text": f"Laporan lama nomor {i}: jalan rusak di desa",
                        "privacy": "PUBLIC",
                        "status": "RECEIVED",
                        "channel": "SMS",
                        "source_key": f"bench:preload:{i}",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            conn.execute(insert(Report), rows)
    engine.dispose()
    return time.monotonic() - start


def phase(name: str, n: int, reports: int, args: argparse.Namespace, tmp: Path) -> dict:
    """One fresh gateway: optional preload, idle sampling, a burst of n MOs, a bounded drain."""
    workdir = tmp / name
    workdir.mkdir()
    db_url = f"sqlite:///{workdir}/gateway.db"
    upgrade_to_head(db_url)
    preload_s = preload(db_url, reports) if reports else 0.0
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    fake = start_fake_aggregator()
    env = {
        "REDIS_URL": REDIS_URL,
        "DATABASE_URL": db_url,
        "GATEWAY_QUEUE": QUEUE,
        "GATEWAY_INBOUND_TOKEN": receiver.TOKEN,
        "GATEWAY_OUTBOUND": "generic",
        "GATEWAY_GENERIC_SEND_URL": fake.url,
        "GATEWAY_GENERIC_SEND_TOKEN": "bench",
        "GATEWAY_FLOOD_LIMIT": "1000000",
    }
    try:
        gw = start_gateway(workdir, env)
        try:
            out = measure(gw, db_url, n, args, name)
        finally:
            gw.stop()
        out.update(
            phase=name, mo=n, reports_preloaded=reports, preload_s=preload_s, replies=len(fake.requests)
        )
    finally:
        fake.close()
        redis.flushdb()
    return out


def stop_gateway(gw: GatewayProcesses, grace: float = 3.0) -> None:
    """Stop the gateway's whole process group: TERM, then KILL after `grace` seconds (an RQ
    worker waiting on Redis can take 15 s to act on TERM; a benchmark's data is thrown away)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(gw.proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while group_alive(gw.proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(gw.proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        gw.proc.wait(5)


def measure(gw, db_url: str, n: int, args: argparse.Namespace, tag: str) -> dict:
    """Sample while idle, during the burst and while the backlog drains (bounded)."""
    sampler = Sampler(gw.proc.pid, db_url)
    sampler.start()
    try:
        time.sleep(args.idle)
        sampler.idle = False
        ok, seconds = burst(int(gw.url.rsplit(":", 1)[1]), n, args.clients, tag) if n else (0, 0.0)
        deadline = time.monotonic() + args.drain
        while n and time.monotonic() < deadline and sampler.pending_rows() > 0:
            time.sleep(0.5)
        left = sampler.pending_rows()
    finally:
        peaks = sampler.stop()
    return {
        "accepted": ok,
        "burst_s": seconds,
        "pending_left": left,
        "peak_pending": peaks.pending,
        "peak_queued": peaks.queued,
        "peak_redis_mb": peaks.redis_bytes / 2**20,
        "idle_rss_mb": {k: v / 1024 for k, v in peaks.idle_kb.items()},
        "peak_rss_mb": {k: v / 1024 for k, v in peaks.peak_kb.items()},
        "processes": peaks.count,
    }


def print_table(results: list[dict]) -> None:
    """Peak RSS per process class (MB, the largest process of the class) for each phase."""
    short = {"gunicorn master": "gu.master", "gunicorn worker": "gu.worker", "rq pool parent": "rq.pool"}
    short |= {"rq worker": "rq.worker", "rq cron": "rq.cron"}
    head = f"{'phase':<18} {'MO':>6} {'reports':>7} {'backlog':>7} {'redis MB':>9}"
    print(head.replace("redis MB", "redis MB*") + "".join(f" {short[c]:>9}" for c in CLASSES))
    for r in results:
        if r["phase"] == results[0]["phase"]:
            idle = "".join(f" {r['idle_rss_mb'].get(c, 0):>9.1f}" for c in CLASSES)
            print(f"{'idle':<18} {0:>6} {0:>7} {0:>7} {'':>9}{idle}")
        rss = "".join(f" {r['peak_rss_mb'].get(c, 0):>9.1f}" for c in CLASSES)
        print(
            f"{r['phase']:<18} {r['mo']:>6} {r['reports_preloaded']:>7} {r['peak_pending']:>7}"
            f" {r['peak_redis_mb']:>9.1f}{rss}"
        )


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bursts", default="2000,8000", help="MOs per burst phase (default 2000,8000)")
    p.add_argument("--preload", type=int, default=100_000, help="reports stored before the last phase")
    p.add_argument("--clients", type=int, default=4, help="client processes posting a burst (default 4)")
    p.add_argument("--idle", type=float, default=2.0, help="seconds sampled idle before a burst (default 2)")
    p.add_argument("--drain", type=float, default=10.0, help="longest wait for the backlog to drain, s")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    args = p.parse_args()
    args.sizes = [int(x) for x in args.bursts.split(",") if x]
    if not (args.sizes and all(0 < k <= 50_000 for k in args.sizes) and 0 <= args.preload <= 1_000_000):
        p.error("need bursts of 1..50000 MOs and 0 <= --preload <= 1000000")
    if not (0 < args.clients <= 16 and 0 <= args.idle <= 60 and 0 <= args.drain <= 600):
        p.error("need 0 < --clients <= 16, 0 <= --idle <= 60, 0 <= --drain <= 600")
    return args


def main() -> int:
    """Every phase in turn, then the table and the JSON."""
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        for k in args.sizes:
            results.append(phase(f"burst {k}", k, 0, args, Path(tmp)))
        if args.preload:
            k = max(args.sizes)
            results.append(phase(f"burst {k} +reports", k, args.preload, args, Path(tmp)))
    print_table(results)
    print(
        f"\npeak RSS in MB of the largest process of each kind (VmRSS sampled every {SAMPLE_EVERY} s and"
        f" VmHWM); backlog = peak pending inbound rows; bursts from {args.clients} client processes,"
        f" then at most {args.drain:g} s of draining; *Redis used_memory, the whole instance"
    )
    if args.json:
        receiver.write_json(args.json, {"phases": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
