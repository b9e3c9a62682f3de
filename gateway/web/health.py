"""Liveness and readiness. `/healthz`: the process answers (nothing else is checked, so a
liveness probe never restarts a receiver because the database is away: restarting would not
bring it back). `/readyz`: the database answers, Redis answers and the schema is at the
latest migration; 503 naming what is missing, so a load balancer or an orchestrator sends no
traffic to a process that cannot serve it, and a deploy waits for `alembic upgrade head`."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from gateway.migrate import current_revision, head_revision, revisions
from gateway.runtime import Runtime

bp = Blueprint("health", __name__)


def schema_state(current: str | None, head: str, known: tuple[str, ...]) -> str:
    """'ok' when the database is at `head`; otherwise what an operator needs to know: behind
    (run `alembic upgrade head`; 'none' = never migrated) or at a revision this code does not
    know (a newer release's schema under older code)."""
    if current == head:
        return "ok"
    if current is None or current in known:
        return f"behind: at {current or 'none'}, head {head}"
    return f"unknown revision: at {current}, head {head}"


@bp.get("/healthz")
def healthz():
    """The process answers."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Database, Redis and schema, each 'ok' or what is wrong; 200 only when all are ok."""
    rt: Runtime = current_app.extensions["gateway"]
    checks = {}
    try:
        current = current_revision(rt.engine)  # one query: reaches the database and reads it
        checks["database"] = "ok"
        checks["schema"] = schema_state(current, head_revision(), revisions())
    except SQLAlchemyError:
        checks["database"] = "down"
        checks["schema"] = "unknown (database down)"
    try:
        rt.redis.ping()
        checks["redis"] = "ok"
    except RedisError:
        checks["redis"] = "down"
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if ready else "not_ready", **checks), 200 if ready else 503
