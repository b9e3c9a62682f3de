"""The send-rate window's pure part (the per-process fallback when Redis is down), driven by
a controlled clock: never more than the limit in any window, whatever the arrival times."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.sendrate import MARGIN, WINDOW, LocalWindow, bulk_limit, most_in_any_window


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(1, 20),
    steps=st.lists(st.floats(0, 0.5, allow_nan=False), min_size=1, max_size=200),
)
def test_local_window_never_admits_more_than_the_limit_in_any_second(limit, steps):
    clock = Clock()
    window = LocalWindow(clock)
    admitted = []
    for step in steps:
        clock.now += step
        if window.admit(limit) == 0.0:
            admitted.append(clock.now)
    assert most_in_any_window(admitted, WINDOW + MARGIN) <= limit


@settings(max_examples=100, deadline=None)
@given(limit=st.integers(1, 20), n=st.integers(1, 100))
def test_waiting_as_told_is_admitted(limit, n):
    """The wait it answers is enough: a caller that sleeps it is let through next time."""
    clock = Clock()
    window = LocalWindow(clock)
    for _ in range(n):
        wait = window.admit(limit)
        if wait:
            clock.now += wait
            assert window.admit(limit) == 0.0


def test_a_pause_holds_every_send_until_it_ends():
    clock = Clock()
    window = LocalWindow(clock)
    window.pause(2.0)
    assert window.admit(100) == pytest.approx(2.0)
    clock.now += 2.0
    assert window.admit(100) == 0.0


@pytest.mark.parametrize(
    ("tps", "bulk"),
    [
        pytest.param(1, 1, id="one-nothing-to-share"),
        pytest.param(2, 1, id="two-one-kept"),
        pytest.param(5, 4, id="five-one-kept"),
        pytest.param(50, 40, id="fifty-a-fifth-kept"),
    ],
)
def test_bulk_leaves_room_for_replies(tps, bulk):
    assert bulk_limit(tps) == bulk
