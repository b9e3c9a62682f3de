"""The one place a Redis connection is made from `REDIS_URL`, for every process (receiver,
workers, cron, RQ's own command line through `--connection-class`, USSD sessions).

Besides redis-py's own forms (`redis://`, `rediss://`, `unix://`) it takes a Sentinel form:

    redis+sentinel://[[user]:password@]host:26379,host:26379,.../<service>/<db>

The hosts are Sentinels; `<service>` is the name they monitor (`sentinel monitor <service> ...`)
and `<db>` the database number (default 0). The password, if any, is the one of the Redis
primary and replicas (`requirepass`); the Sentinels are asked without one. Every connection
asks the Sentinels where the primary is when it is (re)made, so after a failover the next
command goes to the promoted replica without a restart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from redis import Redis
from redis.sentinel import Sentinel

SENTINEL_SCHEME = "redis+sentinel"
DEFAULT_SENTINEL_PORT = 26379


@dataclass(frozen=True)
class SentinelURL:
    """A parsed `redis+sentinel://` URL."""

    hosts: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None


def is_sentinel_url(url: str) -> bool:
    """Whether `url` is the Sentinel form."""
    return url.lower().startswith(SENTINEL_SCHEME + "://")


def parse_sentinel_url(url: str) -> SentinelURL:
    """Split a Sentinel URL into its parts; ValueError saying what is wrong otherwise."""
    if not is_sentinel_url(url):
        raise ValueError(f"must start with {SENTINEL_SCHEME}://")
    rest = url[len(SENTINEL_SCHEME) + 3 :].split("?", 1)[0].split("#", 1)[0]
    netloc, _, path = rest.partition("/")
    userinfo, _, hostlist = netloc.rpartition("@")
    username, password = _userinfo(userinfo) if userinfo else (None, None)
    hosts = tuple(_host_port(item) for item in hostlist.split(","))
    parts = [p for p in path.split("/") if p] if path else []
    if not parts:
        raise ValueError(
            "needs the service name Sentinel monitors: redis+sentinel://host:26379/<service>/<db>"
        )
    if len(parts) > 2:
        raise ValueError("path must be /<service>/<db>")
    service = unquote(parts[0])
    if len(parts) == 2 and not parts[1].isdigit():
        raise ValueError(f"database must be a number, not {parts[1]!r}")
    return SentinelURL(hosts, service, int(parts[1]) if len(parts) == 2 else 0, username, password)


def _userinfo(userinfo: str) -> tuple[str | None, str | None]:
    user, sep, password = userinfo.partition(":")
    if not sep:  # `secret@host`: a password alone, as redis-cli users write it
        return None, unquote(user) or None
    return unquote(user) or None, unquote(password) or None


def _host_port(item: str) -> tuple[str, int]:
    item = item.strip()
    if not item:
        raise ValueError("needs at least one Sentinel host (an empty entry in the host list)")
    if item.startswith("["):  # [IPv6]:port
        host, _, port = item[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = item.rpartition(":") if ":" in item else (item, "", "")
    if not host:
        raise ValueError(f"bad Sentinel host {item!r}")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"bad Sentinel port in {item!r}")
    return host, int(port) if port else DEFAULT_SENTINEL_PORT


def url_problem(url: str) -> str | None:
    """None when `url` is a Redis URL this module can connect with; otherwise why not (for the
    start-up check that names REDIS_URL)."""
    if is_sentinel_url(url):
        try:
            parse_sentinel_url(url)
        except ValueError as exc:
            return str(exc)
        return None
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in ("redis", "rediss", "unix"):
        return f"must be a redis://, rediss://, unix:// or {SENTINEL_SCHEME}:// URL"
    return None


def redis_from_url(url: str, redis_class: type[Redis] | None = None, **kwargs: Any) -> Redis:
    """A client for `url` (any form above); `kwargs` go to every connection to Redis itself
    (e.g. socket timeouts). For the Sentinel form the same connect timeout also bounds each
    question to a Sentinel, so a dead Sentinel costs at most that before the next is tried."""
    redis_class = redis_class or GatewayRedis
    if not is_sentinel_url(url):
        # redis-py's own parsing, with `redis_class` as the class it builds (calling
        # redis_class.from_url would come back here).
        return Redis.from_url.__func__(redis_class, url, **kwargs)
    parsed = parse_sentinel_url(url)
    ask_timeout = kwargs.get("socket_connect_timeout", 2)
    sentinel_kwargs = {"socket_connect_timeout": ask_timeout, "socket_timeout": ask_timeout}
    sentinel = Sentinel(list(parsed.hosts), sentinel_kwargs=sentinel_kwargs)
    return sentinel.master_for(
        parsed.service,
        redis_class=redis_class,
        db=parsed.db,
        username=parsed.username,
        password=parsed.password,
        **kwargs,
    )


class GatewayRedis(Redis):
    """redis-py's client whose `from_url` also takes the Sentinel form. RQ's command line builds
    its connection with `<connection class>.from_url(--url)`, so `rq worker --connection-class
    gateway.redisconn.GatewayRedis --url redis+sentinel://...` follows failovers too (RQ's
    worker pool and scheduler rebuild the connection from its pool, which keeps asking the
    Sentinels)."""

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Redis:  # type: ignore[override]
        """As redis-py's, plus `redis+sentinel://`."""
        return redis_from_url(url, redis_class=cls, **kwargs)
