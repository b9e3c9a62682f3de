"""MO -> parse -> report -> reply -> send -> DLR, through the real receiver, real RQ jobs
(in-process SimpleWorker), real Redis, SQLite and PostgreSQL, and a real aggregator server."""

from __future__ import annotations

import itertools
import re

import pytest
from sqlalchemy import select

from gateway.gsm7 import is_gsm7, septets
from gateway.models import InboundMessage, Report, ReportEvent
from gateway.parsers import damm_check_digit, is_valid_tracking_number
from gateway.services.conversation import process_inbound
from tests.store.helpers import AUTH, file_report, last_reply_text, outbox, post_mo, reports

OWNER, STRANGER = "081234567890", "085711112222"


def test_lapor_files_a_report_and_the_reply_carries_its_tracking_number(
    client, rt, run_jobs, fake_aggregator
):
    post_mo(client, "lapor#Pipa PDAM bocor di depan masjid Al Ikhlas", sender="6281234567890")
    run_jobs()
    [report] = reports(rt)
    assert (report.msisdn, report.text, report.privacy, report.status) == (
        "+6281234567890",
        "Pipa PDAM bocor di depan masjid Al Ikhlas",
        "PUBLIC",
        "RECEIVED",
    )
    assert is_valid_tracking_number(report.tracking_no)
    [sent] = fake_aggregator.sent()
    assert sent["to"] == "+6281234567890" and sent["from"] == "1708"
    assert report.tracking_no in sent["text"] and f"CEK {report.tracking_no}" in sent["text"]
    assert is_gsm7(sent["text"]) and septets(sent["text"]) <= 160
    assert fake_aggregator.requests[0].headers["Authorization"] == "Bearer test-send-secret"
    [out] = outbox(rt)
    assert (out.status, out.external_id, str(out.id)) == ("ACCEPTED", "agg-1", sent["id"])


@pytest.mark.parametrize(
    ("text", "privacy", "note"),
    [
        pytest.param(
            "LAPOR RAHASIA kepala desa memakai dana desa", "CONFIDENTIAL", "(rahasia)", id="rahasia"
        ),
        pytest.param("LAPOR ANONIM guru sering tidak masuk kelas", "ANONYMOUS", "(anonim)", id="anonim"),
    ],
)
def test_privacy_is_recorded_and_confirmed(client, rt, run_jobs, fake_aggregator, text, privacy, note):
    post_mo(client, text)
    run_jobs()
    assert reports(rt)[0].privacy == privacy
    assert note in last_reply_text(fake_aggregator)


def test_cek_gives_the_owner_the_status_and_a_stranger_the_neutral_answer(
    client, rt, run_jobs, fake_aggregator
):
    tracking = file_report(
        client,
        rt,
        run_jobs,
        fake_aggregator,
        sender=OWNER,
        text="LAPOR kepala sekolah SDN 9 Mekarsari memotong dana BOS",
    )
    post_mo(client, f"cek {tracking}", sender=OWNER)
    run_jobs()
    owner_reply = last_reply_text(fake_aggregator)
    assert (
        tracking in owner_reply and "Belum diverifikasi" in owner_reply and f"BALAS {tracking}" in owner_reply
    )

    post_mo(client, f"CEK {tracking}", sender=STRANGER)
    run_jobs()
    stranger_reply = last_reply_text(fake_aggregator)
    assert "tidak ditemukan" in stranger_reply and "Belum diverifikasi" not in stranger_reply
    # The same words as for a number nobody owns, so probing tells nothing.
    nobody = "1" + tracking[1:-1]
    nobody += next(d for d in "0123456789" if is_valid_tracking_number(nobody + d))
    post_mo(client, f"CEK {nobody}", sender=STRANGER)
    run_jobs()
    assert last_reply_text(fake_aggregator) == stranger_reply.replace(tracking, nobody)


def test_a_mistyped_number_is_caught_by_the_check_digit(client, rt, run_jobs, fake_aggregator):
    tracking = file_report(client, rt, run_jobs, fake_aggregator, sender=OWNER)
    swapped = tracking[:-2] + tracking[-1] + tracking[-2]
    if swapped == tracking:
        swapped = tracking[:-1] + str((int(tracking[-1]) + 1) % 10)
    post_mo(client, f"CEK {swapped}", sender=OWNER)
    run_jobs()
    reply = last_reply_text(fake_aggregator)
    assert "salah ketik" in reply and tracking not in reply


