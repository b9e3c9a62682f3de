"""Settings of issue #4 (quiet hours, time zone, holidays, SLA, complaint-system link): a bad
value stops start-up with a message naming the variable."""

from __future__ import annotations

import pytest

from config.settings import load_settings
from gateway.errors import ConfigError

BASE = {"GATEWAY_INBOUND_TOKEN": "x"}


@pytest.mark.parametrize(
    ("env", "var"),
    [
        pytest.param({"GATEWAY_TIMEZONE": "Asia/Nowhere"}, "GATEWAY_TIMEZONE", id="zone"),
        pytest.param({"GATEWAY_QUIET_HOURS_START": "9pm"}, "GATEWAY_QUIET_HOURS_START", id="start"),
        pytest.param({"GATEWAY_QUIET_HOURS_END": "25:00"}, "GATEWAY_QUIET_HOURS_END", id="end"),
        pytest.param({"GATEWAY_HOLIDAYS": "17-08-2026"}, "GATEWAY_HOLIDAYS", id="holiday"),
        pytest.param({"GATEWAY_SLA_CLOSE_DAYS": "0"}, "GATEWAY_SLA_CLOSE_DAYS", id="sla-days"),
        pytest.param({"GATEWAY_UPSTREAM_URL": "ftp://x"}, "GATEWAY_UPSTREAM_URL", id="url"),
        pytest.param(
            {"GATEWAY_UPSTREAM_URL": "https://lapor.example/hooks"}, "GATEWAY_UPSTREAM_SECRET", id="secret"
        ),
    ],
)
def test_bad_values_name_the_variable(env, var):
    with pytest.raises(ConfigError, match=var):
        load_settings(BASE | env, dotenv_path=None)


def test_defaults_and_overrides():
    s = load_settings(BASE, dotenv_path=None)
    assert (s.timezone, s.quiet_hours_start, s.quiet_hours_end) == ("Asia/Jakarta", "21:00", "06:00")
    assert (s.sla_verify_days, s.sla_follow_up_days, s.sla_close_days, s.upstream_url) == (3, 5, 10, "")
    s = load_settings(
        BASE | {"GATEWAY_HOLIDAYS": "2026-08-17 2026-12-25", "GATEWAY_SLA_VERIFY_DAYS": "2"}, None
    )
    assert s.holidays == "2026-08-17 2026-12-25" and s.sla_verify_days == 2
