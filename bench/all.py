"""`make bench`: every benchmark of issue #6 in one go, one after the other (never two at once),
then one table: each figure, its goal, the reference measured in the same run, and a verdict.

    .venv/bin/python bench/all.py [--quick] [--out var/bench] [--skip part,...] [--pg-url URL]

Each part runs as a subprocess with `--json <out>/<part>.json` (bounded by --part-timeout).
Writes <out>/results.json (every part's figures and the table) and docs/performance.png
(throughput and p99 latency against offered load, from the pipeline runs). A skipped part's
figures come from the JSON an earlier run left in <out>, marked as such in the table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.verdicts import TPS_CAP, build_rows, print_rows  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/lapor_bench"
# Issue 15: the send API's round trip. pipeline-sqlite is the loopback (0 ms) reference; these
# are the same burst and 100 MO/s offered on SQLite with the aggregator answering after it.
SEND_RTTS_MS = (150, 300)
PARTS = (
    "receiver",
    "rq_ceiling",
    "pipeline-sqlite",
    "pipeline-postgres",
    "ussd",
    "memory",
    "kannel",
    *(f"pipeline-rtt{ms}" for ms in SEND_RTTS_MS),
    "tps-cap",
    "priority",
)


def part_args(part: str, quick: bool, pg_url: str) -> list[str]:
    """The command line of one part, full or --quick."""
    if part == "receiver":
        timing = (
            ["--seconds", "3", "--warmup", "1"]
            if quick
            else ["--seconds", "6", "--warmup", "2", "--repeat", "3"]
        )
        return ["bench/receiver.py", *timing, "--pg-url", pg_url]
    if part == "rq_ceiling":
        return ["bench/rq_ceiling.py", "--jobs", "1000" if quick else "2000"]
    if part.startswith("pipeline-rtt"):
        load = ["--rates", "100", "--seconds", "3" if quick else "8", "--burst", "500" if quick else "2000"]
        rtt = part.removeprefix("pipeline-rtt")
        return ["bench/pipeline.py", "--db", "sqlite", "--latency-ms", rtt, *load]
    if part in ("tps-cap", "priority"):
        size = ["--burst", "500" if quick else "2000"] if part == "tps-cap" else []
        size = size or ["--notices", "1000" if quick else "5000"]
        return ["bench/pipeline.py", "--scenario", part, "--tps", str(TPS_CAP), "--latency-ms", "150", *size]
    if part.startswith("pipeline-"):
        load = ["--rates", "100,200", "--seconds", "3", "--burst", "500"] if quick else []
        load = load or ["--rates", "100,200,400,600,800", "--seconds", "8", "--burst", "2000"]
        return ["bench/pipeline.py", "--db", part.split("-", 1)[1], *load]
    if part == "ussd":
        return ["bench/ussd.py", *(["--seconds", "4", "--warmup", "1"] if quick else ["--seconds", "10"])]
    if part == "memory":
        sizes = ["--bursts", "1000,3000", "--preload", "20000", "--drain", "3"] if quick else []
        sizes = sizes or ["--bursts", "2000,8000", "--preload", "100000", "--drain", "8"]
        return ["bench/memory.py", *sizes]
    if part == "kannel":
        size = ["--mo", "500", "--timeout", "60"] if quick else ["--mo", "2000", "--timeout", "150"]
        return ["bench/kannel.py", *size]
    raise ValueError(part)


def run_part(part: str, cmd: list[str], out: Path, log: Path, timeout: float) -> tuple[float, int]:
    """Run one part in its own process group, its output to the terminal and to `log`; TERM
    (then KILL) the whole group on timeout or Ctrl-C. (seconds taken, exit status)."""
    print(f"\n=== {part}: {' '.join(cmd)}", flush=True)
    start = time.monotonic()
    with open(log, "wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, *cmd, "--json", str(out)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        echo = threading.Thread(target=copy_output, args=(proc, sink), daemon=True)
        echo.start()
        try:
            status = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            print(f"=== {part}: timed out after {timeout:g} s, stopping it", flush=True)
            stop_group(proc)
            status = -1
        except KeyboardInterrupt:
            stop_group(proc)
            raise
        echo.join(5)
    return time.monotonic() - start, status


def copy_output(proc: subprocess.Popen, sink) -> None:
    """Echo the child's output line by line to the terminal and the log until it closes it."""
    for line in proc.stdout:
        sys.stdout.buffer.write(line)
        sys.stdout.flush()
        sink.write(line)


