"""End to end: MO posted -> report filed -> reply accepted by the aggregator, through the
gateway as `make run` starts it (gunicorn + RQ worker pool + cron), against a real aggregator
server on 127.0.0.1. Two figures, the "before" of issue #6's goals 2 and 3:

- throughput: a burst of --burst MOs (each from its own number) posted as fast as
  --concurrency clients can, timed until the last reply reaches the aggregator;
- latency: MOs offered at a fixed --rate for --seconds, MO post -> reply at the aggregator,
  p50 and p99.

    .venv/bin/python bench/pipeline.py [--burst 2000] [--rate 100] [--seconds 10] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redis import Redis  # noqa: E402

from gateway.db import make_engine  # noqa: E402
from gateway.models import Base  # noqa: E402
from tests.support.aggregator import start_fake_aggregator  # noqa: E402
from tests.support.processes import start_gateway, wait_until  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/lapor_bench"
REDIS_URL = "redis://127.0.0.1:6379/11"
TOKEN = "bench-pipeline-token"


class Arrivals:
    """Time each reply reached the aggregator, by destination number."""

    def __init__(self):
        self.at: dict[str, float] = {}
        self.lock = threading.Lock()

    def __call__(self, recorded):
        body = recorded.json()
        with self.lock:
            self.at.setdefault(body["to"], time.monotonic())
            n = len(self.at)
        return (200, json.dumps({"id": f"agg-{body['id']}-{n}"}))


def number(i: int) -> str:
    return f"0813{50000000 + i:08d}"


def post(session: requests.Session, url: str, i: int, tag: str) -> float:
    """Post MO i; return when it was accepted (retrying like an aggregator until a 2xx)."""
    data = {
        "from": number(i),
        "to": "1708",
        "id": f"{tag}-{i}",
        "text": f"LAPOR jalan rusak nomor {i} di desa",
    }
    while True:
        sent = time.monotonic()
        if session.post(url, data=data, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).ok:
            return sent
        time.sleep(0.05)


def burst(url: str, arrivals: Arrivals, n: int, concurrency: int) -> tuple[float, float]:
    """(accept rate, end-to-end rate) for n MOs posted as fast as possible."""
    start = time.monotonic()
    local = threading.local()

    def one(i: int) -> None:
        local.session = getattr(local, "session", None) or requests.Session()
        post(local.session, url, i, "burst")

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(n)))
    accepted = time.monotonic()
    done = wait_until(lambda: len(arrivals.at) >= n, timeout=600, interval=0.05)
    if not done:
        print(f"  only {len(arrivals.at)}/{n} replies arrived", file=sys.stderr)
    finished = max(arrivals.at.values())
    return n / (accepted - start), len(arrivals.at) / (finished - start)


def paced(url: str, arrivals: Arrivals, rate: float, seconds: float, first: int) -> list[float]:
    """Latencies (s) of MOs offered at `rate` per second for `seconds`."""
    n = int(rate * seconds)
    start = time.monotonic()
    sent_at: dict[str, float] = {}
    local = threading.local()

    def one(k: int) -> None:
        time.sleep(max(0.0, start + k / rate - time.monotonic()))
        local.session = getattr(local, "session", None) or requests.Session()
        i = first + k
        sent_at["+62" + number(i)[1:]] = post(local.session, url, i, "paced")

    with ThreadPoolExecutor(32) as pool:
        list(pool.map(one, range(n)))
    wait_until(lambda: all(k in arrivals.at for k in sent_at), timeout=120, interval=0.05)
    return [arrivals.at[k] - t for k, t in sent_at.items() if k in arrivals.at]


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else float("nan")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--burst", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--rate", type=float, default=100.0)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = p.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    db_url = f"sqlite:///{tmp}/gateway.db" if args.db == "sqlite" else PG_URL
    if args.db == "postgres":
        from bench.receiver import reset_database

        reset_database(PG_URL)
    else:
        Base.metadata.create_all(make_engine(db_url))
    Redis.from_url(REDIS_URL).flushdb()
    arrivals = Arrivals()
    fake = start_fake_aggregator(on_send=arrivals)
    env = {
        "REDIS_URL": REDIS_URL,
        "DATABASE_URL": db_url,
        "GATEWAY_INBOUND_TOKEN": TOKEN,
        "GATEWAY_OUTBOUND": "generic",
        "GATEWAY_GENERIC_SEND_URL": fake.url,
        "GATEWAY_GENERIC_SEND_TOKEN": "bench",
        "GATEWAY_FLOOD_LIMIT": "1000000",
    }
    gw = start_gateway(tmp, env)
    url = f"{gw.url}/sms/generic/inbound"
    try:
        accept_rate, e2e_rate = burst(url, arrivals, args.burst, args.concurrency)
        latencies = paced(url, arrivals, args.rate, args.seconds, first=args.burst)
    finally:
        gw.stop()
        fake.close()
        Redis.from_url(REDIS_URL).flushdb()
    print(f"\npipeline on {args.db}, `make run` defaults (2 gunicorn workers, 2 RQ SimpleWorkers)")
    print(f"{'figure':<44} {'value':>10}")
    print(f"{f'burst of {args.burst}: MO accepted/s':<44} {accept_rate:>10.0f}")
    print(f"{f'burst of {args.burst}: MO -> reply at aggregator/s':<44} {e2e_rate:>10.0f}")
    print(f"{f'{args.rate:.0f} MO/s offered: latency p50 ms':<44} {pct(latencies, 50):>10.0f}")
    print(f"{f'{args.rate:.0f} MO/s offered: latency p99 ms':<44} {pct(latencies, 99):>10.0f}")
    sent = args.burst + int(args.rate * args.seconds)
    print(f"{'replies received / MOs sent':<44} {len(arrivals.at):>5}/{sent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
