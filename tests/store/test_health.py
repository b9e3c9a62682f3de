"""Liveness (/healthz: the process answers, nothing else) and readiness (/readyz: database,
Redis and the schema at the latest migration; 503 naming what is missing). Each failure is
made for real: a closed port, a database that cannot be opened, a schema one step behind."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from gateway.app import create_app
from gateway.migrate import downgrade_to, head_revision, revisions, upgrade_to_head
from gateway.runtime import build_runtime
from tests.conftest import TEST_POSTGRES_URL
from tests.support.processes import free_port
from tests.support.schema import drop_schema, reset_schema


@pytest.fixture
def put_back(settings):
    """Tests here break the schema; PostgreSQL's is shared by the tests that follow."""
    yield
    if settings.database_url == TEST_POSTGRES_URL:
        reset_schema(TEST_POSTGRES_URL)


def unreachable_database(settings, tmp_path) -> str:
    """A database URL that cannot connect: a closed port, or for SQLite a folder (not a file)."""
    if settings.database_url.startswith("postgresql"):
        return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    return f"sqlite:///{tmp_path}"


def closed_redis() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


def get(settings, path: str):
    app = create_app(runtime=build_runtime(settings))
    resp = app.test_client().get(path)
    app.extensions["gateway"].engine.dispose()
    return resp


def test_ready_when_database_redis_and_schema_are(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "database": "ok", "redis": "ok", "schema": "ok"}


def test_healthz_answers_while_database_and_redis_are_down(rt, settings, tmp_path):
    down = settings.replace(database_url=unreachable_database(settings, tmp_path), redis_url=closed_redis())
    resp = get(down, "/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}


@pytest.mark.parametrize(
    "broken, expected",
    [
        pytest.param("redis", {"database": "ok", "redis": "down", "schema": "ok"}, id="redis-down"),
        pytest.param(
            "database",
            {"database": "down", "redis": "ok", "schema": "unknown (database down)"},
            id="database-down",
        ),
        pytest.param(
            "both",
            {"database": "down", "redis": "down", "schema": "unknown (database down)"},
            id="both-down",
        ),
    ],
)
def test_not_ready_names_the_dependency_that_is_down(rt, settings, tmp_path, broken, expected):
    if broken in ("database", "both"):
        settings = settings.replace(database_url=unreachable_database(settings, tmp_path))
    if broken in ("redis", "both"):
        settings = settings.replace(redis_url=closed_redis())
    resp = get(settings, "/readyz")
    assert resp.status_code == 503
    assert resp.get_json() == {"status": "not_ready", **expected}


def one_step_back(url: str) -> None:
    downgrade_to(url, "-1")


def never_migrated(url: str) -> None:
    drop_schema(url)


def unknown_revision(url: str) -> None:
    """A newer release's schema under this code (a rollback of the code, not the schema)."""
    from gateway.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe'"))
    engine.dispose()


@pytest.mark.parametrize(
    "break_schema, expected",
    [
        pytest.param(one_step_back, "behind: at {previous}, head {head}", id="behind"),
        pytest.param(never_migrated, "behind: at none, head {head}", id="never-migrated"),
        pytest.param(unknown_revision, "unknown revision: at f00dcafe, head {head}", id="unknown"),
    ],
)
def test_not_ready_until_the_schema_is_at_the_latest_migration(
    rt, settings, put_back, break_schema, expected
):
    break_schema(settings.database_url)
    resp = get(settings, "/readyz")
    schema = expected.format(previous=revisions()[-2], head=head_revision())
    assert resp.status_code == 503
    assert resp.get_json() == {"status": "not_ready", "database": "ok", "redis": "ok", "schema": schema}
    # `alembic upgrade head` (here: its function) makes it ready, except for a schema this code
    # does not know, which needs the newer code back.
    if break_schema is not unknown_revision:
        upgrade_to_head(settings.database_url)
        assert get(settings, "/readyz").status_code == 200
