"""The Flask app factory: receiver for aggregator callbacks."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from config.settings import Settings, load_settings
from gateway.errors import InvalidPayload
from gateway.logconfig import configure_logging
from gateway.runtime import Runtime, build_runtime

log = logging.getLogger("gateway")


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    """The app factory. Settings come from the environment unless given (tests)."""
    if runtime is None:
        runtime = build_runtime(settings or load_settings())
    # Under gunicorn the logger class configured it (and the fork kept it); a host with its
    # own handlers (pytest's caplog) keeps them. Control characters are escaped either way.
    configure_logging(runtime.settings, unless_configured=True)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = runtime.settings.max_body_bytes
    app.extensions["gateway"] = runtime

    from gateway.web import sms

    app.register_blueprint(sms.bp)
    from gateway.web import ussd

    app.register_blueprint(ussd.bp)
    from gateway.web import admin

    app.register_blueprint(admin.bp)
    app.add_url_rule("/healthz", view_func=_health)
    _register_error_handlers(app)
    from gateway.cli import register_cli

    register_cli(app)
    return app


def _health():
    from flask import current_app

    rt: Runtime = current_app.extensions["gateway"]
    checks = {}
    try:
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError:
        checks["database"] = "down"
    try:
        rt.redis.ping()
        checks["redis"] = "ok"
    except RedisError:
        checks["redis"] = "down"
    # Redis down is degraded, not down: the receiver still stores and acknowledges.
    code = 200 if checks["database"] == "ok" else 503
    return jsonify(status="ok" if code == 200 else "down", **checks), code


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(InvalidPayload)
    def invalid_payload(exc: InvalidPayload):
        return jsonify(error="invalid_payload", field=exc.field, reason=exc.reason), 400

    @app.errorhandler(SQLAlchemyError)
    def database_error(exc: SQLAlchemyError):
        if isinstance(exc, DataError | IntegrityError):
            # The database refused a value (too long, out of range): input the edge should
            # have refused. A 503 would have the aggregator retry it for ever, so it is 400.
            log.error("the database refused a value, answering 400: %s", type(exc).__name__)
            return jsonify(
                error="invalid_payload", field="body", reason="a value the gateway cannot store"
            ), 400
        # Nothing was acknowledged: the aggregator keeps the message and retries.
        log.error("database error, answering 503: %s", type(exc).__name__)
        return jsonify(error="unavailable", reason="could not store the message; retry later"), 503

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        reason = (
            exc.description
            if exc.code != 413
            else f"body larger than {app.config['MAX_CONTENT_LENGTH']} bytes"
        )
        return jsonify(error=exc.name.lower().replace(" ", "_"), reason=reason), exc.code
