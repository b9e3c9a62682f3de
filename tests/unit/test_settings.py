"""Settings: defaults, .env file, environment precedence, errors naming the variable."""

from __future__ import annotations

import pytest

from config.settings import load_settings
from gateway.errors import ConfigError

BASE = {"GATEWAY_INBOUND_TOKEN": "t"}


def test_embedded_defaults():
    s = load_settings(BASE, dotenv_path=None)
    assert (s.redis_url, s.short_code, s.outbound, s.port) == (
        "redis://127.0.0.1:6379/0",
        "1708",
        "log",
        8000,
    )
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("var/gateway.db")


def test_environment_wins_over_dotenv_which_wins_over_defaults(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("GATEWAY_PORT=9001\nGATEWAY_SHORT_CODE=1709\nGATEWAY_INBOUND_TOKEN=from-file\n")
    s = load_settings({"GATEWAY_PORT": "9002"}, dotenv_path=env_file)
    assert (s.port, s.short_code, s.inbound_token) == (9002, "1709", "from-file")


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        pytest.param({}, "GATEWAY_INBOUND_TOKEN", id="token-required"),
        pytest.param({**BASE, "GATEWAY_PORT": "eighty"}, "GATEWAY_PORT", id="port-not-int"),
        pytest.param({**BASE, "GATEWAY_PORT": "70000"}, "GATEWAY_PORT", id="port-range"),
        pytest.param({**BASE, "GATEWAY_OUTBOUND": "smpp"}, "GATEWAY_OUTBOUND", id="unknown-outbound"),
        pytest.param(
            {**BASE, "GATEWAY_OUTBOUND": "generic"}, "GATEWAY_GENERIC_SEND_URL", id="generic-needs-url"
        ),
        pytest.param(
            {**BASE, "GATEWAY_OUTBOUND": "generic", "GATEWAY_GENERIC_SEND_URL": "http://127.0.0.1:1/s"},
            "GATEWAY_GENERIC_SEND_TOKEN",
            id="generic-needs-token",
        ),
        pytest.param(
            {**BASE, "GATEWAY_OUTBOUND": "kannel"}, "GATEWAY_KANNEL_USERNAME", id="kannel-needs-user"
        ),
        pytest.param({**BASE, "REDIS_URL": "localhost:6379"}, "REDIS_URL", id="redis-url"),
        pytest.param({**BASE, "GATEWAY_PUBLIC_URL": "gateway"}, "GATEWAY_PUBLIC_URL", id="public-url"),
        pytest.param({**BASE, "GATEWAY_SEND_TIMEOUT": "soon"}, "GATEWAY_SEND_TIMEOUT", id="float"),
        pytest.param({**BASE, "GATEWAY_LOG_LEVEL": "LOUD"}, "GATEWAY_LOG_LEVEL", id="log-level"),
        pytest.param({**BASE, "GATEWAY_LOG_FORMAT": "xml"}, "GATEWAY_LOG_FORMAT", id="log-format"),
        pytest.param({**BASE, "GATEWAY_LOG_FORMAT": "JSON "}, "GATEWAY_LOG_FORMAT", id="log-format-case"),
        pytest.param({**BASE, "GATEWAY_GENERIC_TPS": "-1"}, "GATEWAY_GENERIC_TPS", id="tps-negative"),
        pytest.param({**BASE, "GATEWAY_KANNEL_TPS": "fast"}, "GATEWAY_KANNEL_TPS", id="tps-not-int"),
        pytest.param({**BASE, "GATEWAY_KANNEL_TPS": "1000000"}, "GATEWAY_KANNEL_TPS", id="tps-range"),
    ],
)
def test_invalid_configuration_names_the_variable(env, variable):
    with pytest.raises(ConfigError, match=variable):
        load_settings(env, dotenv_path=None)


@pytest.mark.parametrize(
    ("env", "level", "fmt"),
    [
        pytest.param(BASE, "INFO", "text", id="defaults"),
        pytest.param(
            {**BASE, "GATEWAY_LOG_LEVEL": "debug", "GATEWAY_LOG_FORMAT": "json"}, "debug", "json", id="set"
        ),
        pytest.param({**BASE, "GATEWAY_LOG_LEVEL": " Warning "}, "Warning", "text", id="any-case-trimmed"),
    ],
)
def test_log_settings(env, level, fmt):
    s = load_settings(env, dotenv_path=None)
    assert (s.log_level, s.log_format) == (level, fmt)


