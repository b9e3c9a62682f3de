"""The worker class `make run` starts."""

from rq import SimpleWorker

from config.settings import load_settings
from gateway.logconfig import configure_logging


class GatewayWorker(SimpleWorker):
    """A SimpleWorker (jobs run in the worker process: no fork per job, so the runtime and its
    pooled connections are reused) with a short TTL. The blocking dequeue waits TTL-15 s, and
    a SIGTERM that lands on the pubsub thread is only acted on when that wait ends: with the
    default TTL (420 s) a stop could take minutes, with 30 s it takes at most 15 s."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("worker_ttl", 30)
        # Before RQ's own set-up in work(): RQ then finds the root handler and adds none.
        configure_logging(load_settings())
        super().__init__(*args, **kwargs)
