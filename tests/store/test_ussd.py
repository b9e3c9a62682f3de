"""The USSD route against real Redis and real databases (SQLite and PostgreSQL): whole
sessions on both wire formats, privacy, the shared throttle, bad input, and session state."""

from __future__ import annotations

import itertools
import json
import re

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from gateway.app import create_app
from gateway.gsm7 import is_gsm7, septets
from gateway.models import OutboundMessage, Report, ReportEvent
from gateway.msisdn import normalise_msisdn
from gateway.parsers.tracking import damm_check_digit
from gateway.runtime import build_runtime
from gateway.ussd import screens
from gateway.ussd.sessions import session_owner
from tests.conftest import INBOUND_TOKEN
from tests.store.helpers import AUTH, file_report, post_mo, reports
from tests.support.processes import free_port
from tests.support.recorded import body_of, load

OWNER, OTHER = "+6281234567890", "+6281298765432"
_ids = itertools.count(1)


class UssdSession:
    """Plays one aggregator's side of a session: Africa's Talking (cumulative `text`) or generic."""

    def __init__(self, client, fmt: str, msisdn: str = OWNER, session_id: str | None = None):
        self.client, self.fmt, self.msisdn = client, fmt, msisdn
        self.session_id = session_id or f"{fmt[:3]}-sess-{next(_ids)}"
        self.inputs: list[str] | None = None

    @property
    def owner(self) -> str:
        """`<format>:<digest>`: the session's Redis keys are `gw:ussd:s:<owner>`, `gw:ussd:w:<owner>`."""
        return session_owner(self.fmt, normalise_msisdn(self.msisdn), self.session_id)

    @property
    def session_key(self) -> str:
        """The digest part of the owner, as the dead-draft job carries it."""
        return self.owner.split(":", 1)[1]

    def send(self, latest: str | None = None):
        """Dial (latest=None) or send the next input; return the raw response."""
        if latest is None:
            self.inputs = []
        else:
            self.inputs.append(latest)
        if self.fmt == "africastalking":
            form = {
                "sessionId": self.session_id,
                "serviceCode": "*384*1708#",
                "phoneNumber": self.msisdn,
                "networkCode": "51010",
                "text": "*".join(self.inputs),
            }
            return self.client.post("/ussd/africastalking", data=form, headers=AUTH)
        body = {"session_id": self.session_id, "msisdn": self.msisdn, "input": latest or ""}
        return self.client.post("/ussd/generic", json=body, headers=AUTH)

    def step(self, latest: str | None = None) -> tuple[str, bool]:
        """(screen, ended) of a successful step; every screen is one GSM-7 screen."""
        resp = self.send(latest)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        if self.fmt == "africastalking":
            body = resp.get_data(as_text=True)
            assert resp.mimetype == "text/plain" and body[:4] in ("CON ", "END ")
            screen, ended = body[4:], body.startswith("END ")
        else:
            data = resp.get_json()
            assert data["session_id"] == self.session_id and data["action"] in ("continue", "end")
            screen, ended = data["text"], data["action"] == "end"
        assert is_gsm7(screen) and septets(screen) <= 160, screen
        return screen, ended


FORMATS = [pytest.param("africastalking", id="at"), pytest.param("generic", id="generic")]
# Steps that never reach the database run on one backend only (the suite stays fast).
redis_only = pytest.mark.parametrize("backend", ["sqlite"])
STAR_TEXT = "Jl. Mawar 5*7 berlubang besar, motor sering jatuh"


def tracking_in(screen: str) -> str:
    [number] = set(re.findall(r"\d{10}", screen))
    return number