def test_balas_from_the_reporter_is_added_to_the_timeline(client, rt, run_jobs, fake_aggregator):
    tracking = file_report(client, rt, run_jobs, fake_aggregator, sender=OWNER)
    post_mo(client, f"BALAS#{tracking}#petugas belum datang", sender=OWNER)
    run_jobs()
    assert "diterima" in last_reply_text(fake_aggregator)
    with rt.sessions() as s:
        events = s.scalars(select(ReportEvent).order_by(ReportEvent.id)).all()
        assert [(e.kind, e.text) for e in events] == [
            ("CREATED", "jalan rusak di depan pasar"),
            ("CITIZEN_REPLY", "petugas belum datang"),
        ]


def test_balas_from_another_number_is_refused_and_not_recorded(client, rt, run_jobs, fake_aggregator):
    tracking = file_report(client, rt, run_jobs, fake_aggregator, sender=OWNER)
    post_mo(client, f"BALAS {tracking} saya bukan pelapor", sender=STRANGER)
    run_jobs()
    assert "tidak ditemukan" in last_reply_text(fake_aggregator)
    with rt.sessions() as s:
        assert [e.kind for e in s.scalars(select(ReportEvent))] == ["CREATED"]


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        pytest.param("tes", "LAPOR", id="short-text-gets-help"),
        pytest.param("INFO", "CEK", id="info"),
        pytest.param("LAPOR", "Isi laporan kosong", id="lapor-alone"),
        pytest.param("CEK", "Nomor laporan belum ada", id="cek-alone"),
        pytest.param("CEK 123", "salah ketik", id="cek-short-number"),
        pytest.param("BALAS 12345 halo", "salah ketik", id="balas-bad-number"),
    ],
)
def test_bad_commands_get_one_reply_that_teaches_the_format(
    client, rt, run_jobs, fake_aggregator, text, expect
):
    post_mo(client, text)
    run_jobs()
    [sent] = fake_aggregator.sent()
    assert expect in sent["text"] and is_gsm7(sent["text"]) and septets(sent["text"]) <= 160
    assert reports(rt) == []


def test_repeated_failed_lookups_are_throttled(client, rt, run_jobs, fake_aggregator):
    limit = rt.settings.check_fail_limit
    for n in range(limit + 1):
        unknown = f"{n + 1}23456789"
        post_mo(client, f"CEK {unknown}{damm_check_digit(unknown)}", sender=STRANGER)
    run_jobs()
    texts = [m["text"] for m in fake_aggregator.sent()]
    assert sum("tidak ditemukan" in t for t in texts) == limit
    assert "Terlalu banyak" in texts[-1]


def test_a_job_that_runs_twice_files_one_report_and_one_reply(client, rt, run_jobs, fake_aggregator):
    inbound_id = post_mo(client, "LAPOR lampu jalan mati sejak seminggu").get_json()["ids"][0]
    assert process_inbound(rt, inbound_id) == "REPORT"
    assert process_inbound(rt, inbound_id) == "already-done"
    run_jobs()
    assert len(reports(rt)) == 1 and len(outbox(rt)) == 1 and len(fake_aggregator.sent()) == 1


def test_a_crash_between_commit_and_enqueue_is_recovered_by_the_sweeper(
    client, rt, run_jobs, fake_aggregator
):
    from gateway.services.sweeper import sweep

    inbound_id = post_mo(client, "LAPOR jembatan desa putus total").get_json()["ids"][0]
    rt.redis.flushdb()  # Redis restarted empty: the queued job is gone
    swept = sweep(_with(rt, sweep_after=0))
    assert swept.inbound == 1
    run_jobs()
    with rt.sessions() as s:
        assert s.get(InboundMessage, inbound_id).status == "DONE"
    assert len(fake_aggregator.sent()) == 1
    # Nothing left to sweep, and a second sweep does not send again.
    assert sweep(_with(rt, sweep_after=0)) == type(swept)(0, 0, 0)
    run_jobs()
    assert len(fake_aggregator.sent()) == 1


def _with(rt, **changes):
    return rt.__class__(**{**rt.__dict__, "settings": rt.settings.replace(**changes)})


