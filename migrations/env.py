"""Alembic's entry point: `alembic upgrade head` (the CLI) and gateway.migrate (the gateway's
own callers) both run this. The database is the gateway's own: a URL given by the caller
(gateway.migrate passes it in `config.attributes`), otherwise DATABASE_URL read through
config.settings.load_settings, so the environment beats `.env` beats the default as for every
other setting. The engine is gateway.db.make_engine's (an SQLite file is created in WAL mode
with its folder, as the gateway opens it)."""

from __future__ import annotations

import logging

from alembic import context

from config.settings import load_settings
from gateway.db import make_engine
from gateway.logconfig import configure_logging
from gateway.models import Base

config = context.config
if config.cmd_opts is not None and not logging.getLogger().handlers:
    # Run from the alembic command line: its "Running upgrade a -> b" lines in the gateway's
    # log format (GATEWAY_LOG_FORMAT), like every other process's.
    configure_logging(load_settings())


def run_migrations() -> None:
    """Run the migrations on a connection to the gateway's database."""
    url = config.attributes.get("database_url") or load_settings().database_url
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                # SQLite cannot ALTER most things: autogenerate writes batch operations
                # (copy the table, swap it in), which are plain ALTERs on PostgreSQL.
                render_as_batch=True,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run against the database")
run_migrations()
