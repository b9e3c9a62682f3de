"""Behind a reverse proxy (GATEWAY_TRUSTED_PROXIES): the app factory makes Flask see the
public URL and the client's address from the proxy's X-Forwarded-* headers, and ignores
those headers when no proxy is trusted (a client could forge them)."""

from __future__ import annotations

import flask
import pytest

from config.settings import load_settings
from gateway.app import create_app
from gateway.errors import ConfigError

# What nginx (deploy/nginx/lapor-gateway.conf) adds in front of the receiver.
FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "sms.lapor.go.id",
    "X-Forwarded-Port": "443",
}


def _seen(tmp_path, trusted: str | None, headers: dict[str, str]) -> tuple[str, str]:
    """The URL and remote address the app saw for one request carrying `headers`."""
    env = {"GATEWAY_INBOUND_TOKEN": "t", "DATABASE_URL": f"sqlite:///{tmp_path}/gw.db"}
    if trusted is not None:
        env["GATEWAY_TRUSTED_PROXIES"] = trusted
    app = create_app(load_settings(env, dotenv_path=None))
    seen = []

    def record(sender, **extra):
        seen.append((flask.request.url, flask.request.remote_addr))

    with flask.request_started.connected_to(record, app):
        app.test_client().get(
            "/api/v1/openapi.json?token=x", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}
        )
    return seen[0]


@pytest.mark.parametrize(
    ("trusted", "headers", "url", "remote"),
    [
        pytest.param(
            "1",
            FORWARDED,
            "https://sms.lapor.go.id/api/v1/openapi.json?token=x",
            "203.0.113.7",
            id="one-proxy-public-url",
        ),
        pytest.param(
            "1",
            {**FORWARDED, "X-Forwarded-Port": "8443"},
            "https://sms.lapor.go.id:8443/api/v1/openapi.json?token=x",
            "203.0.113.7",
            id="one-proxy-public-port",
        ),
        pytest.param(
            "1",
            {**FORWARDED, "X-Forwarded-For": "198.51.100.9, 203.0.113.7"},
            "https://sms.lapor.go.id/api/v1/openapi.json?token=x",
            "203.0.113.7",
            id="forged-hop-before-the-proxy-ignored",
        ),
        pytest.param(
            None,
            FORWARDED,
            "http://localhost/api/v1/openapi.json?token=x",
            "127.0.0.1",
            id="default-trusts-nobody",
        ),
        pytest.param("0", FORWARDED, "http://localhost/api/v1/openapi.json?token=x", "127.0.0.1", id="zero"),
    ],
)
def test_app_sees_the_public_url_only_through_trusted_proxies(tmp_path, trusted, headers, url, remote):
    assert _seen(tmp_path, trusted, headers) == (url, remote)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("-1", id="negative"),
        pytest.param("many", id="not-int"),
        pytest.param("11", id="too-many"),
    ],
)
def test_bad_trusted_proxies_names_the_variable(raw):
    with pytest.raises(ConfigError, match="GATEWAY_TRUSTED_PROXIES"):
        load_settings({"GATEWAY_INBOUND_TOKEN": "t", "GATEWAY_TRUSTED_PROXIES": raw}, dotenv_path=None)
