"""The RQ no-op ceiling: how many jobs per second `rq worker-pool` drains on this machine when
the jobs do nothing, with the worker setup `make run` uses (2 SimpleWorkers). It is the
reference for the end-to-end figures: no job of the gateway can be faster than this.

    .venv/bin/python bench/rq_ceiling.py [--jobs 2000] [--workers 2] [--json PATH]

Enqueues --jobs no-op jobs in one `enqueue_many` call into Redis db 10 (flushed before and
after), then times `rq worker-pool -n 2 -w rq.worker.SimpleWorker --burst` until it exits. Two
figures: the drain rate (first job started -> last job ended, from the jobs' own timestamps)
and the wall rate (worker-pool start -> exit, start-up included).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/10"
QUEUE = "bench-noop"
POOL_TIMEOUT = 120.0


def noop() -> None:
    """The job: nothing at all."""


def enqueue(redis, n: int) -> list[str]:
    """Put n no-op jobs on QUEUE in one pipeline; their ids."""
    from rq import Queue

    queue = Queue(QUEUE, connection=redis)
    jobs = queue.enqueue_many([Queue.prepare_data("bench.rq_ceiling.noop") for _ in range(n)])
    return [job.id for job in jobs]


def run_pool(workers: int, log: Path) -> float:
    """Run the burst worker pool until it exits (bounded); its wall time in seconds."""
    rq = Path(sys.executable).parent / "rq"
    cmd = [str(rq), "worker-pool", "-n", str(workers), "-w", "rq.worker.SimpleWorker", "--burst"]
    cmd += ["-u", REDIS_URL, "-P", str(ROOT), QUEUE]
    start = time.monotonic()
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=out, start_new_session=True)
    try:
        proc.wait(POOL_TIMEOUT)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return time.monotonic() - start


def drain_span(redis, ids: list[str]) -> tuple[float, int]:
    """(first started -> last ended in seconds, jobs finished) from the jobs' timestamps."""
    from rq.job import Job, JobStatus

    jobs = [j for j in Job.fetch_many(ids, connection=redis) if j is not None]
    done = [j for j in jobs if j.get_status() == JobStatus.FINISHED and j.started_at and j.ended_at]
    if not done:
        return float("nan"), 0
    first = min(j.started_at for j in done)
    last = max(j.ended_at for j in done)
    return (last - first).total_seconds(), len(done)


def measure(n: int, workers: int, log: Path) -> dict:
    """Enqueue, drain, read the timestamps; the figures as a dict."""
    from redis import Redis

    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    try:
        ids = enqueue(redis, n)
        wall = run_pool(workers, log)
        span, done = drain_span(redis, ids)
    finally:
        redis.flushdb()
    return {
        "jobs": n,
        "workers": workers,
        "done": done,
        "drain_s": span,
        "wall_s": wall,
        "drain_per_s": done / span if span > 0 else float("nan"),
        "wall_per_s": done / wall,
    }


def main() -> int:
    """Parse options, measure, print, write the JSON."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jobs", type=int, default=2000, help="no-op jobs to drain (default 2000)")
    p.add_argument("--workers", type=int, default=2, help="SimpleWorkers in the pool (default 2)")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    args = p.parse_args()
    if not (0 < args.jobs <= 100_000 and 0 < args.workers <= 16):
        p.error("need 0 < --jobs <= 100000 and 0 < --workers <= 16")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-rq-ceiling-{os.getpid()}.log"
    out = measure(args.jobs, args.workers, log)
    if out["done"] != args.jobs:
        print(f"only {out['done']}/{args.jobs} jobs finished; pool log: {log}", file=sys.stderr)
    else:
        log.unlink(missing_ok=True)
    print(f"{'RQ no-op ceiling':<20} {'jobs':>6} {'seconds':>8} {'jobs/s':>8}")
    print(f"{'drain':<20} {out['done']:>6} {out['drain_s']:>8.2f} {out['drain_per_s']:>8.0f}")
    print(f"{'wall (incl. start)':<20} {out['done']:>6} {out['wall_s']:>8.2f} {out['wall_per_s']:>8.0f}")
    pool = f"rq worker-pool -n {args.workers} -w rq.worker.SimpleWorker --burst"
    print(f"\n{pool}, {args.jobs} jobs enqueued first")
    if args.json:
        from receiver import write_json  # bench/ is on the path when run as a script

        write_json(args.json, out)
    return 0 if out["done"] == args.jobs else 1


if __name__ == "__main__":
    sys.exit(main())
