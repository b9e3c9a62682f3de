"""What the hostile suite saw, per route: cases tried, 4xx, 5xx, stalls, the slowest reply. The terminal
summary (tests/hostile/conftest.py) prints it and writes var/hostile-table.json."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class RouteTally:
    """Counts for one route on one database, over every test that probed it."""

    cases: int = 0
    client_errors: int = 0  # 4xx
    server_errors: int = 0  # 5xx, 503 included: no outage is played here
    stalls: int = 0  # liveness failures: no reply, or none within 10 s
    reply_s: float = 0.0  # the slowest liveness LAPOR: post to reply at the aggregator, seconds
    misnamed: int = 0  # 400s naming no field of the route, or refused by the database not the edge
    known: int = 0  # 5xx and stalls matched to an open issue-12 finding (see findings.py)
    failures: dict = field(default_factory=dict)  # signature -> first example seen


TALLY: dict[tuple[str, str], RouteTally] = defaultdict(RouteTally)  # (route, backend) -> counts
COLUMNS = ("route", "db", "cases", "4xx", "5xx", "misnamed", "stalls", "known", "reply_s")


def rows() -> list[dict]:
    """The table, one dict per route, in route order."""
    return [
        {
            "route": route,
            "db": backend,
            "cases": t.cases,
            "4xx": t.client_errors,
            "5xx": t.server_errors,
            "misnamed": t.misnamed,
            "stalls": t.stalls,
            "known": t.known,
            "reply_s": round(t.reply_s, 2),
        }
        for (route, backend), t in sorted(TALLY.items())
    ]


def render(table: list[dict]) -> list[str]:
    """The table as aligned text lines."""
    widths = {c: max([len(c)] + [len(str(r[c])) for r in table]) for c in COLUMNS}
    line = lambda r: "  ".join(str(r[c]).ljust(widths[c]) for c in COLUMNS)  # noqa: E731
    return [line({c: c for c in COLUMNS})] + [line(r) for r in table]


def write_json(path: Path) -> None:
    """var/hostile-table.json: the table and every failure signature with its first example."""
    path.parent.mkdir(parents=True, exist_ok=True)
    failures = {f"{route} [{db}]": t.failures for (route, db), t in sorted(TALLY.items()) if t.failures}
    path.write_text(json.dumps({"routes": rows(), "failures": failures}, indent=2, ensure_ascii=False) + "\n")


__all__ = ["TALLY", "RouteTally", "asdict", "render", "rows", "write_json"]
