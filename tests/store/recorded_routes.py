"""Helpers for the store-level tests of one aggregator adapter: a gateway configured to send
MT through it (its GATEWAY_<NAME>_BASE_URL pointed at the test's fake server), and recorded
requests (tests/fixtures/<name>/) replayed through the app's real routes."""

from __future__ import annotations

from sqlalchemy import select

from config.settings import load_settings
from gateway.models import InboundMessage
from tests.conftest import INBOUND_TOKEN, TEST_REDIS_URL, _database_url
from tests.support.recorded import body_of


def settings_for(name: str, backend: str, tmp_path, fake, **env):
    """Settings that send MT through aggregator `name` against the fake server on 127.0.0.1."""
    prefix = "".join(c if c.isalnum() else "_" for c in name.upper())
    base = fake.url.removesuffix("/send")
    values = {
        "DATABASE_URL": _database_url(backend, tmp_path),
        "REDIS_URL": TEST_REDIS_URL,
        "GATEWAY_INBOUND_TOKEN": INBOUND_TOKEN,
        "GATEWAY_OUTBOUND": name,
        f"GATEWAY_{prefix}_BASE_URL": base,
        "GATEWAY_PUBLIC_URL": "https://lapor.example.id",
        "GATEWAY_SEND_BACKOFF_BASE": "0.01",
        "GATEWAY_SEND_BACKOFF_MAX": "0.05",
        "GATEWAY_SEND_TIMEOUT": "2",
        **env,
    }
    return load_settings(values, dotenv_path=None)


def replay(client, fx: dict, **changes):
    """Send a recorded request (tests/support/recorded.py's format) to the app. `changes`
    override `path`, `query_string`, `headers` or `body`."""
    fx = {**fx, **changes}
    headers = {k: v for k, v in fx["headers"].items() if k.lower() not in ("content-length", "host")}
    return client.open(
        fx["path"],
        method=fx["method"],
        query_string=fx.get("query_string", ""),
        headers=headers,
        data=body_of(fx) if fx["method"] != "GET" else None,
    )


def inbox(rt) -> list[InboundMessage]:
    """The stored MOs, oldest first."""
    with rt.sessions() as s:
        return list(s.scalars(select(InboundMessage).order_by(InboundMessage.id)))
