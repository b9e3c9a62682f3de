"""Africa's Talking SMS through the real routes (SQLite and PostgreSQL, real Redis, a real
server on 127.0.0.1 playing /version1/messaging): recorded MOs stored and answered, a reply
sent as Africa's Talking wants it and its recorded DLR applied, hostile requests refused with
nothing else disturbed. Its USSD route (/ussd/africastalking) is untouched by this adapter."""

from __future__ import annotations

import itertools
import json
from urllib.parse import parse_qsl, urlencode

import pytest

from tests.store.helpers import outbox, reports
from tests.store.recorded_routes import inbox, replay, settings_for
from tests.support.recorded import load

FOLDER = "africastalking"
_ids = itertools.count(1)


def at_answer(recorded):
    """/version1/messaging's answer: the one recipient sent, with a fresh messageId."""
    recipient = {"statusCode": 101, "number": "+6281234567890", "status": "Success", "cost": "IDR 300.0000"}
    recipient["messageId"] = f"ATXid_{next(_ids):032x}"
    return 201, json.dumps({"SMSMessageData": {"Message": "Sent to 1/1", "Recipients": [recipient]}})


@pytest.fixture
def settings(backend, tmp_path, redis_db, fake_aggregator):
    fake_aggregator.on_send = at_answer
    return settings_for(
        "africastalking",
        backend,
        tmp_path,
        fake_aggregator,
        GATEWAY_AFRICASTALKING_USERNAME="lapor1708",
        GATEWAY_AFRICASTALKING_API_KEY="at-key",
    )


@pytest.mark.parametrize("name", ["sms_mo_gsm7", "sms_mo_ucs2", "sms_mo_long"])
def test_a_recorded_mo_is_stored_answered_200_and_a_repeat_is_not_stored_twice(client, rt, name):
    fx = load(FOLDER, name)
    assert replay(client, fx).status_code == 200
    assert replay(client, fx).status_code == 200
    [mo] = inbox(rt)
    assert (mo.aggregator, mo.msisdn, mo.to) == ("africastalking", "+6281234567890", "1708")
    assert mo.text == dict(parse_qsl(fx["body"]))["text"]


def test_the_reply_goes_to_version1_messaging_and_the_recorded_dlr_delivers_it(
    client, rt, run_jobs, fake_aggregator
):
    assert replay(client, load(FOLDER, "sms_mo_gsm7")).status_code == 200
    run_jobs()
    [report] = reports(rt)
    [req] = fake_aggregator.requests
    assert (req.method, req.path, req.headers["apiKey"]) == ("POST", "/version1/messaging", "at-key")
    form = dict(parse_qsl(req.body.decode()))
    assert (form["username"], form["to"], form["from"]) == ("lapor1708", "+6281234567890", "1708")
    assert report.tracking_no in form["message"]
    [out] = outbox(rt)
    assert (out.aggregator, out.status, out.segments) == ("africastalking", "ACCEPTED", 1)

    fx = load(FOLDER, "sms_dlr_success")
    fields = {**dict(parse_qsl(fx["body"])), "id": out.external_id}
    assert replay(client, fx, body=urlencode(fields)).status_code == 200
    assert outbox(rt)[0].status == "DELIVERED"


@pytest.mark.parametrize(
    ("name", "changes", "status", "field"),
    [
        pytest.param("sms_mo_missing_text", {}, 400, "text", id="no-text"),
        pytest.param("sms_mo_bad_date", {}, 400, "date", id="bad-date"),
        pytest.param("sms_mo_gsm7", {"query_string": ""}, 401, None, id="no-token"),
        pytest.param(
            "sms_mo_gsm7",
            {"body": "from=%2B6281234567890&to=1708&text=LAPOR&id=a%00b"},
            400,
            "id",
            id="nul-in-id",
        ),
        pytest.param("sms_dlr_bogus", {}, 400, "status", id="bogus-dlr"),
        pytest.param(
            "sms_dlr_success", {"body": "status=Success&id=" + "x" * 200}, 400, "id", id="dlr-id-too-long"
        ),
    ],
)
def test_hostile_requests_are_refused_and_a_normal_lapor_still_gets_its_reply(
    client, rt, run_jobs, fake_aggregator, name, changes, status, field
):
    resp = replay(client, load(FOLDER, name), **changes)
    assert resp.status_code == status
    if field:
        assert resp.get_json()["field"] == field
    assert inbox(rt) == []
    assert replay(client, load(FOLDER, "sms_mo_gsm7")).status_code == 200
    run_jobs()
    assert len(reports(rt)) == 1 and len(fake_aggregator.requests) == 1
