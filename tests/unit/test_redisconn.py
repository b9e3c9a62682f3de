"""REDIS_URL's Sentinel form: what is parsed out of it, and what start-up refuses."""

from __future__ import annotations

import pytest

from config.settings import load_settings
from gateway.errors import ConfigError
from gateway.redisconn import SentinelURL, parse_sentinel_url, url_problem


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26380/mymaster/0",
            SentinelURL((("10.0.0.1", 26379), ("10.0.0.2", 26379), ("10.0.0.3", 26380)), "mymaster", 0),
            id="three-sentinels",
        ),
        pytest.param(
            "redis+sentinel://s1,s2/gw/3",
            SentinelURL((("s1", 26379), ("s2", 26379)), "gw", 3),
            id="default-port",
        ),
        pytest.param(
            "redis+sentinel://s1:26379/gw",
            SentinelURL((("s1", 26379),), "gw", 0),
            id="db-defaults-to-0",
        ),
        pytest.param(
            "redis+sentinel://:s%40cret@s1:26379,s2:26379/gw/1",
            SentinelURL((("s1", 26379), ("s2", 26379)), "gw", 1, None, "s@cret"),
            id="password-only",
        ),
        pytest.param(
            "redis+sentinel://lapor:pw@s1:26379/gw/2",
            SentinelURL((("s1", 26379),), "gw", 2, "lapor", "pw"),
            id="user-and-password",
        ),
        pytest.param(
            "redis+sentinel://pw@s1/gw/0",
            SentinelURL((("s1", 26379),), "gw", 0, None, "pw"),
            id="bare-password",
        ),
        pytest.param(
            "REDIS+SENTINEL://[::1]:26379,[fd00::2]/gw/0",
            SentinelURL((("::1", 26379), ("fd00::2", 26379)), "gw", 0),
            id="ipv6-any-case",
        ),
    ],
)
def test_sentinel_url_is_parsed(url, expected):
    assert parse_sentinel_url(url) == expected
    assert url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        pytest.param("redis+sentinel://s1:26379", "service name", id="no-service"),
        pytest.param("redis+sentinel://s1:26379/", "service name", id="empty-path"),
        pytest.param("redis+sentinel://s1:26379/gw/x", "database must be a number", id="db-not-number"),
        pytest.param("redis+sentinel://s1:26379/gw/0/9", "/<service>/<db>", id="path-too-long"),
        pytest.param("redis+sentinel://s1:99999/gw/0", "bad Sentinel port", id="port-range"),
        pytest.param("redis+sentinel://s1:ab/gw/0", "bad Sentinel port", id="port-not-number"),
        pytest.param("redis+sentinel://s1,,s2/gw/0", "empty entry", id="empty-host"),
        pytest.param("redis+sentinel:///gw/0", "empty entry", id="no-host"),
        pytest.param("localhost:6379", "redis://", id="no-scheme"),
        pytest.param("http://s1/0", "redis://", id="other-scheme"),
    ],
)
def test_bad_redis_url_is_named(url, problem):
    assert problem in (url_problem(url) or "")


def test_start_up_refuses_a_bad_sentinel_url_naming_redis_url():
    with pytest.raises(ConfigError, match="REDIS_URL: needs the service name"):
        load_settings(
            {"REDIS_URL": "redis+sentinel://s1:26379", "GATEWAY_INBOUND_TOKEN": "x"}, dotenv_path=None
        )


def test_start_up_takes_a_sentinel_url():
    url = "redis+sentinel://s1:26379,s2:26379/mymaster/0"
    settings = load_settings({"REDIS_URL": url, "GATEWAY_INBOUND_TOKEN": "x"}, dotenv_path=None)
    assert settings.redis_url == url
