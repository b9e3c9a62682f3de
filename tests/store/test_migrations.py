"""The schema is made only by the Alembic migrations (migrations/): they agree with the
models, an upgrade keeps every row, a downgrade goes back one step and up again, and the
`alembic` command finds the database through DATABASE_URL. On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect, select

from gateway.db import make_engine
from gateway.migrate import (
    current_revision,
    downgrade_to,
    head_revision,
    revisions,
    upgrade_to,
    upgrade_to_head,
)
from gateway.models import Base
from tests.conftest import TEST_POSTGRES_URL
from tests.support.schema import drop_schema, reset_schema

ROOT = Path(__file__).resolve().parents[2]
BASELINE = "0001"
# What revision 0002 adds (the admin report list's indexes).
REPORT_LIST_INDEXES = {"ix_reports_created", "ix_reports_status_created"}
# What revision 0003 adds: the opt-out table and each MT's cost (counted for older rows).
OPT_OUTS = "opt_outs"
COST_COLUMNS = ("segments", "encoding")
# What revision 0004 adds: long MOs delivered part by part (two tables, their indexes).
MULTIPART_TABLES = ("multipart_messages", "multipart_parts")
EMPTY_MULTIPART = dict.fromkeys(MULTIPART_TABLES, [])


@pytest.fixture
def bare_database(backend, tmp_path):
    """A database with no tables (PostgreSQL: the test database, emptied, and put back at
    head afterwards for the tests that follow)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/migrations.db"
        return
    drop_schema(TEST_POSTGRES_URL)
    yield TEST_POSTGRES_URL
    reset_schema(TEST_POSTGRES_URL)


@pytest.fixture
def engine(bare_database):
    eng = make_engine(bare_database)
    yield eng
    eng.dispose()


def schema_diff(engine) -> list:
    """What autogenerate would write to make the database match the models."""
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), Base.metadata)


def index_names(engine, table: str) -> set[str]:
    return {ix["name"] for ix in inspect(engine).get_indexes(table)}


