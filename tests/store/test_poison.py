"""Poison isolation (issue 12): one row that cannot be handled is QUARANTINED after
quarantine.MAX_TRIES failures, and every other MO, MT, DLR, webhook and SLA close goes on.

The poison rows are written past the receiver (whose edge now refuses such values), as rows
already stored by an older release or another writer would be: a `sent_at` Python cannot
read back (PostgreSQL: a timestamptz in year 10000, what `9999-12-31T23:59:59-23:59` became;
SQLite: a value that is no timestamp at all), an MT for an aggregator this gateway does not
know, an MT the worker died on every time.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text, update

from gateway.app import create_app
from gateway.models import (
    DeliveryReport,
    InboundMessage,
    OutboundMessage,
    QuarantinedWork,
    QuarantineKind,
    utcnow,
)
from gateway.services import quarantine
from gateway.services.drain import drain_inbound
from gateway.services.outbox import send_batch
from tests.store.admin_helpers import bearer
from tests.store.helpers import AUTH, post_mo

GOOD = "LAPOR jalan rusak parah di depan sekolah dasar nomor {n}"


def insert_unreadable_mo(rt, n: int) -> int:
    """An MO row whose sent_at Python cannot read (the PostgreSQL finding of issue 12)."""
    bad_time = "'10000-01-01 23:58:59+00'::timestamptz" if rt.engine.dialect.name == "postgresql" else "'x'"
    with rt.engine.begin() as conn:
        return conn.execute(
            text(
                'INSERT INTO inbound_messages (aggregator, external_id, msisdn, "to", text, sent_at,'
                f" received_at, status) VALUES ('generic', :eid, '+6281299990000', '1708', 'LAPOR racun',"
                f" {bad_time}, :now, 'PENDING') RETURNING id"
            ),
            {"eid": f"poison-{n}", "now": utcnow()},
        ).scalar_one()


def entries(rt, kind: str) -> list[QuarantinedWork]:
    with rt.sessions() as s:
        return list(s.scalars(select(QuarantinedWork).where(QuarantinedWork.kind == kind)))


def status_of(rt, inbound_id: int) -> str:
    with rt.sessions() as s:
        return s.scalar(select(InboundMessage.status).where(InboundMessage.id == inbound_id))


# Hostile MOs the edge refuses with 400 (the field named), whatever the database.
REFUSED = [
    pytest.param({"timestamp": "9999-12-31T23:59:59-23:59"}, "timestamp", id="timestamp-year-9999"),
    pytest.param({"timestamp": "0001-01-01T00:00:00+23:59"}, "timestamp", id="timestamp-year-1"),
    pytest.param({"to": "1" * 21}, "to", id="to-21-chars"),
    pytest.param({"id": "a\x00b"}, "id", id="nul-in-id"),
    pytest.param({"id": "x" * 129}, "id", id="id-129-chars"),
    pytest.param({"from": "0812-FLOWERS"}, "from", id="letters-in-from"),
    pytest.param({"from": "0812345678AB"}, "from", id="letters-after-digits"),
]


def test_a_stream_of_200_mos_with_poison_rows_mixed_in(client, rt, run_jobs, fake_aggregator):
    """Every good MO is answered; each poison row ends QUARANTINED, each hostile MO is
    refused with 400 naming its field; nothing stays PENDING."""
    poison, senders, refused = [], [], []
    for n in range(200):
        if n % 25 == 7:
            poison.append(insert_unreadable_mo(rt, n))
            continue
        if n % 25 == 19:
            case = REFUSED[len(refused) % len(REFUSED)]
            overrides, field = case.values
            data = {
                "from": "081299998888",
                "to": "1708",
                "text": "LAPOR racun",
                "id": f"bad-{n}",
                **overrides,
            }
            resp = client.post("/sms/generic/inbound", data=data, headers=AUTH)
            refused.append((resp.status_code, resp.get_json().get("field")))
            assert refused[-1] == (400, field), case.id
            continue
        sender = f"0812{n:08d}"
        senders.append("+62" + sender[1:])
        assert post_mo(client, GOOD.format(n=n), sender=sender).status_code == 202
    run_jobs()

    answered = {sent["to"] for sent in fake_aggregator.sent()}
    assert answered == set(senders)
    assert len(fake_aggregator.sent()) == len(senders)
    with rt.sessions() as s:
        pending = s.scalars(select(InboundMessage.id).where(InboundMessage.status == "PENDING")).all()
    assert pending == []
    assert [status_of(rt, i) for i in poison] == ["QUARANTINED"] * len(poison)
    assert len(refused) == 8
    found = {e.ref: e for e in entries(rt, QuarantineKind.MO)}
    assert set(found) == {str(i) for i in poison}
    for e in found.values():
        assert (e.state, e.failures) == ("QUARANTINED", quarantine.MAX_TRIES)
        assert "racun" not in e.reason and "+62" not in e.reason


def test_a_poison_mo_alone_in_its_batch_does_not_hold_the_next_drain(client, rt, fake_aggregator):
    """Before: the drain's claim read the unreadable row and failed before it had ids, so
    every later drain failed the same way (the PostgreSQL finding)."""
    poison = insert_unreadable_mo(rt, 0)
    result = drain_inbound(rt, sleep=lambda _s: None)
    assert result.failed == [poison]
    assert post_mo(client, GOOD.format(n=1), sender="081200000001").status_code == 202
    again = drain_inbound(rt, sleep=lambda _s: None)
    assert again.handled == 1 and again.failed == []
    assert [sent["to"] for sent in fake_aggregator.sent()] == ["+6281200000001"]


def test_an_outage_is_not_counted_as_poison(rt):
    """The database or Redis being down fails the job (the sweeper retries) and never
    quarantines the message: a lost connection, or any OperationalError while the database
    does not answer; while it answers, the same error is the work's own."""
    from types import SimpleNamespace

    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    from tests.support.processes import free_port

    def error(lost: bool) -> OperationalError:
        return OperationalError(
            "SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=lost
        )

    def down():
        raise error(True)

    with pytest.raises(OperationalError):
        quarantine.run_guarded(rt, QuarantineKind.MO, 1, down)
    assert entries(rt, QuarantineKind.MO) == []
    dead = SimpleNamespace(
        engine=create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test")
    )
    assert quarantine.is_outage(dead, error(False)) is True
    assert quarantine.is_outage(rt, error(False)) is False


