"""Helpers for the console tests: a console-enabled test client, logging in, reading forms."""

from __future__ import annotations

import re

from gateway.app import create_app
from gateway.services.tokens import create_token

CONSOLE_SECRET = "test-console-secret-0123456789"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_client(rt, **settings):
    """A test client of an app with the console on and notices sent at any hour."""
    rt.settings = rt.settings.replace(
        console_secret=CONSOLE_SECRET, quiet_hours_start="00:00", quiet_hours_end="00:00", **settings
    )
    app = create_app(runtime=rt)
    app.testing = True
    return app.test_client()


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _CSRF.search(html)
    assert match, "no form with a csrf_token on the page"
    return match.group(1)


def log_in(client, rt, role: str = "admin", name: str | None = None) -> str:
    """Log in with a fresh token of `role`; return the session's CSRF token."""
    token = create_token(rt, name or f"console-{role}", role)
    csrf = csrf_of(client.get("/console/login").get_data(as_text=True))
    resp = client.post("/console/login", data={"token": token, "csrf_token": csrf})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return csrf_of(client.get("/console/").get_data(as_text=True))
