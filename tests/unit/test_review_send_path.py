"""Review of the send path (ReplyLane, Sender.submit_many): each test here is a defect an
outside review found (it failed before its fix)."""

from __future__ import annotations

import threading
import time

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.aggregators.base import OutboundSMS
from gateway.sender import LogSender
from gateway.services.drain import ReplyLane


def test_a_failed_batch_before_does_not_keep_this_batchs_replies_from_going():
    """lane.send raises an earlier batch's error before submitting its own job: the batch
    just committed (MOs DONE, replies QUEUED, no send job) is never sent by this drain; its
    replies wait for the sweeper."""
    lane, ran = ReplyLane(), threading.Event()
    lane.send(lambda: 1 / 0)
    time.sleep(0.1)
    with pytest.raises(ZeroDivisionError):
        lane.send(ran.set, frozenset({"+6281200000001"}))
    lane.close()
    assert ran.is_set(), "the committed batch's replies were dropped with the error"


def test_every_failed_batch_is_reported_not_only_the_first():
    """_finish takes every chosen batch out of the lane, then raises the first one's error:
    the others' errors are never raised or logged (close() then returns cleanly)."""
    lane = ReplyLane()
    lane.send(lambda: (time.sleep(0.1), 1 / 0), frozenset({"+6281200000001"}))
    lane.send(lambda: (time.sleep(0.1), {}["missing"]), frozenset({"+6281200000002"}))
    time.sleep(0.3)
    with pytest.raises(ZeroDivisionError):
        lane.wait()
    with pytest.raises(KeyError):
        lane.close()


def test_a_pace_that_raises_does_not_lose_the_answers_of_requests_already_made():
    """pace(i) (the TPS cap: SendRate.acquire, which can raise a RedisError) is called
    outside run()'s try: its exception escapes submit_many, and the answers of requests
    other lanes already made are lost. The chunk's rows stay SENDING, and the sweeper sends
    the accepted ones again: a citizen gets the SMS twice."""
    sender = LogSender(timeout=1.0, concurrency=2)
    sms = [OutboundSMS(gateway_id=i, to=f"+62812000000{i:02d}", sender="1708", text="x") for i in (1, 2)]
    reqs = [sender.prepare(None, m, None) for m in sms]
    made = threading.Event()

    def pace(i: int) -> bool:
        if i == 1:
            assert made.wait(5)
            raise RedisConnectionError("Redis went away")
        return True

    def read(i, response):
        made.set()
        return response.text

    answers = sender.submit_many(reqs, read=read, lanes=["a", "b"], pace=pace)
    assert answers[0] == "log-1"
    assert answers[1] is None or isinstance(answers[1], Exception)
