"""Draw docs/dashboard.png: the panels of docs/grafana-dashboard.json, evaluated on the metrics
scraped from a real run. There is no Grafana here, so this starts the gateway as real
processes (scripts/run-gateway.sh, SQLite, multiprocess metrics), drives about 90 s of
traffic through it (MOs with repeats and bad ones, a send API with latency, errors and a
10 s outage, DLRs, USSD sessions, webhooks to a complaint system that is down for the first
minute), scrapes /metrics every 2 s, and evaluates each panel's PromQL (the few shapes the
dashboard uses: rate, sum/max by, histogram_quantile) over those scrapes.

    .venv/bin/pip install -r requirements-bench.txt
    RENDER_REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python docs/render_dashboard.py

The Redis database given is flushed first. Takes about two minutes.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.aggregator import start_fake_aggregator  # noqa: E402
from tests.support.processes import free_port, start_gateway  # noqa: E402

INBOUND, METRICS, UPSTREAM_SECRET = "render-inbound", "render-metrics", "render-upstream"
RUN_SECONDS, SCRAPE_EVERY = 90, 2.0
OUTAGE = (40, 50)  # the send API answers 503 in this window (seconds into the run)
UPSTREAM_BACK_AT = 60  # the complaint system starts answering then


def mo_rate(t: float) -> float:
    """MOs per second offered at second t: a quiet start, a rush, a tail."""
    return 4 if t < 20 else 20 if t < 55 else 8


class Run:
    """Traffic generators and the scrapes, all against one gateway."""

    def __init__(self, gw, fake):
        self.gw, self.fake, self.t0 = gw, fake, time.monotonic()
        self.auth = {"Authorization": f"Bearer {INBOUND}"}
        self.scrapes: list[tuple[float, dict]] = []
        self.stop = threading.Event()
        self.rng = random.Random(1708)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def post_mos(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            mid, sender = f"r-{n}", f"0812{n:08d}"
            roll = self.rng.random()
            if roll < 0.05 and n > 1:
                mid, sender = f"r-{n - 1}", f"0812{n - 1:08d}"  # an aggregator's retry
            elif roll < 0.08:
                sender = "0812-FLOWERS"  # refused with 400
            data = {"from": sender, "to": "1708", "id": mid, "text": "LAPOR lampu jalan di gang mawar mati"}
            requests.post(f"{self.gw.url}/sms/generic/inbound", data=data, headers=self.auth, timeout=10)
            time.sleep(1 / mo_rate(self.now()))

    def ussd(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            for step in ("", "4"):
                body = {"session_id": f"u-{n}", "msisdn": f"0813{n:08d}", "input": step}
                requests.post(f"{self.gw.url}/ussd/generic", json=body, headers=self.auth, timeout=10)
            time.sleep(0.5)

    def dlr_later(self, agg_id: str) -> None:
        def post():
            status = self.rng.choices(["DELIVERED", "UNDELIVERED", "EXPIRED"], [90, 7, 3])[0]
            data = {"id": agg_id, "status": status}
            if not self.stop.is_set():  # the gateway may be gone once the run is over
                requests.post(f"{self.gw.url}/sms/generic/status", data=data, headers=self.auth, timeout=10)

        threading.Timer(self.rng.uniform(1, 4), post).start()

    def on_send(self, _recorded):
        t = self.now()
        time.sleep(self.rng.lognormvariate(-3.5, 0.6))  # ~30 ms, a long tail
        if OUTAGE[0] <= t < OUTAGE[1] or self.rng.random() < 0.03:
            return (503, "busy")
        if self.rng.random() < 0.01:
            return (400, "bad number")
        agg_id = f"agg-{self.rng.getrandbits(48):x}"
        self.dlr_later(agg_id)
        return (200, json.dumps({"id": agg_id}))

    def scrape_loop(self) -> None:
        while not self.stop.is_set():
            resp = requests.get(
                f"{self.gw.url}/metrics", headers={"Authorization": f"Bearer {METRICS}"}, timeout=10
            )
            samples = {
                (s.name, frozenset(s.labels.items())): s.value
                for fam in text_string_to_metric_families(resp.text)
                for s in fam.samples
            }
            self.scrapes.append((self.now(), samples))
            time.sleep(SCRAPE_EVERY)


def start_upstream(port: int) -> ThreadingHTTPServer:
    """The complaint system, answering 200 to every webhook (started late on purpose)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# --- a small evaluator for the PromQL shapes the dashboard uses -------------------------------

_AGG = re.compile(r"^(sum|max)(?: by \(([^)]*)\))? ?\((.*)\)$")
_RATE = re.compile(r"^rate\((\w+)\[(\d+)m\]\)$")
_QUANTILE = re.compile(r"^histogram_quantile\(([\d.]+), (.*)\)$")


def _select(samples: dict, metric: str) -> list[tuple[dict, float]]:
    return [(dict(labels), v) for (name, labels), v in samples.items() if name == metric]


