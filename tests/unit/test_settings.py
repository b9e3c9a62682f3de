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
