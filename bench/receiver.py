"""Receiver throughput: MO messages/s accepted by `POST /sms/generic/inbound` against a bare Flask
route, both served by gunicorn with the same sync workers on 127.0.0.1. See bench/README.md.

    .venv/bin/python bench/receiver.py [--seconds N] [--concurrency C] [--db sqlite|postgres|both]
        [--workers 2[,3,4]] [--worker-class sync[,gthread]] [--threads T] [--repeat R] [--no-floor]

With several --workers or --worker-class values, every combination runs the bare route and the
gateway with the same settings, and each gateway row's ratio is to the bare row of its setting.
With --repeat R, all of it runs R times over, interleaved, and the table shows each run's median.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redis import Redis  # noqa: E402
from rq import Queue  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from gateway.db import make_engine  # noqa: E402
from gateway.models import InboundMessage  # noqa: E402
from tests.support.processes import free_port  # noqa: E402
from tests.support.schema import reset_schema  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/lapor_bench"
REDIS_URL = "redis://127.0.0.1:6379/12"
QUEUE = "bench"
PATH = "/sms/generic/inbound"
TOKEN = "bench-" + secrets.token_hex(12)
BARE_APP = f"""from flask import Flask, request

app = Flask(__name__)


@app.post("{PATH}")
def inbound():
    request.form  # parse the body, like the receiver does
    return "", 202
"""
# The floor: the bare route plus the least a persist-before-acknowledge receiver must do, one
# durable INSERT ... RETURNING per request through the DBAPI alone (no SQLAlchemy, no number
# parsing, no Redis), on the same database settings as the gateway: PostgreSQL in autocommit
# (one round trip, a WAL flush per commit); SQLite in WAL mode with synchronous=NORMAL and a
# flock around the commit, as gateway.db does. No Python receiver that commits each MO before
# answering can beat it on this machine, so it shows how much of the gap to bare is ours.
FLOOR_APP = f"""import fcntl, os, sqlite3
import psycopg
from flask import Flask, request

app = Flask(__name__)
URL = os.environ["BENCH_FLOOR_URL"]
SQL = "INSERT INTO bench_floor (external_id, msisdn, text) VALUES ({{0}}, {{0}}, {{0}}) RETURNING id"
_db = {{}}


def connection():
    if "conn" not in _db:  # after the fork, once per worker
        if URL.startswith("sqlite:"):
            path = URL.split("///", 1)[1]
            conn = sqlite3.connect(path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            _db.update(conn=conn, sql=SQL.format("?"), lock=open(path + ".insert-lock", "a"))
        else:
            conn = psycopg.connect(URL, autocommit=True)
            _db.update(conn=conn, sql=SQL.format("%s"), lock=None)
    return _db["conn"], _db["sql"], _db["lock"]


@app.post("{PATH}")
def inbound():
    form = request.form
    conn, sql, lock = connection()
    if lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        row = conn.execute(sql, (form["id"], form["from"], form["text"])).fetchone()
    finally:
        if lock:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return str(row[0]), 202
"""
FLOOR_TABLE = (
    "CREATE TABLE bench_floor (id {id} PRIMARY KEY,"
    " external_id VARCHAR(128) UNIQUE, msisdn VARCHAR(20), text TEXT)"
)
SERVERS: list[subprocess.Popen] = []


@dataclass
class Result:
    """What the load generator saw for one server; `ok_total` includes the warm-up."""

    route: str
    db: str
    seconds: float
    server: str = ""  # gunicorn setting, e.g. "2 sync"
    ok: int = 0
    errors: int = 0
    ok_total: int = 0
    client_cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)
    rounds: list[float] = field(default_factory=list)  # with --repeat: every round's rate

    def rate(self) -> float:
        """2xx answers per second in the measured window."""
        return self.ok / self.seconds

    def percentile(self, q: float) -> float:
        """Latency percentile in milliseconds, over the measured window."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@dataclass(frozen=True)
class Server:
    """One gunicorn setting under test."""

    workers: int
    worker_class: str = "sync"
    threads: int = 1

    def label(self) -> str:
        """How the table names this setting."""
        threads = f"x{self.threads}" if self.worker_class == "gthread" else ""
        return f"{self.workers} {self.worker_class}{threads}"

    def args(self) -> list[str]:
        """The gunicorn command-line options."""
        out = ["--workers", str(self.workers), "--worker-class", self.worker_class]
        return out + (["--threads", str(self.threads)] if self.worker_class == "gthread" else [])


def start_gunicorn(app: str, chdir: Path, server: Server, env: dict[str, str], log: Path) -> int:
    """Start `gunicorn app` with `server`'s workers on a free port in its own process group; wait
    until it answers HTTP. Returns the port."""
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", *server.args()]
    cmd += ["--bind", f"127.0.0.1:{port}", "--chdir", str(chdir), app]
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=out, start_new_session=True)
    SERVERS.append(proc)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"gunicorn {app} exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/")
            conn.getresponse().read()
            return port
        except OSError:
            time.sleep(0.1)
    sys.exit(f"gunicorn {app} did not answer within 30 s:\n{log.read_text()[-2000:]}")


