"""The cluster test (`make test-cluster`): hosts as network namespaces on one bridge (see
tests/support/cluster.py). One cluster for the module; each test streams its own MOs (numbers
no other test uses) through the edge nginx. The fault table and the scaling figures are
printed at the end of the run."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import TEST_POSTGRES_URL
from tests.support.cluster import start_cluster
from tests.support.faults import Tally, write_table
from tests.support.netns import netns_available
from tests.support.nginx import nginx_binary
from tests.support.sentinel import sentinel_binary

RESULTS: list[Tally] = []
FIGURES: list[str] = []
# Its own database: the cluster's processes keep running between tests, so it cannot share
# the one the rest of the suite truncates.
CLUSTER_POSTGRES_URL = os.environ.get("TEST_CLUSTER_POSTGRES_URL", f"{TEST_POSTGRES_URL}_cluster")


def pytest_terminal_summary(terminalreporter):
    if RESULTS:
        title = "cluster: lost and duplicated per fault (MOs in flight while it struck)"
        write_table(terminalreporter, title, RESULTS)
    if FIGURES:
        terminalreporter.write_sep("=", "cluster: figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


def _missing() -> str | None:
    why = netns_available()
    for name, found in (("nginx", nginx_binary()), ("redis-sentinel", sentinel_binary())):
        if not found:
            why = why or f"{name} is not installed"
    if not shutil.which("socat"):
        why = why or "socat is not installed (the relay to PostgreSQL)"
    if not shutil.which("taskset"):
        why = why or "taskset is not installed (util-linux)"
    return why


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    why = _missing()
    if why:
        if os.environ.get("REQUIRE_CLUSTER") == "1":
            pytest.fail(f"REQUIRE_CLUSTER=1 but {why}")
        pytest.skip(why)
    _ensure_database(CLUSTER_POSTGRES_URL)
    c = start_cluster(tmp_path_factory.mktemp("cluster"), CLUSTER_POSTGRES_URL)
    try:
        yield c
    finally:
        c.close()


def _ensure_database(url: str) -> None:
    """CREATE DATABASE if missing (the name from the URL; the server's own `postgres` for it)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database})
        if exists.scalar() is None:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
