"""The fault rig: the gateway as real processes (gunicorn + RQ worker pool + cron, as `make
run` starts them) on PostgreSQL behind a cuttable TCP proxy and on a Redis of its own, with a
real aggregator server on 127.0.0.1. Each test breaks something while MOs stream in, then
counts lost and duplicated; the table is printed at the end of the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import INBOUND_TOKEN, SEND_TOKEN, TEST_POSTGRES_URL
from tests.support.aggregator import FakeAggregator, start_fake_aggregator
from tests.support.faults import (
    DedupingSends,
    RedisServer,
    Stream,
    Tally,
    TcpProxy,
    citizen_messages,
    settle,
    write_table,
)
from tests.support.processes import GatewayProcesses, start_gateway
from tests.support.schema import reset_schema

pytestmark = pytest.mark.faults
RESULTS: list[Tally] = []
N = 200  # MOs in flight per fault (issue #5: N >= 200)


def pytest_terminal_summary(terminalreporter):
    if RESULTS:
        results = sorted(RESULTS, key=lambda t: t.fault)
        write_table(terminalreporter, "fault suite: lost and duplicated per fault", results)


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
        tally = settle(fault, self.sends.accepted, messages, self.database_url, restored_at, timeout)
        RESULTS.append(tally)
        return tally


@pytest.fixture
def rig(tmp_path):
    reset_schema(TEST_POSTGRES_URL)
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
