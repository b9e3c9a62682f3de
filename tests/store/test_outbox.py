"""Sending against a real aggregator server: classified errors, bounded retries, FAILED and
requeue, and delivery reports in any order (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from gateway.models import DeliveryReport, OutboundMessage, utcnow
from gateway.services.outbox import queue_message, requeue_failed, send_outbound
from tests.store.helpers import AUTH, outbox

TO = "+6281234567890"


def new_mt(rt, key="t:1", text="Halo dari 1708") -> int:
    with rt.transaction() as s:
        return queue_message(s, rt, key, TO, text).id


def drain(run_jobs, rt, seconds=3.0):
    """Run jobs, including retries scheduled a few ms ahead, until nothing is left."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run_jobs(with_scheduler=True)
        states = {o.status for o in outbox(rt)}
        if not states & {"QUEUED", "SENDING"}:
            return
        time.sleep(0.05)


def test_queue_message_is_idempotent_per_key(rt):
    assert new_mt(rt, "k") == new_mt(rt, "k")
    assert len(outbox(rt)) == 1


@pytest.mark.parametrize(
    ("answers", "final", "attempts"),
    [
        pytest.param([(500, "oops")], "ACCEPTED", 2, id="500-then-ok"),
        pytest.param([(429, "slow down", {"Retry-After": "0"})], "ACCEPTED", 2, id="429-then-ok"),
        pytest.param([(503, "x"), (502, "y")], "ACCEPTED", 3, id="two-5xx-then-ok"),
        pytest.param([(400, "bad number")], "FAILED", 1, id="400-is-permanent"),
        pytest.param([(401, "bad token")], "FAILED", 1, id="401-is-permanent"),
        pytest.param([(200, "{}")], "FAILED", 1, id="2xx-without-id-is-permanent"),
        pytest.param([(500, "x")] * 6, "FAILED", 6, id="gives-up-after-max-attempts"),
    ],
)
def test_send_errors_are_classified(rt, run_jobs, fake_aggregator, answers, final, attempts):
    fake_aggregator.answer_next(*answers)
    oid = new_mt(rt)
    send_outbound(rt, oid)
    drain(run_jobs, rt)
    [out] = outbox(rt)
    assert (out.status, out.attempts) == (final, attempts)
    assert len(fake_aggregator.requests) == attempts
    if final == "FAILED":
        assert out.last_error.startswith("HTTP") or "id" in out.last_error


def test_connection_refused_is_retried(rt, run_jobs, fake_aggregator):
    dead = rt.__class__(
        **{
            **rt.__dict__,
            "settings": rt.settings.with_aggregator("generic", send_url="http://127.0.0.1:1/send"),
        }
    )
    oid = new_mt(rt)
    assert send_outbound(dead, oid) == "retry"
    with rt.sessions() as s:
        out = s.get(OutboundMessage, oid)
        assert (out.status, out.attempts, out.last_error) == ("QUEUED", 1, "connection failed")


def test_failed_message_can_be_requeued_by_an_admin(rt, run_jobs, fake_aggregator):
    fake_aggregator.answer_next((400, "bad"))
    oid = new_mt(rt)
    send_outbound(rt, oid)
    assert outbox(rt)[0].status == "FAILED"
    assert requeue_failed(rt, oid) is True
    run_jobs()
    assert outbox(rt)[0].status == "ACCEPTED"
    assert requeue_failed(rt, oid) is False  # only FAILED ones
    assert requeue_failed(rt, oid + 1000) is None  # no such MT


def test_a_message_already_sent_is_not_sent_again(rt, run_jobs, fake_aggregator):
    oid = new_mt(rt)
    assert send_outbound(rt, oid) == "accepted"
    assert send_outbound(rt, oid) == "skipped"
    assert len(fake_aggregator.requests) == 1


def post_dlr(client, agg_id, status):
    return client.post("/sms/generic/status", data={"id": agg_id, "status": status}, headers=AUTH)


