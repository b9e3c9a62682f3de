"""Migration timing (issue 13): seconds for `alembic upgrade` from the baseline (0001) to head
on a database holding 100,000 reports, on SQLite and PostgreSQL; then one step down and up
again, and the admin report list's page query (status filter, newest first) before and after,
which is what revision 0002's indexes are for.

    .venv/bin/python bench/migration.py [--reports 100000] [--db sqlite,postgres] [--pg-url URL]

SQLite: a new file in a temporary folder. PostgreSQL: its own database (created if missing,
emptied first), so the test suite's and the other benchmarks' databases are left alone.
Reports only, with spread-out creation times and statuses; every row is counted after each step.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from bench.receiver import reset_database  # noqa: E402
from gateway.db import make_engine  # noqa: E402
from gateway.migrate import current_revision, downgrade_to, head_revision, upgrade_to, upgrade_to_head  # noqa: E402
from gateway.models import REPORT_STATUS_LABELS, Report  # noqa: E402
from tests.support.schema import drop_schema  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/lapor_bench_migration"
BASELINE = "0001"
STATUSES = list(REPORT_STATUS_LABELS)


def preload(url: str, n: int) -> None:
    """n reports, one a minute back from now, statuses in turn (unique tracking numbers)."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for chunk in range(0, n, 10_000):
            rows = [
                {
                    "tracking_no": f"{10**9 + i}",
                    "msisdn": f"+62811{i:08d}",
                    "text": f"Laporan nomor {i}: jalan rusak di desa",
                    "privacy": "PUBLIC",
                    "status": STATUSES[i % len(STATUSES)],
                    "channel": "SMS",
                    "source_key": f"bench:migration:{i}",
                    "created_at": now - timedelta(minutes=i),
                    "updated_at": now,
                }
                for i in range(chunk, min(n, chunk + 10_000))
            ]
            conn.execute(insert(Report), rows)
    engine.dispose()


def page_query_ms(url: str, rounds: int = 20) -> float:
    """Median milliseconds of the admin list's page and count for one status, newest first."""
    engine = make_engine(url)
    page = (
        select(Report.id)
        .where(Report.status == "RECEIVED")
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(20)
    )
    count = select(func.count(Report.id)).where(Report.status == "RECEIVED")
    times = []
    with engine.connect() as conn:
        for _ in range(rounds):
            start = time.perf_counter()
            conn.execute(page).all()
            conn.execute(count).scalar()
            times.append((time.perf_counter() - start) * 1000)
    engine.dispose()
    return statistics.median(times)


def count_reports(url: str) -> tuple[int, str | None]:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.scalar(select(func.count()).select_from(Report))
    revision = current_revision(engine)
    engine.dispose()
    return n, revision


def timed(step, *args) -> float:
    start = time.perf_counter()
    step(*args)
    return time.perf_counter() - start


def run(db: str, url: str, n: int) -> dict:
    """Baseline + n reports, then upgrade, downgrade one step, upgrade: seconds of each."""
    if db == "postgres":
        reset_database(url)  # creates the database when missing
    drop_schema(url)
    upgrade_to(url, BASELINE)
    preload(url, n)
    before_ms = page_query_ms(url)
    up = timed(upgrade_to_head, url)
    assert count_reports(url) == (n, head_revision()), "rows or revision wrong after the upgrade"
    after_ms = page_query_ms(url)
    down = timed(downgrade_to, url, "-1")
    assert count_reports(url) == (n, BASELINE), "rows or revision wrong after the downgrade"
    up_again = timed(upgrade_to_head, url)
    assert count_reports(url) == (n, head_revision())
    return {"db": db, "reports": n, "up": up, "down": down, "up_again": up_again, "page_before_ms": before_ms,
            "page_after_ms": after_ms}  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reports", type=int, default=100_000)
    p.add_argument("--db", default="sqlite,postgres")
    p.add_argument("--pg-url", default=PG_URL)
    args = p.parse_args()
    print(f"upgrade {BASELINE} -> {head_revision()} with {args.reports:,} reports")
    print(f"{'db':9} {'upgrade s':>9} {'down 1 s':>9} {'up again s':>10} {'page ms before':>15} {'after':>8}")
    with tempfile.TemporaryDirectory(prefix="bench-migration-") as tmp:
        for db in args.db.split(","):
            url = args.pg_url if db == "postgres" else f"sqlite:///{tmp}/gateway.db"
            r = run(db, url, args.reports)
            print(f"{db:9} {r['up']:9.2f} {r['down']:9.2f} {r['up_again']:10.2f} "
                  f"{r['page_before_ms']:15.1f} {r['page_after_ms']:8.1f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
