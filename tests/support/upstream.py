"""The complaint system's webhook receiver, played by the same recording server on 127.0.0.1
as the fake aggregator (tests/support/aggregator.py): every request is kept in `requests`,
scripted answers come first, then 200 with an empty body."""

from __future__ import annotations

from tests.support.aggregator import FakeAggregator, start_fake_aggregator


def start_upstream_receiver() -> FakeAggregator:
    """Start the receiver on a free loopback port, serving in a daemon thread."""
    return start_fake_aggregator(on_send=lambda recorded: (200, ""))
