"""The fault rig: the gateway as real processes (gunicorn + RQ worker pool + cron, as `make
run` starts them) on PostgreSQL behind a cuttable TCP proxy and on a Redis of its own, with a
real aggregator server on 127.0.0.1. Each test breaks something while MOs stream in, then
counts lost and duplicated; the table is printed at the end of the run."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from gateway.db import make_engine
from gateway.models import Base
from tests.conftest import INBOUND_TOKEN, SEND_TOKEN, TEST_POSTGRES_URL
from tests.support.aggregator import FakeAggregator, start_fake_aggregator
from tests.support.faults import (
    HEADER,
    RedisServer,
    Stream,
    Tally,
    TcpProxy,
    all_replied,
    citizen_messages,
    count,
)
from tests.support.processes import GatewayProcesses, start_gateway, wait_until

pytestmark = pytest.mark.faults
RESULTS: list[Tally] = []
N = 200  # MOs in flight per fault (issue #5: N >= 200)


def pytest_terminal_summary(terminalreporter):
    if RESULTS:
        terminalreporter.write_sep("=", "fault suite: lost and duplicated per fault")
        terminalreporter.write_line(HEADER)
        for tally in sorted(RESULTS, key=lambda t: t.fault):
            terminalreporter.write_line(tally.row())


class DedupingSends:
    """Answers a send like an aggregator that dedupes on our message id: a resend of the same
    id gets the first answer's id back, not a second SMS."""

    def __init__(self):
        self.ids: dict[str, str] = {}
        self.lock = threading.Lock()
        self.mode = "ok"  # ok | 500 | 429
        self.delay = 0.0  # seconds each send takes (keeps workers busy mid-job)
        self.accepted: list[dict] = []  # bodies of the sends answered 200

    def __call__(self, recorded):
        time.sleep(self.delay)
        if self.mode == "500":
            return (500, "internal error")
        if self.mode == "429":
            return (429, "slow down", {"Retry-After": "1"})
        body = recorded.json()
        with self.lock:
            agg_id = self.ids.setdefault(body["id"], f"agg-{len(self.ids) + 1}")
            self.accepted.append(body)
        return (200, json.dumps({"id": agg_id}))


@dataclass
class Rig:
    tmp: Path
    redis: RedisServer
    proxy: TcpProxy
    fake: FakeAggregator
    sends: DedupingSends
    database_url: str
    gw: GatewayProcesses | None = None
    env: dict = field(default_factory=dict)

    def start_gateway(self, **env) -> GatewayProcesses:
        self.env = {
            "REDIS_URL": self.redis.url,
            "DATABASE_URL": str(make_url(self.database_url).set(port=self.proxy.port)),
            "GATEWAY_INBOUND_TOKEN": INBOUND_TOKEN,
            "GATEWAY_OUTBOUND": "generic",
            "GATEWAY_GENERIC_SEND_URL": self.fake.url,
            "GATEWAY_GENERIC_SEND_TOKEN": SEND_TOKEN,
            "GATEWAY_SWEEP_AFTER": "2",
            "GATEWAY_SWEEP_INTERVAL": "1",
            "GATEWAY_JOB_TIMEOUT": "5",
            "GATEWAY_SEND_TIMEOUT": "2",
            "GATEWAY_SEND_BACKOFF_BASE": "0.2",
            "GATEWAY_SEND_BACKOFF_MAX": "2",
            "GATEWAY_SEND_MAX_ATTEMPTS": "40",
            "GATEWAY_FLOOD_LIMIT": "1000",
            "GATEWAY_WEB_WORKERS": "3",
            **env,
        }
        self.gw = start_gateway(self.tmp, self.env)
        return self.gw

    def stream(self, tag: str, n: int = N, **kw) -> tuple[Stream, list[dict]]:
        messages = citizen_messages(n, tag)
        return Stream(f"{self.gw.url}/sms/generic/inbound", INBOUND_TOKEN, messages, **kw), messages

    def settle_and_count(
        self, fault: str, messages: list[dict], restored_at: float, timeout: float = 90
    ) -> Tally:
        """Wait (bounded) until every MO has its reply, then count; record the row."""
        wait_until(lambda: all_replied(self.sends.accepted, messages), timeout=timeout, interval=0.25)
        recovery = time.monotonic() - restored_at
        time.sleep(1.5)  # a duplicate would show up now
        lost, duplicated, resent, quarantined = count(self.sends.accepted, messages, self.database_url)
        tally = Tally(fault, len(messages), lost, duplicated, resent, recovery, quarantined)
        RESULTS.append(tally)
        return tally


@pytest.fixture
def rig(tmp_path):
    engine = make_engine(TEST_POSTGRES_URL)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    engine.dispose()
    redis = RedisServer(tmp_path)
    redis.start()
    proxy = TcpProxy(make_url(TEST_POSTGRES_URL).port or 5432)
    sends = DedupingSends()
    fake = start_fake_aggregator(on_send=sends)
    rig = Rig(tmp_path, redis, proxy, fake, sends, TEST_POSTGRES_URL)
    yield rig
    if rig.gw:
        rig.gw.stop()
    fake.close()
    proxy.close()
    redis.kill()
