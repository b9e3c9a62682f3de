"""Faults 2 and 3: Redis restarted empty while MOs arrive, and Redis unreachable for a while.
The receiver keeps storing and acknowledging; the sweeper re-enqueues what the database
holds as pending once Redis is back."""

from __future__ import annotations

import time

import pytest


@pytest.mark.parametrize(
    ("fault", "down_for"),
    [
        pytest.param("2 Redis restarted empty mid-stream", 0.5, id="restart-empty"),
        pytest.param("3 Redis unreachable for 8 s mid-stream", 8.0, id="unreachable"),
    ],
)
def test_redis_outage_loses_and_duplicates_nothing(rig, fault, down_for):
    rig.start_gateway()
    stream, messages = rig.stream(f"redis-{down_for}", threads=4)
    thread = stream.start()
    time.sleep(1.0)
    rig.redis.kill()
    refused_before = sum(stream.refusals.values())
    time.sleep(down_for)
    acked_while_down = len(stream.acked)
    rig.redis.start()  # same port, no data: queues, scheduled retries and counters are gone
    restored = time.monotonic()
    thread.join(timeout=60)
    tally = rig.settle_and_count(fault, messages, restored)
    assert len(stream.acked) == len(messages)
    # The receiver kept answering 2xx without Redis: nothing was refused for it.
    assert sum(stream.refusals.values()) == refused_before == 0
    assert acked_while_down > 0
    assert (tally.lost, tally.duplicated, tally.quarantined) == (0, 0, 0), tally
