"""Everything a process needs to do work (settings, database, Redis, queue, sender),
built once per process from Settings. The web app and the workers share it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis import Redis
from rq import Queue
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from gateway.db import make_engine, make_sessionmaker
from gateway.queueing import Doorbell, bulk_queue
from gateway.redisconn import redis_from_url
from gateway.sender import Sender, make_sender

if TYPE_CHECKING:
    from gateway.sendrate import SendRate


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: Redis
    queue: Queue
    bulk_queue: Queue  # notices: taken by every worker only when `queue` is empty
    doorbell: Doorbell
    sender: Sender  # MT (LogSender for GATEWAY_OUTBOUND=log) and webhooks
    send_rate: SendRate

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session


def build_runtime(settings: Settings) -> Runtime:
    """Connect to the database and Redis (lazily: nothing is dialled until first use). The
    schema must exist already (`alembic upgrade head`, before any process starts: /readyz
    answers 503 until it is at the latest revision)."""
    from gateway.sendrate import SendRate  # its metrics import services, which import this module

    engine = make_engine(settings.database_url)
    # Short socket timeouts: a receiver must not hang on a dead Redis (it answers 2xx from
    # the database and lets the sweeper enqueue later).
    redis = redis_from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=5)
    # Every job is short; a timeout bounds how long a dead worker's job looks alive.
    queue = Queue(settings.queue_name, connection=redis, default_timeout=settings.job_timeout)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        redis=redis,
        queue=queue,
        bulk_queue=bulk_queue(queue),
        doorbell=Doorbell(queue),
        sender=make_sender(settings.outbound, settings.send_timeout, settings.send_concurrency),
        send_rate=SendRate(redis, settings.send_caps()),
    )