def test_corpus_reports_all_file_with_distinct_tracking_numbers(
    client, rt, run_jobs, fake_aggregator, corpus
):
    texts = [text for kind, text in corpus if kind == "report"]
    for n, text in enumerate(texts):
        post_mo(client, text, sender=f"08123456{n:04d}")
    run_jobs()
    filed = reports(rt)
    assert len(filed) == len(texts)
    assert len({r.tracking_no for r in filed}) == len(texts)
    for sent in fake_aggregator.sent():
        [number] = set(re.findall(r"\d{10}", sent["text"]))
        assert number in {r.tracking_no for r in filed}


def test_reports_are_not_sequential(client, rt, run_jobs, fake_aggregator):
    for n in range(5):
        post_mo(client, f"LAPOR jalan rusak nomor {n} di desa kami")
    run_jobs()
    numbers = sorted(int(r.tracking_no) for r in reports(rt))
    assert all(b - a > 1000 for a, b in zip(numbers, numbers[1:], strict=False))


def test_report_row_keeps_the_mo_that_filed_it(client, rt, run_jobs, fake_aggregator):
    inbound_id = post_mo(client, "LAPOR sampah menumpuk di pasar").get_json()["ids"][0]
    run_jobs()
    with rt.sessions() as s:
        report = s.scalars(select(Report)).one()
        assert report.source_inbound_id == inbound_id
        assert s.get(InboundMessage, inbound_id).report_id == report.id


def test_json_and_form_bodies_from_different_number_formats_are_one_reporter(
    client, rt, run_jobs, fake_aggregator
):
    tracking = file_report(client, rt, run_jobs, fake_aggregator, sender="+6281234567890")
    client.post(
        "/sms/generic/inbound",
        json={"from": "081234567890", "to": "1708", "text": f"CEK {tracking}", "id": "json-cek"},
        headers=AUTH,
    )
    run_jobs()
    assert "Belum diverifikasi" in last_reply_text(fake_aggregator)


def test_a_send_job_popped_by_a_worker_killed_before_starting_it_is_swept(
    client, rt, run_jobs, fake_aggregator
):
    """RQ moves a job's id to an intermediate list, then marks it started; a worker killed in
    between leaves a job that says "queued" but is in no queue. The sweeper must not trust it."""
    from gateway.queueing import enqueue_send
    from gateway.services.outbox import queue_message
    from gateway.services.sweeper import sweep

    with rt.transaction() as s:
        out_id = queue_message(s, rt, "test:popped", "+6281234567890", "Tes").id
    enqueue_send(rt.queue, [out_id])
    rt.redis.lmove(rt.queue.key, rt.queue.intermediate_queue_key)  # what the dead worker did
    assert rt.queue.count == 0
    assert sweep(_with(rt, sweep_after=0)).outbound == 1
    run_jobs()
    assert [m["id"] for m in fake_aggregator.sent()] == [str(out_id)]


def test_a_drain_killed_mid_batch_leaves_its_mos_pending_for_the_next_drain(
    client, rt, run_jobs, fake_aggregator, monkeypatch
):
    """A batch commits whole or not at all: a drain that dies mid-batch (here, its first
    MO's handling raises) changes nothing, and the next drain files one report per MO."""
    from gateway.services import conversation, drain

    for n in range(3):
        post_mo(client, f"LAPOR saluran air tersumbat nomor {n}", msg_id=f"k-{n}")
    real_answer = conversation.answer

    def dies_on_the_last(rt_, s, msg, command, fresh=False):
        text = real_answer(rt_, s, msg, command, fresh)
        if msg.external_id == "k-2":
            raise SystemExit("worker killed")  # not an Exception: no fallback, like a kill
        return text

    monkeypatch.setattr(conversation, "answer", dies_on_the_last)
    with pytest.raises(SystemExit):
        drain.drain_inbound(rt)
    monkeypatch.setattr(conversation, "answer", real_answer)
    with rt.sessions() as s:
        assert {m.status for m in s.scalars(select(InboundMessage))} == {"PENDING"}
    assert reports(rt) == [] and outbox(rt) == []
    assert drain.drain_inbound(rt).handled == 3
    assert len(reports(rt)) == 3 and len(fake_aggregator.sent()) == 3


