"""Typed settings, loaded once from the environment and validated at start-up.

Precedence: a variable set in the environment wins over a `.env` file in the working
directory, which wins over the defaults below. Invalid values raise ConfigError naming the
variable, so a misconfigured process dies at start-up instead of at the first SMS.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from config import aggregators
from gateway.errors import ConfigError
from gateway.redisconn import url_problem

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# GATEWAY_OUTBOUND=log: no aggregator, MT are printed (gateway.sender.LogSender).
LOG_OUTBOUND = "log"


def outbound_choices() -> tuple[str, ...]:
    """What GATEWAY_OUTBOUND may name: `log` and every registered aggregator."""
    return (LOG_OUTBOUND, *aggregators.registry())


@dataclass(frozen=True)
class Settings:
    """Every knob of the gateway. `env` names the environment variable of each field."""

    # Secrets and URLs that may carry a password are left out of repr (tracebacks, debug logs).

    redis_url: str = field(default="redis://127.0.0.1:6379/0", repr=False, metadata={"env": "REDIS_URL"})
    database_url: str = field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'gateway.db'}",
        repr=False,
        metadata={"env": "DATABASE_URL"},
    )
    short_code: str = field(default="1708", metadata={"env": "GATEWAY_SHORT_CODE"})
    outbound: str = field(default="log", metadata={"env": "GATEWAY_OUTBOUND"})
    public_url: str = field(default="http://127.0.0.1:8000", metadata={"env": "GATEWAY_PUBLIC_URL"})
    inbound_token: str = field(default="", repr=False, metadata={"env": "GATEWAY_INBOUND_TOKEN"})
    # Bearer token a Prometheus scrape of /metrics presents; empty: /metrics answers 404.
    metrics_token: str = field(default="", repr=False, metadata={"env": "GATEWAY_METRICS_TOKEN"})
    port: int = field(default=8000, metadata={"env": "GATEWAY_PORT"})
    host: str = field(default="127.0.0.1", metadata={"env": "GATEWAY_HOST"})
    # Reverse proxies in front of the receiver whose X-Forwarded-* headers are believed (nginx
    # in deploy/: 1). 0 believes none: without a proxy a client could forge its URL and address.
    trusted_proxies: int = field(default=0, metadata={"env": "GATEWAY_TRUSTED_PROXIES"})
    web_workers: int = field(default=2, metadata={"env": "GATEWAY_WEB_WORKERS"})
    job_workers: int = field(default=2, metadata={"env": "GATEWAY_JOB_WORKERS"})
    region: str = field(default="ID", metadata={"env": "GATEWAY_REGION"})
    queue_name: str = field(default="gateway", metadata={"env": "GATEWAY_QUEUE"})
    max_body_bytes: int = field(default=16384, metadata={"env": "GATEWAY_MAX_BODY_BYTES"})
    max_text_chars: int = field(default=2000, metadata={"env": "GATEWAY_MAX_TEXT_CHARS"})
    send_timeout: float = field(default=10.0, metadata={"env": "GATEWAY_SEND_TIMEOUT"})
    send_max_attempts: int = field(default=6, metadata={"env": "GATEWAY_SEND_MAX_ATTEMPTS"})
    send_backoff_base: float = field(default=5.0, metadata={"env": "GATEWAY_SEND_BACKOFF_BASE"})
    send_backoff_max: float = field(default=600.0, metadata={"env": "GATEWAY_SEND_BACKOFF_MAX"})
    sweep_after: float = field(default=60.0, metadata={"env": "GATEWAY_SWEEP_AFTER"})
    sweep_interval: int = field(default=30, metadata={"env": "GATEWAY_SWEEP_INTERVAL"})
    # How long the cron scheduler's leadership lasts without a renewal (workers.leader): a
    # dead scheduler is replaced after at most this; a Sentinel failover must take less.
    cron_lease_ttl: float = field(default=20.0, metadata={"env": "GATEWAY_CRON_LEASE_TTL"})
    job_timeout: int = field(default=60, metadata={"env": "GATEWAY_JOB_TIMEOUT"})
    # Throughput knobs (issue 6; `make bench` measured the defaults): MOs handled per database
    # transaction by a drain job, and sends in flight at once per worker.
    drain_batch: int = field(default=100, metadata={"env": "GATEWAY_DRAIN_BATCH"})
    # 32: a real send API answers in 100-300 ms, so what limits sending is how many requests
    # are in flight, not CPU (bench/pipeline.py --latency-ms 150: 8 gave 75 replies/s and a
    # p99 of 3 s at 100 MO/s; 32 gave 154/s and 324 ms). See README "Performance".
    send_concurrency: int = field(default=64, metadata={"env": "GATEWAY_SEND_CONCURRENCY"})
    flood_limit: int = field(default=10, metadata={"env": "GATEWAY_FLOOD_LIMIT"})
    flood_window: int = field(default=60, metadata={"env": "GATEWAY_FLOOD_WINDOW"})
    # Signed callbacks (the generic aggregator's GATEWAY_GENERIC_SIGNING_SECRET): how old a
    # signature's timestamp may be; a handled request's signature is remembered twice as long.
    signature_window: int = field(default=300, metadata={"env": "GATEWAY_SIGNATURE_WINDOW"})
    check_fail_limit: int = field(default=5, metadata={"env": "GATEWAY_CHECK_FAIL_LIMIT"})
    check_fail_window: int = field(default=3600, metadata={"env": "GATEWAY_CHECK_FAIL_WINDOW"})
    ussd_session_ttl: int = field(default=120, metadata={"env": "GATEWAY_USSD_SESSION_TTL"})
    ussd_draft_ttl: int = field(default=86400, metadata={"env": "GATEWAY_USSD_DRAFT_TTL"})
    # Each registered aggregator's own settings (GATEWAY_<NAME>_*, config/aggregators.py),
    # by name: what `build_send` and `verify` get. Not a variable of its own.
    aggregators: Mapping[str, Any] = field(default_factory=dict)
    # Complaint handlers (issue #4): notices, SLA clock, complaint-system link.
    timezone: str = field(default="Asia/Jakarta", metadata={"env": "GATEWAY_TIMEZONE"})
    quiet_hours_start: str = field(default="21:00", metadata={"env": "GATEWAY_QUIET_HOURS_START"})
    quiet_hours_end: str = field(default="06:00", metadata={"env": "GATEWAY_QUIET_HOURS_END"})
    holidays: str = field(default="", metadata={"env": "GATEWAY_HOLIDAYS"})
    sla_verify_days: int = field(default=3, metadata={"env": "GATEWAY_SLA_VERIFY_DAYS"})
    sla_follow_up_days: int = field(default=5, metadata={"env": "GATEWAY_SLA_FOLLOW_UP_DAYS"})
    sla_close_days: int = field(default=10, metadata={"env": "GATEWAY_SLA_CLOSE_DAYS"})
    upstream_url: str = field(default="", metadata={"env": "GATEWAY_UPSTREAM_URL"})
    upstream_secret: str = field(default="", repr=False, metadata={"env": "GATEWAY_UPSTREAM_SECRET"})
    upstream_window: int = field(default=300, metadata={"env": "GATEWAY_UPSTREAM_WINDOW"})
    upstream_backoff_max: float = field(default=3600.0, metadata={"env": "GATEWAY_UPSTREAM_BACKOFF_MAX"})
    # The handler console (/console, gateway.web.console): the key that signs its session
    # cookie. Empty: the console answers 404 (`make run` makes a local one in var/).
    console_secret: str = field(default="", repr=False, metadata={"env": "GATEWAY_CONSOLE_SECRET"})
    # Logs (gateway.logconfig): the least level printed, and `text` or `json` lines.
    log_level: str = field(default="INFO", metadata={"env": "GATEWAY_LOG_LEVEL"})
    log_format: str = field(default="text", metadata={"env": "GATEWAY_LOG_FORMAT"})

    def send_caps(self) -> dict[str, int]:
        """Each aggregator's TPS cap (GATEWAY_<NAME>_TPS), by aggregator name; 0 is no cap."""
        return {name: config.tps for name, config in self.aggregators.items()}

    def aggregator_config(self, name: str):
        """The named aggregator's Config (its defaults if it was registered after loading)."""
        config = self.aggregators.get(name)
        if config is None:
            config = aggregators.bind({}, self._shared())[name]
        return config

    def replace(self, **changes) -> Settings:
        """A copy with some fields changed, validated again (tests use it for overrides)."""
        return validate(_bind(dataclasses.replace(self, **changes)))

    def with_aggregator(self, name: str, **changes) -> Settings:
        """A copy with some fields of one aggregator's Config changed, validated again."""
        config = dataclasses.replace(self.aggregator_config(name), **changes)
        return self.replace(aggregators={**self.aggregators, name: config})

    def _shared(self) -> dict[str, str]:
        return {"public_url": self.public_url, "inbound_token": self.inbound_token}