def seed(engine, n: int = 30) -> None:
    """Reports with the MOs that filed them, their events and replies, a DLR and a quarantine
    entry, written through the tables as the database has them (any revision)."""
    meta = MetaData()
    meta.reflect(engine)
    t = meta.tables
    base = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    with engine.begin() as conn:
        for i in range(1, n + 1):
            at = base + timedelta(minutes=i)
            number = f"+62812000{i:05d}"
            conn.execute(
                t["inbound_messages"].insert(),
                dict(
                    id=i,
                    aggregator="generic",
                    external_id=f"mo-{i}",
                    msisdn=number,
                    to="1708",
                    text=f"LAPOR jalan {i} rusak",
                    received_at=at,
                    status="DONE",
                    command="LAPOR",
                ),
            )
            conn.execute(
                t["reports"].insert(),
                dict(
                    id=i,
                    tracking_no=f"{10000000 + i * 7919}",
                    msisdn=number,
                    text=f"jalan {i} rusak",
                    privacy=("PUBLIC", "CONFIDENTIAL", "ANONYMOUS")[i % 3],
                    status="RECEIVED",
                    channel="SMS",
                    source_key=f"sms:{i}",
                    source_inbound_id=i,
                    created_at=at,
                    updated_at=at,
                ),
            )
            conn.execute(
                t["inbound_messages"].update().where(t["inbound_messages"].c.id == i), {"report_id": i}
            )
            conn.execute(
                t["report_events"].insert(),
                dict(
                    report_id=i,
                    kind="CREATED",
                    text="",
                    actor="citizen",
                    source_key=f"sms:{i}",
                    inbound_id=i,
                    created_at=at,
                ),
            )
            conn.execute(
                t["outbound_messages"].insert(),
                dict(
                    id=i,
                    dedupe_key=f"reply:{i}",
                    kind="REPLY",
                    aggregator="generic",
                    msisdn=number,
                    sender="1708",
                    text="Laporan diterima",
                    status="DELIVERED",
                    attempts=1,
                    next_attempt_at=at,
                    external_id=f"agg-{i}",
                    report_id=i,
                    inbound_id=i,
                    created_at=at,
                    updated_at=at,
                ),
            )
        conn.execute(
            t["delivery_reports"].insert(),
            dict(
                aggregator="generic",
                message_ref="agg-1",
                by_gateway_id=False,
                status="DELIVERED",
                raw_status="DELIVERED",
                outbound_id=1,
                applied=True,
                received_at=base,
            ),
        )
        if OPT_OUTS in t:
            conn.execute(t[OPT_OUTS].insert(), dict(msisdn="+6281200000001", created_at=base, channel="SMS"))
        if "multipart_messages" in t:  # one long MO made from its two parts
            conn.execute(
                t["multipart_messages"].insert(),
                dict(
                    id=1,
                    aggregator="generic",
                    msisdn="+6281200000001",
                    to="1708",
                    ref="7",
                    total=2,
                    status="COMPLETE",
                    opened_at=base,
                    closed_at=base,
                    inbound_id=1,
                ),
            )
            for index in (1, 2):
                conn.execute(
                    t["multipart_parts"].insert(),
                    dict(
                        message_id=1,
                        aggregator="generic",
                        external_id=f"part-{index}",
                        part_index=index,
                        text=f"bagian {index} ",
                        received_at=base,
                        late=False,
                    ),
                )
        conn.execute(
            t["quarantined_work"].insert(),
            dict(
                kind="MO",
                ref="7",
                state="QUARANTINED",
                failures=3,
                error_type="ValueError",
                reason="boom",
                first_failed_at=base,
                last_failed_at=base,
                quarantined_at=base,
            ),
        )


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every gateway table, in primary-key order, without the columns 0003
    computes (compared on their own: `costs`)."""
    meta = MetaData()
    meta.reflect(engine)
    rows = {}
    with engine.connect() as conn:
        for name, table in meta.tables.items():
            if name != "alembic_version":
                columns = [c for c in table.c if not (name == "outbound_messages" and c.name in COST_COLUMNS)]
                query = select(*columns).order_by(*table.primary_key.columns)
                rows[name] = [tuple(r) for r in conn.execute(query)]
    return rows


def costs(engine) -> list[tuple]:
    """Each MT's (segments, encoding)."""
    meta = MetaData()
    meta.reflect(engine, only=["outbound_messages"])
    t = meta.tables["outbound_messages"]
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(t.c.segments, t.c.encoding).order_by(t.c.id))]


def added_by_0003(diff) -> bool:
    """True for a schema difference revision 0003 makes up."""
    kind, *rest = diff
    if kind == "add_table":
        return rest[0].name == OPT_OUTS
    return kind == "add_column" and rest[1] == "outbound_messages" and rest[2].name in COST_COLUMNS


def added_by_0004(diff) -> bool:
    """True for a schema difference revision 0004 makes up."""
    kind, *rest = diff
    if kind == "add_table":
        return rest[0].name in MULTIPART_TABLES
    return kind == "add_index" and rest[0].table.name in MULTIPART_TABLES


def test_models_and_migrations_agree(bare_database, engine):
    upgrade_to_head(bare_database)
    assert current_revision(engine) == head_revision()
    assert schema_diff(engine) == []
    # Every model table exists, quarantined_work included, with the models' named indexes.
    assert set(inspect(engine).get_table_names()) == {*Base.metadata.tables, "alembic_version"}
    assert {"ix_quarantine_state"} <= index_names(engine, "quarantined_work")


def test_the_baseline_is_the_schema_before_0002(bare_database, engine):
    """The check above can fail: at the baseline autogenerate sees 0002's indexes missing
    (and what 0003 adds)."""
    upgrade_to(bare_database, BASELINE)
    assert current_revision(engine) == BASELINE
    diffs = [d for d in schema_diff(engine) if not added_by_0004(d)]
    missing = {diff[1].name for diff in diffs if diff[0] == "add_index"}
    assert missing == REPORT_LIST_INDEXES
    assert [d for d in diffs if d[0] != "add_index" and not added_by_0003(d)] == []


def test_0002_is_the_schema_before_0003(bare_database, engine):
    """At 0002 autogenerate sees exactly the opt-out table and the two cost columns missing."""
    upgrade_to(bare_database, "0002")
    diffs = [d for d in schema_diff(engine) if not added_by_0004(d)]
    assert all(added_by_0003(d) for d in diffs), diffs
    assert len(diffs) == 3