@pytest.mark.parametrize("fmt", FORMATS)
def test_filing_a_report_end_to_end_sends_the_tracking_number_by_sms(
    client, rt, run_jobs, fake_aggregator, fmt
):
    ussd = UssdSession(client, fmt)
    assert ussd.step()[0].startswith("LAPOR! 1708\n1 Buat laporan")
    assert "Tulis isi laporan" in ussd.step("1")[0]
    assert "Jenis laporan" in ussd.step(STAR_TEXT)[0]
    screen, ended = ussd.step("2")
    assert not ended and screen.startswith("Kirim laporan rahasia?") and "Jl. Mawar 5*7" in screen
    screen, ended = ussd.step("1")
    assert ended and "terkirim" in screen
    number = tracking_in(screen)

    [report] = reports(rt)
    assert (report.tracking_no, report.text, report.privacy, report.channel, report.msisdn) == (
        number,
        STAR_TEXT,
        "CONFIDENTIAL",
        "USSD",
        OWNER,
    )
    assert re.fullmatch(rf"ussd:{fmt}#[0-9a-f]{{40}}", report.source_key)
    run_jobs()
    [sms] = fake_aggregator.sent()
    assert sms["to"] == OWNER and number in sms["text"] and "rahasia" in sms["text"]
    # The session and the draft are gone: nothing is left to resume or to warn about.
    assert rt.redis.get(f"gw:ussd:s:{ussd.owner}") is None
    assert rt.redis.get(f"gw:ussd:d:{OWNER}") is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_check_shows_status_only_to_the_reporter(client, rt, run_jobs, fake_aggregator, fmt):
    number = file_report(client, rt, run_jobs, fake_aggregator, sender="081234567890")
    mine = UssdSession(client, fmt)
    mine.step()
    assert "Cek status" in mine.step("2")[0]
    screen, ended = mine.step(f"{number[:5]} {number[5:]}")
    assert ended and f"Laporan {number}: Belum diverifikasi" in screen and f"BALAS {number}" in screen

    # Another number gets the same neutral screen as a number that does not exist.
    theirs = UssdSession(client, fmt, msisdn=OTHER)
    theirs.step(), theirs.step("2")
    not_mine, ended = theirs.step(number)
    assert not ended and "tidak ada untuk HP ini" in not_mine and "Belum diverifikasi" not in not_mine
    other_no = "1234567890"[:9] + next(d for d in "0123456789" if _valid("123456789" + d))
    assert theirs.step(other_no)[0] == not_mine.replace(number, other_no)
    # A mistyped number is caught before any look-up.
    typo = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert theirs.step(typo)[0].startswith(screens.BAD_NUMBER)


def _valid(number: str) -> bool:
    from gateway.parsers import is_valid_tracking_number

    return is_valid_tracking_number(number)