def stop_group(proc: subprocess.Popen) -> None:
    """TERM the child's process group (it cleans up on TERM), KILL it after 20 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def load_results(out: Path, ran: set[str]) -> dict:
    """Every part's JSON found in `out`; parts not run now are marked `earlier`."""
    results = {}
    for part in PARTS:
        path = out / f"{part}.json"
        with contextlib.suppress(OSError, ValueError):
            results[part] = json.loads(path.read_text()) | {"earlier": part not in ran}
    return results


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="shorter runs of every part (about 3 minutes)")
    p.add_argument("--out", type=Path, default=ROOT / "var" / "bench", help="results dir (default var/bench)")
    p.add_argument("--skip", default="", help=f"parts not to run, comma-separated: {','.join(PARTS)}")
    p.add_argument("--pg-url", default=PG_URL, help=f"PostgreSQL database receiver.py wipes ({PG_URL})")
    p.add_argument("--plot", type=Path, default=ROOT / "docs" / "performance.png", help="where the plot goes")
    p.add_argument("--part-timeout", type=float, default=300, help="longest run of one part, s (default 300)")
    args = p.parse_args()
    args.skip = {s for s in args.skip.split(",") if s}
    if unknown := args.skip - set(PARTS):
        p.error(f"unknown parts: {', '.join(sorted(unknown))}")
    return args


def main() -> int:
    """Each part in turn, then the table, results.json and the plot."""
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.out.mkdir(parents=True, exist_ok=True)
    timings, failed, ran = {}, [], set()
    begin = time.monotonic()
    try:
        for part in PARTS:
            if part in args.skip:
                continue
            cmd, out = part_args(part, args.quick, args.pg_url), args.out / f"{part}.json"
            out.unlink(missing_ok=True)
            seconds, status = run_part(part, cmd, out, args.out / f"{part}.log", args.part_timeout)
            timings[part], ran = seconds, ran | {part}
            if status != 0:
                failed.append(f"{part} (exit {status})")
    except KeyboardInterrupt:
        print("\ninterrupted: every part started has been stopped", file=sys.stderr)
        return 130
    results = load_results(args.out, ran)
    rows = build_rows(results)
    total = time.monotonic() - begin
    print(f"\n=== issue #6: {'quick' if args.quick else 'full'} run, {total:.0f} s")
    print_rows(rows)
    print("\nseconds per part: " + ", ".join(f"{p} {s:.0f}" for p, s in timings.items()))
    if failed:
        print("parts that exited non-zero: " + ", ".join(failed))
    summary = {"quick": args.quick, "seconds": total, "timings": timings, "failed": failed, "rows": rows}
    (args.out / "results.json").write_text(json.dumps(summary | {"parts": results}, indent=2))
    plot(results, args.plot)
    return 1 if failed else 0


def plot(results: dict, path: Path) -> None:
    """docs/performance.png from the pipeline parts (skipped without matplotlib or data)."""
    try:
        from bench.plot import plot_load, plot_send_rtt
    except ImportError as exc:
        print(f"no plot ({exc}); install requirements-bench.txt")
        return
    if plot_load(results, path):
        print(f"plot: {path}")
    rtt_path = path.with_name("send-rtt.png")
    if plot_send_rtt(results, rtt_path):
        print(f"plot: {rtt_path}")


if __name__ == "__main__":
    sys.exit(main())
