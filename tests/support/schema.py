"""A database made the way production makes it: through the Alembic migrations. For tests
and benchmarks only: `reset_schema` drops every table first (and its data)."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from gateway.db import make_engine
from gateway.migrate import upgrade_to_head
from gateway.models import Base


def drop_schema(database_url: str) -> None:
    """Drop the gateway's tables and Alembic's version table, whatever revision they are at."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    finally:
        engine.dispose()


def reset_schema(database_url: str) -> None:
    """An empty database at the latest revision."""
    drop_schema(database_url)
    upgrade_to_head(database_url)


def copy_sqlite(template_url: str, target_url: str) -> None:
    """Copy an SQLite database no process has open (its file and any write-ahead log): a
    migrated schema for the price of a file copy, instead of running the migrations again."""
    source, target = Path(make_url(template_url).database), Path(make_url(target_url).database)
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