def test_failed_lookups_are_throttled_across_ussd_and_sms(client, rt, run_jobs, fake_aggregator):
    number = file_report(client, rt, run_jobs, fake_aggregator, sender="081234567890")
    probe = UssdSession(client, "generic", msisdn=OTHER)
    probe.step(), probe.step("2")
    # Probing: a different number each time (the same wrong number again is one failure).
    guesses = [f"{n + 1}23456789" for n in range(rt.settings.check_fail_limit)]
    for guess in [number, *[g + damm_check_digit(g) for g in guesses[1:]]]:
        assert not probe.step(guess)[1]
    screen, ended = probe.step(number)
    assert ended and screen == screens.throttled()
    # The same counter answers the SMS channel.
    assert post_mo(client, f"CEK {number}", sender="081298765432").status_code == 202
    run_jobs()
    assert "Terlalu banyak percobaan" in fake_aggregator.sent()[-1]["text"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_answering_a_follow_up_pages_the_question_and_records_the_answer(
    client, rt, run_jobs, fake_aggregator, fmt
):
    number = file_report(client, rt, run_jobs, fake_aggregator, sender="081234567890")
    question = " ".join(f"Pertanyaan bagian {i}: mohon kirim foto dan alamat lengkap." for i in range(1, 6))
    with rt.transaction() as s:
        report = s.scalar(select(Report).where(Report.tracking_no == number))
        s.add(ReportEvent(report_id=report.id, kind="FOLLOW_UP", text="pertanyaan lama", actor="petugas"))
        s.add(ReportEvent(report_id=report.id, kind="FOLLOW_UP", text=question, actor="petugas"))
    ussd = UssdSession(client, fmt)
    ussd.step(), ussd.step("3")
    first, _ = ussd.step(number)
    assert first.startswith("Pesan petugas (1/") and "98 Lanjut" in first and "bagian 1" in first
    second, _ = ussd.step("98")
    assert second.startswith("Pesan petugas (2/")
    assert ussd.step("0")[0] == first  # back a page
    assert "Tulis tanggapan untuk laporan" in ussd.step("1")[0]
    screen, ended = ussd.step("Sudah saya kirim*fotonya lewat kantor desa")
    assert ended and f"laporan {number} diterima" in screen
    with rt.sessions() as s:
        event = s.scalar(select(ReportEvent).where(ReportEvent.kind == "CITIZEN_REPLY"))
    assert event.text == "Sudah saya kirim*fotonya lewat kantor desa"
    assert re.fullmatch(rf"ussd:{fmt}#[0-9a-f]{{40}}:reply", event.source_key)


def test_answer_without_a_follow_up_goes_straight_to_the_text(client, rt, run_jobs, fake_aggregator):
    number = file_report(client, rt, run_jobs, fake_aggregator, sender="081234567890")
    ussd = UssdSession(client, "africastalking")
    ussd.step(), ussd.step("3")
    assert ussd.step(number)[0].startswith(f"Tulis tanggapan untuk laporan {number}")
    # Someone else cannot answer it.
    other = UssdSession(client, "africastalking", msisdn=OTHER)
    other.step(), other.step("3")
    assert "tidak ada untuk HP ini" in other.step(number)[0]


@redis_only
@pytest.mark.parametrize("fmt", FORMATS)
def test_invalid_choice_back_and_home(client, fmt):
    ussd = UssdSession(client, fmt)
    ussd.step()
    screen, ended = ussd.step("7")
    assert not ended and screen.startswith("Pilihan salah.\nLAPOR! 1708")
    ussd.step("4")
    assert ussd.step("0")[0].startswith("LAPOR! 1708")
    ussd.step("1"), ussd.step(STAR_TEXT)
    assert ussd.step("00")[0].startswith("LAPOR! 1708")


@redis_only
def test_a_retried_africastalking_step_is_not_applied_twice(client, rt):
    ussd = UssdSession(client, "africastalking")
    ussd.step(), ussd.step("1"), ussd.step(STAR_TEXT)
    form = {"sessionId": ussd.session_id, "serviceCode": "*384*1708#", "phoneNumber": OWNER}
    form["text"] = "*".join(ussd.inputs)
    again = client.post("/ussd/africastalking", data=form, headers=AUTH).get_data(as_text=True)
    assert again.startswith("CON Jenis laporan")  # the same screen, not "Pilihan salah"


@redis_only
@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_session_with_text_starts_a_fresh_main_menu(client, fmt):
    ussd = UssdSession(client, fmt)
    ussd.inputs = ["1", "2"]  # as if we had missed the session's start
    screen, ended = ussd.step("1")
    assert not ended and screen.startswith("LAPOR! 1708")


@redis_only
def test_a_session_id_from_another_phone_does_not_continue_the_session(client):
    ussd = UssdSession(client, "generic")
    ussd.step(), ussd.step("1")
    intruder = UssdSession(client, "generic", msisdn=OTHER, session_id=ussd.session_id)
    intruder.inputs = []
    assert intruder.step(STAR_TEXT)[0].startswith("LAPOR! 1708")


@redis_only
def test_any_receiver_serves_any_step(rt, client):
    """Two apps with their own runtimes (as two gunicorn processes) share only Redis."""
    other_rt = build_runtime(rt.settings)
    other = create_app(runtime=other_rt).test_client()
    try:
        ussd = UssdSession(client, "africastalking")
        ussd.step(), ussd.step("1")
        ussd.client = other
        assert "Jenis laporan" in ussd.step(STAR_TEXT)[0]
        ussd.client = client
        assert "Kirim laporan?" in ussd.step("1")[0]
    finally:
        other_rt.engine.dispose()


@redis_only
def test_session_state_lives_in_redis_with_the_ttl(client, rt):
    ussd = UssdSession(client, "generic")
    ussd.step(), ussd.step("1")
    key = f"gw:ussd:s:{ussd.owner}"
    assert 0 < rt.redis.ttl(key) <= rt.settings.ussd_session_ttl
    assert json.loads(rt.redis.get(key))["state"]["screen"] == "TEXT"


@redis_only
def test_a_session_at_an_unknown_screen_is_logged_counted_and_restarted(client, rt, caplog):
    """A session saved by a deploy with a screen this one lacks (a rollback mid-session): the
    citizen is back at the main menu, and it is visible, not a silent reset."""
    ussd = UssdSession(client, "generic")
    ussd.step(), ussd.step("1")
    key = f"gw:ussd:s:{ussd.owner}"
    saved = json.loads(rt.redis.get(key))
    saved["state"]["screen"] = "SURVEY_FROM_A_NEWER_DEPLOY"
    rt.redis.set(key, json.dumps(saved), keepttl=True)
    before = REGISTRY.get_sample_value("gateway_ussd_unknown_screens_total") or 0
    with caplog.at_level("WARNING", logger="gateway.ussd"):
        screen, ended = ussd.step("2")  # read at the main menu: "2 Cek status laporan"
    assert not ended and screen == screens.ask_number("check")
    assert REGISTRY.get_sample_value("gateway_ussd_unknown_screens_total") == before + 1
    assert "unknown screen 'SURVEY_FROM_A_NEWER_DEPLOY'" in caplog.text
    assert OWNER not in caplog.text


@redis_only
@pytest.mark.parametrize(
    ("folder", "name", "field"),
    [
        pytest.param("africastalking", "missing_session", "sessionId", id="at-missing-session"),
        pytest.param("africastalking", "missing_phone", "phoneNumber", id="at-missing-phone"),
        pytest.param("africastalking", "missing_text", "text", id="at-missing-text"),
        pytest.param("ussd_generic", "missing_msisdn", "msisdn", id="generic-missing-msisdn"),
        pytest.param("ussd_generic", "missing_input", "input", id="generic-missing-input"),
        pytest.param("ussd_generic", "form_not_json", "body", id="generic-form"),
    ],
)
def test_recorded_bad_payloads_get_400_naming_the_field(client, folder, name, field):
    fx = load(folder, name)
    resp = client.post(fx["path"], data=body_of(fx), headers=AUTH, content_type=fx["headers"]["Content-Type"])
    assert resp.status_code == 400
    assert resp.get_json() == {
        "error": "invalid_payload",
        "field": field,
        "reason": resp.get_json()["reason"],
    }


@redis_only
@pytest.mark.parametrize(
    ("headers", "query"),
    [
        pytest.param({}, "", id="no-token"),
        pytest.param({"Authorization": "Bearer wrong"}, "", id="wrong-bearer"),
        pytest.param({}, "?token=wrong", id="wrong-query-token"),
    ],
)
def test_bad_token_is_401(client, headers, query):
    fx = load("africastalking", "dial")
    resp = client.post(
        f"/ussd/africastalking{query}",
        data=body_of(fx),
        headers=headers,
        content_type=fx["headers"]["Content-Type"],
    )
    assert resp.status_code == 401


@redis_only
def test_query_token_and_unknown_format(client):
    fx = load("africastalking", "dial")
    ok = client.post(
        f"/ussd/africastalking?token={INBOUND_TOKEN}",
        data=body_of(fx),
        content_type=fx["headers"]["Content-Type"],
    )
    assert ok.status_code == 200 and ok.get_data(as_text=True).startswith("CON LAPOR! 1708")
    assert client.post("/ussd/nope", data=body_of(fx), headers=AUTH).status_code == 404


@redis_only
def test_redis_down_ends_the_session_politely(rt):
    down_rt = build_runtime(rt.settings.replace(redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    try:
        down = create_app(runtime=down_rt).test_client()
        screen, ended = UssdSession(down, "generic").step()
        assert ended and screen == screens.unavailable("1708")
    finally:
        down_rt.engine.dispose()


@redis_only
def test_nothing_queued_but_the_confirmation(client, rt):
    """Browsing the menu writes nothing to the database."""
    ussd = UssdSession(client, "africastalking")
    ussd.step(), ussd.step("4"), ussd.step("0"), ussd.step("2")
    with rt.sessions() as s:
        assert s.scalars(select(OutboundMessage)).all() == []
