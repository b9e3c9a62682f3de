"""The connection pool on PostgreSQL: a connection idle for a while is pinged before use and
replaced if the server dropped it; one in steady use is not pinged (no extra round trip per MO)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from gateway.db import make_engine
from tests.conftest import TEST_POSTGRES_URL


@pytest.fixture
def engine():
    engine = make_engine(TEST_POSTGRES_URL)
    yield engine
    engine.dispose()


@pytest.fixture
def pings(engine, monkeypatch):
    """Count the pool's pings."""
    calls = []
    real = engine.dialect.do_ping

    def counting(dbapi_conn):
        calls.append(dbapi_conn)
        return real(dbapi_conn)

    monkeypatch.setattr(engine.dialect, "do_ping", counting)
    return calls


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))


def age_pooled_connections(engine, seconds: float) -> None:
    """Make every idle pooled connection look unused for `seconds`."""
    for record in list(engine.pool._pool.queue):
        record.info["last_used"] -= seconds


def terminate(pid: int) -> None:
    admin = create_engine(TEST_POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def test_a_connection_in_steady_use_is_not_pinged(engine, pings):
    first = backend_pid(engine)
    for _ in range(5):
        assert backend_pid(engine) == first
    assert pings == []


def test_an_idle_connection_is_pinged_and_kept_when_alive(engine, pings):
    first = backend_pid(engine)
    age_pooled_connections(engine, 60)
    assert backend_pid(engine) == first
    assert len(pings) == 1


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(engine, pings):
    first = backend_pid(engine)
    terminate(first)
    age_pooled_connections(engine, 60)
    second = backend_pid(engine)  # no error: the failed ping made the pool reconnect
    assert second != first
    assert len(pings) == 1
