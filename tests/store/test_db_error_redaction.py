"""A database error in a job leaves no row values behind (issue 12): not in the worker's log,
not in RQ's stored failure (kept 24 h in Redis). PostgreSQL's messages quote the failing row
("DETAIL: Failing row contains (...)") and SQLAlchemy's quote the statement's parameters."""

from __future__ import annotations

import contextlib
import logging

import pytest
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import text

from gateway.db import make_engine
from gateway.services import quarantine
from tests.store.helpers import outbox, post_mo

NUMBER_FORMS = ("+6281234567890", "6281234567890", "081234567890")


@contextlib.contextmanager
def _sent_is_refused(rt):
    """Make the database refuse to mark any MT ACCEPTED (a constraint the send job trips on)."""
    if rt.engine.dialect.name == "postgresql":
        add = "ALTER TABLE outbound_messages ADD CONSTRAINT test_poison CHECK (status <> 'ACCEPTED')"
        drop = "ALTER TABLE outbound_messages DROP CONSTRAINT IF EXISTS test_poison"
    else:
        add = (
            "CREATE TRIGGER test_poison BEFORE UPDATE OF status ON outbound_messages "
            "WHEN NEW.status = 'ACCEPTED' "
            "BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: test_poison'); END"
        )
        drop = "DROP TRIGGER IF EXISTS test_poison"
    with rt.engine.begin() as conn:
        conn.execute(text(add))
    try:
        yield
    finally:
        with rt.engine.begin() as conn:
            conn.execute(text(drop))


def _everything_rq_keeps(redis, queue) -> str:
    """Every RQ key's name and value, whatever its type, as one string."""
    seen = []
    for key in redis.scan_iter("rq:*"):
        kind = redis.type(key).decode()
        value = {
            "string": lambda k: redis.get(k),
            "hash": lambda k: redis.hgetall(k),
            "list": lambda k: redis.lrange(k, 0, -1),
            "set": lambda k: redis.smembers(k),
            "zset": lambda k: redis.zrange(k, 0, -1),
            "stream": lambda k: redis.xrange(k),
        }.get(kind, lambda k: b"")(key)
        seen.append(f"{key!r} {value!r}")
    # RQ keeps a failure's traceback compressed (zlib, base64): read it the way RQ does.
    for job_id in FailedJobRegistry(queue=queue).get_job_ids():
        result = Job.fetch(job_id, connection=redis).latest_result()
        seen.append(result.exc_string if result else "")
    return "\n".join(seen)


def test_a_job_database_error_stores_and_logs_no_row_values(
    client, rt, run_jobs, redis_db, caplog, fake_aggregator
):
    caplog.set_level(logging.DEBUG)
    with _sent_is_refused(rt):
        assert post_mo(client, "LAPOR lampu jalan mati di gang mawar").status_code == 202
        run_jobs()
    [reply] = outbox(rt)
    # The poison worked: recording the send hit the constraint, every try, so the MT was
    # set aside (quarantine) with the constraint's name as its reason, never the row.
    assert reply.status == "QUARANTINED"
    assert len(fake_aggregator.sent()) == 1  # recorded by retrying the record, not the send
    kept = _everything_rq_keeps(redis_db, rt.queue)
    kept += "\n".join(e.reason for e in quarantine.list_entries(rt))
    assert "test_poison" in kept  # the failure is stored, with the constraint's name
    for where, what in [("redis", kept), ("log", caplog.text)]:
        for value in (*NUMBER_FORMS, reply.text[:30]):
            assert value not in what, f"{value!r} found in the {where}"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=False)
def test_every_engine_hides_parameters(backend, settings):
    assert make_engine(settings.database_url).hide_parameters