def test_failures_add_up_to_quarantine_and_a_success_forgets_them(rt):
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ValueError("transient")
        return "ok"

    assert quarantine.run_guarded(rt, QuarantineKind.SLA, 7, flaky, sleep=lambda _s: None) == "ok"
    assert entries(rt, QuarantineKind.SLA) == []  # it went through: the two failures are forgotten
    outcome = quarantine.run_guarded(rt, QuarantineKind.SLA, 7, lambda: 1 / 0, sleep=lambda _s: None)
    assert outcome is quarantine.SET_ASIDE
    [e] = entries(rt, QuarantineKind.SLA)
    assert (e.state, e.failures, e.error_type) == ("QUARANTINED", 3, "ZeroDivisionError")
    assert quarantine.run_guarded(rt, QuarantineKind.SLA, 7, lambda: "never run") is quarantine.SET_ASIDE


def _queue_mt(rt, aggregator: str, attempts: int = 0) -> int:
    with rt.transaction() as s:
        out = OutboundMessage(
            dedupe_key=f"test:{aggregator}:{attempts}",
            aggregator=aggregator,
            msisdn="+6281234567890",
            sender="1708",
            text="Balasan",
            attempts=attempts,
        )
        s.add(out)
        s.flush()
        return out.id


def test_an_mt_for_an_unknown_aggregator_is_quarantined_and_the_chunk_still_goes(rt, fake_aggregator):
    bad = _queue_mt(rt, "nosuch")
    good = _queue_mt(rt, "generic")
    outcomes = send_batch(rt, [bad, good])
    assert outcomes == {bad: "quarantined", good: "accepted"}
    with rt.sessions() as s:
        assert s.get(OutboundMessage, bad).status == "QUARANTINED"
    assert [sent["id"] for sent in fake_aggregator.sent()] == [str(good)]


def test_an_mt_the_worker_died_on_every_time_is_quarantined_not_resent(rt, fake_aggregator):
    """Attempts used up while still QUEUED: every attempt died without an answer recorded."""
    crashed = _queue_mt(rt, "generic", attempts=rt.settings.send_max_attempts)
    assert send_batch(rt, [crashed]) == {crashed: "quarantined"}
    assert fake_aggregator.sent() == []
    [e] = entries(rt, QuarantineKind.MT)
    assert (e.ref, e.state) == (str(crashed), "QUARANTINED")


def test_an_mt_whose_aggregator_id_the_column_cannot_hold_is_recorded_not_resent(rt, fake_aggregator):
    """An aggregator answering with a 200-character id used to fail the recording of the whole
    chunk (DataError on PostgreSQL): every MT in it stayed SENDING and was sent again."""
    fake_aggregator.answer_next((200, json.dumps({"id": "x" * 200})))
    first, second = _queue_mt(rt, "generic", 0), _queue_mt(rt, "generic", 1)
    assert send_batch(rt, [first, second]) == {first: "accepted", second: "accepted"}
    with rt.sessions() as s:
        rows = {o.id: o for o in s.scalars(select(OutboundMessage))}
    assert rows[first].external_id is None and rows[second].external_id.startswith("agg-")


