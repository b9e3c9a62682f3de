"""A USSD session that dies mid-draft: the draft is kept, one SMS says the report was not sent
and how to finish it, and dialling again offers to resume it (real Redis, RQ's scheduler, both
databases)."""

from __future__ import annotations

import dataclasses
import time

import pytest
from sqlalchemy import select

from gateway.app import create_app
from gateway.models import OutboundMessage
from gateway.queueing import JobPath
from gateway.ussd import service
from tests.store.helpers import reports
from tests.store.test_ussd import OWNER, STAR_TEXT, UssdSession

DRAFT_KEY = f"gw:ussd:d:{OWNER}"


def notices(rt) -> list[OutboundMessage]:
    with rt.sessions() as s:
        return list(s.scalars(select(OutboundMessage).where(OutboundMessage.kind == "NOTICE")))


def start_draft(client, fmt="africastalking", privacy: str | None = "3") -> UssdSession:
    ussd = UssdSession(client, fmt)
    ussd.step(), ussd.step("1"), ussd.step(STAR_TEXT)
    if privacy:
        ussd.step(privacy)
    return ussd


def drop(rt, ussd: UssdSession) -> None:
    """The telco gives up on the session (timeout, dropped call): its key expires."""
    rt.redis.delete(f"gw:ussd:s:{ussd.owner}")


def test_dead_session_gets_one_sms_at_expiry_through_the_scheduler(rt, run_jobs, fake_aggregator):
    short = dataclasses.replace(rt, settings=rt.settings.replace(ussd_session_ttl=1))
    client = create_app(runtime=short).test_client()
    start_draft(client)
    assert rt.redis.ttl(DRAFT_KEY) > 3600  # the draft outlives the session
    [job] = [rt.queue.fetch_job(i) for i in rt.queue.scheduled_job_registry.get_job_ids()]
    assert job.func_name == JobPath.USSD_DRAFT_CHECK and OWNER not in str(job.args)
    time.sleep(2.1)  # session TTL 1 s + grace 1 s
    run_jobs(with_scheduler=True)
    [sms] = fake_aggregator.sent()
    assert (
        sms["to"] == OWNER and "belum terkirim" in sms["text"] and "LAPOR isi laporan ke 1708" in sms["text"]
    )
    assert reports(rt) == []
    # Running the check again (a retried job) sends nothing more.
    assert service.check_dead_draft(rt, "africastalking", job.args[1]) == "sent"
    run_jobs()
    assert len(fake_aggregator.sent()) == 1 and len(notices(rt)) == 1


@pytest.mark.parametrize("fmt", ["africastalking", "generic"])
def test_dialling_again_resumes_the_draft_and_files_it(client, rt, run_jobs, fake_aggregator, fmt):
    first = start_draft(client, fmt)
    drop(rt, first)
    again = UssdSession(client, fmt)
    screen, _ = again.step()
    assert screen.startswith('Laporan belum terkirim:\n"Jl. Mawar 5*7')
    assert again.step("1")[0].startswith("Kirim laporan anonim?")
    screen, ended = again.step("1")
    assert ended and "terkirim" in screen
    [report] = reports(rt)
    assert (report.text, report.privacy) == (STAR_TEXT, "ANONYMOUS")
    assert report.source_key.startswith(f"ussd:{fmt}#")
    # The dead session's check finds its draft filed: no "not sent" SMS, only the confirmation.
    assert service.check_dead_draft(rt, fmt, first.session_key) == "finished"
    assert service.check_dead_draft(rt, fmt, again.session_key) == "finished"
    run_jobs()
    assert notices(rt) == [] and len(fake_aggregator.sent()) == 1


def test_resume_offer_takes_over_the_draft(client, rt, run_jobs, fake_aggregator):
    """Seeing the offer moves the draft to the new session: the old session sends no SMS, the
    new one does if it also dies."""
    first = start_draft(client, privacy=None)
    drop(rt, first)
    again = UssdSession(client, "generic")
    again.step()
    again.step("3")  # to the main menu, draft kept
    assert service.check_dead_draft(rt, "africastalking", first.session_key) == "finished"
    assert service.check_dead_draft(rt, "generic", again.session_key) == "alive"
    drop(rt, again)
    assert service.check_dead_draft(rt, "generic", again.session_key) == "sent"
    run_jobs()
    assert len(fake_aggregator.sent()) == 1


def test_deleting_or_cancelling_the_draft_means_no_sms(client, rt):
    deleted = start_draft(client)
    drop(rt, deleted)
    offer = UssdSession(client, "africastalking")
    offer.step()
    assert offer.step("2")[0].startswith("Draf dihapus.\nLAPOR! 1708")
    assert rt.redis.get(DRAFT_KEY) is None
    assert service.check_dead_draft(rt, "africastalking", deleted.session_key) == "finished"

    cancelled = start_draft(client)
    assert cancelled.step("3")[0].startswith("Laporan dibatalkan.")
    assert rt.redis.get(DRAFT_KEY) is None
    drop(rt, cancelled)
    assert service.check_dead_draft(rt, "africastalking", cancelled.session_key) == "finished"
    assert notices(rt) == []


def test_a_live_session_is_checked_again_later(client, rt):
    ussd = start_draft(client)
    before = len(rt.queue.scheduled_job_registry.get_job_ids())
    assert service.check_dead_draft(rt, "africastalking", ussd.session_key) == "alive"
    assert len(rt.queue.scheduled_job_registry.get_job_ids()) == before + 1
    assert notices(rt) == []


def test_a_session_that_ends_with_a_draft_still_warns(client, rt, run_jobs, fake_aggregator):
    """Drafting, then wandering off to other screens before the call drops, leaves the draft unsent."""
    ussd = start_draft(client, privacy=None)
    ussd.step("00"), ussd.step("2")
    assert ussd.step("1234567890")[1] is False  # not found: asks again
    ussd.step("0"), ussd.step("4")
    rt.redis.delete(f"gw:ussd:s:{ussd.owner}")
    assert service.check_dead_draft(rt, "africastalking", ussd.session_key) == "sent"
