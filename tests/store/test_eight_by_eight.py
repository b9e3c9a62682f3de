"""8x8 through the real routes /sms/8x8/... (SQLite and PostgreSQL, real Redis, a real server on
127.0.0.1 playing 8x8's send API): recorded MO webhooks stored and answered, a reply sent as 8x8
wants it and its recorded DLR applied, hostile requests refused with nothing else disturbed."""

from __future__ import annotations

import itertools
import json

import pytest

from tests.conftest import INBOUND_TOKEN
from tests.store.helpers import outbox, reports
from tests.store.recorded_routes import inbox, replay, settings_for
from tests.support.recorded import load

_ids = itertools.count(1)


def eight_answer(recorded):
    """8x8's answer to a single send: QUEUED with a fresh umid."""
    umid = f"bda3d56d-1424-e711-813c-{next(_ids):012x}"
    status = {"code": "QUEUED", "description": "SMS is accepted and queued for processing"}
    body = {"umid": umid, "clientMessageId": recorded.json()["clientMessageId"], "status": status}
    return 200, json.dumps({**body, "destination": "6281234567890", "encoding": "GSM7"})


@pytest.fixture
def settings(backend, tmp_path, redis_db, fake_aggregator):
    fake_aggregator.on_send = eight_answer
    return settings_for(
        "8x8",
        backend,
        tmp_path,
        fake_aggregator,
        GATEWAY_8X8_SUBACCOUNT_ID="lapor_hq",
        GATEWAY_8X8_API_KEY="8x8-key",
    )


@pytest.mark.parametrize("name", ["mo_gsm7", "mo_ucs2", "mo_long"])
def test_a_recorded_mo_is_stored_answered_200_and_a_repeat_is_not_stored_twice(client, rt, name):
    fx = load("8x8", name)
    assert replay(client, fx).status_code == 200
    assert replay(client, fx).status_code == 200  # 8x8's retry: acknowledged again
    [mo] = inbox(rt)
    assert (mo.aggregator, mo.msisdn, mo.external_id) == (
        "8x8",
        "+6281234567890",
        json.loads(fx["body"])["payload"]["umid"],
    )


def test_the_reply_goes_to_the_subaccount_and_the_recorded_dlr_applies(client, rt, run_jobs, fake_aggregator):
    assert replay(client, load("8x8", "mo_gsm7")).status_code == 200
    run_jobs()
    [report] = reports(rt)
    [req] = fake_aggregator.requests
    assert (req.method, req.path) == ("POST", "/api/v1/subaccounts/lapor_hq/messages")
    assert req.headers["Authorization"] == "Bearer 8x8-key"
    [sent] = fake_aggregator.sent()
    [out] = outbox(rt)
    assert (sent["destination"], sent["source"], sent["clientMessageId"]) == (
        "+6281234567890",
        "1708",
        str(out.id),
    )
    assert sent["encoding"] == "GSM7" and report.tracking_no in sent["text"]
    assert sent["dlrCallbackUrl"] == f"https://lapor.example.id/sms/8x8/status?token={INBOUND_TOKEN}"
    assert (out.aggregator, out.status, out.segments) == ("8x8", "ACCEPTED", 1)

    # Recorded with clientMessageId "1": our first MT. The operator's receipt first, then the handset's.
    assert replay(client, load("8x8", "dlr_delivered_to_operator")).status_code == 200
    assert outbox(rt)[0].status == "SENT"
    assert replay(client, load("8x8", "dlr_delivered_to_recipient")).status_code == 200
    assert outbox(rt)[0].status == "DELIVERED"
    assert replay(client, load("8x8", "dlr_undelivered")).status_code == 200  # late: never backwards
    assert outbox(rt)[0].status == "DELIVERED"


@pytest.mark.parametrize(
    ("name", "changes", "status", "field"),
    [
        pytest.param("mo_wrong_event", {}, 400, "eventType", id="dlr-posted-to-mo-url"),
        pytest.param("mo_missing_source", {}, 400, "payload.source", id="no-source"),
        pytest.param("mo_gsm7", {"query_string": ""}, 401, None, id="no-token"),
        pytest.param("mo_gsm7", {"body": "[" * 100 + "]" * 100}, 400, "body", id="deep-json"),
        pytest.param("dlr_bogus_state", {}, 400, "payload.status.state", id="bogus-dlr"),
    ],
)
def test_hostile_requests_are_refused_and_a_normal_lapor_still_gets_its_reply(
    client, rt, run_jobs, fake_aggregator, name, changes, status, field
):
    resp = replay(client, load("8x8", name), **changes)
    assert resp.status_code == status
    if field:
        assert resp.get_json()["field"] == field
    assert inbox(rt) == []
    assert replay(client, load("8x8", "mo_gsm7")).status_code == 200
    run_jobs()
    assert len(reports(rt)) == 1 and len(fake_aggregator.requests) == 1