def test_dlrs_move_forward_only(client, rt, fake_aggregator):
    oid = new_mt(rt)
    send_outbound(rt, oid)  # the fake answers {"id": "agg-1"}
    assert post_dlr(client, "agg-1", "SENT").status_code == 200
    assert outbox(rt)[0].status == "SENT"
    post_dlr(client, "agg-1", "DELIVERED")
    post_dlr(client, "agg-1", "SENT")  # late and out of order
    post_dlr(client, "agg-1", "DELIVERED")  # repeated
    [out] = outbox(rt)
    assert out.status == "DELIVERED" and out.delivered_at is not None
    with rt.sessions() as s:
        assert s.scalars(select(DeliveryReport.status).order_by(DeliveryReport.id)).all() == [
            "SENT",
            "DELIVERED",
            "SENT",
            "DELIVERED",
        ]


def test_a_dlr_that_arrives_before_the_send_is_recorded_is_applied_later(client, rt, fake_aggregator):
    oid = new_mt(rt)
    assert post_dlr(client, "agg-1", "DELIVERED").status_code == 200  # we do not know agg-1 yet
    assert outbox(rt)[0].status == "QUEUED"
    send_outbound(rt, oid)
    assert outbox(rt)[0].status == "DELIVERED"
    with rt.sessions() as s:
        dlr = s.scalars(select(DeliveryReport)).one()
        assert (dlr.applied, dlr.outbound_id) == (True, oid)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param({"id": "agg-1", "status": "BOGUS"}, "status", id="unknown-status"),
        pytest.param({"status": "DELIVERED"}, "id", id="missing-id"),
        pytest.param({"id": "agg-1"}, "status", id="missing-status"),
    ],
)
def test_bad_dlr_is_400_naming_the_field(client, rt, data, field):
    resp = client.post("/sms/generic/status", data=data, headers=AUTH)
    assert resp.status_code == 400 and resp.get_json()["field"] == field


def test_kannel_dlr_names_our_id(client, rt, fake_aggregator):
    with rt.transaction() as s:
        out = queue_message(s, rt, "k:1", TO, "x")
        out.aggregator, out.status = "kannel", "ACCEPTED"
        oid = out.id
    resp = client.get(f"/sms/kannel/status?id={oid}&status=8&token=test-inbound-secret")
    assert resp.status_code == 200
    client.get(f"/sms/kannel/status?id={oid}&status=1&token=test-inbound-secret")
    assert outbox(rt)[0].status == "DELIVERED"
    bad = client.get("/sms/kannel/status?id=abc&status=1&token=test-inbound-secret")
    assert bad.status_code == 400 and bad.get_json()["field"] == "id"


def test_sweeper_unsticks_a_send_whose_worker_died(rt, run_jobs, fake_aggregator):
    from gateway.services.sweeper import sweep

    oid = new_mt(rt)
    with rt.transaction() as s:
        s.get(OutboundMessage, oid).status = "SENDING"  # a worker died mid-request
    result = sweep(
        rt.__class__(**{**rt.__dict__, "settings": rt.settings.replace(sweep_after=0, send_timeout=0)})
    )
    assert result.unstuck == 1 and result.outbound == 1
    run_jobs()
    assert outbox(rt)[0].status == "ACCEPTED"


def _with_settings(rt, **changes):
    return rt.__class__(**{**rt.__dict__, "settings": rt.settings.replace(**changes)})


def test_a_batch_stops_at_the_first_retryable_failure_and_hands_the_rest_to_send_jobs(
    rt, run_jobs, fake_aggregator
):
    """When the aggregator is in trouble a drain must not wait out a timeout per reply: the
    sends not started go back to QUEUED, their attempt not counted, as send jobs."""
    from gateway.services.outbox import send_batch

    rt1 = _with_settings(rt, send_concurrency=1)  # one request at a time: a fixed order
    ids = [new_mt(rt, f"b:{n}") for n in range(3)]
    fake_aggregator.answer_next((503, "busy"))
    outcomes = send_batch(rt1, ids)
    assert outcomes == {ids[0]: "retry", ids[1]: "handed-off", ids[2]: "handed-off"}
    assert len(fake_aggregator.requests) == 1
    by_id = {o.id: o for o in outbox(rt)}
    assert [(by_id[i].status, by_id[i].attempts) for i in ids] == [
        ("QUEUED", 1),
        ("QUEUED", 0),
        ("QUEUED", 0),
    ]
    assert sorted(rt.queue.job_ids) == sorted(f"out-{i}" for i in ids[1:])
    drain(run_jobs, rt)
    assert {(o.status, o.attempts) for o in outbox(rt) if o.id != ids[0]} == {("ACCEPTED", 1)}


