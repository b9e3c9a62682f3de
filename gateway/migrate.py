"""The schema's one way in: Alembic migrations (migrations/). `make run`, the deployment, the
tests and the benchmarks all create or upgrade the schema through `upgrade_to_head` (or the
`alembic upgrade head` command, which runs the same migrations); no process creates tables
on its own. Readiness compares `current_revision` with `head_revision`."""

from __future__ import annotations

import functools

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from config.settings import PROJECT_ROOT


def alembic_config(database_url: str | None = None) -> Config:
    """Alembic's configuration (alembic.ini at the project root), pointed at `database_url`
    when given; otherwise migrations/env.py reads DATABASE_URL like every other setting."""
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    if database_url is not None:
        # Through attributes, not the ini option: configparser would read '%' in a password.
        cfg.attributes["database_url"] = database_url
    return cfg


def upgrade_to_head(database_url: str) -> None:
    """Create the schema, or bring it up to the latest revision (idempotent)."""
    command.upgrade(alembic_config(database_url), "head")


def upgrade_to(database_url: str, revision: str) -> None:
    """Upgrade to `revision` (tests and benchmarks start from an older schema with it)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade_to(database_url: str, revision: str) -> None:
    """Downgrade to `revision` ("-1": one step back)."""
    command.downgrade(alembic_config(database_url), revision)


@functools.cache
def head_revision() -> str:
    """The latest revision the code knows (read from migrations/versions once per process)."""
    return revisions()[-1]


@functools.cache
def revisions() -> tuple[str, ...]:
    """Every revision the code knows, oldest first (read once per process)."""
    script = ScriptDirectory.from_config(alembic_config())
    return tuple(rev.revision for rev in reversed(list(script.walk_revisions())))


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (its alembic_version row); None for a database the
    migrations never ran on."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
