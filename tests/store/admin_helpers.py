"""Helpers for the admin API tests: tokens, quiet hours off, API calls."""

from __future__ import annotations

from gateway.services.tokens import create_token


def no_quiet_hours(rt) -> None:
    """Notices go out at any hour (tests must not depend on the wall clock's time of day)."""
    rt.settings = rt.settings.replace(quiet_hours_start="00:00", quiet_hours_end="00:00")


def bearer(rt, role: str = "admin", name: str | None = None) -> dict:
    """Authorization headers for a fresh token with `role`."""
    return {"Authorization": f"Bearer {create_token(rt, name or f'test-{role}', role)}"}
