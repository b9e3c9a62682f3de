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


def _recorder(events: list, lock: threading.Lock):
    def batch(n: int, seconds: float = 0.05):
        def send():
            with lock:
                events.append(("start", n))
            time.sleep(seconds)
            with lock:
                events.append(("end", n))

        return send

    return batch


def test_batches_to_the_same_number_go_one_after_another_in_order():
    lane, events = ReplyLane(), []
    batch = _recorder(events, threading.Lock())
    for n in range(3):
        lane.send(batch(n), frozenset({"+6281200000001"}))
    lane.close()
    assert events == [(edge, n) for n in range(3) for edge in ("start", "end")]


def test_batches_to_other_numbers_overlap_up_to_the_limit():
    lane, events, lock = ReplyLane(), [], threading.Lock()
    batch = _recorder(events, lock)
    for n in range(ReplyLane.MAX_IN_FLIGHT + 2):
        lane.send(batch(n, 0.2), frozenset({f"+62812000000{n:02d}"}))
    lane.close()
    running, most = 0, 0
    for edge, _n in events:
        running += 1 if edge == "start" else -1
        most = max(most, running)
    assert most == ReplyLane.MAX_IN_FLIGHT


def test_a_failed_send_reaches_the_drain_job():
    lane = ReplyLane()
    lane.send(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        lane.send(lambda: None)
    lane.close()
