"""The receiver's HTTP contract (DESIGN.md section 2), on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import func, select

from gateway.models import InboundMessage
from gateway.queueing import Doorbell, bell_key
from gateway.services import drain
from tests.store.helpers import AUTH, post_mo
from tests.support.processes import free_port


def count_inbound(rt) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(InboundMessage))


def test_mo_is_stored_as_e164_and_enqueued_before_the_answer(client, rt):
    resp = post_mo(client, "LAPOR jalan rusak", sender="0812-3456-7890", msg_id="agg-1")
    assert resp.status_code == 202
    [row_id] = resp.get_json()["ids"]
    with rt.sessions() as s:
        row = s.get(InboundMessage, row_id)
        assert (row.msisdn, row.text, row.status, row.external_id) == (
            "+6281234567890",
            "LAPOR jalan rusak",
            "PENDING",
            "agg-1",
        )
    [job] = rt.queue.jobs
    assert job.func_name == "workers.jobs.drain_inbound"


def test_a_burst_of_mos_rings_the_bell_once_and_one_drain_handles_them_all(client, rt, run_jobs):
    """One drain job per burst, not one job per MO (RQ's own job rate would cap the pipeline)."""
    ids = [post_mo(client, f"LAPOR jalan rusak {n}", msg_id=f"b-{n}").get_json()["ids"][0] for n in range(5)]
    assert len(rt.queue.jobs) == 1
    run_jobs()
    with rt.sessions() as s:
        assert [s.get(InboundMessage, i).status for i in ids] == ["DONE"] * 5
    # The drain cleared the bell when it started: the next MO enqueues a new drain.
    post_mo(client, "LAPOR lampu mati", msg_id="b-next")
    assert len(rt.queue.jobs) == 1


def test_a_receiver_that_rang_moments_ago_does_not_reach_redis_again(rt):
    """Under a burst nearly every MO would cost a Redis round trip just to find the bell
    already rung; a process that rang less than `quiet` ago skips it."""
    now = [100.0]
    bell = Doorbell(rt.queue, quiet=0.02, clock=lambda: now[0])
    assert bell.ring([1]) and rt.queue.count == 1
    bell.clear()  # a drain started
    now[0] += 0.019
    assert bell.ring([2]) and rt.queue.count == 1
    assert not rt.redis.exists(bell_key(rt.queue))  # quiet: Redis was not asked
    now[0] += 0.002
    assert bell.ring([3]) and rt.queue.count == 2
    assert rt.redis.exists(bell_key(rt.queue))


def test_an_mo_stored_while_its_receiver_is_quiet_is_found_by_the_drains_last_look(
    client, rt, fake_aggregator
):
    """The other half of the quiet spell: a drain's last look starts no sooner than `quiet`
    after it cleared the bell, so an MO stored without ringing is not left waiting."""
    rt.doorbell = Doorbell(rt.queue, quiet=0.5)  # on a clock that stands still but in sleep()
    first = post_mo(client, "LAPOR jalan rusak di depan pasar", msg_id="q-1").get_json()["ids"][0]
    now, slept, second = [0.0], [], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        # Meanwhile the same receiver stores another MO, and does not ring.
        second.extend(post_mo(client, "LAPOR lampu jalan mati", msg_id="q-2").get_json()["ids"])
        now[0] += seconds

    result = drain.drain_inbound(rt, clock=lambda: now[0], sleep=sleep)
    assert (result.handled, result.continued, slept) == (2, False, [0.5])
    assert [job.func_name for job in rt.queue.jobs] == ["workers.jobs.drain_inbound"]  # q-1's
    assert len(fake_aggregator.sent()) == 2
    with rt.sessions() as s:
        assert [s.get(InboundMessage, i).status for i in (first, *second)] == ["DONE", "DONE"]


def test_a_ring_that_fails_does_not_silence_the_next_one(caplog):
    """If Redis refused a ring, the next MO tries again instead of staying quiet."""
    dead = Queue("dead", connection=Redis(port=free_port(), socket_connect_timeout=0.5))
    bell = Doorbell(dead, quiet=60.0)
    assert bell.ring([1]) is False
    assert bell.ring([2]) is False
    assert caplog.text.count("could not enqueue a drain") == 2


def test_a_stored_mo_gets_its_defaults_and_is_committed_before_the_answer(client, rt):
    resp = post_mo(client, "LAPOR lampu jalan mati", msg_id="agg-defaults")
    [row_id] = resp.get_json()["ids"]
    with rt.engine.connect() as conn:  # another connection: only committed rows are visible
        row = conn.execute(select(InboundMessage).where(InboundMessage.id == row_id)).one()
    assert row.status == "PENDING" and row.received_at is not None and row.report_id is None


def test_json_body_is_accepted(client, rt):
    body = {
        "from": "+6281234567890",
        "to": "1708",
        "text": "CEK 1234567890",
        "id": "j-1",
        "timestamp": "2026-11-29T08:00:00Z",
    }
    resp = client.post("/sms/generic/inbound", json=body, headers=AUTH)
    assert resp.status_code == 202
    with rt.sessions() as s:
        row = s.scalars(select(InboundMessage)).one()
        assert row.sent_at.year == 2026 and row.msisdn == "+6281234567890"


def test_a_repeated_mo_is_acknowledged_and_stored_once(client, rt):
    first = post_mo(client, "LAPOR got mampet", msg_id="dup-1")
    second = post_mo(client, "LAPOR got mampet", msg_id="dup-1")
    assert (first.status_code, second.status_code) == (202, 200)
    assert second.get_json()["status"] == "duplicate"
    assert count_inbound(rt) == 1
    assert len(rt.queue.job_ids) == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"from": "081234567890", "to": "1708", "id": "x"}, "text", id="missing-text"),
        pytest.param({"to": "1708", "text": "LAPOR x", "id": "x"}, "from", id="missing-from"),
        pytest.param({"from": "not-a-number", "to": "1708", "text": "x", "id": "x"}, "from", id="bad-from"),
        pytest.param(
            {"from": "+14155550100", "to": "1708", "text": "x", "id": "x"}, "from", id="foreign-number"
        ),
        pytest.param(
            {"from": "08001234567", "to": "1708", "text": "x", "id": "x"}, "from", id="toll-free-number"
        ),
        pytest.param({"from": "081234567890", "text": "x", "id": "x"}, "to", id="missing-to"),
        pytest.param({"from": "081234567890", "to": "1708", "text": "x"}, "id", id="missing-id"),
        pytest.param(
            {"from": "081234567890", "to": "1708", "text": "x" * 2001, "id": "x"}, "text", id="text-too-long"
        ),
        pytest.param(
            {"from": "081234567890", "to": "1708", "text": "x", "id": "x", "timestamp": "yesterday"},
            "timestamp",
            id="bad-timestamp",
        ),
    ],
)
def test_bad_mo_is_a_400_naming_the_field_and_nothing_is_stored(client, rt, fields, field):
    resp = client.post("/sms/generic/inbound", data=fields, headers=AUTH)
    assert resp.status_code == 400
    assert resp.get_json()["field"] == field
    assert count_inbound(rt) == 0