def _instant(expr: str, scrapes: list, i: int) -> dict[frozenset, float]:
    """Evaluate `expr` at scrape i: {label set: value}."""
    if m := _QUANTILE.match(expr):
        q, inner = float(m.group(1)), _instant(m.group(2), scrapes, i)
        by_series: dict[frozenset, list] = defaultdict(list)
        for labels, v in inner.items():
            d = dict(labels)
            le = float(d.pop("le"))
            by_series[frozenset(d.items())].append((le, v))
        return {k: q_value for k, b in by_series.items() if (q_value := _quantile(q, sorted(b))) is not None}
    if m := _AGG.match(expr):
        op, by, inner = (
            m.group(1),
            [x.strip() for x in (m.group(2) or "").split(",") if x.strip()],
            m.group(3),
        )
        groups: dict[frozenset, list] = defaultdict(list)
        for labels, v in _instant(inner, scrapes, i).items():
            groups[frozenset((k, v2) for k, v2 in labels if k in by)].append(v)
        return {k: (sum(vs) if op == "sum" else max(vs)) for k, vs in groups.items()}
    if m := _RATE.match(expr):
        metric, window = m.group(1), 60 * int(m.group(2))
        t, now = scrapes[i][0], scrapes[i][1]
        j = next(k for k in range(i + 1) if scrapes[k][0] >= t - window)
        if j == i:
            return {}
        t0, then = scrapes[j]
        old = {frozenset(lab.items()): v for lab, v in _select(then, metric)}
        return {
            frozenset(lab.items()): (v - old.get(frozenset(lab.items()), 0.0)) / (t - t0)
            for lab, v in _select(now, metric)
        }
    return {frozenset(lab.items()): v for lab, v in _select(scrapes[i][1], expr)}


def _quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Prometheus' histogram_quantile: linear interpolation inside the bucket."""
    total = buckets[-1][1]
    if total <= 0:
        return None
    rank, prev_le, prev_count = q * total, 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * (rank - prev_count) / max(count - prev_count, 1e-12)
        prev_le, prev_count = le, count
    return prev_le


def _legend(fmt: str, labels: frozenset) -> str:
    return re.sub(r"\{\{(\w+)\}\}", lambda m: dict(labels).get(m.group(1), ""), fmt)


def draw(dashboard: dict, scrapes: list, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = dashboard["panels"]
    fig, axes = plt.subplots(3, 3, figsize=(16, 10.5))
    for ax, panel in zip(axes.flat, panels, strict=True):
        unit = panel["fieldConfig"]["defaults"]["unit"]
        latency = any("latency" in t["expr"] for t in panel["targets"])
        scale = 1000 if latency else 1  # latencies drawn in ms
        for target in panel["targets"]:
            series: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
            for i, (t, _) in enumerate(scrapes):
                for labels, v in _instant(target["expr"], scrapes, i).items():
                    xs, ys = series[_legend(target["legendFormat"], labels)]
                    xs.append(t)
                    ys.append(v * scale)
            for name, (xs, ys) in sorted(series.items()):
                ax.plot(xs, ys, label=name, linewidth=1.4)
        ax.set_ylabel({"reqps": "per second", "s": "ms" if latency else "seconds"}.get(unit, ""))
        ax.set_title(panel["title"], fontsize=11)
        ax.set_xlabel("seconds into the run", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(
        "LAPOR! 1708 gateway: docs/grafana-dashboard.json's panels, rendered from a real run's scrapes "
        f"(send API down {OUTAGE[0]}-{OUTAGE[1]} s, complaint system back at {UPSTREAM_BACK_AT} s)",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(out, dpi=80)


def main() -> None:
    redis_url = os.environ.get("RENDER_REDIS_URL", "redis://127.0.0.1:6379/12")
    Redis.from_url(redis_url).flushdb()
    upstream_port = free_port()
    run: Run | None = None
    fake = start_fake_aggregator(on_send=lambda rec: run.on_send(rec))
    workdir = Path(tempfile.mkdtemp(prefix="render-dashboard-"))
    env = {
        "REDIS_URL": redis_url,
        "GATEWAY_INBOUND_TOKEN": INBOUND,
        "GATEWAY_METRICS_TOKEN": METRICS,
        "GATEWAY_OUTBOUND": "generic",
        "GATEWAY_GENERIC_SEND_URL": fake.url,
        "GATEWAY_GENERIC_SEND_TOKEN": "render-send",
        "GATEWAY_SEND_BACKOFF_BASE": "1",
        "GATEWAY_SEND_BACKOFF_MAX": "8",
        "GATEWAY_UPSTREAM_URL": f"http://127.0.0.1:{upstream_port}/webhook",
        "GATEWAY_UPSTREAM_SECRET": UPSTREAM_SECRET,
        "GATEWAY_UPSTREAM_BACKOFF_MAX": "10",
        "GATEWAY_QUIET_HOURS_START": "00:00",
        "GATEWAY_QUIET_HOURS_END": "00:00",
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus"),
    }
    gw = start_gateway(workdir, env)
    try:
        run = Run(gw, fake)
        threads = [threading.Thread(target=f, daemon=True) for f in (run.post_mos, run.ussd, run.scrape_loop)]
        for th in threads:
            th.start()
        upstream = None
        while run.now() < RUN_SECONDS:
            if upstream is None and run.now() >= UPSTREAM_BACK_AT:
                upstream = start_upstream(upstream_port)
            time.sleep(0.5)
        run.stop.set()
        for th in threads:
            th.join(timeout=15)
    finally:
        gw.stop()
        fake.close()
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    draw(dashboard, run.scrapes, ROOT / "docs" / "dashboard.png")
    last = run.scrapes[-1][1]
    totals = {k: v for k, v in last.items() if k[0].endswith("_total")}
    print(f"{len(run.scrapes)} scrapes; final counters:")
    for (name, labels), v in sorted(totals.items(), key=str):
        print(f"  {name}{dict(labels)} {v:g}")


if __name__ == "__main__":
    main()
