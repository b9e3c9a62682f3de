"""docs/performance.png: achieved throughput and p99 latency against offered load, one line per
database, from the pipeline parts of `make bench`, with issue #6's goals drawn in."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed

import matplotlib.pyplot as plt  # noqa: E402

from bench.verdicts import (  # noqa: E402
    E2E_GOAL,
    LATENCY_AT,
    P99_GOAL_MS,
    RTT_GOAL_AT_MS,
    RTT_P99_GOAL_MS,
    RTT_RATIO,
    rtt_parts,
)

LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def plot_load(results: dict, path: Path) -> bool:
    """Draw both panels and save them to `path`; False if no pipeline part left figures."""
    series = {db: results[f"pipeline-{db}"]["load"] for db in LABELS if results.get(f"pipeline-{db}")}
    if not series:
        return False
    fig, (thr, lat) = plt.subplots(1, 2, figsize=(11, 4.2))
    top = max(x["offered"] for load in series.values() for x in load)
    thr.plot([0, top], [0, top], color="0.75", linestyle=":", label="achieved = offered")
    for db, load in series.items():
        load = sorted(load, key=lambda x: x["offered"])
        offered = [x["offered"] for x in load]
        thr.plot(offered, [x["achieved"] for x in load], marker="o", label=LABELS[db])
        lat.plot(offered, [x["p99_ms"] for x in load], marker="o", label=LABELS[db])
    thr.axhline(E2E_GOAL, color="tab:red", linestyle="--", label=f"goal {E2E_GOAL:.0f} msg/s")
    lat.axhline(P99_GOAL_MS, color="tab:red", linestyle="--", label=f"goal p99 {P99_GOAL_MS:.0f} ms")
    thr.set(xlabel="offered MO/s (target)", ylabel="achieved MO -> reply msg/s", title="Throughput")
    lat.set(
        xlabel="offered MO/s (target)", ylabel="p99 MO -> reply, ms (log)", title="p99 latency", yscale="log"
    )
    for ax in (thr, lat):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("LAPOR! 1708 gateway, `make bench` (2 gunicorn + 2 RQ workers, 2 cores)", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_send_rtt(results: dict, path: Path) -> bool:
    """docs/send-rtt.png: the burst's MO -> reply rate and p99 at 100 MO/s against the send
    API's round trip (0 ms: the loopback run), with issue 15's goals; False without data."""
    loop = results.get("pipeline-sqlite")
    points = [(0, loop)] + rtt_parts(results) if loop else []
    if len(points) < 2:
        return False
    rtts = [ms for ms, _ in points]
    fig, (thr, lat) = plt.subplots(1, 2, figsize=(11, 4.2))
    thr.plot(rtts, [r["burst"]["e2e_per_s"] for _, r in points], marker="o", label="burst of 2,000, SQLite")
    goal = RTT_RATIO * loop["burst"]["e2e_per_s"]
    thr.plot([RTT_GOAL_AT_MS], [goal], marker="_", markersize=30, color="tab:red", linestyle="none")
    thr.annotate(
        f"goal: {RTT_RATIO} x loopback",
        (RTT_GOAL_AT_MS, goal),
        textcoords="offset points",
        xytext=(8, -14),
        color="tab:red",
        fontsize=8,
    )
    p99 = [
        next((x["p99_ms"] for x in r["load"] if x["offered"] == LATENCY_AT), float("nan")) for _, r in points
    ]
    lat.plot(rtts, p99, marker="o", label=f"p99 at {LATENCY_AT} MO/s offered")
    lat.axhline(RTT_P99_GOAL_MS, color="tab:red", linestyle="--", label=f"goal p99 {RTT_P99_GOAL_MS:.0f} ms")
    thr.set(
        xlabel="send API round trip, ms",
        ylabel="MO -> reply at the aggregator, msg/s",
        title="Throughput",
        ylim=(0, None),
    )
    lat.set(xlabel="send API round trip, ms", ylabel="p99 MO -> reply, ms", title="Latency", ylim=(0, None))
    for ax in (thr, lat):
        ax.set_xticks(rtts)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(
        "LAPOR! 1708 gateway at a real send API's latency, `make bench` (defaults, 2 cores)", fontsize=10
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
