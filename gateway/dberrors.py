"""Database errors told without row values. SQLAlchemy's message quotes the statement's
parameters (switched off by `hide_parameters` on every engine, gateway.db), and the database's
own message can quote the row: PostgreSQL's `DETAIL: Key (msisdn)=(+62...) already exists`,
`Failing row contains (...)`, `invalid input syntax for type integer: "..."`. What a worker
prints, and what RQ keeps for a day in Redis, is only the error's type, the driver's error
class and the constraint, table and column it names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError

from gateway.errors import GatewayError

# SQLite's constraint messages name the constraint or columns, never values.
_SQLITE_CONSTRAINT = re.compile(r"^[A-Z ]*constraint failed(: [\w.]+(, [\w.]+)*)?$")

F = TypeVar("F", bound=Callable)


class DatabaseFailure(GatewayError):
    """A database error, re-raised with `describe_db_error`'s text only."""


def describe_db_error(exc: BaseException) -> str:
    """`IntegrityError (CheckViolation: constraint x, table y)`: the type and what the
    driver names, never a value from the row or the statement."""
    orig = getattr(exc, "orig", None)
    if orig is None:
        return type(exc).__name__
    named = []
    diag = getattr(orig, "diag", None)  # psycopg: structured fields, no need to parse text
    for label in ("constraint", "table", "column"):
        value = getattr(diag, f"{label}_name", None) if diag is not None else None
        if value:
            named.append(f"{label} {value}")
    first_line = (str(orig).splitlines() or [""])[0]
    if diag is None and _SQLITE_CONSTRAINT.match(first_line):
        named.append(first_line)
    detail = f": {', '.join(named)}" if named else ""
    return f"{type(exc).__name__} ({type(orig).__name__}{detail})"


def redact_database_errors(job: F) -> F:
    """Wrap a job so a database error leaves it as a `DatabaseFailure` carrying only
    `describe_db_error`'s text: RQ logs and stores the traceback it sees, for 24 hours."""

    @functools.wraps(job)
    def wrapper(*args, **kwargs):
        try:
            return job(*args, **kwargs)
        except SQLAlchemyError as exc:
            # `from None`: the original (with its DETAIL line) is not printed as the context.
            raise DatabaseFailure(describe_db_error(exc)) from None

    return wrapper  # type: ignore[return-value]
