"""Multipart MO (issue 14): the parts of a long SMS delivered separately file one complaint,
with the parts in order, once: in any order, twice, from two processes at once, or after the
timeout as they are. At the service level (`accept_inbound` with InboundSMS values, as every
adapter's view calls it) and through the generic adapter's optional concat fields. On SQLite
and PostgreSQL, real Redis, the worker in-process."""

from __future__ import annotations

import logging
import multiprocessing
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from gateway.aggregators.base import InboundSMS, MessagePart
from gateway.models import InboundMessage, MessagePartRow, MultipartMessage, QuarantinedWork, utcnow
from gateway.runtime import build_runtime
from gateway.services import multipart
from gateway.services.inbox import accept_inbound
from gateway.services.sweeper import sweep
from tests.store.helpers import post_mo, reports

SENDER = "081234567890"
# A long LAPOR split where a phone splits it: mid-word, spaces at the parts' ends.
PARTS = ("LAPOR jalan rusak di depan pas", "ar Minggu, lubangnya ", "dalam sekali sejak seminggu lalu")
WHOLE = "".join(PARTS)


def part(index: int, ref: str = "7", ext: str | None = None, texts=PARTS, sender: str = SENDER) -> InboundSMS:
    """Part `index` (1-based) of the long SMS `texts` under reference `ref`."""
    return InboundSMS(
        sender=sender,
        to="1708",
        text=texts[index - 1],
        external_id=ext or f"agg-{ref}-{index}",
        part=MessagePart(ref, index, len(texts)),
    )


