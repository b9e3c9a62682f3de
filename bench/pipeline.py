"""End to end: MO posted -> report filed -> reply accepted by the aggregator, through the
gateway as `make run` starts it (gunicorn + RQ worker pool + cron), against a real aggregator
server on 127.0.0.1 that timestamps each reply (bench/lean_aggregator.py: keep-alive, and as
little CPU per request as it can, so the 2 cores go to what is measured). Issue #6's goals 2
and 3:

- burst: --burst MOs (each from its own number) posted as fast as --concurrency client
  processes can; MOs accepted/s, and MOs/s until the last reply reached the aggregator;
- load: MOs offered at each of --rates per second for --seconds each; per rate, the
  throughput achieved (replies/s) and the MO post -> reply latency p50 and p99.

Issue 15's scenarios (`--scenario`), with the aggregator answering after --latency-ms:
- tps-cap: GATEWAY_GENERIC_TPS=--tps and an aggregator that answers 429 to any request over
  --tps in the trailing second; a burst of --burst MOs: the most sends the aggregator saw in
  any 1 s window, and how many 429s it gave;
- priority: --notices notices queued (on the bulk queue, as the gateway queues them) at
  --tps, then one MO: how long until its reply reached the aggregator.

    .venv/bin/python bench/pipeline.py [--db sqlite|postgres] [--burst 2000] \\
        [--rates 100,200,400,600,800] [--seconds 8] [--latency-ms 0] [--json PATH]
    .venv/bin/python bench/pipeline.py --scenario tps-cap --tps 50 --burst 2000
    .venv/bin/python bench/pipeline.py --scenario priority --tps 50 --notices 5000

The clients are separate processes with a raw-socket HTTP client (bench/receiver.py's), so
the load generator's GIL is not what is measured; the aggregator runs in this process.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redis import Redis  # noqa: E402

from bench.lean_aggregator import LeanAggregator  # noqa: E402
from bench.memory import Peaks, sample_group  # noqa: E402
from bench.receiver import TOKEN, Connection, map_in_processes, reset_database, write_json  # noqa: E402
from gateway.migrate import upgrade_to_head  # noqa: E402
from gateway.sendrate import most_in_any_window  # noqa: E402
from tests.support.processes import start_gateway, wait_until  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/lapor_bench"
REDIS_URL = "redis://127.0.0.1:6379/11"
CLIENTS = 24  # paced sender processes: enough in flight for 800 MO/s at up to 30 ms per post
SETTLE_TIMEOUT = 120.0  # seconds to wait for the last replies of a phase


class Arrivals:
    """The time (time.monotonic, which is system-wide) each reply reached the aggregator,
    by destination number; with `tps`, an aggregator that enforces its rate: a request over
    `tps` in the trailing second is answered 429 (counted in `throttled`)."""

    def __init__(self, tps: int = 0):
        self.at: dict[str, float] = {}
        self.times: list[float] = []  # every request that reached it
        self.tps = tps
        self.throttled = 0
        self.lock = threading.Lock()

    def __call__(self, body: dict) -> tuple[int, str]:
        with self.lock:
            now = time.monotonic()
            recent = self.times[-self.tps :] if self.tps else []
            self.times.append(now)
            if self.tps and len(recent) == self.tps and recent[0] > now - 1.0:
                self.throttled += 1
                return (429, '{"error": "throttled"}')
            self.at.setdefault(body["to"], now)
            n = len(self.at)
        return (200, json.dumps({"id": f"agg-{body['id']}-{n}"}))

    def count(self, numbers: list[str]) -> int:
        """How many of these numbers have had their reply."""
        with self.lock:
            return sum(n in self.at for n in numbers)


def _sample_rss(pgid: int, every: float, halt, conn) -> None:
    """In its own process: the largest RSS of each kind of gateway process until `halt`."""
    peaks = Peaks()
    while not halt.is_set():
        peaks.add(sample_group(pgid), idle=False)
        halt.wait(every)
    conn.send({kind: kb / 1024 for kind, kb in peaks.peak_kb.items()})


class RssSampler:
    """Peak RSS of each kind of gateway process while the run goes on (issue 15: memory per
    worker stays flat with its sends in flight; bench/memory.py's sampling). A process of its
    own: reading /proc for every process takes the GIL for milliseconds, which in a thread
    would delay the bench aggregator's arrival times and bunch them up."""

    def __init__(self, pgid: int, every: float = 0.2):
        ctx = multiprocessing.get_context("fork")
        self.halt = ctx.Event()
        self.conn, child = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_sample_rss, args=(pgid, every, self.halt, child), daemon=True)

    def start(self) -> None:
        """Start sampling."""
        self.proc.start()

    def stop(self) -> dict[str, float]:
        """Stop; the peak RSS in MB of the largest process of each kind."""
        self.halt.set()
        peaks = self.conn.recv() if self.conn.poll(10) else {}
        self.proc.join(5)
        return peaks


