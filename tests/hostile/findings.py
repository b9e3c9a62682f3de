"""The issue-12 findings still open, as (route, backend, what the server did) patterns.

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


DEEP_JSON = "JSON nested thousands deep: 500 RecursionError (every JSON route)"
KANNEL_CHARSET = "Kannel charset=zlib/uu/bz2 (a codec that is not a text encoding): 500 LookupError"
KANNEL_CODEC_DECODE = "Kannel charset=idna/punycode: decode fails despite errors=replace: 500 UnicodeError"
KANNEL_DLR_DIGITS = "Kannel DLR id of non-ASCII digits (id=%C2%B2): 500 ValueError"
KANNEL_DLR_HUGE = "Kannel DLR id beyond the integer column (2^31 PG 503, 2^63 SQLite 500 OverflowError)"
UNTIL_9999 = "GET /api/v1/reports?until=9999-12-31 (or since=0001-01-01): 500 OverflowError"
REQUEUE_HUGE = "POST /api/v1/outbound/2147483648/requeue: PG 503 DataError (int4 column)"
TOO_LONG_FOR_PG = "MO `to` over 20 chars, NUL in MO id/to or DLR id: PG 503 DataError (SQLite stores it)"

KNOWN: list[Finding] = [
    Finding(DEEP_JSON, ("",), 500, "RecursionError"),
    Finding(KANNEL_CHARSET, ("GET /sms/kannel/inbound", "POST /sms/kannel/inbound"), 500, "LookupError"),
    Finding(
        KANNEL_CODEC_DECODE, ("GET /sms/kannel/inbound", "POST /sms/kannel/inbound"), 500, "UnicodeError"
    ),
    Finding(
        KANNEL_CODEC_DECODE,
        ("GET /sms/kannel/inbound", "POST /sms/kannel/inbound"),
        500,
        "UnicodeDecodeError",
    ),
    Finding(KANNEL_DLR_DIGITS, ("GET /sms/kannel/status",), 500, "ValueError"),
    Finding(KANNEL_DLR_HUGE, ("GET /sms/kannel/status",), 500, "OverflowError", ("sqlite",)),
    Finding(KANNEL_DLR_HUGE, ("GET /sms/kannel/status",), 503, "DataError", ("postgres",)),
    Finding(UNTIL_9999, ("GET /api/v1/reports",), 500, "OverflowError"),
    Finding(
        REQUEUE_HUGE,
        ("GET /api/v1/outbound, POST .../requeue", "schemathesis"),
        503,
        "DataError",
        ("postgres",),
    ),
    Finding(TOO_LONG_FOR_PG, ("POST /sms/", "GET /sms/"), 503, "DataError", ("postgres",)),
]


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


# A stall explained by a stored MO whose sent_at Python cannot read (issue 12, the first row).
POISON_TIMESTAMP = "MO stored with a timestamp outside year 1-9999 breaks every drain (PG)"
