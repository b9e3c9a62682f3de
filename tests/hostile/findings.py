"""The issue-12 findings still open (none at present), as (route, backend, what the server did) patterns.

A 5xx or a stall that matches one is counted in the table's `known` column and does not fail
the property test; each has a targeted strict-xfail test in test_regressions.py, so when a
fix lands that test passes, strict xfail turns it red, and both the mark and the entry here
are removed. Anything that matches nothing fails the property test (hypothesis shrinks it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    name: str
    routes: tuple[str, ...]  # the recorder's route label starts with one of these ("" = any)
    status: int  # 500 (an exception) or 503 (a database error answered as an outage)
    exception: str  # the exception type's name, as the server raised or logged it
    backends: tuple[str, ...] = ("sqlite", "postgres")


# Every issue-12 finding the suite hit is fixed on main (edge validation, poison quarantine);
# their targeted tests in test_regressions.py are plain regression tests now. A new finding is
# added here together with its strict xfail there.
KNOWN: list[Finding] = []


def match(route: str, backend: str, status: int, exception: str) -> Finding | None:
    """The open finding this failure is an instance of, if any."""
    for f in KNOWN:
        if (
            route.startswith(f.routes)
            and backend in f.backends
            and status == f.status
            and exception == f.exception
        ):
            return f
    return None
