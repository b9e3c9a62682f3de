"""Infobip through the app on SQLite and PostgreSQL: a recorded MO posted to
/sms/infobip/inbound files a report whose reply goes to a real server playing Infobip's
/sms/3/messages, and a recorded DLR posted to /sms/infobip/status marks it delivered."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from config.settings import load_settings
from gateway.models import InboundMessage
from tests.conftest import INBOUND_TOKEN, TEST_REDIS_URL, _database_url
from tests.store.helpers import AUTH, outbox, reports
from tests.support.recorded import body_of, load

API_KEY = "ib-test-key"
JSON = {"Content-Type": "application/json"}


def infobip_answer(recorded):
    """Infobip's answer to a send: PENDING_ACCEPTED with a message id of its own."""
    n = json.loads(recorded.body)["messages"][0]["webhooks"]["callbackData"]
    body = {"messages": [{"messageId": f"ib-{n}", "status": {"groupId": 1, "groupName": "PENDING"}}]}
    return 200, json.dumps(body)


@pytest.fixture
def settings(backend, tmp_path, redis_db, fake_aggregator):
    """The gateway sending through Infobip, its API a real server on 127.0.0.1."""
    fake_aggregator.on_send = infobip_answer
    env = {
        "DATABASE_URL": _database_url(backend, tmp_path),
        "REDIS_URL": TEST_REDIS_URL,
        "GATEWAY_INBOUND_TOKEN": INBOUND_TOKEN,
        "GATEWAY_OUTBOUND": "infobip",
        "GATEWAY_INFOBIP_BASE_URL": fake_aggregator.url.removesuffix("/send"),
        "GATEWAY_INFOBIP_API_KEY": API_KEY,
        "GATEWAY_PUBLIC_URL": "https://gateway.example.id",
        "GATEWAY_SEND_TIMEOUT": "2",
    }
    return load_settings(env, dotenv_path=None)


def post(client, name: str, **kwargs):
    """Replay a recorded Infobip callback (its ?token= in the query, as configured in Infobip)."""
    fx = load("infobip", name)
    return client.post(f"{fx['path']}?{fx['query_string']}", data=body_of(fx), headers=JSON, **kwargs)


def test_recorded_mo_files_a_report_and_its_dlr_delivers_the_reply(rt, client, run_jobs, fake_aggregator):
    resp = post(client, "mo_gsm")
    assert resp.status_code == 200 and resp.get_json()["status"] == "accepted"
    run_jobs()
    [report] = reports(rt)
    assert "Melati RT 02 tersumbat" in report.text

    [req] = fake_aggregator.requests
    assert (req.method, req.path, req.headers["Authorization"]) == (
        "POST",
        "/sms/3/messages",
        f"App {API_KEY}",
    )
    [out] = outbox(rt)
    [message] = req.json()["messages"]
    assert message["destinations"] == [{"to": "6281234567890"}] and message["sender"] == "1708"
    assert report.tracking_no in message["content"]["text"]
    assert message["webhooks"]["delivery"]["url"] == (
        f"https://gateway.example.id/sms/infobip/status?token={INBOUND_TOKEN}"
    )
    assert message["webhooks"]["callbackData"] == str(out.id)
    assert (out.aggregator, out.status, out.external_id) == ("infobip", "ACCEPTED", f"ib-{out.id}")

    dlr = load("infobip", "dlr_delivered_ours")
    body = json.loads(dlr["body"])
    body["results"][0]["callbackData"] = str(out.id)
    resp = client.post(f"/sms/infobip/status?token={INBOUND_TOKEN}", json=body)
    assert resp.status_code == 200
    assert outbox(rt)[0].status == "DELIVERED"


def test_a_dlr_without_our_id_matches_by_infobips_message_id(rt, client, run_jobs):
    assert post(client, "mo_gsm").status_code == 200
    run_jobs()
    [out] = outbox(rt)
    body = json.loads(load("infobip", "dlr_undeliverable")["body"])
    body["results"][0]["messageId"] = out.external_id
    assert client.post("/sms/infobip/status", json=body, headers=AUTH).status_code == 200
    assert outbox(rt)[0].status == "UNDELIVERED"


def test_a_push_of_two_stores_both_and_a_retry_is_a_duplicate(rt, client):
    first = post(client, "mo_two")
    assert (first.status_code, len(first.get_json()["ids"])) == (200, 2)
    again = post(client, "mo_two")
    assert (again.status_code, again.get_json()["status"]) == (200, "duplicate")
    with rt.sessions() as s:
        rows = s.execute(select(InboundMessage.aggregator, InboundMessage.external_id)).all()
    assert sorted(rows) == [("infobip", "ib-mo-4"), ("infobip", "ib-mo-5")]


def test_ucs2_and_long_mos_keep_their_text(rt, client):
    assert post(client, "mo_ucs2").status_code == 200
    assert post(client, "mo_long").status_code == 200
    with rt.sessions() as s:
        texts = dict(s.execute(select(InboundMessage.external_id, InboundMessage.text)).all())
    assert "جسر rusak parah 😀" in texts["ib-mo-2"]
    assert len(texts["ib-mo-3"]) > 160


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(b'{"results": [{"from": "0812", "messageId": "m"', "body", id="truncated-json"),
        pytest.param(b'{"results": "LAPOR"}', "results", id="results-a-string"),
        pytest.param(
            json.dumps({"results": [{"from": "0812-FLOWERS", "messageId": "m", "text": "LAPOR x"}]}).encode(),
            "results[].from",
            id="sender-with-letters",
        ),
        pytest.param(
            json.dumps(
                {"results": [{"from": "6281234567890", "messageId": "m" * 129, "text": "x"}]}
            ).encode(),
            "results[].messageId",
            id="id-too-long-for-its-column",
        ),
    ],
)
def test_hostile_mo_is_a_400_naming_the_field_and_a_lapor_still_gets_its_reply(
    rt, client, run_jobs, fake_aggregator, body, field
):
    resp = client.post("/sms/infobip/inbound", data=body, headers={**AUTH, **JSON})
    assert (resp.status_code, resp.get_json()["field"]) == (400, field)
    assert post(client, "mo_gsm").status_code == 200
    run_jobs()
    assert len(fake_aggregator.requests) == 1 and len(reports(rt)) == 1


def test_the_token_is_required(client):
    fx = load("infobip", "mo_gsm")
    assert client.post(fx["path"], data=body_of(fx), headers=JSON).status_code == 401