def test_invalid_json_is_a_400_naming_the_body(client, rt):
    resp = client.post(
        "/sms/generic/inbound", data=b"{not json", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert resp.status_code == 400 and resp.get_json()["field"] == "body"


def test_invalid_utf8_is_a_400(client, rt):
    resp = client.post(
        "/sms/generic/inbound",
        data=b"from=081234567890&to=1708&id=u1&text=%FF%FE",
        headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status_code == 400 and resp.get_json()["field"] == "text"


@pytest.mark.parametrize(
    "headers, query",
    [
        pytest.param({}, "", id="no-token"),
        pytest.param({"Authorization": "Bearer wrong"}, "", id="wrong-bearer"),
        pytest.param({}, "?token=wrong", id="wrong-query-token"),
        pytest.param({"Authorization": "Basic dGVzdA=="}, "", id="basic-auth"),
    ],
)
def test_missing_or_wrong_token_is_401(client, rt, headers, query):
    data = {"from": "081234567890", "to": "1708", "text": "LAPOR x", "id": "a1"}
    resp = client.post(f"/sms/generic/inbound{query}", data=data, headers=headers)
    assert resp.status_code == 401
    assert count_inbound(rt) == 0


def test_token_in_the_query_is_accepted(client, rt):
    data = {"from": "081234567890", "to": "1708", "text": "LAPOR x", "id": "q1"}
    assert client.post("/sms/generic/inbound?token=test-inbound-secret", data=data).status_code == 202


def test_body_over_the_limit_is_413(client, rt):
    data = {"from": "081234567890", "to": "1708", "text": "x" * 20000, "id": "big"}
    resp = client.post("/sms/generic/inbound", data=data, headers=AUTH)
    assert resp.status_code == 413
    assert "bytes" in resp.get_json()["reason"]
    assert count_inbound(rt) == 0


def test_unknown_aggregator_is_404(client, rt):
    data = {"from": "081234567890", "to": "1708", "text": "x", "id": "z"}
    assert client.post("/sms/nosuch/inbound", data=data, headers=AUTH).status_code == 404
    assert client.post("/sms/log/inbound", data=data, headers=AUTH).status_code == 404


def test_database_down_is_503_and_nothing_acknowledged(rt, settings):
    from gateway.app import create_app
    from gateway.runtime import build_runtime

    down = settings.replace(database_url="postgresql+psycopg://postgres@127.0.0.1:1/test")
    app = create_app(runtime=build_runtime(down))
    resp = app.test_client().post(
        "/sms/generic/inbound",
        data={"from": "081234567890", "to": "1708", "text": "x", "id": "d"},
        headers=AUTH,
    )
    assert resp.status_code == 503
    assert "retry" in json.loads(resp.data)["reason"]


def test_redis_down_still_stores_and_acknowledges_then_the_sweeper_enqueues(rt, settings):
    from gateway.app import create_app
    from gateway.runtime import build_runtime
    from gateway.services.sweeper import sweep

    no_redis = build_runtime(settings.replace(redis_url="redis://127.0.0.1:1/0"))
    resp = (
        create_app(runtime=no_redis)
        .test_client()
        .post(
            "/sms/generic/inbound",
            data={"from": "081234567890", "to": "1708", "text": "LAPOR x y z", "id": "r"},
            headers=AUTH,
        )
    )
    assert resp.status_code == 202
    assert count_inbound(rt) == 1 and rt.queue.count == 0
    # Redis is back: the sweeper (with no grace period) finds the pending row.
    result = sweep(rt.__class__(**{**rt.__dict__, "settings": settings.replace(sweep_after=0)}))
    assert result.inbound == 1
    assert rt.queue.count == 1