def _bind(s: Settings) -> Settings:
    """Give every aggregator's Config the gateway's public URL and inbound token."""
    return dataclasses.replace(s, aggregators=aggregators.bind(s.aggregators, s._shared()))


def env_fields() -> list[dataclasses.Field]:
    """The Settings fields read from a variable of their own."""
    return [f for f in fields(Settings) if "env" in f.metadata]


def env_name(name: str) -> str:
    """The environment variable behind a settings field."""
    return next(f.metadata["env"] for f in env_fields() if f.name == name)


def _convert(raw: str, to: type, var: str):
    try:
        return to(raw)
    except ValueError:
        raise ConfigError(f"{var}={raw!r} is not a valid {to.__name__}") from None


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv_path: str | Path | None = ".env"
) -> Settings:
    """Build Settings from defaults, then the .env file, then the environment."""
    environ = os.environ if environ is None else environ
    file_values = dotenv_values(dotenv_path) if dotenv_path and Path(dotenv_path).is_file() else {}
    values = {}
    types = {"int": int, "float": float, "str": str}

    def lookup(var: str) -> str | None:
        return environ.get(var, file_values.get(var))

    for f in env_fields():
        var = f.metadata["env"]
        raw = lookup(var)
        if raw is None:
            continue
        values[f.name] = _convert(raw.strip(), types[str(f.type)], var)
    return validate(_bind(Settings(**values, aggregators=aggregators.load_all(lookup))))