def inbox(rt) -> list[InboundMessage]:
    with rt.sessions() as s:
        return list(s.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def messages(rt) -> list[MultipartMessage]:
    with rt.sessions() as s:
        return list(s.scalars(select(MultipartMessage).order_by(MultipartMessage.id)))


def count_parts(rt, **where) -> int:
    with rt.sessions() as s:
        query = select(func.count()).select_from(MessagePartRow).filter_by(**where)
        return s.scalar(query)


def counted(name: str, outcome: str) -> float:
    return REGISTRY.get_sample_value(name, {"aggregator": "generic", "outcome": outcome}) or 0.0


@pytest.mark.parametrize(
    "arrivals",
    [
        pytest.param([(1, None), (2, None), (3, None)], id="in-order"),
        pytest.param([(3, None), (1, None), (2, None)], id="out-of-order"),
        pytest.param([(2, None), (2, None), (1, None), (3, None), (3, None)], id="a-part-twice-same-id"),
        pytest.param([(1, None), (2, None), (2, "agg-resent-2"), (3, None)], id="a-part-twice-new-id"),
        pytest.param([(1, None), (3, None), (2, None), (1, None), (2, "x")], id="repeats-after-it-is-made"),
    ],
)
def test_the_parts_file_one_complaint_in_order(rt, run_jobs, fake_aggregator, arrivals):
    before = {o: counted("gateway_mo_parts_total", o) for o in ("stored", "duplicate")}
    made = []
    for index, ext in arrivals:
        made.extend(accept_inbound(rt, "generic", [part(index, ext=ext)]).ids)
    run_jobs()

    [mo] = inbox(rt)
    assert made == [mo.id]  # made once, by the request whose part completed it
    assert (mo.text, mo.msisdn, mo.status, mo.command) == (WHOLE, "+6281234567890", "DONE", "REPORT")
    [report] = reports(rt)
    assert report.text == WHOLE.removeprefix("LAPOR ")
    assert len(fake_aggregator.sent()) == 1 and report.tracking_no in fake_aggregator.sent()[0]["text"]
    [message] = messages(rt)
    assert (message.status, message.inbound_id, message.open_key) == ("COMPLETE", mo.id, None)
    assert count_parts(rt) == 3
    assert counted("gateway_mo_parts_total", "stored") - before["stored"] == 3
    assert counted("gateway_mo_parts_total", "duplicate") - before["duplicate"] == len(arrivals) - 3


def test_a_repeated_part_is_acknowledged_as_a_duplicate(rt):
    assert not accept_inbound(rt, "generic", [part(1)]).duplicate
    again = accept_inbound(rt, "generic", [part(1)])
    assert (again.ids, again.duplicate, again.repeats) == ([], True, 1)


def test_parts_of_two_senders_and_two_refs_stay_apart(rt, run_jobs):
    other = ("LAPOR lampu jalan ", "mati di gang tiga")
    accept_inbound(rt, "generic", [part(1, ref="9", texts=other)])
    accept_inbound(rt, "generic", [part(1, texts=PARTS, sender="081298765432", ext="b-1")])
    accept_inbound(rt, "generic", [part(1)])
    accept_inbound(rt, "generic", [part(2, ref="9", texts=other)])
    for i in (2, 3):
        accept_inbound(rt, "generic", [part(i)])
        accept_inbound(rt, "generic", [part(i, texts=PARTS, sender="081298765432", ext=f"b-{i}")])
    run_jobs()
    assert sorted((m.msisdn, m.text) for m in inbox(rt)) == [
        ("+6281234567890", WHOLE),
        ("+6281234567890", "".join(other)),
        ("+6281298765432", WHOLE),
    ]


def _store_in_own_process(settings, plan, barrier, results) -> None:
    """One receiver process: its own runtime (engine, pool, Redis); stores each round's parts
    when every process is ready, so the final parts race."""
    rt = build_runtime(settings)
    made = []
    for round_parts in plan:
        barrier.wait(timeout=30)
        for sms in round_parts:
            made.extend(accept_inbound(rt, "generic", [sms]).ids)
    rt.engine.dispose()
    results.put(made)


def test_final_parts_stored_by_two_processes_at_once_make_one_complaint(rt, settings, run_jobs):
    rounds = 8
    for r in range(rounds):  # part 1 of each message is in already
        accept_inbound(rt, "generic", [part(1, ref=f"r{r}")])
    rt.engine.dispose()  # the children must not share the parent's pooled connections
    # One process stores part 2 then 3, the other 3 then 2 (same aggregator ids: a retry that
    # reached another receiver), so each message's last part is stored by both at once.
    plans = [
        [[part(2, ref=f"r{r}"), part(3, ref=f"r{r}")] for r in range(rounds)],
        [[part(3, ref=f"r{r}"), part(2, ref=f"r{r}")] for r in range(rounds)],
    ]
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(len(plans)), ctx.Queue()
    procs = [ctx.Process(target=_store_in_own_process, args=(settings, p, barrier, results)) for p in plans]
    for p in procs:
        p.start()
    made = [i for _ in procs for i in results.get(timeout=60)]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0

    assert sweep(rt).assembled == 0  # nothing was left for the sweeper: never neither
    run_jobs()
    mos = inbox(rt)
    assert sorted(made) == [m.id for m in mos]  # never both
    assert [m.text for m in mos] == [WHOLE] * rounds
    assert {m.status for m in messages(rt)} == {"COMPLETE"}
    assert [r.text for r in reports(rt)] == [WHOLE.removeprefix("LAPOR ")] * rounds
    assert count_parts(rt) == 3 * rounds


def test_an_incomplete_message_is_filed_as_it_is_after_the_timeout_and_a_straggler_files_nothing(
    rt, run_jobs, fake_aggregator
):
    before = counted("gateway_mo_assembled_total", "incomplete")
    accept_inbound(rt, "generic", [part(3)])
    accept_inbound(rt, "generic", [part(1)])
    now = utcnow()
    assert sweep(rt, now=now + multipart.TIMEOUT - timedelta(seconds=2)).assembled == 0
    run_jobs()
    assert inbox(rt) == [] and reports(rt) == []

    assert sweep(rt, now=now + multipart.TIMEOUT + timedelta(seconds=1)).assembled == 1
    run_jobs()
    [mo] = inbox(rt)
    assert mo.text == PARTS[0] + PARTS[2]  # as it is, in order
    [report] = reports(rt)
    assert counted("gateway_mo_assembled_total", "incomplete") - before == 1
    assert len(fake_aggregator.sent()) == 1

    # The straggler: acknowledged, recorded as late, files nothing, even when swept again.
    late = accept_inbound(rt, "generic", [part(2)])
    assert (late.ids, late.duplicate) == ([], False)
    assert count_parts(rt, late=True) == 1
    assert sweep(rt, now=now + 2 * multipart.TIMEOUT).assembled == 0
    run_jobs()
    assert [m.id for m in inbox(rt)] == [mo.id] and len(reports(rt)) == 1
    assert len(fake_aggregator.sent()) == 1
    [message] = messages(rt)
    assert (message.status, message.inbound_id) == ("INCOMPLETE", mo.id)


def test_a_reused_reference_with_new_text_starts_a_new_message(rt, run_jobs):
    """Phones reuse a reference after 256 long messages: a closed message does not take a
    part whose index it holds with another text."""
    for i in (1, 2, 3):
        accept_inbound(rt, "generic", [part(i)])
    other = ("LAPOR sampah menumpuk ", "di pinggir kali ", "dekat sekolah")
    made = [accept_inbound(rt, "generic", [part(i, texts=other, ext=f"new-{i}")]).ids for i in (1, 2, 3)]
    run_jobs()
    assert [m.text for m in inbox(rt)] == [WHOLE, "".join(other)]
    assert made[2] == [inbox(rt)[1].id]


def test_a_complete_message_whose_receiver_died_before_closing_it_is_made_by_the_sweeper(rt, run_jobs):
    for i in (1, 2):
        accept_inbound(rt, "generic", [part(i)])
    # The last part committed, the receiver gone before it closed the message.
    [message] = messages(rt)
    sms = InboundSMS("+6281234567890", "1708", PARTS[2], "agg-7-3", part=MessagePart("7", 3, 3))
    assert multipart._insert_part(rt, "generic", sms, message.id, late=False, now=utcnow()) == "stored"
    assert sweep(rt).assembled == 1  # long before the timeout
    run_jobs()
    assert [m.text for m in inbox(rt)] == [WHOLE]


def test_a_message_that_cannot_be_made_is_set_aside_and_others_go_on(rt, run_jobs, fake_aggregator):
    """Poison: the aggregator used the id of a part's for a whole MO before, so the long MO
    (which carries its lowest part's id) cannot be stored. It is quarantined; another long
    message, and a plain LAPOR, go through."""
    accept_inbound(rt, "generic", [InboundSMS(SENDER, "1708", "LAPOR lampu mati", "agg-bad-1")])
    for i in (1, 2):
        accept_inbound(rt, "generic", [part(i, ref="bad")])
    accept_inbound(rt, "generic", [part(1, ref="good")])
    assert accept_inbound(rt, "generic", [part(3, ref="bad")]).ids == []  # stored, not made
    assert accept_inbound(rt, "generic", [part(2, ref="good")]).ids == []
    assert sweep(rt, now=utcnow() + multipart.TIMEOUT).assembled == 1  # the good one
    run_jobs()
    assert [m.text for m in inbox(rt)] == ["LAPOR lampu mati", (PARTS[0] + PARTS[1]).strip()]
    with rt.sessions() as s:
        [entry] = s.scalars(select(QuarantinedWork))
    bad = next(m for m in messages(rt) if m.ref == "bad")
    assert (entry.kind, entry.ref, entry.state, entry.error_type) == (
        "PARTS",
        str(bad.id),
        "QUARANTINED",
        "IntegrityError",
    )
    assert bad.status == "QUARANTINED"
    assert sweep(rt, now=utcnow() + 2 * multipart.TIMEOUT).assembled == 0  # not tried again
    assert len(fake_aggregator.sent()) == 2
    # Its key is not held for ever: a message with the same reference hours later is made.
    later = utcnow() + 2 * multipart.STRAGGLER_WINDOW
    for i in (1, 2, 3):
        sms = InboundSMS("+6281234567890", "1708", PARTS[i - 1], f"later-{i}", part=MessagePart("bad", i, 3))
        stored = multipart.store_part(rt, "generic", sms, now=later)
    assert stored.outcome == "stored" and stored.inbound_id is not None
    assert [m.text for m in inbox(rt)][-1] == WHOLE


def test_what_it_logs_masks_the_number_and_never_the_text(rt, caplog):
    with caplog.at_level(logging.INFO, logger="gateway.multipart"):
        for i in (1, 2, 3):
            accept_inbound(rt, "generic", [part(i)])
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.multipart"]
    assert len(lines) == 4, lines  # three parts, one message made
    assert all("+62812****890" in line for line in lines)
    assert not any("6281234567890" in line or "jalan" in line or "Minggu" in line for line in lines)


# -- through the generic adapter's optional concat fields ---------------------------------------


def _post_part(client, index: int, ref: str = "42", **extra):
    concat = {"concat_ref": ref, "concat_part": str(index), "concat_total": str(len(PARTS))}
    return post_mo(client, PARTS[index - 1], msg_id=f"http-{ref}-{index}", **{**concat, **extra})


def test_generic_parts_posted_out_of_order_and_twice_file_one_complaint(
    client, rt, run_jobs, fake_aggregator
):
    answers = [_post_part(client, i) for i in (2, 3, 2)]
    assert [(a.status_code, a.get_json()) for a in answers] == [
        (202, {"status": "accepted", "ids": []}),
        (202, {"status": "accepted", "ids": []}),
        (200, {"status": "duplicate", "ids": []}),
    ]
    last = _post_part(client, 1)
    assert last.status_code == 202
    [mo] = inbox(rt)
    assert last.get_json()["ids"] == [mo.id]
    run_jobs()
    [report] = reports(rt)
    assert report.text == WHOLE.removeprefix("LAPOR ")
    assert len(fake_aggregator.sent()) == 1


@pytest.mark.parametrize(
    ("concat", "field"),
    [
        pytest.param({"concat_part": "4", "concat_total": "3"}, "concat_part", id="index-beyond-total"),
        pytest.param({"concat_part": "0"}, "concat_part", id="index-zero"),
        pytest.param({"concat_total": "0", "concat_part": "1"}, "concat_total", id="total-zero"),
        pytest.param({"concat_total": "256"}, "concat_total", id="total-beyond-udh"),
        pytest.param({"concat_total": "99999999999999999999"}, "concat_total", id="total-huge-number"),
        pytest.param({"concat_part": "-1"}, "concat_part", id="index-negative"),
        pytest.param({"concat_part": "²"}, "concat_part", id="index-superscript-digit"),
        pytest.param({"concat_ref": "r" * 10_000}, "concat_ref", id="huge-ref"),
        pytest.param({"concat_ref": "a\x00b"}, "concat_ref", id="nul-in-ref"),
        pytest.param({"concat_total": ""}, "concat_total", id="total-missing"),
    ],
)
def test_a_hostile_part_is_refused_naming_the_field_and_a_lapor_still_gets_its_reply(
    client, rt, run_jobs, fake_aggregator, concat, field
):
    base = {"concat_ref": "5", "concat_part": "1", "concat_total": "3"}
    resp = post_mo(client, PARTS[0], msg_id="hostile", **{**base, **concat})
    assert resp.status_code == 400
    assert resp.get_json()["field"] == field
    assert count_parts(rt) == 0 and messages(rt) == []
    # Liveness: the next citizen is answered as ever.
    assert post_mo(client, "LAPOR jalan rusak di depan pasar").status_code == 202
    run_jobs()
    assert len(reports(rt)) == 1 and len(fake_aggregator.sent()) == 1
