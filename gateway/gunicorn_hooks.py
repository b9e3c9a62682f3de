"""gunicorn server hooks for the metrics' multiprocess mode (`gunicorn -c python:gateway.gunicorn_hooks`;
a deployment's own gunicorn.conf.py imports `child_exit` from here)."""

from __future__ import annotations

import os

from gateway.metrics import MULTIPROC_ENV


def child_exit(server, worker) -> None:
    """A gunicorn worker exited: drop its live-gauge files from PROMETHEUS_MULTIPROC_DIR
    (its counters and histograms stay and keep counting in every scrape, as Prometheus
    expects of a counter)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