def number(i: int) -> str:
    """MO i's sender, as the citizen's phone sends it."""
    return f"0813{50000000 + i:08d}"


def e164(i: int) -> str:
    """MO i's sender as the gateway stores it (and the reply's destination)."""
    return "+62" + number(i)[1:]


def post_until_accepted(conn: Connection, i: int, tag: str) -> float:
    """Post MO i, retrying like an aggregator until a 2xx; return when it was first sent."""
    form = {
        "from": number(i),
        "to": "1708",
        "id": f"{tag}-{i}",
        "text": f"LAPOR jalan rusak nomor {i} di desa",
    }
    body = urlencode(form).encode()
    sent = time.monotonic()
    while not 200 <= conn.post(body) < 300:
        time.sleep(0.05)
    return sent


def client_process(job: tuple[int, str, list[int], float, float]) -> dict[int, float]:
    """One sender process: its share of the MOs, each at start + k / rate (as fast as it can
    when rate is 0). Returns when each MO was sent."""
    port, tag, indices, start, rate = job
    conn, sent = Connection(port), {}
    for k, i in indices:
        if rate:
            time.sleep(max(0.0, start + k / rate - time.monotonic()))
        sent[i] = post_until_accepted(conn, i, tag)
    conn.close()
    return sent


def offer(port: int, tag: str, first: int, n: int, rate: float, clients: int) -> dict[int, float]:
    """Post MOs first..first+n-1 from `clients` processes, paced at `rate`/s (0: unpaced)."""
    start = time.monotonic() + 0.2
    schedule = list(enumerate(range(first, first + n)))
    jobs = [(port, tag, schedule[c::clients], start, rate) for c in range(clients)]
    parts = map_in_processes(client_process, jobs)
    return {i: t for part in parts for i, t in part.items()}


def settle(arrivals: Arrivals, sent: dict[int, float]) -> tuple[list[float], int, float]:
    """Wait (bounded) for every reply; (latencies in s, replies missing, last arrival)."""
    numbers = [e164(i) for i in sent]
    wait_until(lambda: arrivals.count(numbers) == len(numbers), timeout=SETTLE_TIMEOUT, interval=0.05)
    with arrivals.lock:
        got = {i: arrivals.at[e164(i)] for i in sent if e164(i) in arrivals.at}
    latencies = [got[i] - sent[i] for i in got]
    return latencies, len(sent) - len(got), max(got.values(), default=float("nan"))


def pct(values: list[float], q: int) -> float:
    """The q-th percentile in milliseconds."""
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else float("nan")


def run_burst(port: int, arrivals: Arrivals, n: int, clients: int) -> dict:
    """n MOs as fast as `clients` processes can post them."""
    start = time.monotonic()
    sent = offer(port, "burst", 0, n, 0, clients)
    accepted = time.monotonic()
    _, lost, last = settle(arrivals, sent)
    return {
        "n": n,
        "accept_per_s": n / (accepted - start),
        "e2e_per_s": (n - lost) / (last - start),
        "lost": lost,
    }


def run_load(port: int, arrivals: Arrivals, rate: float, seconds: float, first: int) -> dict:
    """MOs offered at `rate`/s for `seconds`: throughput achieved and latency."""
    n = int(rate * seconds)
    sent = offer(port, f"r{rate:g}", first, n, rate, CLIENTS)
    latencies, lost, last = settle(arrivals, sent)
    first_sent = min(sent.values())
    offered = n / (max(sent.values()) - first_sent) if n > 1 else rate
    return {
        "offered": rate,
        "offered_actual": offered,
        "achieved": (n - lost) / (last - first_sent),
        "p50_ms": pct(latencies, 50),
        "p99_ms": pct(latencies, 99),
        "lost": lost,
    }