def stop_servers() -> None:
    """Stop every gunicorn we started (its whole process group): TERM, then KILL after 10 s."""
    while SERVERS:
        proc = SERVERS.pop()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


class Connection:
    """A minimal HTTP/1.1 keep-alive client (about 3x less CPU per request than http.client, whose
    header parsing would otherwise eat the core the server needs). Reconnects when the server
    closes, as gunicorn's sync workers do after every response."""

    def __init__(self, port: int):
        self.port, self.sock, self.buf = port, None, b""

    def post(self, body: bytes) -> int:
        """Send one form POST to PATH and read the whole answer; its status, or 0 on a network error."""
        head = f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
        head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
        try:
            if self.sock is None:
                self.sock, self.buf = socket.create_connection(("127.0.0.1", self.port), timeout=10), b""
            self.sock.sendall(head.encode() + body)
            while b"\r\n\r\n" not in self.buf:
                self.buf += self._recv()
            header, self.buf = self.buf.split(b"\r\n\r\n", 1)
            fields = dict(line.lower().split(b": ", 1) for line in header.split(b"\r\n")[1:])
            length = int(fields.get(b"content-length", 0))
            while len(self.buf) < length:
                self.buf += self._recv()
            self.buf = self.buf[length:]
            if fields.get(b"connection") == b"close":
                self.close()
            return int(header.split(b" ", 2)[1])
        except (OSError, ValueError):
            self.close()
            return 0

    def _recv(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed by the server mid-answer")
        return data

    def close(self) -> None:
        """Drop the socket; the next post() reconnects."""
        if self.sock is not None:
            self.sock.close()
        self.sock = None


def client_process(job: tuple[int, str, float, float]) -> Result:
    """One load-generator process (its own GIL): one keep-alive connection sending MOs with unique
    ids back to back until `until`. Also returns its CPU time, to show the client is not the limit."""
    port, prefix, measure_from, until = job
    cpu0, out, conn, n = sum(os.times()[:2]), Result("", "", 0.0), Connection(port), 0
    while (start := time.monotonic()) < until:
        n += 1
        form = {
            "from": "081234567890",
            "to": "1708",
            "text": "LAPOR jalan rusak depan pasar",
            "id": f"{prefix}-{n}",
        }
        ok = 200 <= conn.post(urlencode(form).encode()) < 300
        latency = time.monotonic() - start
        out.ok_total += ok
        if start >= measure_from:
            out.ok += ok
            out.errors += not ok
            out.latencies.append(latency)
    conn.close()
    out.client_cpu = sum(os.times()[:2]) - cpu0
    return out


def map_in_processes(func, jobs: list) -> list:
    """`func` over `jobs`, one forked process each (one GIL each), ignoring Ctrl-C there (the
    parent handles it)."""
    ignore_sigint = (signal.signal, (signal.SIGINT, signal.SIG_IGN))
    pool = multiprocessing.get_context("fork").Pool(len(jobs), *ignore_sigint)
    try:
        results = pool.map(func, jobs)
    except BaseException:
        pool.terminate()
        raise
    # close + join, not terminate (what `with Pool` does): killing a worker while it holds the
    # task queue's lock can leave another blocked on that lock forever (a run hung that way).
    pool.close()
    pool.join()
    return results


def load(port: int, route: str, db: str, args: argparse.Namespace) -> Result:
    """Run `concurrency` client processes against `port`: warm-up, then the measured window."""
    measure_from = time.monotonic() + args.warmup
    until = measure_from + args.seconds
    nonce = secrets.token_hex(4)
    jobs = [(port, f"{nonce}-{i}", measure_from, until) for i in range(args.concurrency)]
    parts = map_in_processes(client_process, jobs)
    total = Result(route, db, args.seconds)
    for p in parts:
        total.ok, total.errors, total.ok_total = (
            total.ok + p.ok,
            total.errors + p.errors,
            total.ok_total + p.ok_total,
        )
        total.client_cpu += p.client_cpu
        total.latencies += p.latencies
    return total


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database if missing (its own, so the test suite's truncates never
    meet the benchmark; a new machine has none)."""
    target = make_url(url)
    if target.get_backend_name() == "postgresql":
        admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}):
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
        admin.dispose()


def reset_database(url: str) -> None:
    """The database (created if missing), with the gateway's tables dropped and recreated."""
    ensure_database(url)
    reset_schema(url)


def count_rows(url: str) -> int:
    """How many MOs the database holds."""
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.scalar(select(func.count()).select_from(InboundMessage))
    engine.dispose()
    return rows


def serve_and_load(
    app: str, chdir: Path, env: dict[str, str], run: tuple[str, str], server: Server, args
) -> Result:
    """Start `app` (a module in `chdir`) under gunicorn with `server`'s setting, its log in
    args.logs; run the load against it, labelled `run` (route, database); stop it."""
    route, db = run
    port = start_gunicorn(app, chdir, server, env, args.logs / f"{route}-{db}.log")
    try:
        result = load(port, route, db, args)
    finally:
        stop_servers()
    return replace(result, server=server.label())


def bench_bare(server: Server, args: argparse.Namespace, tmp: Path) -> Result:
    """The baseline: a Flask route that parses the form and answers 202, same gunicorn setup."""
    (tmp / "bare_app.py").write_text(BARE_APP)
    return serve_and_load("bare_app:app", tmp, dict(os.environ), ("bare", "-"), server, args)


def bench_floor(db: str, server: Server, args: argparse.Namespace, tmp: Path) -> tuple[Result, bool]:
    """The floor (see FLOOR_APP) on a fresh `bench_floor` table. Returns the result and whether
    the table holds one row per 2xx answer."""
    url = make_url(f"sqlite:///{tmp / 'floor.db'}" if db == "sqlite" else args.pg_url)
    ensure_database(url.render_as_string(hide_password=False))
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_floor"))
        conn.execute(text(FLOOR_TABLE.format(id="INTEGER" if db == "sqlite" else "BIGSERIAL")))
    (tmp / "floor_app.py").write_text(FLOOR_APP)
    env = dict(os.environ, BENCH_FLOOR_URL=url.set(drivername=url.get_backend_name()).render_as_string(False))
    try:
        result = serve_and_load("floor_app:app", tmp, env, ("floor", db), server, args)
        with engine.begin() as conn:
            rows = conn.scalar(text("SELECT count(*) FROM bench_floor"))
            conn.execute(text("DROP TABLE bench_floor"))
    finally:
        engine.dispose()
    rows_ok = rows == result.ok_total
    print(
        f"check floor {db}: rows {rows} == 2xx answers {result.ok_total}: {'OK' if rows_ok else 'MISMATCH'}"
    )
    return result, rows_ok


def bench_gateway(db: str, server: Server, args: argparse.Namespace, tmp: Path) -> tuple[Result, bool]:
    """The real receiver on a fresh database and an empty Redis db, no RQ worker. Returns the
    result and whether the row count equals the 2xx answers and Redis holds work for them."""
    url = f"sqlite:///{tmp / 'gateway.db'}" if db == "sqlite" else args.pg_url
    if db == "postgres":
        print(f"WARNING: dropping and recreating the gateway tables in {url} (other tests use them)")
    reset_database(url)
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=REDIS_URL, GATEWAY_QUEUE=QUEUE)
    env.update(GATEWAY_INBOUND_TOKEN=TOKEN, GATEWAY_OUTBOUND="log")
    try:
        result = serve_and_load("wsgi:app", ROOT, env, ("gateway", db), server, args)
        queued, rows = Queue(QUEUE, connection=redis).count, count_rows(url)
    finally:
        redis.flushdb()
    # One job per MO, or one drain job per doorbell ring (gateway.queueing): either way, stored
    # MOs must have at least one job waiting for them.
    rows_ok, queue_ok = rows == result.ok_total, (queued >= 1) == (rows >= 1)
    verdict = "OK" if rows_ok else "MISMATCH (is something else using this database?)"
    print(f"check {db}: DB rows {rows} == 2xx answers {result.ok_total} (incl. warm-up): {verdict}")
    print(f"check {db}: {queued} job(s) queued for the stored MOs: {'OK' if queue_ok else 'MISSING'}")
    if db == "postgres":
        reset_database(url)  # leave the shared test database's tables empty
    return result, rows_ok and queue_ok


