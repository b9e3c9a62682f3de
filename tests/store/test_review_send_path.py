"""Review of the send path (sendrate, take-along of due replies): each test here is a defect
an outside review found (it failed before its fix)."""

from __future__ import annotations

import uuid

from redis import Redis

from gateway.models import OutboundMessage
from gateway.sendrate import SendRate
from gateway.services.outbox import queue_message, send_with_due_replies
from tests.store.helpers import outbox

TO = "+6281234567890"


def test_redis_lost_while_a_thread_sleeps_to_its_slot_does_not_fail_the_send(redis_db):
    """A slot is reserved in Redis and the thread sleeps until it; Redis goes away meanwhile.
    On waking, acquire re-checks the shared pause with a bare PTTL outside any RedisError
    guard, so the send fails with ConnectionError instead of going (or falling back to the
    process's own window, as every other Redis failure does)."""
    now, name = [10**15], f"agg-{uuid.uuid4().hex}"

    def sleep(seconds: float) -> None:
        now[0] += int(seconds * 1e6)
        rate.redis = Redis(port=1, socket_connect_timeout=0.2)  # Redis gone while we slept

    rate = SendRate(redis_db, {name: 5}, clock=lambda: now[0] / 1e6, sleep=sleep, redis_now=lambda: now[0])
    assert rate.acquire(name, max_wait=10)  # at once: no sleep
    assert rate.acquire(name, max_wait=10)  # its slot is 1/TPS ahead: sleeps, wakes without Redis


def test_a_send_job_does_not_take_along_a_reply_whose_number_has_one_in_flight(rt, fake_aggregator):
    """A citizen's replies go out in order: the drain's ReplyLane holds a batch back while an
    earlier batch to the same number is in flight. A send job for any other reply takes
    along every due QUEUED reply, including a later reply to a number whose earlier reply is
    SENDING right now (in a lane or another worker's chunk): both are in flight at once and
    can reach the aggregator, and the citizen, in either order."""
    with rt.transaction() as s:
        first = queue_message(s, rt, "r:first", TO, "balasan pertama").id
        second = queue_message(s, rt, "r:second", TO, "balasan kedua").id
        own = queue_message(s, rt, "r:other", "+6281200000999", "balasan lain").id
        s.get(OutboundMessage, first).status = "SENDING"  # its request is being made elsewhere
    assert send_with_due_replies(rt, own) == "accepted"
    states = {o.id: o.status for o in outbox(rt)}
    assert states[second] == "QUEUED", "sent while the earlier reply to the same number was in flight"
    assert [r.json()["to"] for r in fake_aggregator.requests] == ["+6281200000999"]