def test_a_batch_out_of_time_sends_nothing_more(rt, fake_aggregator):
    from gateway.services.outbox import send_batch

    ids = [new_mt(rt, f"late:{n}") for n in range(3)]
    assert set(send_batch(rt, ids, out_of_time=lambda: True).values()) == {"handed-off"}
    assert fake_aggregator.requests == []
    assert {(o.status, o.attempts) for o in outbox(rt)} == {("QUEUED", 0)}


def test_one_numbers_replies_reach_the_aggregator_in_order(rt, fake_aggregator):
    """Sends run concurrently, but never two to the same number at once: a citizen reads
    the replies in the order they were written."""
    from gateway.services.outbox import send_batch

    ids = []
    for n in range(12):
        with rt.transaction() as s:
            to = TO if n % 2 else f"+62812345600{n:02d}"
            ids.append(queue_message(s, rt, f"o:{n}", to, f"balasan {n}").id)
    assert set(send_batch(rt, ids).values()) == {"accepted"}
    mine = [m["text"] for m in fake_aggregator.sent() if m["to"] == TO]
    assert mine == [f"balasan {n}" for n in range(1, 12, 2)]


def test_a_worker_killed_mid_batch_leaves_at_most_one_chunk_unrecorded(rt, fake_aggregator, monkeypatch):
    """Sends are recorded a chunk (2 x send_concurrency) at a time: a kill between the
    aggregator's answer and our commit leaves only that chunk to be sent again."""
    from gateway.services import outbox as outbox_service

    rt1 = _with_settings(rt, send_concurrency=1)  # chunks of 2
    ids = [new_mt(rt, f"kill:{n}") for n in range(5)]
    real_record, calls = outbox_service._record_sends, []

    def killed_on_the_second_chunk(*args):
        calls.append(1)
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return real_record(*args)

    monkeypatch.setattr(outbox_service, "_record_sends", killed_on_the_second_chunk)
    with pytest.raises(SystemExit):
        outbox_service.send_batch(rt1, ids)
    by_id = {o.id: o.status for o in outbox(rt)}
    assert [by_id[i] for i in ids] == ["ACCEPTED", "ACCEPTED", "SENDING", "SENDING", "QUEUED"]
    assert len(fake_aggregator.requests) == 4


def test_a_send_job_takes_along_the_replies_already_due(rt, fake_aggregator):
    """A drain out of time hands its replies off one send job each; at a real API's round
    trip one job each would send them one at a time, so a reply's job sends, concurrently,
    the other due replies too (not notices: they keep their own queue; not a retry waiting
    out its backoff)."""
    from workers import jobs

    with rt.transaction() as s:
        replies = [
            queue_message(s, rt, f"r:{i}", f"+62812000001{i:02d}", f"balasan {i}").id for i in range(5)
        ]
        notice = queue_message(s, rt, "n:1", "+6281200000200", "pemberitahuan", kind="NOTICE").id
        later = queue_message(s, rt, "r:later", "+6281200000300", "nanti").id
        s.get(OutboundMessage, later).next_attempt_at = utcnow() + timedelta(minutes=5)
    jobs.use_runtime(rt)
    try:
        assert jobs.send_outbound(replies[0]) == "accepted"
    finally:
        jobs.use_runtime(None)
    sent_to = sorted(r.json()["to"] for r in fake_aggregator.requests)
    assert sent_to == sorted(f"+62812000001{i:02d}" for i in range(5))
    states = {o.id: o.status for o in outbox(rt)}
    assert states[notice] == "QUEUED" and states[later] == "QUEUED"
