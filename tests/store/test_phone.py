"""The /phone simulator through the Flask test client on both databases: only with
GATEWAY_OUTBOUND=log; an SMS goes through the real receive path and workers and the replies
come back from the outbox, cut into segments; *1708# walks the real USSD menu."""

from __future__ import annotations

import re

import pytest

from gateway.app import create_app
from gateway.models import InboundMessage
from gateway.sender import make_sender
from gateway.services import admin
from tests.store.admin_helpers import no_quiet_hours
from tests.store.helpers import outbox, reports

NUMBER = "081234567890"


@pytest.fixture
def phone(rt):
    # As a process started with GATEWAY_OUTBOUND=log is built: its sender only logs.
    rt.settings = rt.settings.replace(outbound="log")
    rt.sender = make_sender("log", rt.settings.send_timeout, rt.settings.send_concurrency)
    no_quiet_hours(rt)
    app = create_app(runtime=rt)
    app.testing = True
    return app.test_client()


def _screen(phone, number: str = NUMBER) -> str:
    return phone.get("/phone/messages", query_string={"number": number}).get_data(as_text=True)


@pytest.mark.parametrize("path", ["/phone/", "/phone/messages"])
def test_the_phone_is_not_there_with_a_real_outbound(client, path):
    # `client` runs with GATEWAY_OUTBOUND=generic, as production does.
    assert client.get(path).status_code == 404
    assert client.post("/phone/sms", data={"number": NUMBER, "text": "LAPOR x"}).status_code == 404


def test_an_sms_goes_through_the_pipeline_and_the_reply_comes_back(phone, rt, run_jobs):
    resp = phone.post("/phone/sms", data={"number": NUMBER, "text": "LAPOR jalan rusak di depan SD 2"})
    assert resp.status_code == 303 and resp.headers["Location"] == f"/phone/?number={NUMBER}"
    with rt.sessions() as s:
        [mo] = s.query(InboundMessage).all()
    assert (mo.aggregator, mo.msisdn, mo.to) == ("generic", "+6281234567890", "1708")  # the real receive path
    assert "Belum ada pesan" not in _screen(phone) and "jalan rusak" in _screen(phone)
    run_jobs()
    [report] = reports(rt)
    [reply] = outbox(rt)
    assert reply.status == "ACCEPTED" and reply.external_id == f"log-{reply.id}"
    screen = _screen(phone)
    assert report.tracking_no in screen and screen.index("jalan rusak") < screen.index(report.tracking_no)
    # Another number's phone sees none of it.
    assert "Belum ada pesan" in _screen(phone, "081298765432")


def test_a_long_notice_arrives_in_its_segments(phone, rt, run_jobs):
    phone.post("/phone/sms", data={"number": NUMBER, "text": "LAPOR lampu jalan mati di gang 4"})
    run_jobs()
    no = reports(rt)[0].tracking_no
    admin.post_follow_up(rt, no, "Petugas PLN sudah dijadwalkan datang. " * 6, "token:t")
    run_jobs()
    notice = outbox(rt)[-1]
    assert notice.segments == 3
    screen = _screen(phone)
    assert [f"{i}/3" in screen for i in (1, 2, 3)] == [True, True, True]
    parts = re.findall(r'<p class="part"><small class="seg">\d/3</small> (.*?)</p>', screen, re.S)
    assert "".join(parts) == notice.text.replace("&", "&amp;")


def test_dialling_walks_the_real_ussd_menu(phone):
    first = phone.post("/phone/ussd", data={"number": NUMBER, "input": "*1708#"}).get_data(as_text=True)
    assert "1 Buat laporan" in first and "2 Cek status laporan" in first
    session = re.search(r'name="session" value="([^"]+)"', first).group(1)
    second = phone.post("/phone/ussd", data={"number": NUMBER, "session": session, "input": "4"})
    assert second.status_code == 200 and "LAPOR" in second.get_data(as_text=True)


@pytest.mark.parametrize(
    "path, form, field",
    [
        pytest.param("/phone/sms", {"number": "12", "text": "LAPOR x"}, "number", id="bad-number"),
        pytest.param("/phone/sms", {"number": NUMBER, "text": " "}, "text", id="empty-text"),
        pytest.param("/phone/sms", {"number": NUMBER, "text": "x" * 919}, "text", id="long-text"),
        pytest.param("/phone/ussd", {"number": "0812abc", "input": "*1708#"}, "number", id="bad-number-ussd"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(phone, rt, path, form, field):
    resp = phone.post(path, data=form)
    assert resp.status_code == 400 and f"{field}: " in resp.get_data(as_text=True)
    assert outbox(rt) == []


def test_an_unknown_ussd_code_is_refused(phone):
    resp = phone.post("/phone/ussd", data={"number": NUMBER, "input": "*888#"})
    assert resp.status_code == 400 and "tidak dikenal" in resp.get_data(as_text=True)


def test_the_phone_page_is_small_and_reads_without_javascript(phone, rt, run_jobs):
    phone.post("/phone/sms", data={"number": NUMBER, "text": "LAPOR banjir setinggi lutut di RW 7"})
    run_jobs()
    html = phone.get("/phone/", query_string={"number": NUMBER}).get_data(as_text=True)
    assert reports(rt)[0].tracking_no in html  # the reply is in the page itself
    assert len(html.encode()) < 100_000