def run_tps_cap(port: int, arrivals: Arrivals, n: int, clients: int) -> dict:
    """A burst under the cap: what the aggregator saw in its busiest second, and its 429s."""
    burst = run_burst(port, arrivals, n, clients)
    with arrivals.lock:
        busiest = most_in_any_window(arrivals.times, 1.0)
    return {**burst, "tps": arrivals.tps, "max_in_any_1s": busiest, "throttled_429": arrivals.throttled}


def queue_notices(db_url: str, queue_name: str, n: int) -> None:
    """n notices in the outbox and their send jobs on the bulk queue, as the gateway's own
    notices are queued (follow-ups, SLA closings), to numbers no MO comes from."""
    from rq import Queue
    from sqlalchemy import insert, select

    from gateway.db import make_engine
    from gateway.models import OutboundMessage
    from gateway.queueing import enqueue_send

    engine = make_engine(db_url)
    rows = [
        {
            "dedupe_key": f"bench-notice:{i}",
            "kind": "NOTICE",
            "aggregator": "generic",
            "msisdn": f"+62819{i:08d}",
            "sender": "1708",
            "text": f"LAPOR! Laporan {i} Ditindaklanjuti. Ketik CEK {i} untuk status.",
        }
        for i in range(n)
    ]
    with engine.begin() as conn:
        conn.execute(insert(OutboundMessage), rows)
        ids = list(conn.scalars(select(OutboundMessage.id).where(OutboundMessage.kind == "NOTICE")))
    engine.dispose()
    enqueue_send(Queue(queue_name, connection=Redis.from_url(REDIS_URL)), ids, bulk=True)


def run_priority(port: int, arrivals: Arrivals, db_url: str, queue_name: str, notices: int) -> dict:
    """Notices queued and going out at the capped rate, then one MO: its reply's latency."""
    queue_notices(db_url, queue_name, notices)
    wait_until(lambda: len(arrivals.times) >= min(20, notices), timeout=60, interval=0.01)
    conn = Connection(port)
    sent = post_until_accepted(conn, 0, "priority")
    conn.close()
    wait_until(lambda: arrivals.count([e164(0)]) == 1, timeout=SETTLE_TIMEOUT, interval=0.01)
    with arrivals.lock:
        reply_at = arrivals.at[e164(0)]
        before = sum(1 for t in arrivals.times if t < reply_at)
    return {
        "notices": notices,
        "tps": arrivals.tps,
        "reply_ms": (reply_at - sent) * 1000,
        "sends_before": before,
    }


def prepare_database(db: str, tmp: Path) -> str:
    """A fresh, empty store; its URL."""
    if db == "postgres":
        reset_database(PG_URL)
        return PG_URL
    url = f"sqlite:///{tmp}/gateway.db"
    upgrade_to_head(url)
    return url


