"""USSD per-step latency: whole sessions (Africa's Talking format) at N concurrent sessions against
`POST /ussd/africastalking`, and against a bare Flask route that parses the form and answers a
fixed `CON` screen, both served by gunicorn with the same sync workers on 127.0.0.1.

    .venv/bin/python bench/ussd.py [--sessions 50] [--seconds 15] [--workers 4] [--procs 5]

Each simulated citizen runs sessions back to back: a filing session (dial, 1, free text,
privacy, 1 Kirim: files a report and queues its SMS) or a check session (dial, 2, tracking
number: a look-up), alternately. Latency is per HTTP step, reported by step kind and overall.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from receiver import Server, map_in_processes, start_gunicorn, stop_servers, write_json  # noqa: E402
from redis import Redis  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/11"
TOKEN = "bench-" + secrets.token_hex(12)
PATH = "/ussd/africastalking"
BARE_APP = f"""from flask import Flask, request

app = Flask(__name__)


@app.post("{PATH}")
def step():
    request.form  # parse the body, like the gateway does
    return "CON LAPOR! 1708\\n1 Buat laporan\\n2 Cek status laporan", 200, {{"Content-Type": "text/plain"}}
"""
FILING = [
    ("dial", ""),
    ("menu", "1"),
    ("text", "Jalan Mawar 5*7 berlubang besar"),
    ("privacy", "1"),
    ("file", "1"),
]
CHECKING = [("dial", ""), ("menu", "2"), ("check", "{number}")]


def one_citizen(
    port: int, prefix: str, number: str, measure_from: float, until: float, think: float, out: list
) -> None:
    """Sessions back to back until `until`, `think` seconds (+-50%) between a screen and the next
    input, as a person reading and typing; (step kind, seconds, ok) appended to `out`."""
    rng = random.Random(prefix)
    n = 0
    while time.monotonic() < until:
        n += 1
        steps = FILING if n % 2 else CHECKING
        inputs: list[str] = []
        for kind, latest in steps:
            if kind != "dial":
                inputs.append(latest.format(number=number))
            form = {
                "sessionId": f"{prefix}-{n}",
                "serviceCode": "*384*1708#",
                "phoneNumber": "+6281234567890",
                "networkCode": "51010",
                "text": "*".join(inputs),
            }
            start = time.monotonic()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request(
                    "POST",
                    PATH,
                    urlencode(form),
                    {
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Authorization": f"Bearer {TOKEN}",
                    },
                )
                resp = conn.getresponse()
                body = resp.read()
                conn.close()
                ok = resp.status == 200 and body[:4] in (b"CON ", b"END ")
            except OSError:
                ok = False
            if start >= measure_from:
                out.append((kind, time.monotonic() - start, ok))
            if think:
                time.sleep(think * rng.uniform(0.5, 1.5))


def client_process(job: tuple) -> list:
    """Threads for `count` concurrent citizens in this process (each thread is I/O bound)."""
    port, count, prefix, number, measure_from, until, think = job
    out: list = []
    threads = [
        threading.Thread(
            target=one_citizen, args=(port, f"{prefix}-{i}", number, measure_from, until, think, out)
        )
        for i in range(count)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def load(port: int, number: str, args: argparse.Namespace) -> list:
    """`sessions` concurrent citizens over `procs` processes: warm-up, then the measured window."""
    measure_from = time.monotonic() + args.warmup
    until = measure_from + args.seconds
    per = [args.sessions // args.procs + (i < args.sessions % args.procs) for i in range(args.procs)]
    nonce = secrets.token_hex(4)
    jobs = [(port, c, f"{nonce}-{i}", number, measure_from, until, args.think) for i, c in enumerate(per)]
    return [row for part in map_in_processes(client_process, jobs) for row in part]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def summarise(rows: list, seconds: float) -> dict[str, dict]:
    """Per step kind (and "all"): steps, steps/s, p50 and p99 in ms, errors."""
    out = {}
    for kind in ["all", *dict.fromkeys(k for k, _, _ in rows)]:
        lat = [t for k, t, _ in rows if kind in ("all", k)]
        errors = sum(1 for k, _, ok in rows if kind in ("all", k) and not ok)
        out[kind] = {
            "steps": len(lat),
            "per_s": len(lat) / seconds,
            "p50_ms": pct(lat, 0.5),
            "p99_ms": pct(lat, 0.99),
            "errors": errors,
        }
    return out


def report(name: str, rows: list, seconds: float) -> None:
    for kind, s in summarise(rows, seconds).items():
        print(
            f"{name:8} {kind:8} {s['steps']:8} {s['per_s']:9.1f} {s['p50_ms']:8.2f} {s['p99_ms']:8.2f}"
            f" {s['errors']:6}"
        )


def seed_report(db_url: str) -> str:
    """One report for the check sessions to look up (the benchmark caller's own)."""
    from config.settings import load_settings
    from gateway.runtime import build_runtime
    from gateway.services.reports import file_report

    rt = build_runtime(
        load_settings({"DATABASE_URL": db_url, "REDIS_URL": REDIS_URL, "GATEWAY_INBOUND_TOKEN": TOKEN}, None)
    )
    with rt.transaction() as s:
        number = file_report(
            s, msisdn="+6281234567890", text="seed", privacy="PUBLIC", source_key="bench:seed"
        ).tracking_no
    rt.engine.dispose()
    return number


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sessions", type=int, default=50)
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--warmup", type=float, default=3)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--think", type=float, default=1.0, help="seconds a citizen takes per screen (0: none)")
    p.add_argument("--procs", type=int, default=5, help="client processes the sessions are spread over")
    p.add_argument("--db-url", default="", help="gateway database (default: a new SQLite file)")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    redis = Redis.from_url(REDIS_URL)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ussd-") as tmp:
            tmp_path = Path(tmp)
            (tmp_path / "bare_ussd.py").write_text(BARE_APP)
            env = dict(os.environ)
            port = start_gunicorn("bare_ussd:app", tmp_path, Server(args.workers), env, tmp_path / "bare.log")
            bare = load(port, "1234567890", args)
            stop_servers()

            redis.flushdb()
            db_url = args.db_url or f"sqlite:///{tmp_path}/gateway.db"
            from gateway.migrate import upgrade_to_head

            upgrade_to_head(db_url)
            number = seed_report(db_url)
            env.update(DATABASE_URL=db_url, REDIS_URL=REDIS_URL, GATEWAY_QUEUE="bench-ussd")
            env.update(GATEWAY_INBOUND_TOKEN=TOKEN, GATEWAY_OUTBOUND="log")
            port = start_gunicorn("wsgi:app", ROOT, Server(args.workers), env, tmp_path / "gateway.log")
            gateway = load(port, number, args)
            stop_servers()
    finally:
        stop_servers()
        redis.flushdb()
    print(f"{'server':8} {'step':8} {'steps':>8} {'steps/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    report("bare", bare, args.seconds)
    report("gateway", gateway, args.seconds)
    print(
        f"\n{args.sessions} concurrent sessions ({args.procs} client processes), {args.workers} gunicorn sync"
        f" workers, think time {args.think:g} s, {args.warmup:g} s warm-up + {args.seconds:g} s, gateway on"
        f" {'SQLite' if not args.db_url else args.db_url.split('://')[0]}, no RQ worker running"
    )
    if args.json:
        out = {"sessions": args.sessions, "workers": args.workers, "think": args.think}
        out |= {"bare": summarise(bare, args.seconds), "gateway": summarise(gateway, args.seconds)}
        write_json(args.json, out)
    errors = sum(1 for _, _, ok in gateway if not ok)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