def test_one_bad_mo_does_not_hold_up_its_batch(client, rt, fake_aggregator, caplog, monkeypatch):
    """A batch that fails is redone one MO at a time: the good ones are answered, the bad
    one is tried MAX_TRIES times and QUARANTINED (no later drain takes it), and its text is
    not in the log."""
    from gateway.services import conversation, drain

    ids = [
        post_mo(client, f"LAPOR got mampet rahasia{n}", msg_id=f"p-{n}").get_json()["ids"][0]
        for n in range(3)
    ]
    real_answer = conversation.answer

    def fails_on_second(rt_, s, msg, command, fresh=False):
        if msg.id == ids[1]:
            raise ValueError(f"cannot handle {msg.text}")
        return real_answer(rt_, s, msg, command, fresh)

    monkeypatch.setattr(conversation, "answer", fails_on_second)
    result = drain.drain_inbound(rt)
    monkeypatch.setattr(conversation, "answer", real_answer)
    assert result.failed == [ids[1]]
    with rt.sessions() as s:
        assert [s.get(InboundMessage, i).status for i in ids] == ["DONE", "QUARANTINED", "DONE"]
    assert len(fake_aggregator.sent()) == 2
    assert "rahasia1" not in caplog.text and "ValueError" in caplog.text
    assert drain.drain_inbound(rt).handled == 0


def test_a_drain_whose_time_is_up_hands_over_to_a_fresh_job(client, rt, run_jobs, fake_aggregator):
    """A drain stops after a third of the job timeout and enqueues its successor, so a
    long burst never runs a job into its timeout (RQ would kill it mid-batch)."""
    from gateway.services import drain

    for n in range(5):
        post_mo(client, f"LAPOR jalan berlubang nomor {n}", msg_id=f"t-{n}")
    rt.redis.flushdb()  # forget the receiver's drain job; count only the successor
    # The deadline passes during the first batch.
    ticks = itertools.chain([0.0], itertools.repeat(float(rt.settings.job_timeout)))
    result = drain.drain_inbound(_with(rt, drain_batch=2), clock=lambda: next(ticks))
    assert (result.handled, result.batches, result.continued) == (2, 1, True)
    # Its successor, and its batch's two replies as send jobs (no time left to send them).
    assert sorted(job.func_name for job in rt.queue.jobs) == [
        "workers.jobs.drain_inbound",
        "workers.jobs.send_outbound",
        "workers.jobs.send_outbound",
    ]
    run_jobs()
    assert len(reports(rt)) == 5 and len(fake_aggregator.sent()) == 5


def test_a_batch_that_meets_an_earlier_write_is_redone_carefully(client, rt, fake_aggregator, caplog):
    """A drain's batch writes without looking first; if a row it writes already exists (say
    a half-finished run wrote the reply), the unique key fails the batch and the careful
    one-by-one path finds the row instead of writing a second one."""
    from gateway.services import drain
    from gateway.services.outbox import queue_message

    ids = [
        post_mo(client, f"LAPOR pohon tumbang nomor {n}", msg_id=f"e-{n}").get_json()["ids"][0]
        for n in range(2)
    ]
    with rt.transaction() as s:
        queue_message(s, rt, f"reply:{ids[0]}", "+6281234567890", "Balasan yang sudah ada")
    result = drain.drain_inbound(rt)
    assert (result.handled, result.failed) == (2, [])
    with rt.sessions() as s:
        assert [s.get(InboundMessage, i).status for i in ids] == ["DONE", "DONE"]
    assert len(outbox(rt)) == 2
    assert sorted(m["text"] == "Balasan yang sudah ada" for m in fake_aggregator.sent()) == [False, True]
    # The log names the constraint (the driver's first line), never a row's values.
    [line] = [r.getMessage() for r in caplog.records if "handling them one by one" in r.getMessage()]
    assert "IntegrityError" in line and "dedupe_key" in line
    assert "pohon" not in caplog.text and "81234567890" not in caplog.text


def test_on_sqlite_a_drain_waits_for_another_drains_batch(client, rt, fake_aggregator, backend):
    """SQLite has no row locks: a second drain must wait for the batch lock rather than
    read the same PENDING rows (PostgreSQL skips locked rows instead)."""
    import threading

    from gateway.db import batch_lock
    from gateway.services import drain

    if backend != "sqlite":
        pytest.skip("PostgreSQL claims rows with FOR UPDATE SKIP LOCKED")
    post_mo(client, "LAPOR lampu taman mati", msg_id="lock-1")
    with batch_lock(rt.engine):
        worker = threading.Thread(target=drain.drain_inbound, args=(rt,))
        worker.start()
        worker.join(0.5)
        assert worker.is_alive()
        with rt.sessions() as s:
            assert s.scalars(select(InboundMessage.status)).all() == ["PENDING"]
    worker.join(10)
    assert not worker.is_alive() and len(fake_aggregator.sent()) == 1