def print_table(result: dict, overrides: str) -> None:
    """The figures, one line each."""
    print(
        f"\npipeline on {result['db']}, aggregator answering after {result['latency_ms']:g} ms ({overrides})"
    )
    peaks = ", ".join(f"{kind} {mb:.0f}" for kind, mb in sorted(result.get("peak_rss_mb", {}).items()))
    print(f"peak RSS MB: {peaks}")
    if "tps_cap" in result:
        r = result["tps_cap"]
        print(f"TPS cap {r['tps']}, burst of {r['n']} MO:")
        print(f"  max sends in any 1 s window {r['max_in_any_1s']}")
        print(f"  429s from the aggregator {r['throttled_429']}")
        print(f"  MO -> reply at aggregator/s {r['e2e_per_s']:.0f}, lost {r['lost']}")
        return
    if "priority" in result:
        r = result["priority"]
        print(f"{r['notices']} notices queued at TPS {r['tps']}, then one MO:")
        print(f"  its reply reached the aggregator after {r['reply_ms']:.0f} ms")
        print(f"  ({r['sends_before']} requests reached it before)")
        return
    burst = result["burst"]
    n = burst["n"]
    print(f"{'figure':<48} {'value':>10}")
    print(f"{f'burst of {n}: MO accepted/s':<48} {burst['accept_per_s']:>10.0f}")
    print(f"{f'burst of {n}: MO -> reply at aggregator/s':<48} {burst['e2e_per_s']:>10.0f}")
    print(f"{'offered/s  achieved/s  p50 ms  p99 ms  lost':>48}")
    for row in result["load"]:
        print(
            f"{row['offered_actual']:>19.0f} {row['achieved']:>11.0f} {row['p50_ms']:>7.0f}"
            f" {row['p99_ms']:>7.0f} {row['lost']:>5}"
        )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--burst", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=4, help="client processes for the burst")
    p.add_argument("--rates", default="100,200,400,600,800", help="offered MO/s, comma-separated")
    p.add_argument("--seconds", type=float, default=8.0, help="per offered rate")
    p.add_argument("--json", type=Path, help="also write the figures here")
    p.add_argument("--env", action="append", default=[], metavar="VAR=VALUE", help="extra gateway setting")
    p.add_argument("--scenario", choices=["throughput", "tps-cap", "priority"], default="throughput")
    p.add_argument("--latency-ms", type=float, default=0.0, help="the aggregator answers after this")
    p.add_argument("--tps", type=int, default=50, help="GATEWAY_GENERIC_TPS for tps-cap and priority")
    p.add_argument("--notices", type=int, default=5000, help="notices queued for priority")
    args = p.parse_args()
    rates = [float(r) for r in args.rates.split(",") if r]
    if not (0 < args.burst <= 20000 and all(0 < r <= 2000 for r in rates) and 0 < args.seconds <= 60):
        p.error("need 0 < --burst <= 20000, 0 < rates <= 2000, 0 < --seconds <= 60")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks on TERM too

    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    db_url = prepare_database(args.db, tmp)
    Redis.from_url(REDIS_URL).flushdb()
    capped = args.scenario != "throughput"
    arrivals = Arrivals(tps=args.tps if capped else 0)
    fake = LeanAggregator(on_send=arrivals, latency=args.latency_ms / 1000)
    env = {
        "REDIS_URL": REDIS_URL,
        "DATABASE_URL": db_url,
        "GATEWAY_INBOUND_TOKEN": TOKEN,
        "GATEWAY_OUTBOUND": "generic",
        "GATEWAY_GENERIC_SEND_URL": fake.url,
        "GATEWAY_GENERIC_SEND_TOKEN": "bench",
        "GATEWAY_FLOOD_LIMIT": "1000000",
        "GATEWAY_QUEUE": "bench-pipeline",
        **({"GATEWAY_GENERIC_TPS": str(args.tps)} if capped else {}),
        **dict(kv.split("=", 1) for kv in args.env),
    }
    gw = start_gateway(tmp, env)
    port = int(gw.url.rsplit(":", 1)[1])
    result = {"db": args.db, "latency_ms": args.latency_ms, "seconds": args.seconds, "load": []}
    rss = RssSampler(gw.proc.pid)
    rss.start()
    try:
        if args.scenario == "tps-cap":
            result["tps_cap"] = result["burst"] = run_tps_cap(port, arrivals, args.burst, args.concurrency)
        elif args.scenario == "priority":
            result["priority"] = run_priority(port, arrivals, db_url, env["GATEWAY_QUEUE"], args.notices)
            result["burst"] = {"lost": 0}
        else:
            result["burst"] = run_burst(port, arrivals, args.burst, args.concurrency)
            first = args.burst
            for rate in rates:
                result["load"].append(run_load(port, arrivals, rate, args.seconds, first))
                first += int(rate * args.seconds)
    finally:
        result["peak_rss_mb"] = rss.stop()
        gw.stop()
        fake.close()
        Redis.from_url(REDIS_URL).flushdb()
    print_table(result, ", ".join(args.env) or "no overrides")
    if args.json:
        write_json(args.json, result)
    return 0 if result["burst"]["lost"] == 0 and all(r["lost"] == 0 for r in result["load"]) else 1


if __name__ == "__main__":
    sys.exit(main())
