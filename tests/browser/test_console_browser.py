"""The console and the phone simulator in a real browser: headless Chromium (Debian's package)
driven by Playwright, against the gateway as `make run` starts it (gunicorn + RQ workers +
cron, GATEWAY_OUTBOUND=log) on SQLite or PostgreSQL.

The issue's scenario: a citizen files a report on /phone; it is made overdue; a handler logs
in, finds it among the overdue reports, sends a follow-up; the citizen's phone receives it
and answers with BALAS; the handler sees the answer in the thread. A viewer cannot submit
forms. With GATEWAY_SCREENSHOTS=<folder> it saves console.png and phone.png there
(`make screenshots` writes docs/)."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import update

from config.settings import load_settings
from gateway.models import Report, utcnow
from gateway.runtime import build_runtime
from gateway.services.tokens import create_token
from tests.conftest import INBOUND_TOKEN, TEST_POSTGRES_URL, TEST_REDIS_URL
from tests.support.browser import launch_chromium
from tests.support.processes import start_gateway
from tests.support.schema import reset_schema

pytestmark = pytest.mark.browser
CITIZEN = "081234567890"
WAIT_MS = 20_000  # a reply travels receiver -> Redis -> worker -> outbox; generous on a busy CI host


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def gateway(request, tmp_path_factory):
    """One gateway per database for the whole module (starting one is most of a test's time);
    each test uses its own phone numbers, so they do not see each other's messages."""
    redis = Redis.from_url(TEST_REDIS_URL)
    redis.flushdb()
    tmp_path = tmp_path_factory.mktemp(f"browser-{request.param}")
    env = {
        "REDIS_URL": TEST_REDIS_URL,
        "GATEWAY_INBOUND_TOKEN": INBOUND_TOKEN,
        "GATEWAY_OUTBOUND": "log",
        "GATEWAY_CONSOLE_SECRET": "browser-test-console-secret",
        "GATEWAY_QUIET_HOURS_START": "00:00",  # notices go out at any hour of the test run
        "GATEWAY_QUIET_HOURS_END": "00:00",
        "GATEWAY_WEB_WORKERS": "1",
        "GATEWAY_JOB_WORKERS": "1",
    }
    if request.param == "postgres":
        reset_schema(TEST_POSTGRES_URL)  # the script migrates; drop what an earlier test left
        env["DATABASE_URL"] = TEST_POSTGRES_URL
    gw = start_gateway(tmp_path, env)
    rt = build_runtime(load_settings(gw.env, dotenv_path=None))
    yield gw, rt
    rt.engine.dispose()
    gw.stop()
    redis.flushdb()
    redis.close()


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


def _log_in(browser, url: str, token: str, **context):
    page = browser.new_context(**context).new_page()
    page.goto(f"{url}/console/")
    assert "/console/login" in page.url  # a stranger is sent to the log-in
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{url}/console/")
    return page


def test_handler_follows_up_an_overdue_report_and_the_citizen_answers(gateway, browser):
    gw, rt = gateway
    admin_token = create_token(rt, "petugas-dinas", "admin")

    # The citizen files a report from the phone and gets the receipt with a tracking number.
    phone = browser.new_context(viewport={"width": 360, "height": 780}).new_page()
    phone.goto(f"{gw.url}/phone/?number={CITIZEN}")
    phone.get_by_label("Pesan ke 1708").fill(
        "LAPOR jalan amblas di Jl Kenanga dekat masjid, bahaya untuk motor"
    )
    phone.get_by_role("button", name="Kirim SMS").click()
    receipt = phone.locator("#messages li.theirs").first
    receipt.wait_for(timeout=WAIT_MS)
    no = re.search(r"\b(\d{8,10})\b", receipt.inner_text()).group(1)

    # Nobody verified it for ten days: it is overdue.
    with rt.transaction() as s:
        s.execute(
            update(Report).where(Report.tracking_no == no).values(created_at=utcnow() - timedelta(days=10))
        )

    # The handler logs in and finds it at the top, among the overdue reports.
    console = _log_in(browser, gw.url, admin_token, viewport={"width": 1280, "height": 900})
    overdue = console.locator("table").first
    assert "overdue" in overdue.locator("caption").inner_text()
    overdue.get_by_role("link", name=no).click()
    console.wait_for_url(f"{gw.url}/console/reports/{no}")
    assert "jalan amblas" in console.locator(".complaint").inner_text()

    # The reply box counts live and warns about a character that forces UCS-2.
    console.get_by_label("Message to the reporter").fill("Mohon kirim foto \u201clokasi\u201d")
    console.locator("#reply-warn").wait_for(state="visible", timeout=WAIT_MS)
    assert "UCS-2" in console.locator("#reply-warn").inner_text()
    assert "1 SMS segment (UCS-2)" in console.locator("#reply-count").inner_text()
    console.get_by_label("Message to the reporter").fill("")

    # The follow-up.
    console.get_by_label("Follow-up (tindak lanjut)").fill(
        "Tim Dinas PU sudah survei; perbaikan Senin depan."
    )
    console.get_by_role("button", name="Post follow-up").click()
    console.get_by_text("Follow-up recorded.").wait_for(timeout=WAIT_MS)

    # The citizen's phone receives it without reloading and answers with BALAS.
    notice = phone.locator("#messages li.theirs", has_text="Tindak lanjut")
    notice.wait_for(timeout=WAIT_MS)
    assert f"BALAS {no}" in notice.inner_text()
    phone.get_by_label("Pesan ke 1708").fill(f"BALAS {no} terima kasih, saya tunggu hari Senin")
    phone.get_by_role("button", name="Kirim SMS").click()
    phone.locator("#messages li.theirs", has_text="diterima dan diteruskan").wait_for(timeout=WAIT_MS)

    # The handler sees the answer in the thread.
    answer = console.locator(".timeline li", has_text="Citizen answer (BALAS)")
    for _ in range(40):
        console.reload()
        if answer.count():
            break
        console.wait_for_timeout(500)
    assert "terima kasih, saya tunggu hari Senin" in answer.inner_text()
    page_text = console.locator("main").inner_text()
    assert "+62812****890" in page_text and "6281234567890" not in page_text

    _screenshots(console, phone, no)


def test_a_viewer_reads_but_cannot_submit_forms(gateway, browser):
    gw, rt = gateway
    viewer = create_token(rt, "pengawas", "viewer")
    page = browser.new_context().new_page()
    page.goto(f"{gw.url}/phone/?number=081298765432")
    page.get_by_label("Pesan ke 1708").fill("LAPOR sampah menumpuk di pasar induk tiga hari")
    page.get_by_role("button", name="Kirim SMS").click()
    page.locator("#messages li.theirs").first.wait_for(timeout=WAIT_MS)
    no = re.search(r"\b(\d{8,10})\b", page.locator("#messages li.theirs").first.inner_text()).group(1)

    console = _log_in(browser, gw.url, viewer)
    console.get_by_role("link", name=no).click()
    assert console.locator("main form").count() == 0 and "may only read" in console.inner_text("main")
    # Even a hand-made POST with the session's own CSRF token is refused.
    status = console.evaluate(
        """async ([no, csrf]) => (await fetch(`/console/reports/${no}/follow-up`, {method: "POST",
             headers: {"Content-Type": "application/x-www-form-urlencoded"},
             body: new URLSearchParams({text: "x", csrf_token: csrf})})).status""",
        [no, console.locator("input[name=csrf_token]").first.get_attribute("value")],
    )
    assert status == 403


def test_pages_read_without_javascript_work_by_keyboard_and_fit_a_narrow_screen(gateway, browser):
    gw, rt = gateway
    token = create_token(rt, "petugas-b", "admin")
    console = _log_in(
        browser, gw.url, token, java_script_enabled=False, viewport={"width": 360, "height": 700}
    )
    assert "report(s), newest first" in console.inner_text("main")
    console.keyboard.press("Tab")
    assert console.evaluate("document.activeElement.textContent") == "Skip to content"
    for path in ("/console/", "/console/outbox", "/phone/"):
        console.goto(f"{gw.url}{path}")
        assert console.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
    # USSD with the keyboard alone, still without JavaScript.
    console.get_by_label("Panggil").press("Enter")
    console.get_by_text("1 Buat laporan").wait_for(timeout=WAIT_MS)
    console.get_by_role("textbox", name="Balas").fill("4")
    console.get_by_role("textbox", name="Balas").press("Enter")
    assert "LAPOR" in console.locator(".ussd").inner_text()


def _screenshots(console, phone, no: str) -> None:
    folder = os.environ.get("GATEWAY_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    console.locator("#thread").scroll_into_view_if_needed()
    console.screenshot(path=f"{folder}/console.png", full_page=True)
    phone.screenshot(path=f"{folder}/phone.png", full_page=True)
    assert no