def test_quarantine_is_listed_retried_and_dropped_through_the_api_and_the_cli(
    client, rt, run_jobs, fake_aggregator
):
    poison = [insert_unreadable_mo(rt, n) for n in range(2)]
    drain_inbound(rt, sleep=lambda _s: None)
    admin, viewer = bearer(rt, "admin"), bearer(rt, "viewer")
    listed = client.get("/api/v1/quarantine", headers=viewer)
    assert listed.status_code == 200
    body = listed.get_json()
    assert body["counts"] == {"MO": 2}
    assert sorted(int(e["ref"]) for e in body["items"]) == poison
    assert {e["error_type"] for e in body["items"]} <= {"DataError", "ValueError", "OverflowError"}
    first, second = sorted(body["items"], key=lambda e: int(e["ref"]))

    assert client.post(f"/api/v1/quarantine/{first['id']}/retry", headers=viewer).status_code == 403
    assert client.post(f"/api/v1/quarantine/{2**31}/retry", headers=admin).status_code == 404

    # Retry after repairing the row: it is handled and answered.
    with rt.engine.begin() as conn:
        conn.execute(update(InboundMessage).where(InboundMessage.id == poison[0]).values(sent_at=None))
    assert client.post(f"/api/v1/quarantine/{first['id']}/retry", headers=admin).status_code == 200
    run_jobs()
    assert status_of(rt, poison[0]) == "DONE"
    assert [sent["to"] for sent in fake_aggregator.sent()] == ["+6281299990000"]

    # Drop through the CLI: kept for the record, no longer listed as quarantined.
    runner = create_app(runtime=rt).test_cli_runner()
    out = runner.invoke(args=["quarantine", "list"], catch_exceptions=False).output
    assert f"{second['id']}\tMO\t{poison[1]}\tQUARANTINED" in out and "+62" not in out
    out = runner.invoke(args=["quarantine", "drop", str(second["id"])], catch_exceptions=False).output
    assert f"{second['id']}\tdropped" in out
    assert client.get("/api/v1/quarantine", headers=viewer).get_json() == {"items": [], "counts": {}}
    dropped = client.get("/api/v1/quarantine?state=DROPPED", headers=viewer).get_json()["items"]
    assert [e["ref"] for e in dropped] == [str(poison[1])]
    assert status_of(rt, poison[1]) == "QUARANTINED"


def test_a_dlr_that_cannot_be_applied_is_stored_quarantined_and_acknowledged(
    client, rt, run_jobs, fake_aggregator, monkeypatch
):
    """Applying DLRs together fails inside the gateway: each is stored, tried alone, and the
    one that keeps failing is quarantined; the aggregator gets its 200 and the others apply."""
    from gateway.services import outbox

    post_mo(client, GOOD.format(n=1), sender="081200000001")
    post_mo(client, GOOD.format(n=2), sender="081200000002")
    run_jobs()
    real_apply = outbox._apply

    def apply_or_choke(out, dlr):
        if out.msisdn == "+6281200000001":
            raise RuntimeError("poison")
        real_apply(out, dlr)

    monkeypatch.setattr(outbox, "_apply", apply_or_choke)
    for agg_id in ("agg-1", "agg-2"):
        resp = client.post("/sms/generic/status", data={"id": agg_id, "status": "DELIVERED"}, headers=AUTH)
        assert resp.status_code == 200
    with rt.sessions() as s:
        states = {o.msisdn: o.status for o in s.scalars(select(OutboundMessage))}
    assert states == {"+6281200000001": "ACCEPTED", "+6281200000002": "DELIVERED"}
    [e] = entries(rt, QuarantineKind.DLR)
    assert (e.state, e.error_type) == ("QUARANTINED", "RuntimeError")


# -- findings of the outside review ------------------------------------------------------------


def test_an_sqlite_row_that_is_not_utf8_is_quarantined_not_taken_for_an_outage(client, rt, fake_aggregator):
    """SQLite reports a stored TEXT it cannot decode as an OperationalError, the class of a
    real outage: it used to fail every drain, uncounted, for ever."""
    if rt.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL refuses invalid UTF-8 on the way in")
    with rt.engine.begin() as conn:
        poison = conn.execute(
            text(
                'INSERT INTO inbound_messages (aggregator, external_id, msisdn, "to", text, received_at,'
                " status) VALUES ('generic', 'bad-utf8', '+6281299990000', '1708', CAST(X'ff41' AS TEXT),"
                " :now, 'PENDING') RETURNING id"
            ),
            {"now": utcnow()},
        ).scalar_one()
    assert post_mo(client, GOOD.format(n=1), sender="081200000001").status_code == 202
    result = drain_inbound(rt, sleep=lambda _s: None)
    assert result.failed == [poison] and status_of(rt, poison) == "QUARANTINED"
    assert [sent["to"] for sent in fake_aggregator.sent()] == ["+6281200000001"]


