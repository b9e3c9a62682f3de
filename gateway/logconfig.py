"""Where log lines go and what each one says: one `dictConfig` per process, one line per record.

Every line carries the time (ISO 8601, UTC), level, logger, process id and a correlation id,
then the message (already escaped by gateway.logsafe, so a record is one line whatever the
data). `GATEWAY_LOG_FORMAT=text` prints

    2026-12-02T02:04:06.123Z INFO gateway.inbox pid=4242 cid=mo-17 MO received ...

and `json` one object per line with the same fields. The correlation id follows one MO from the
receiver through its drain, reply, send and delivery report. It is derived from ids the data
already has, so nothing new is stored: `mo-<inbound id>` for an MO and every MT answering it,
`mt-<outbound id>` for an MT of its own (a notice). Code sets it with `with correlation(...)`;
`CorrelationFilter` writes it into each record a handler prints.

Entry points: `configure_logging(settings)` in the RQ worker class and the cron module,
`configure_logging(settings, unless_configured=True)` in the app factory (a host that set up
logging itself, pytest's caplog included, keeps its handlers), and `GunicornLogger`
(gateway.weblog) for gunicorn's own error and access logs.
"""

from __future__ import annotations

import json
import logging
import logging.config
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO

from gateway.logsafe import EscapeControls, escape_controls, install_log_safety

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
NO_CORRELATION = "-"

_correlation: ContextVar[str] = ContextVar("gateway_correlation", default=NO_CORRELATION)

# Loggers that other libraries give handlers of their own (and propagate=False): emptied and
# sent up to the root, so every line of the process has one format.
_ADOPTED = ("gunicorn.error", "gunicorn.access", "rq.worker", "rq.job", "rq.cron", "rq.worker_pool")


@contextmanager
def correlation(cid: str) -> Iterator[str]:
    """Within the block, every log record of this thread (or task) carries `cid`."""
    token = _correlation.set(cid)
    try:
        yield cid
    finally:
        _correlation.reset(token)


def current_correlation() -> str:
    """The correlation id in force here (`-` when none)."""
    return _correlation.get()


def mo_correlation(inbound_id: int) -> str:
    """The correlation id of an MO and everything done for it."""
    return f"mo-{inbound_id}"


def mt_correlation(outbound_id: int, inbound_id: int | None) -> str:
    """An MT's correlation id: its MO's when it answers one, else its own."""
    return mo_correlation(inbound_id) if inbound_id is not None else f"mt-{outbound_id}"


class CorrelationFilter(logging.Filter):
    """Writes the correlation id in force into each record (`extra={"correlation_id": ...}`
    given by the caller wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "correlation_id"):
            record.correlation_id = _correlation.get()
        return True


def iso_utc(created: float) -> str:
    """A record's time as ISO 8601 UTC with milliseconds: `2026-12-02T02:04:06.123Z`."""
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fields(record: logging.LogRecord) -> dict:
    return {
        "time": iso_utc(record.created),
        "level": record.levelname,
        "logger": record.name,
        "pid": record.process,
        "correlation_id": getattr(record, "correlation_id", NO_CORRELATION),
        "message": record.getMessage(),
    }


class TextFormatter(logging.Formatter):
    """`<time> <LEVEL> <logger> pid=<pid> cid=<correlation id> <message>`, one line: a
    traceback is appended with its line breaks escaped."""

    def format(self, record: logging.LogRecord) -> str:
        f = _fields(record)
        line = f"{f['time']} {f['level']} {f['logger']} pid={f['pid']} cid={f['correlation_id']} "
        line += f["message"]
        extra = self._trailer(record)
        return escape_controls(f"{line} | {extra}" if extra else line)

    def _trailer(self, record: logging.LogRecord) -> str:
        parts = []
        if record.exc_info:
            parts.append(self.formatException(record.exc_info))
        if record.stack_info:
            parts.append(self.formatStack(record.stack_info))
        return "\n".join(parts)


class JsonFormatter(TextFormatter):
    """One JSON object per line: time, level, logger, pid, correlation_id, message (and
    `exc` with a traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        f = _fields(record)
        extra = self._trailer(record)
        if extra:
            f["exc"] = extra
        f["message"] = escape_controls(f["message"])
        return json.dumps(f, ensure_ascii=False)


def make_handler(fmt: str = "text", stream: IO[str] | None = None) -> logging.Handler:
    """The handler every process logs through: `stream` (stderr by default) in `fmt`, with
    control characters escaped and the correlation id filled in."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(EscapeControls())
    handler.addFilter(CorrelationFilter())
    return handler


def logging_config(level: str, fmt: str) -> dict:
    """The `dictConfig` for a process: one handler on the root logger; the loggers of
    gunicorn and RQ emptied and propagating to it."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"console": {"()": make_handler, "fmt": fmt, "level": level}},
        "root": {"level": level, "handlers": ["console"]},
        "loggers": {name: {"handlers": [], "propagate": True} for name in _ADOPTED},
    }


def configure_logging(settings, unless_configured: bool = False) -> bool:
    """Set up this process's logging from `GATEWAY_LOG_LEVEL` and `GATEWAY_LOG_FORMAT`
    (replacing what was there); with `unless_configured`, only if the root logger has no
    handler yet (pytest's caplog, an embedding host). Control characters are escaped in
    either case. Returns whether it configured."""
    install_log_safety()
    if unless_configured and logging.getLogger().handlers:
        return False
    logging.config.dictConfig(logging_config(settings.log_level, settings.log_format))
    return True
