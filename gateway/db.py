"""Engine and session factory. One engine per process, created from DATABASE_URL."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Table, create_engine, event, insert
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from gateway.models import Base


def make_engine(database_url: str) -> Engine:
    """Create the engine; for SQLite, make the file's folder and switch on WAL so the
    receiver and the workers (separate processes) can write without 'database is locked'.
    `hide_parameters`: an error's text never quotes the statement's values (numbers, texts)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives any process crash (the promise we make); only an OS
            # crash or power cut can lose the last commits. Production runs PostgreSQL.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    engine = create_engine(url, pool_size=5, max_overflow=10, hide_parameters=True)
    ping_after_idle(engine, PING_AFTER_IDLE)
    return engine


# A pooled connection unused for this long is pinged before use (it may have been closed by a
# database restart, a failover or an idle timeout on the way). One used moments ago is not:
# SQLAlchemy's pool_pre_ping would cost a round trip and a query per checkout, about a fifth
# of the receiver's CPU per MO on PostgreSQL. A connection that dies under load fails its
# statement instead (503, the aggregator retries) and SQLAlchemy replaces the whole pool.
PING_AFTER_IDLE = 1.0


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection at checkout when it sat idle longer than `idle_seconds`;
    a failed ping makes the pool discard it and connect afresh (SQLAlchemy's pessimistic
    disconnect handling, with the ping skipped for connections in steady use)."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _stamp(_dbapi_conn, record):
        record.info["last_used"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn, record, _proxy):
        if time.monotonic() - record.info.get("last_used", 0.0) <= idle_seconds:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error:
            alive = False
        if not alive:
            raise DisconnectionError("pooled connection failed its ping")


class RowInserter:
    """One `INSERT ... RETURNING id` of a fixed set of columns, run on a raw pooled DBAPI
    connection: the receiver's one statement per MO. SQLAlchemy still writes the SQL, the
    parameter style and the type conversions (compiled once per dialect); skipping its
    Connection and Result objects halves the CPU of the insert (about 200 to 100 µs on
    PostgreSQL, 110 to 60 µs on SQLite). Errors come out as SQLAlchemy's (IntegrityError,
    OperationalError, ...), parameters hidden, and a connection the server dropped is
    invalidated, as Connection.execute would do."""

    def __init__(self, table: Table, columns: list[str]):
        self._statement = insert(table).returning(table.c.id)
        self._table = table
        # The model's Python-side defaults (a scalar, or a callable such as utcnow) for the
        # columns not given, filled in per row as Core would.
        given = set(columns)
        self._defaults = {
            c.key: c.default
            for c in table.columns
            if c.key not in given and c.default is not None and (c.default.is_scalar or c.default.is_callable)
        }
        self._columns = [*columns, *self._defaults]
        self._compiled: dict[str, tuple[str, list[str] | None, dict]] = {}

    def insert(self, engine: Engine, values: dict) -> int:
        """Insert one row (values for exactly `columns`, defaults for the rest) and commit it;
        its id. On PostgreSQL the statement runs in autocommit: its own transaction, durable
        when the answer arrives, in one round trip instead of three (BEGIN, INSERT, COMMIT)."""
        dialect = engine.dialect
        sql, order, processors = self._compile(dialect)
        # A callable default is wrapped by SQLAlchemy to take the execution context (None here).
        defaults = {k: d.arg if d.is_scalar else d.arg(None) for k, d in self._defaults.items()}
        values = {**values, **defaults}
        params = {k: processors[k](v) if k in processors else v for k, v in values.items()}
        parameters = params if order is None else tuple(params[k] for k in order)
        autocommit = dialect.name == "postgresql"
        raw = cursor = None
        try:
            raw = engine.raw_connection()
            if autocommit:
                dialect.set_isolation_level(raw.dbapi_connection, "AUTOCOMMIT")
            cursor = raw.cursor()
            with insert_lock(engine):
                cursor.execute(sql, parameters)
                row_id = cursor.fetchone()[0]
                if not autocommit:
                    raw.commit()
            return row_id
        except dialect.loaded_dbapi.Error as exc:
            dropped = raw is not None and dialect.is_disconnect(exc, raw.dbapi_connection, cursor)
            if dropped:
                raw.invalidate(exc)
            base = dialect.loaded_dbapi.Error
            wrapped = DBAPIError.instance(
                sql, None, exc, base, hide_parameters=True, connection_invalidated=dropped
            )
            raise wrapped from exc
        finally:
            if raw is not None:
                if autocommit and raw.dbapi_connection is not None:
                    dialect.reset_isolation_level(raw.dbapi_connection)
                raw.close()  # back to the pool, which rolls back whatever is left

    def _compile(self, dialect: Dialect) -> tuple[str, list[str] | None, dict]:
        if dialect.name not in self._compiled:
            compiled = self._statement.compile(dialect=dialect, column_keys=self._columns)
            processors = {}
            for key in self._columns:
                processor = self._table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
                if processor is not None:
                    processors[key] = processor
            order = list(compiled.positiontup) if compiled.positional else None
            self._compiled[dialect.name] = (str(compiled), order, processors)
        return self._compiled[dialect.name]


def create_schema(engine: Engine) -> None:
    """Create missing tables (idempotent). Until the schema is deployed anywhere, this is the
    migration; once it is, schema changes go through Alembic."""
    Base.metadata.create_all(engine)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (jobs read them after committing)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def batch_lock(engine: Engine) -> Iterator[None]:
    """Held by a drain while it claims and handles a batch of pending rows. On an SQLite
    file, an exclusive flock beside it: SQLite has no row locks, so two workers would read
    the same pending rows, and taking its write lock for the whole batch instead would keep
    the receiver's inserts waiting that long (they only wait for the commit this way). The
    kernel drops the lock if the worker dies. Elsewhere nothing: PostgreSQL claims rows with
    SELECT ... FOR UPDATE SKIP LOCKED."""
    with _sqlite_file_lock(engine, "batch-lock"):
        yield


@contextmanager
def insert_lock(engine: Engine) -> Iterator[None]:
    """Held by a receiver around its one-row insert and commit. On an SQLite file, an
    exclusive flock beside it, so receiver processes queue in the kernel for each other's
    commits (tens of µs) instead of colliding on SQLite's write lock, whose busy handler
    sleeps 1 ms and more before it looks again: 0.51-0.55 of the bare route's rate without
    it, 0.59-0.61 with it (bench/receiver.py, SQLite). Elsewhere nothing."""
    with _sqlite_file_lock(engine, "insert-lock"):
        yield


@contextmanager
def _sqlite_file_lock(engine: Engine, suffix: str) -> Iterator[None]:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    lock_file = _lock_file(database, suffix)
    fcntl.flock(lock_file, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(lock_file, fcntl.LOCK_UN)


_lock_files = threading.local()


def _lock_file(database: str, suffix: str):
    """This thread's open lock file `<database>.<suffix>`. A flock belongs to an open file, so
    threads and forked children each need their own (else they would not keep each other
    out); kept open because opening it for every MO cost a tenth of the receiver's rate. One
    per thread and suffix: another database (the tests' many) closes the last one."""
    pid, files = os.getpid(), _lock_files.__dict__.setdefault("files", {})
    held = files.get(suffix)
    if held is not None and held[:2] == (pid, database):
        return held[2]
    if held is not None and held[0] == pid:
        held[2].close()  # this process's own; a forked child leaves its parent's alone
    lock_file = open(f"{database}.{suffix}", "a")  # kept open on purpose, see above
    files[suffix] = (pid, database, lock_file)
    return lock_file