def test_a_2xx_answer_that_cannot_be_read_is_failed_not_sent_again(rt, fake_aggregator):
    """The request was made: an unreadable answer (here JSON nested past Python's recursion
    limit) used to be retried, sending the citizen the same SMS again."""
    fake_aggregator.answer_next((200, "[" * 100_000))
    mt = _queue_mt(rt, "generic")
    assert send_batch(rt, [mt]) == {mt: "failed"}
    assert send_batch(rt, [mt]) == {mt: "skipped"}
    with rt.sessions() as s:
        out = s.get(OutboundMessage, mt)
    assert out.status == "FAILED" and "could not be read" in out.last_error
    assert len(fake_aggregator.requests) == 1


def test_an_accepted_mt_whose_answer_cannot_be_recorded_is_not_resent_by_a_retry(
    rt, fake_aggregator, monkeypatch
):
    from gateway.services import outbox

    def choke(_s, _accepted):
        raise RuntimeError("poison DLR waiting")

    monkeypatch.setattr(outbox, "_apply_waiting_reports", choke)
    mt = _queue_mt(rt, "generic")
    assert send_batch(rt, [mt]) == {mt: "quarantined"}
    monkeypatch.undo()
    with rt.sessions() as s:
        assert s.get(OutboundMessage, mt).status == "ACCEPTED"
    [entry] = quarantine.list_entries(rt, kind=QuarantineKind.MT)
    assert quarantine.retry(rt, entry.id) is not None
    send_batch(rt, [mt])
    assert len(fake_aggregator.requests) == 1


def test_a_lock_conflict_is_an_outage_and_a_lost_connection_too(rt):
    from sqlalchemy.exc import OperationalError

    locked = OperationalError("UPDATE x", {}, Exception("database is locked"))
    assert quarantine.is_lock_conflict(locked) and quarantine.is_outage(rt, locked)
    undecodable = OperationalError("SELECT x", {}, Exception("Could not decode to UTF-8 column 'text'"))
    assert not quarantine.is_outage(rt, undecodable)  # the database answers: the row is bad


def test_a_retry_that_cannot_reach_redis_keeps_the_entry(client, rt, monkeypatch):
    poison = insert_unreadable_mo(rt, 0)
    drain_inbound(rt, sleep=lambda _s: None)
    [entry] = quarantine.list_entries(rt)
    from redis.exceptions import ConnectionError as RedisDown

    def down(*_a, **_k):
        raise RedisDown("Redis is away")

    monkeypatch.setattr(rt.queue, "enqueue", down)
    monkeypatch.setattr(rt.queue, "enqueue_many", down, raising=False)
    resp = client.post(f"/api/v1/quarantine/{entry.id}/retry", headers=bearer(rt, "admin"))
    assert resp.status_code == 503
    [kept] = quarantine.list_entries(rt)
    assert (kept.kind, kept.ref) == ("MO", str(poison)) and status_of(rt, poison) == "QUARANTINED"


def test_the_backoff_of_a_webhook_failing_for_weeks_does_not_overflow():
    from gateway.services.outbox import backoff_delay

    assert 0 < backoff_delay(1100, 5.0, 3600.0) <= 3600.0 * 1.2


def test_a_quarantined_dlr_waiting_for_its_mt_is_not_applied_when_the_send_is_recorded(
    client, rt, fake_aggregator
):
    """A DLR set aside as poison stays aside: the send it was waiting for is recorded without
    it (applying it there would put the poison inside every send's recording)."""
    mt = _queue_mt(rt, "generic")
    assert (
        client.post(
            "/sms/generic/status", data={"id": "agg-1", "status": "DELIVERED"}, headers=AUTH
        ).status_code
        == 200
    )
    with rt.sessions() as s:
        dlr_id = s.scalar(select(DeliveryReport.id))
    with rt.transaction() as s:
        quarantine.set_aside_now(s, QuarantineKind.DLR, dlr_id, RuntimeError("poison"))
    assert send_batch(rt, [mt]) == {mt: "accepted"}
    with rt.sessions() as s:
        assert s.get(OutboundMessage, mt).status == "ACCEPTED"
        assert s.get(DeliveryReport, dlr_id).applied is False