def test_0003_is_the_schema_before_0004(bare_database, engine):
    """At 0003 autogenerate sees exactly the two multipart tables and their indexes missing."""
    upgrade_to(bare_database, "0003")
    diffs = schema_diff(engine)
    assert all(added_by_0004(d) for d in diffs), diffs
    assert sorted(d[1].name for d in diffs if d[0] == "add_table") == list(MULTIPART_TABLES)


def test_0003_counts_the_segments_of_every_older_mt(bare_database, engine):
    upgrade_to(bare_database, "0002")
    seed(engine, n=3)
    meta = MetaData()
    meta.reflect(engine, only=["outbound_messages"])
    t = meta.tables["outbound_messages"]
    with engine.begin() as conn:  # one long GSM-7 text and one that needs UCS-2
        conn.execute(t.update().where(t.c.id == 2), {"text": "x" * 161})
        conn.execute(t.update().where(t.c.id == 3), {"text": "“kutip”"})
    upgrade_to_head(bare_database)
    assert costs(engine) == [(1, "GSM-7"), (2, "GSM-7"), (1, "UCS-2")]


def test_upgrade_from_the_baseline_keeps_every_row(bare_database, engine):
    upgrade_to(bare_database, BASELINE)
    seed(engine)
    before = snapshot(engine)
    assert len(before["reports"]) == 30 and len(before["inbound_messages"]) == 30

    upgrade_to_head(bare_database)

    assert current_revision(engine) == head_revision()
    assert snapshot(engine) == {**before, OPT_OUTS: [], **EMPTY_MULTIPART}
    assert REPORT_LIST_INDEXES <= index_names(engine, "reports")
    assert costs(engine) == [(1, "GSM-7")] * 30


def test_downgrade_one_step_then_upgrade_again(bare_database, engine):
    upgrade_to_head(bare_database)
    seed(engine)
    before = snapshot(engine)

    downgrade_to(bare_database, "-1")
    assert current_revision(engine) == revisions()[-2]
    assert not set(MULTIPART_TABLES) & set(inspect(engine).get_table_names())
    assert snapshot(engine) == {name: rows for name, rows in before.items() if name not in MULTIPART_TABLES}

    upgrade_to_head(bare_database)
    assert current_revision(engine) == head_revision()
    assert schema_diff(engine) == []
    assert snapshot(engine) == {**before, **EMPTY_MULTIPART}  # the parts went with their tables


def test_below_0003_the_opt_outs_and_costs_go_and_come_back_counted(bare_database, engine):
    upgrade_to_head(bare_database)
    seed(engine)
    before = snapshot(engine)
    downgrade_to(bare_database, "0002")
    assert OPT_OUTS not in inspect(engine).get_table_names()
    assert not set(COST_COLUMNS) & {c["name"] for c in inspect(engine).get_columns("outbound_messages")}
    gone = {OPT_OUTS, *MULTIPART_TABLES}
    assert snapshot(engine) == {name: rows for name, rows in before.items() if name not in gone}

    upgrade_to_head(bare_database)
    assert schema_diff(engine) == []
    assert costs(engine) == [(1, "GSM-7")] * 30  # counted again by 0003


def test_upgrade_to_head_twice_changes_nothing(bare_database, engine):
    upgrade_to_head(bare_database)
    seed(engine, n=3)
    before = snapshot(engine)
    upgrade_to_head(bare_database)
    assert snapshot(engine) == before and current_revision(engine) == head_revision()


def test_the_alembic_command_reads_database_url_from_the_environment(bare_database, engine):
    """`alembic upgrade head` as an operator (and scripts/run-gateway.sh) runs it: no URL on
    the command line, DATABASE_URL from the environment like every other setting."""
    env = {**os.environ, "DATABASE_URL": bare_database, "GATEWAY_INBOUND_TOKEN": "x"}
    alembic = Path(sys.executable).parent / "alembic"
    done = subprocess.run(
        [str(alembic), "upgrade", "head"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert current_revision(engine) == head_revision()
    assert f"-> {head_revision()}" in done.stderr  # it says what it ran
