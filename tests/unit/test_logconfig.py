"""The log line format (text and JSON), the correlation id, and who configures logging when
(issue 13: no process wrote a log line)."""

from __future__ import annotations

import io
import json
import logging
import re
import sys

import pytest

from config.settings import load_settings
from gateway.logconfig import (
    configure_logging,
    correlation,
    current_correlation,
    iso_utc,
    make_handler,
    mt_correlation,
)
from tests.support.logs import gateway_log, lines_by_correlation, logging_restored

FORGED = "abc\r\n2026-12-01T00:00:00.000Z INFO gateway.inbox pid=1 cid=mo-1 forged"
TEXT_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (?P<level>[A-Z]+) (?P<logger>\S+) pid=(?P<pid>\d+) "
    r"cid=(?P<cid>\S+) (?P<message>.*)$"
)


@pytest.fixture
def printed():
    """Log through the gateway's handler in a format; the lines printed."""
    with logging_restored():
        logger = logging.getLogger("gateway.test_logconfig")
        logger.propagate, logger.handlers[:] = False, []
        logger.setLevel(logging.DEBUG)

        def run(fmt: str, emit) -> list[str]:
            buffer = io.StringIO()
            handler = make_handler(fmt, buffer)
            logger.addHandler(handler)
            try:
                emit(logger)
            finally:
                logger.removeHandler(handler)
            return buffer.getvalue().splitlines()

        yield run


def _parsed(fmt: str, line: str) -> dict:
    if fmt == "json":
        return json.loads(line)
    match = TEXT_LINE.match(line)
    assert match, line
    return {**match.groupdict(), "pid": int(match["pid"])}


def _in_mo_7(logger):
    with correlation("mo-7"):
        logger.info("MO received from %s via %s", "+62812****890", "generic")


@pytest.mark.parametrize("fmt", [pytest.param("text", id="text"), pytest.param("json", id="json")])
@pytest.mark.parametrize(
    ("emit", "cid", "message"),
    [
        pytest.param(_in_mo_7, "mo-7", "MO received from +62812****890 via generic", id="in-correlation"),
        pytest.param(lambda lg: lg.info("sweeper ran"), "-", "sweeper ran", id="no-correlation"),
        pytest.param(
            lambda lg: lg.warning("MO id %s", FORGED),
            "-",
            "MO id abc\\r\\n2026-12-01T00:00:00.000Z INFO gateway.inbox pid=1 cid=mo-1 forged",
            id="control-chars-escaped",
        ),
        pytest.param(
            lambda lg: lg.info("given", extra={"correlation_id": "mt-3"}), "mt-3", "given", id="extra-wins"
        ),
    ],
)
def test_one_line_per_record_with_every_field(printed, fmt, emit, cid, message):
    [line] = printed(fmt, emit)
    fields = _parsed(fmt, line)
    assert fields["cid" if fmt == "text" else "correlation_id"] == cid
    assert fields["message"] == message
    assert fields["logger"] == "gateway.test_logconfig" and fields["pid"] > 0
    assert fields["level"] in ("INFO", "WARNING")
    if fmt == "json":
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", fields["time"])


@pytest.mark.parametrize("fmt", [pytest.param("text", id="text"), pytest.param("json", id="json")])
def test_a_traceback_stays_on_the_line(printed, fmt):
    def emit(logger):
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            logger.exception("failed")

    [line] = printed(fmt, emit)
    rendered = line if fmt == "text" else json.loads(line)["exc"]
    assert "Traceback" in rendered and "ValueError: boom" in rendered


def test_iso_utc_is_utc_whatever_the_local_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Jakarta")
    assert iso_utc(0.5) == "1970-01-01T00:00:00.500Z"


@pytest.mark.parametrize(
    ("outbound_id", "inbound_id", "cid"),
    [
        pytest.param(9, 4, "mo-4", id="reply-follows-its-mo"),
        pytest.param(9, None, "mt-9", id="notice-its-own"),
    ],
)
def test_mt_correlation(outbound_id, inbound_id, cid):
    assert mt_correlation(outbound_id, inbound_id) == cid


def test_correlation_is_restored_after_the_block():
    with correlation("mo-1"):
        with correlation("mo-2"):
            assert current_correlation() == "mo-2"
        assert current_correlation() == "mo-1"
    assert current_correlation() == "-"


def _settings(**env):
    return load_settings({"GATEWAY_INBOUND_TOKEN": "t", **env}, dotenv_path=None)


def test_configure_logging_sends_every_logger_through_one_format(capsys):
    with logging_restored():
        # RQ's cron scheduler gives its logger a handler of its own before our module loads.
        rq_handler = logging.StreamHandler(sys.stderr)
        logging.getLogger("rq.cron").addHandler(rq_handler)
        logging.getLogger("rq.cron").propagate = False
        assert configure_logging(_settings(GATEWAY_LOG_FORMAT="json", GATEWAY_LOG_LEVEL="warning"))
        with correlation("mo-5"):
            logging.getLogger("gateway.inbox").warning("MO %s", "received")
            logging.getLogger("gateway.inbox").info("below the level")
        logging.getLogger("rq.cron").warning("cron line")
        logging.getLogger("gunicorn.access").warning('127.0.0.1 "GET /healthz" 200')
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(line["logger"], line["correlation_id"], line["message"]) for line in lines] == [
        ("gateway.inbox", "mo-5", "MO received"),
        ("rq.cron", "-", "cron line"),
        ("gunicorn.access", "-", '127.0.0.1 "GET /healthz" 200'),
    ]


def test_the_app_factory_keeps_a_hosts_handlers(caplog):
    """caplog's handler is on the root logger: `unless_configured` leaves it there."""
    with logging_restored():
        root = logging.getLogger()
        before = list(root.handlers)
        assert configure_logging(_settings(), unless_configured=True) is False
        assert root.handlers == before
        logging.getLogger("gateway.inbox").warning("still captured")
    assert "still captured" in caplog.text


def test_the_app_factory_configures_a_bare_process(capsys):
    with logging_restored():
        logging.getLogger().handlers[:] = []
        assert configure_logging(_settings(), unless_configured=True) is True
        with correlation("mo-8"):
            logging.getLogger("gateway.drain").info("MO filed: REPORT")
    [line] = capsys.readouterr().err.splitlines()
    assert lines_by_correlation(line) == {"mo-8": ["MO filed: REPORT"]}


@pytest.mark.parametrize(
    "concurrency",
    [pytest.param(1, id="in-the-calling-thread"), pytest.param(4, id="in-the-send-pool")],
)
def test_what_a_send_logs_carries_its_mts_correlation_id(concurrency):
    """GATEWAY_OUTBOUND=log prints each MT while it is sent: under that MT's id, also from
    the sender's thread pool (a context variable does not follow a task into a pool)."""
    from gateway.aggregators.base import SendRequest
    from gateway.sender import LogSender

    reqs = [
        SendRequest("LOG", "", json={"id": str(i), "to": f"+62812345678{i}", "text": f"balasan {i}"})
        for i in range(4)
    ]
    with gateway_log() as printed:
        LogSender(1.0, concurrency).submit_many(
            reqs,
            read=lambda i, response: response.body,
            lanes=[r.json["to"] for r in reqs],
            cids=[f"mo-{10 + i}" for i in range(4)],
        )
    grouped = lines_by_correlation(printed.getvalue())
    assert {cid: len(lines) for cid, lines in grouped.items()} == {f"mo-{10 + i}": 1 for i in range(4)}
    assert all(f"balasan {int(cid[3:]) - 10}" in lines[0] for cid, lines in grouped.items())
