"""The Flask app factory: receiver for aggregator callbacks."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

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
    _trust_proxies(app, runtime.settings.trusted_proxies)

    from gateway.web import sms

    app.register_blueprint(sms.bp)
    from gateway.web import ussd

    app.register_blueprint(ussd.bp)
    from gateway.web import admin

    app.register_blueprint(admin.bp)
    from gateway.web import console, console_auth

    console_auth.configure_sessions(app, runtime.settings)
    app.register_blueprint(console.bp)
    from gateway.web import phone

    app.register_blueprint(phone.bp)
    from gateway.web import health

    app.register_blueprint(health.bp)
    from gateway.web import metrics

    app.register_blueprint(metrics.bp)
    _register_error_handlers(app)
    from gateway.cli import register_cli

    register_cli(app)
    return app


def _trust_proxies(app: Flask, hops: int) -> None:
    """Behind `hops` reverse proxies, take the client address, scheme, host and port from
    their X-Forwarded-* headers, so the app sees the public URL the aggregator called (what a
    URL-signed callback is signed over). Each proxy appends one X-Forwarded-For entry, so only
    the last `hops` entries are believed; anything a client sent before them is ignored."""
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


def _carries_input() -> bool:
    """Whether this request brings values to store: every callback (SMS, DLR, USSD, also as
    GET for Kannel's get-url) and every write; admin reads do not."""
    from flask import request

    return request.method != "GET" or request.path.startswith(("/sms/", "/ussd/"))


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(InvalidPayload)
    def invalid_payload(exc: InvalidPayload):
        return jsonify(error="invalid_payload", field=exc.field, reason=exc.reason), 400

    @app.errorhandler(SQLAlchemyError)
    def database_error(exc: SQLAlchemyError):
        if isinstance(exc, DataError | IntegrityError) and _carries_input():
            # The database refused a value (too long, out of range): input the edge should
            # have refused. A 503 would have the aggregator retry it for ever, so it is 400.
            log.error("the database refused a value, answering 400: %s", type(exc).__name__)
            return jsonify(
                error="invalid_payload", field="body", reason="a value the gateway cannot store"
            ), 400
        if isinstance(exc, DataError):
            # A read that met a stored value Python cannot hold (a poison row): not the
            # caller's fault, not an outage either.
            log.error("a stored row could not be read: %s", type(exc).__name__)
            return jsonify(error="internal_error", reason="a stored row could not be read"), 500
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
