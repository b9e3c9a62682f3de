"""The connection pool on PostgreSQL: a connection idle for a while is pinged before use and
replaced if the server dropped it; one in steady use is not pinged (no extra round trip per MO).
The receiver's raw-connection insert (RowInserter) keeps the pool's promises too."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.exc import OperationalError

from gateway.db import make_engine
from gateway.models import InboundMessage
from gateway.services.inbox import _INBOUND_INSERT
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


@pytest.fixture
def inbox(engine, fresh_postgres_schema):
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE inbound_messages RESTART IDENTITY CASCADE"))
    yield
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE inbound_messages RESTART IDENTITY CASCADE"))


def inbound_values(external_id: str) -> dict:
    return {
        "aggregator": "generic",
        "external_id": external_id,
        "msisdn": "+6281234567890",
        "to": "1708",
        "text": "LAPOR jalan rusak",
        "sent_at": None,
    }


def count_inbound(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(InboundMessage))


def test_an_insert_on_a_dropped_connection_is_a_database_error_and_the_next_reconnects(engine, inbox):
    """Like Connection.execute: SQLAlchemy's OperationalError (the receiver answers 503),
    no values in its text, and the dead connection is thrown away, not pooled again."""
    first = backend_pid(engine)
    terminate(first)
    with pytest.raises(OperationalError) as failed:
        _INBOUND_INSERT.insert(engine, inbound_values("drop-1"))
    assert failed.value.connection_invalidated
    assert "+6281234567890" not in str(failed.value) and "jalan rusak" not in str(failed.value)
    _INBOUND_INSERT.insert(engine, inbound_values("drop-2"))
    assert backend_pid(engine) != first
    assert count_inbound(engine) == 1


def test_the_autocommit_insert_leaves_its_pooled_connection_transactional(engine, inbox):
    """The insert switches its connection to autocommit; the next user of that connection
    must get transactions again, or a rollback would undo nothing."""
    _INBOUND_INSERT.insert(engine, inbound_values("ac-1"))
    with engine.connect() as conn:
        conn.execute(insert(InboundMessage).values(inbound_values("ac-2")))
        conn.rollback()
    assert count_inbound(engine) == 1