def print_table(results: list[Result], warmup: float) -> None:
    """One row per run, with its throughput over the bare run of the same gunicorn setting, and
    for the gateway over the floor run of the same setting and database; with several rounds,
    each round's rate too."""
    bare = {r.server: r.rate() for r in results if r.route == "bare"}
    floor = {(r.server, r.db): r.rate() for r in results if r.route == "floor"}
    head = f"{'route':<8} {'db':<9} {'requests/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}"
    print(f"\n{head} {'client CPU':>10} {'x bare':>7} {'x floor':>7}  gunicorn  rounds")
    for r in results:
        cpu = 100 * r.client_cpu / (r.seconds + warmup)
        of_floor = (
            r.rate() / floor[r.server, r.db] if r.route == "gateway" and (r.server, r.db) in floor else None
        )
        rounds = "/".join(f"{rate:.0f}" for rate in r.rounds) if len(r.rounds) > 1 else ""
        print(
            f"{r.route:<8} {r.db:<9} {r.rate():>10.1f} {r.percentile(0.50):>7.2f} {r.percentile(0.99):>7.2f}"
            f" {r.errors:>6} {cpu:>9.0f}% {r.rate() / bare.get(r.server, float('nan')):>7.2f}"
            f" {'' if of_floor is None else f'{of_floor:.2f}':>7}  {r.server:<8}  {rounds}"
        )


