"""Dartmedia through the app on SQLite and PostgreSQL: recorded GET MOs and DLRs answered
`000`, the reply sent to a Dartmedia API played on 127.0.0.1, hostile calls refused naming the
field while a LAPOR still gets its reply."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from config.settings import load_settings
from gateway.models import InboundMessage
from tests.conftest import INBOUND_TOKEN, TEST_REDIS_URL, _database_url
from tests.store.helpers import outbox, reports
from tests.support.recorded import load


@pytest.fixture
def settings(backend, tmp_path, redis_db, fake_aggregator):
    fake_aggregator.on_send = lambda req: (200, "000", {"Content-Type": "text/plain"})
    env = {
        "DATABASE_URL": _database_url(backend, tmp_path),
        "REDIS_URL": TEST_REDIS_URL,
        "GATEWAY_INBOUND_TOKEN": INBOUND_TOKEN,
        "GATEWAY_OUTBOUND": "dartmedia",
        "GATEWAY_DARTMEDIA_BASE_URL": fake_aggregator.url.removesuffix("/send"),
        "GATEWAY_DARTMEDIA_USERID": "lapor",
        "GATEWAY_DARTMEDIA_PASSWORD": "pw",
        "GATEWAY_SEND_TIMEOUT": "2",
    }
    return load_settings(env, dotenv_path=None)


def call(client, name: str, extra: str = ""):
    fx = load("dartmedia", name)
    return client.get(fx["path"], query_string=fx["query_string"] + extra)


def inbox_texts(rt) -> list[str]:
    with rt.sessions() as s:
        return list(s.scalars(select(InboundMessage.text).order_by(InboundMessage.id)))


def test_an_mo_is_answered_replied_to_and_its_dlr_applied(client, rt, run_jobs, fake_aggregator):
    for _ in range(2):
        resp = call(client, "mo_gsm7")
        assert (resp.status_code, resp.get_data(as_text=True)) == (200, "000")
    run_jobs()
    [req] = fake_aggregator.requests
    url = urlsplit(req.path)
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert (req.method, url.path, params["sendto"], params["dcs"]) == (
        "GET",
        "/APIhttpU/receive2waysms.php",
        "6285218761111",
        "0",
    )
    assert reports(rt)[0].tracking_no in params["message"]
    [out] = outbox(rt)
    assert (out.aggregator, out.status, params["messageid"]) == ("dartmedia", "ACCEPTED", str(out.id))
    resp = client.get(
        "/sms/dartmedia/status", query_string=f"token={INBOUND_TOKEN}&messageid={out.id}&status=10"
    )
    assert (resp.status_code, resp.get_data(as_text=True)) == (200, "000")
    assert outbox(rt)[0].status == "DELIVERED"


def test_ucs2_and_udhl_parts_are_stored_as_their_text(client, rt):
    for name in ("mo_ucs2", "mo_part2", "mo_part1"):
        assert call(client, name).status_code == 200
    assert inbox_texts(rt) == [
        load("dartmedia", "mo_ucs2")["expected_text"],
        load("dartmedia", "mo_long_whole")["expected_text"],
    ]


@pytest.mark.parametrize(
    ("name", "extra", "field"),
    [
        pytest.param("mo_gsm7", "&udhl=7", "udhl", id="mo-udhl-without-header"),
        pytest.param("mo_gsm7", "&date=99999999999999", "date", id="mo-date"),
        pytest.param("dlr_delivered", "&status=x", "status", id="dlr-status"),
    ],
)
def test_a_hostile_call_is_refused_naming_the_field_and_a_lapor_still_gets_its_reply(
    client, rt, run_jobs, fake_aggregator, name, extra, field
):
    resp = call(client, name, extra)
    assert (resp.status_code, resp.get_json()["field"]) == (400, field)
    assert call(client, "mo_gsm7").status_code == 200
    run_jobs()
    assert len(reports(rt)) == 1 and len(fake_aggregator.requests) == 1