def test_every_variable_is_in_the_readme():
    """The README's configuration table is the operator's list: a new setting is documented."""
    from pathlib import Path

    from config.aggregators import variables
    from config.settings import env_fields

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    names = [f.metadata["env"] for f in env_fields()]
    for name, config in load_settings(BASE, dotenv_path=None).aggregators.items():
        names += variables(name, config)  # every registered aggregator's GATEWAY_<NAME>_*
    assert [var for var in names if f"`{var}`" not in readme] == []


@pytest.mark.parametrize(
    ("env", "name", "endpoint"),
    [
        pytest.param({}, "kannel", "http://127.0.0.1:13013/cgi-bin/sendsms", id="kannel-default"),
        pytest.param(
            {"GATEWAY_KANNEL_BASE_URL": "http://kannel:13013/"},
            "kannel",
            "http://kannel:13013/cgi-bin/sendsms",
            id="kannel-base-url",
        ),
        pytest.param(
            {
                "GATEWAY_KANNEL_BASE_URL": "http://a:1",
                "GATEWAY_KANNEL_SENDSMS_URL": "http://b:2/cgi-bin/sendsms",
            },
            "kannel",
            "http://b:2/cgi-bin/sendsms",
            id="kannel-full-url-wins",
        ),
        pytest.param(
            {"GATEWAY_GENERIC_BASE_URL": "http://agg:9"}, "generic", "http://agg:9/send", id="generic-base"
        ),
        pytest.param(
            {"GATEWAY_GENERIC_BASE_URL": "http://agg:9", "GATEWAY_GENERIC_SEND_URL": "http://x:1/mt"},
            "generic",
            "http://x:1/mt",
            id="generic-full-url-wins",
        ),
    ],
)
def test_a_full_send_url_wins_over_the_base_url(env, name, endpoint):
    """GATEWAY_<NAME>_BASE_URL points an aggregator at another server; the older full-URL
    variables (a contract) still work and win when both are set."""
    config = load_settings({**BASE, **env}, dotenv_path=None).aggregator_config(name)
    assert (config.sendsms_endpoint if name == "kannel" else config.send_endpoint) == endpoint


def test_generic_may_send_with_only_a_base_url():
    env = {**BASE, "GATEWAY_OUTBOUND": "generic", "GATEWAY_GENERIC_BASE_URL": "http://agg:9"}
    s = load_settings({**env, "GATEWAY_GENERIC_SEND_TOKEN": "s"}, dotenv_path=None)
    assert s.aggregator_config("generic").send_endpoint == "http://agg:9/send"


def test_aggregator_secrets_are_never_shown():
    from config.aggregators import variables

    env = {**BASE, "GATEWAY_KANNEL_PASSWORD": "pw-kannel", "GATEWAY_GENERIC_SEND_TOKEN": "tok-generic"}
    s = load_settings({**env, "GATEWAY_GENERIC_SIGNING_SECRET": "sig-generic"}, dotenv_path=None)
    shown = repr(s) + str({name: variables(name, c) for name, c in s.aggregators.items()})
    assert [secret for secret in ("pw-kannel", "tok-generic", "sig-generic") if secret in shown] == []
    assert variables("kannel", s.aggregator_config("kannel"))["GATEWAY_KANNEL_PASSWORD"] == "***"
    assert variables("kannel", s.aggregator_config("kannel"))["GATEWAY_KANNEL_SENDSMS_URL"] == ""


def test_the_gateways_own_secrets_are_never_shown():
    """Settings end up in tracebacks and debug logs: the tokens, the signing secrets and URLs
    that may carry a password are left out of their repr."""
    env = {
        **BASE,
        "GATEWAY_INBOUND_TOKEN": "in-token-x",
        "GATEWAY_METRICS_TOKEN": "metrics-token-x",
        "GATEWAY_UPSTREAM_URL": "https://lapor.example/hook",
        "GATEWAY_UPSTREAM_SECRET": "upstream-secret-x",
        "GATEWAY_CONSOLE_SECRET": "console-secret-0123456789",
        "REDIS_URL": "redis://:redis-pw-x@127.0.0.1:6379/0",
        "DATABASE_URL": "postgresql+psycopg://gw:db-pw-x@127.0.0.1/lapor",
    }
    shown = repr(load_settings(env, dotenv_path=None))
    secrets = (
        "in-token-x",
        "metrics-token-x",
        "upstream-secret-x",
        "console-secret",
        "redis-pw-x",
        "db-pw-x",
    )
    assert [secret for secret in secrets if secret in shown] == []