def test_on_sqlite_the_careful_path_also_waits_for_the_batch_lock(client, rt, fake_aggregator, backend):
    """Otherwise another drain's batch could claim the MO the careful path is handling, and
    fail on the unique keys in turn: one failure would cascade through every batch."""
    import threading

    from gateway.db import batch_lock
    from gateway.services import drain

    if backend != "sqlite":
        pytest.skip("PostgreSQL: the careful path locks the MO's row")
    [inbound_id] = post_mo(client, "LAPOR jalan licin", msg_id="careful-1").get_json()["ids"]
    with batch_lock(rt.engine):
        worker = threading.Thread(
            target=drain._one_by_one, args=(rt, [inbound_id], set(), drain.DrainResult())
        )
        worker.start()
        worker.join(0.5)
        assert worker.is_alive() and fake_aggregator.sent() == []
    worker.join(10)
    assert not worker.is_alive() and len(fake_aggregator.sent()) == 1


def test_on_sqlite_receivers_queue_for_the_insert_lock(client, rt, backend):
    """Receivers take turns at an flock for their one-row commit instead of colliding on
    SQLite's write lock (whose busy handler sleeps a millisecond or more)."""
    import threading

    from gateway.db import insert_lock

    if backend != "sqlite":
        pytest.skip("PostgreSQL has row locks; nothing to queue for")
    answers = []
    with insert_lock(rt.engine):
        receiver = threading.Thread(target=lambda: answers.append(post_mo(client, "LAPOR jalan rusak")))
        receiver.start()
        receiver.join(0.5)
        assert receiver.is_alive() and answers == []
    receiver.join(10)
    assert [a.status_code for a in answers] == [202]


def test_a_batch_draws_tracking_numbers_no_report_has(
    client, rt, run_jobs, fake_aggregator, monkeypatch, caplog
):
    """A random number already taken is redrawn before the batch writes, instead of failing
    the whole batch on the unique key (likelier as reports accumulate)."""
    from gateway.services import reports as reports_service

    taken = file_report(client, rt, run_jobs, fake_aggregator, sender="081200000001")
    draws = iter([taken, "1234567890", "2345678901"])
    monkeypatch.setattr(reports_service, "new_tracking_number", lambda: next(draws))
    for n in range(2):
        post_mo(client, f"LAPOR trotoar rusak nomor {n}", sender=f"08130000000{n}", msg_id=f"draw-{n}")
    run_jobs()
    numbers = sorted(r.tracking_no for r in reports(rt))
    assert numbers == sorted([taken, "1234567890", "2345678901"])
    assert "handling them one by one" not in caplog.text  # the batch did not fail


def test_a_failed_lookup_redone_after_a_failed_batch_counts_once(
    client, rt, run_jobs, fake_aggregator, monkeypatch
):
    """A batch that fails after its CEKs counted their failures is redone MO by MO; Redis is
    not rolled back with the database, so the failures are counted per MO, not per try: a
    citizen is not throttled for look-ups made once."""
    from gateway.services import conversation

    limit = rt.settings.check_fail_limit
    for n in range(limit - 1):
        unknown = f"{n + 1}23456789"
        post_mo(client, f"CEK {unknown}{damm_check_digit(unknown)}", sender=STRANGER)
    real = conversation.handle_batch
    fail_once = iter([True])

    def handle_then_fail(rt_, s, msgs):
        handled = real(rt_, s, msgs)
        if next(fail_once, False):
            raise RuntimeError("the batch fails after its look-ups counted")
        return handled

    monkeypatch.setattr(conversation, "handle_batch", handle_then_fail)
    run_jobs()
    unknown = "923456789"
    post_mo(client, f"CEK {unknown}{damm_check_digit(unknown)}", sender=STRANGER)  # the limit-th
    run_jobs()
    texts = [m["text"] for m in fake_aggregator.sent()]
    assert sum("tidak ditemukan" in t for t in texts) == limit
    assert not any("Terlalu banyak" in t for t in texts)
