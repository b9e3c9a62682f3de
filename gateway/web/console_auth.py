"""The handler console's sessions: a handler logs in once with an admin API token; the console
then keeps only the token's key id in a signed session cookie (Flask's, keyed by
GATEWAY_CONSOLE_SECRET) and re-reads the token on every request, so revoking it ends the
session at once. Every POST carries a CSRF token bound to the session.

CSRF without Flask-WTF: the console's forms are a handful of plain HTML forms, so one random
token per session, compared in constant time, is the whole job; Flask-WTF would add WTForms
and a second form layer for nothing the service layer does not already validate.
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
from datetime import timedelta

from flask import Flask, abort, current_app, g, redirect, request, session, url_for

from config.settings import Settings
from gateway.metrics import CONSOLE_REQUESTS
from gateway.models import ApiRole, ApiToken
from gateway.outcomes import ConsoleOutcome
from gateway.services.tokens import actor_name, find_token, live_token

log = logging.getLogger("gateway.console")

KEY_ID, CSRF = "key_id", "csrf"
CSRF_FIELD, CSRF_HEADER = "csrf_token", "X-CSRF-Token"
SESSION_HOURS = 12


def configure_sessions(app: Flask, settings: Settings) -> None:
    """The session cookie: signed with GATEWAY_CONSOLE_SECRET, invisible to scripts, not sent
    on cross-site posts, and only over TLS when the gateway's public URL is https."""
    app.secret_key = settings.console_secret or None
    app.config.update(
        SESSION_COOKIE_NAME="lapor_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
    )


def log_in(presented: str) -> ApiToken | None:
    """Start a session for the token `presented` (None if it is not a live token). A fresh
    session and CSRF token: nothing set before the log-in survives it (session fixation)."""
    token = find_token(current_app.extensions["gateway"], presented)
    if token is None:
        log.warning("console log-in refused")
        CONSOLE_REQUESTS.labels("login", ConsoleOutcome.REFUSED).inc()
        return None
    session.clear()
    session.permanent = True
    session[KEY_ID], session[CSRF] = token.key_id, secrets.token_urlsafe(32)
    log.info("console log-in by %s (role %s)", actor_name(token.name), token.role)
    CONSOLE_REQUESTS.labels("login", ConsoleOutcome.OK).inc()
    return token


def log_out() -> None:
    """End the session."""
    session.clear()


def csrf_token() -> str:
    """This session's CSRF token (made on first use, so the log-in form has one too)."""
    if CSRF not in session:
        session[CSRF] = secrets.token_urlsafe(32)
    return session[CSRF]


def check_csrf() -> None:
    """Abort with 400 naming csrf_token unless the POST carries this session's token."""
    expected = session.get(CSRF, "")
    presented = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    if not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
        CONSOLE_REQUESTS.labels(request.endpoint or "unknown", ConsoleOutcome.REFUSED).inc()
        abort(400, description="csrf_token: missing or stale; reload the page and try again")


def require_console() -> None:
    """404 when the console is not configured (no GATEWAY_CONSOLE_SECRET to sign sessions)."""
    if not current_app.extensions["gateway"].settings.console_secret:
        abort(404, description="the console is off: set GATEWAY_CONSOLE_SECRET")


def console_view(role: str):
    """Decorator: a logged-in handler (else to the log-in page); every POST checks CSRF, and
    `admin` views refuse the `viewer` role with 403 (viewers only read)."""

    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            require_console()
            key_id = session.get(KEY_ID)
            token = live_token(current_app.extensions["gateway"], key_id) if key_id else None
            if token is None:
                session.pop(KEY_ID, None)
                return redirect(url_for("console.login", next=request.path))
            if request.method == "POST":
                check_csrf()
            if role == ApiRole.ADMIN and token.role != ApiRole.ADMIN:
                CONSOLE_REQUESTS.labels(request.endpoint or "unknown", ConsoleOutcome.REFUSED).inc()
                abort(403, description="your token may only read (role viewer)")
            g.console_token, g.api_actor = token, actor_name(token.name)
            return view(*args, **kwargs)

        return inner

    return wrap
