"""Pure rules of the outbox: status only moves forward; backoff is bounded and honours
Retry-After."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from rq.utils import utcformat

from gateway.models import OUTBOUND_ORDER
from gateway.queueing import job_is_live
from gateway.services.outbox import backoff_delay, next_status


@pytest.mark.parametrize(
    ("current", "incoming", "expected"),
    [
        pytest.param("ACCEPTED", "SENT", "SENT", id="accepted-then-smsc"),
        pytest.param("SENT", "DELIVERED", "DELIVERED", id="smsc-then-delivered"),
        pytest.param("ACCEPTED", "DELIVERED", "DELIVERED", id="skip-sent"),
        pytest.param("DELIVERED", "SENT", "DELIVERED", id="late-sent-after-delivered"),
        pytest.param("DELIVERED", "UNDELIVERED", "DELIVERED", id="terminal-is-final"),
        pytest.param("UNDELIVERED", "DELIVERED", "UNDELIVERED", id="terminal-is-final-2"),
        pytest.param("SENDING", "DELIVERED", "DELIVERED", id="dlr-before-send-recorded"),
        pytest.param("DELIVERED", "ACCEPTED", "DELIVERED", id="send-recorded-after-dlr"),
        pytest.param("SENT", "SENT", "SENT", id="repeat"),
        pytest.param("SENT", "UNKNOWN", "SENT", id="unknown-does-not-move"),
        pytest.param("FAILED", "DELIVERED", "FAILED", id="failed-is-terminal"),
    ],
)
def test_next_status(current, incoming, expected):
    assert next_status(current, incoming) == expected


def test_no_transition_ever_leaves_a_terminal_state():
    terminal = [s for s, rank in OUTBOUND_ORDER.items() if rank == 9]
    for current in terminal:
        for incoming in OUTBOUND_ORDER:
            assert next_status(current, incoming) == current


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(1, 4.0, 6.0), (2, 8.0, 12.0), (3, 16.0, 24.0), (10, 480.0, 600.0 * 1.2)],
)
def test_backoff_doubles_with_jitter_and_is_capped(attempt, low, high):
    delays = [backoff_delay(attempt, 5.0, 600.0, rng=random.Random(seed)) for seed in range(50)]
    assert all(low <= d <= high for d in delays)
    assert len(set(delays)) > 1  # jittered


def test_backoff_honours_retry_after_within_the_cap():
    assert backoff_delay(1, 5.0, 600.0, retry_after=120, rng=random.Random(1)) == 120
    assert backoff_delay(1, 5.0, 600.0, retry_after=10_000, rng=random.Random(1)) == 600


NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "started_ago", "in_queue", "live"),
    [
        pytest.param(b"queued", None, True, True, id="queued"),
        pytest.param(b"queued", None, False, False, id="queued-but-popped-by-a-dead-worker"),
        pytest.param(b"scheduled", None, False, True, id="scheduled"),
        pytest.param(b"started", 5, False, True, id="started-recently"),
        pytest.param(b"started", 120, False, False, id="started-by-a-dead-worker"),
        pytest.param(b"failed", None, False, False, id="failed"),
        pytest.param(b"finished", None, False, False, id="finished"),
        pytest.param(None, None, False, False, id="lost-with-redis"),
    ],
)
def test_job_liveness_for_the_sweeper(status, started_ago, in_queue, live):
    started = utcformat(NOW - timedelta(seconds=started_ago)).encode() if started_ago is not None else None
    assert job_is_live(status, started, in_queue, NOW, job_timeout=60) is live
