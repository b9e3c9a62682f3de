"""docs/performance.png: achieved throughput and p99 latency against offered load, one line per
database, from the pipeline parts of `make bench`, with issue #6's goals drawn in."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed

import matplotlib.pyplot as plt  # noqa: E402

from bench.verdicts import E2E_GOAL, P99_GOAL_MS  # noqa: E402

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
