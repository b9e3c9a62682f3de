"""Logging state for tests that configure it: restored afterwards, and lines read back by
correlation id."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
from collections.abc import Iterator

from gateway.logconfig import _ADOPTED, make_handler

_TEXT_CID = re.compile(r" cid=(\S+) ")
_TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [A-Z]+ \S+ pid=\d+ cid=\S+ ")


@contextlib.contextmanager
def logging_restored() -> Iterator[None]:
    """Whatever a test does to the root logger, gunicorn's and RQ's loggers and the record
    factory is undone afterwards (pytest's own handlers included)."""
    names = [None, *_ADOPTED]
    saved = {
        name: (list(lg.handlers), lg.level, lg.propagate, lg.disabled)
        for name in names
        for lg in [logging.getLogger(name)]
    }
    factory = logging.getLogRecordFactory()
    try:
        yield
    finally:
        for name, (handlers, level, propagate, disabled) in saved.items():
            lg = logging.getLogger(name)
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate, lg.disabled = propagate, disabled
        logging.setLogRecordFactory(factory)


@contextlib.contextmanager
def gateway_log(fmt: str = "text", level: int = logging.INFO) -> Iterator[io.StringIO]:
    """The gateway's own handler (gateway.logconfig.make_handler) on the root logger for the
    block, printing to the buffer yielded."""
    buffer = io.StringIO()
    handler = make_handler(fmt, buffer)
    root = logging.getLogger()
    with logging_restored():
        root.addHandler(handler)
        root.setLevel(level)
        yield buffer


def correlation_of(line: str) -> str:
    """The correlation id of one printed line (text or JSON)."""
    if line.startswith("{"):
        return json.loads(line)["correlation_id"]
    match = _TEXT_CID.search(line)
    return match.group(1) if match else ""


def message_of(line: str) -> str:
    """The message of one printed line (text or JSON)."""
    if line.startswith("{"):
        return json.loads(line)["message"]
    return _TEXT_CID.split(line, 1)[-1]


def is_formatted(line: str) -> bool:
    """Whether a printed line is one of the gateway's log lines (text or JSON)."""
    if line.startswith("{"):
        fields = json.loads(line)
        return {"time", "level", "logger", "pid", "correlation_id", "message"} <= fields.keys()
    return bool(_TEXT_LINE.match(line))


def lines_by_correlation(output: str) -> dict[str, list[str]]:
    """The messages printed, grouped by correlation id, in order."""
    grouped: dict[str, list[str]] = {}
    for line in output.splitlines():
        if _TEXT_CID.search(line) or line.startswith("{"):
            grouped.setdefault(correlation_of(line), []).append(message_of(line))
    return grouped
