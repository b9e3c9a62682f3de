"""The drain's reply lane (gateway.services.drain.ReplyLane): one batch's replies go out in the
background while the next batch is handled, never two batches' at once, and an error in the
background reaches the drain job."""

from __future__ import annotations

import threading
import time

import pytest

from gateway.services.drain import ReplyLane


def test_the_next_batch_is_handled_while_the_replies_go_out():
    lane, started, release = ReplyLane(), threading.Event(), threading.Event()
    begun = time.monotonic()
    lane.send(lambda: (started.set(), release.wait(5)))
    returned_after = time.monotonic() - begun  # the sends hold for up to 5 s; send() must not
    assert started.wait(5)
    release.set()
    lane.close()
    assert returned_after < 1.0


def test_one_batch_in_flight_at_most_and_in_order():
    lane, events = ReplyLane(), []

    def batch(n: int):
        def send():
            events.append(("start", n))
            time.sleep(0.05)
            events.append(("end", n))

        return send

    for n in range(3):
        lane.send(batch(n))
    lane.close()
    assert events == [(edge, n) for n in range(3) for edge in ("start", "end")]


def test_a_failed_send_reaches_the_drain_job():
    lane = ReplyLane()
    lane.send(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        lane.send(lambda: None)
    lane.close()
