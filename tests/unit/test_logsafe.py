"""One log record is one line, whatever the data in it (issue 12: an MO id with CR/LF forged
a log line)."""

from __future__ import annotations

import io
import logging

import pytest

from gateway.logsafe import EscapeControls, escape_controls, install_log_safety
from tests.support.logs import logging_restored


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        pytest.param("abc\r\n2026-12-01 INFO forged", "abc\\r\\n2026-12-01 INFO forged", id="crlf"),
        pytest.param("a\tb", "a\\tb", id="tab"),
        pytest.param("nul\x00", "nul\\x00", id="nul"),
        pytest.param("esc\x1b[31m", "esc\\x1b[31m", id="ansi-escape"),
        pytest.param("del\x7f", "del\\x7f", id="del"),
        pytest.param("nel\x85 csi\x9b", "nel\\x85 csi\\x9b", id="c1"),
        pytest.param("ls\u2028ps\u2029", "ls\\u2028ps\\u2029", id="unicode-separators"),
        pytest.param("Jl. Merdeka 17, Rp 5.000 é ü", "Jl. Merdeka 17, Rp 5.000 é ü", id="printable-kept"),
    ],
)
def test_escape_controls(raw, escaped):
    assert escape_controls(raw) == escaped


@pytest.fixture
def captured():
    """A logger printing to a buffer, with the record factory restored afterwards."""
    factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("gateway.test_logsafe")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, handler, buffer
    logger.removeHandler(handler)
    logging.setLogRecordFactory(factory)


FORGED = "abc\r\n2026-12-01 INFO gateway.inbox: forged line"


def _one_line(buffer: io.StringIO) -> str:
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(
    "log",
    [
        pytest.param(lambda lg: lg.info("MO generic id %s is a repeat", FORGED), id="in-args"),
        pytest.param(lambda lg: lg.info("MO id " + FORGED), id="in-message"),
        pytest.param(lambda lg: lg.info("MO %(id)s", {"id": FORGED}), id="in-mapping-args"),
    ],
)
def test_install_log_safety_keeps_a_record_on_one_line(captured, log):
    logger, _handler, buffer = captured
    install_log_safety()
    install_log_safety()  # idempotent: the message is not escaped twice
    log(logger)
    line = _one_line(buffer)
    assert "abc\\r\\n2026-12-01 INFO" in line and "\\\\r" not in line


def test_the_filter_alone_does_the_same(captured):
    logger, handler, buffer = captured
    handler.addFilter(EscapeControls())
    logger.info("MO id %s", FORGED)
    assert "abc\\r\\n2026" in _one_line(buffer)


def test_without_safety_the_line_is_forged(captured):
    """The guard against a test that passes for the wrong reason: plain logging splits it."""
    logger, _handler, buffer = captured
    logger.info("MO id %s", FORGED)
    assert len(buffer.getvalue().splitlines()) == 2


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(lambda rt: __import__("gateway.app").app.create_app(runtime=rt), id="app"),
        pytest.param(
            lambda rt: __import__("workers.worker").worker.GatewayWorker([rt.queue], connection=rt.redis),
            id="rq-worker",
        ),
    ],
)
def test_every_process_entry_installs_it(captured, rt, start, monkeypatch):
    logger, _handler, buffer = captured
    monkeypatch.setenv("GATEWAY_INBOUND_TOKEN", "t")  # the worker reads its settings at start
    with logging_restored():  # the worker configures the process's logging
        start(rt)
        logger.info("MO id %s", FORGED)
    assert "abc\\r\\n2026" in _one_line(buffer)