def median_runs(results: list[Result]) -> list[Result]:
    """Per route, database and gunicorn setting (in first-run order), the run with the median
    rate (the lower middle of an even count), carrying every round's rate in `rounds`."""
    groups: dict[tuple[str, str, str], list[Result]] = {}
    for r in results:
        groups.setdefault((r.route, r.db, r.server), []).append(r)
    out = []
    for runs in groups.values():
        ordered = sorted(runs, key=Result.rate)
        out.append(replace(ordered[(len(ordered) - 1) // 2], rounds=[r.rate() for r in runs]))
    return out


def write_results(path: Path, results: list[Result], args: argparse.Namespace, checks_ok: bool) -> None:
    """The table as JSON: one entry per route, db and gunicorn setting (its median run with
    --repeat: rate, latency, and every round's rate)."""
    runs = [
        {
            "route": r.route,
            "db": r.db,
            "server": r.server,
            "per_s": r.rate(),
            "p50_ms": r.percentile(0.50),
            "p99_ms": r.percentile(0.99),
            "errors": r.errors,
            "per_s_rounds": r.rounds,
        }
        for r in results
    ]
    setup = {"concurrency": args.concurrency, "seconds": args.seconds, "warmup": args.warmup}
    setup["repeat"] = args.repeat
    write_json(path, {"runs": runs, "checks_ok": checks_ok, "setup": setup})


def write_json(path: Path, figures: dict) -> None:
    """Write a part's figures where `--json` asked (bench/all.py reads them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2))


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=10.0, help="measured window per run (default 10)")
    p.add_argument("--warmup", type=float, default=2.0, help="unmeasured warm-up per run (default 2)")
    p.add_argument("--concurrency", type=int, default=4, help="client connections (default 4)")
    p.add_argument(
        "--workers", type=_int_list, default=[2], help="gunicorn workers, e.g. 2 or 2,3,4 (default 2)"
    )
    p.add_argument(
        "--worker-class",
        type=_class_list,
        default=["sync"],
        help="gunicorn worker class(es): sync, gthread or sync,gthread (default sync)",
    )
    p.add_argument("--threads", type=int, default=4, help="threads per gthread worker (default 4)")
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of every run; the table shows each one's median (default 1)",
    )
    p.add_argument("--pg-url", default=PG_URL, help=f"PostgreSQL database to wipe and use (default {PG_URL})")
    p.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument(
        "--no-floor",
        dest="floor",
        action="store_false",
        help="skip the floor runs (bare route + one durable INSERT per request, per database)",
    )
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    args = p.parse_args()
    if not (
        0 < args.seconds <= 300
        and 0 <= args.warmup <= 60
        and 0 < args.concurrency <= 64
        and all(0 < w <= 32 for w in args.workers)
        and 0 < args.threads <= 64
        and 0 < args.repeat <= 9
    ):
        p.error(
            "need 0 < --seconds <= 300, 0 <= --warmup <= 60, 0 < --concurrency <= 64, 0 < --workers <= 32,"
            " 0 < --threads <= 64, 0 < --repeat <= 9"
        )
    return args


def _int_list(raw: str) -> list[int]:
    return [int(part) for part in raw.split(",")]


def _class_list(raw: str) -> list[str]:
    classes = raw.split(",")
    if not set(classes) <= {"sync", "gthread"}:
        raise argparse.ArgumentTypeError("worker classes are sync and gthread")
    return classes


def main() -> int:
    """Bare route, then the gateway on each database; print the table; exit 1 if a check fails."""
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks on TERM too
    dbs = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    results, all_ok = [], True
    try:
        with tempfile.TemporaryDirectory(prefix="bench-receiver-") as tmp:
            args.logs = Path(tmp)  # each gunicorn's output, shown if it fails to start
            # Rounds interleave every run, so a slow spell of the machine hits them all alike.
            for _ in range(args.repeat):
                for wclass in args.worker_class:
                    for workers in args.workers:
                        server = Server(workers, wclass, args.threads)
                        results.append(bench_bare(server, args, Path(tmp)))
                        for db in dbs:
                            runs = [bench_floor, bench_gateway] if args.floor else [bench_gateway]
                            for bench in runs:
                                result, ok = bench(db, server, args, Path(tmp))
                                results.append(result)
                                all_ok &= ok
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        stop_servers()
    results = median_runs(results)
    print_table(results, args.warmup)
    settings = ", ".join(sorted({r.server for r in results}))
    rounds = (
        f"; the median of {args.repeat} interleaved rounds (rounds: each one's rate)"
        if args.repeat > 1
        else ""
    )
    print(
        f"\ngunicorn: {settings} (workers, class); {args.concurrency} connections from"
        f" {args.concurrency} client processes, {args.warmup:g} s warm-up +"
        f" {args.seconds:g} s; client CPU is % of one core over warm-up + window{rounds}"
    )
    if args.json:
        write_results(args.json, results, args, all_ok)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
