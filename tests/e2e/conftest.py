"""The gateway as real processes, sending MT to the test's fake aggregator."""

from __future__ import annotations

import pytest

from tests.conftest import INBOUND_TOKEN, SEND_TOKEN, TEST_REDIS_URL
from tests.support.processes import start_gateway


@pytest.fixture
def gateway_env(fake_aggregator) -> dict[str, str]:
    """Settings for a gateway on the test Redis database, sending through `fake_aggregator`;
    a test module may override this fixture to add its own."""
    return {
        "REDIS_URL": TEST_REDIS_URL,
        "GATEWAY_INBOUND_TOKEN": INBOUND_TOKEN,
        "GATEWAY_OUTBOUND": "generic",
        "GATEWAY_GENERIC_SEND_URL": fake_aggregator.url,
        "GATEWAY_GENERIC_SEND_TOKEN": SEND_TOKEN,
    }


@pytest.fixture
def gateway(tmp_path, redis_db, gateway_env):
    gw = start_gateway(tmp_path, gateway_env)
    yield gw
    gw.stop()