def _require(cond: bool, var: str, message: str) -> None:
    if not cond:
        raise ConfigError(f"{var}: {message}")


_is_http_url = aggregators.is_http_url


def validate(s: Settings) -> Settings:
    """Check cross-field rules; raise ConfigError naming the first bad variable."""
    choices = outbound_choices()
    _require(s.outbound in choices, "GATEWAY_OUTBOUND", f"must be one of {', '.join(choices)}")
    _require(bool(s.inbound_token), "GATEWAY_INBOUND_TOKEN", "must be set (the secret aggregators present)")
    _require(
        s.metrics_token != s.inbound_token,
        "GATEWAY_METRICS_TOKEN",
        "must differ from GATEWAY_INBOUND_TOKEN (a scraper is not an aggregator)",
    )
    _require(s.short_code.isdigit(), "GATEWAY_SHORT_CODE", "must be digits")
    _require(0 < s.port < 65536, "GATEWAY_PORT", "must be a TCP port")
    _require(url_problem(s.redis_url) is None, "REDIS_URL", url_problem(s.redis_url) or "")
    _require("://" in s.database_url, "DATABASE_URL", "must be an SQLAlchemy URL")
    _require(_is_http_url(s.public_url), "GATEWAY_PUBLIC_URL", "must be an http(s) URL")
    _require(0 <= s.trusted_proxies <= 10, "GATEWAY_TRUSTED_PROXIES", "must be between 0 and 10")
    _require(s.max_body_bytes >= 1024, "GATEWAY_MAX_BODY_BYTES", "must be at least 1024")
    _require(1 <= s.drain_batch <= 1000, "GATEWAY_DRAIN_BATCH", "must be between 1 and 1000")
    _require(1 <= s.send_concurrency <= 64, "GATEWAY_SEND_CONCURRENCY", "must be between 1 and 64")
    _require(2 <= s.cron_lease_ttl <= 600, "GATEWAY_CRON_LEASE_TTL", "must be between 2 and 600 (seconds)")
    _require(s.job_timeout >= 2, "GATEWAY_JOB_TIMEOUT", "must be at least 2 (seconds)")
    _require(s.send_max_attempts >= 1, "GATEWAY_SEND_MAX_ATTEMPTS", "must be at least 1")
    _require(s.ussd_session_ttl >= 1, "GATEWAY_USSD_SESSION_TTL", "must be at least 1 (seconds)")
    _require(s.ussd_draft_ttl >= s.ussd_session_ttl, "GATEWAY_USSD_DRAFT_TTL", "must be >= the session TTL")
    for name, aggregator in aggregators.registry().items():
        aggregators.check(aggregator, s.aggregator_config(name), outbound=s.outbound == name)
    _require(
        not s.console_secret or len(s.console_secret) >= 16,
        "GATEWAY_CONSOLE_SECRET",
        "must be at least 16 characters (it signs the console's session cookie)",
    )
    _validate_handlers(s)
    _validate_logs(s)
    return s


def _validate_logs(s: Settings) -> None:
    """The log level (any case) and format gateway.logconfig understands."""
    from gateway.logconfig import LOG_FORMATS, LOG_LEVELS

    levels, formats = ", ".join(LOG_LEVELS), ", ".join(LOG_FORMATS)
    _require(s.log_level.upper() in LOG_LEVELS, "GATEWAY_LOG_LEVEL", f"must be one of {levels}")
    _require(s.log_format in LOG_FORMATS, "GATEWAY_LOG_FORMAT", f"must be one of {formats}")


def _validate_handlers(s: Settings) -> None:
    """Quiet hours, time zone, holidays, SLA numbers and the complaint-system link."""
    from gateway import clock

    for var, parse, raw in (
        ("GATEWAY_TIMEZONE", clock.parse_zone, s.timezone),
        ("GATEWAY_QUIET_HOURS_START", clock.parse_hhmm, s.quiet_hours_start),
        ("GATEWAY_QUIET_HOURS_END", clock.parse_hhmm, s.quiet_hours_end),
        ("GATEWAY_HOLIDAYS", clock.parse_holidays, s.holidays),
    ):
        try:
            parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{var}: {exc}") from None
    for var, days in (
        ("GATEWAY_SLA_VERIFY_DAYS", s.sla_verify_days),
        ("GATEWAY_SLA_FOLLOW_UP_DAYS", s.sla_follow_up_days),
        ("GATEWAY_SLA_CLOSE_DAYS", s.sla_close_days),
    ):
        _require(days >= 1, var, "must be at least 1 working day")
    if s.upstream_url:
        _require(_is_http_url(s.upstream_url), "GATEWAY_UPSTREAM_URL", "must be an http(s) URL")
        _require(bool(s.upstream_secret), "GATEWAY_UPSTREAM_SECRET", "must be set with GATEWAY_UPSTREAM_URL")
    _require(s.upstream_window >= 1, "GATEWAY_UPSTREAM_WINDOW", "must be at least 1 second")
