"""Vonage through the real routes (SQLite and PostgreSQL, real Redis, a real server on 127.0.0.1
playing Vonage's /sms/json): recorded MOs stored and answered 200, a long MO in parts made one,
a reply sent as Vonage wants it and its recorded DLR applied, hostile requests refused with
nothing else disturbed."""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from urllib.parse import parse_qsl, urlencode

import pytest

from gateway.app import create_app
from tests.conftest import INBOUND_TOKEN
from tests.store.helpers import outbox, reports
from tests.store.recorded_routes import inbox, replay, settings_for
from tests.support.recorded import load

SIGNING = "vonage-signing-secret"


_ids = itertools.count(1)


def vonage_answer(recorded):
    """Vonage's /sms/json answer: one accepted part with a fresh message-id."""
    message = {"status": "0", "message-id": f"0C{next(_ids):014X}"}
    return 200, json.dumps({"message-count": "1", "messages": [message]})


@pytest.fixture
def settings(backend, tmp_path, redis_db, fake_aggregator):
    fake_aggregator.on_send = vonage_answer
    return settings_for(
        "vonage",
        backend,
        tmp_path,
        fake_aggregator,
        GATEWAY_VONAGE_API_KEY="abcd1234",
        GATEWAY_VONAGE_API_SECRET="s3cr3t",
    )


def sent_forms(fake) -> list[dict]:
    return [dict(parse_qsl(r.body.decode(), keep_blank_values=True)) for r in fake.requests]


@pytest.mark.parametrize("name", ["mo_get_text", "mo_post_unicode", "mo_json_text"])
def test_a_recorded_mo_is_stored_answered_200_and_a_repeat_is_not_stored_twice(client, rt, name):
    fx = load("vonage", name)
    first = replay(client, fx)
    assert (first.status_code, first.data) == (200, b"")
    assert replay(client, fx).status_code == 200  # Vonage's resend: acknowledged again
    [mo] = inbox(rt)
    assert (mo.aggregator, mo.msisdn, mo.to) == ("vonage", "+6281234567890", "1708")


def test_a_long_mo_delivered_in_parts_is_one_mo(client, rt):
    for part in ("mo_get_concat_part2", "mo_get_concat_part1"):  # out of order, as may happen
        assert replay(client, load("vonage", part)).status_code == 200
    [mo] = inbox(rt)
    assert mo.text == "LAPOR saluran air di Jl. Melati tersumbat sejak hari Minggu, air meluap ke rumah warga"
    assert mo.external_id == "0B0000004B65F632"  # the lowest part's id


def test_the_reply_goes_to_sms_json_and_the_recorded_dlr_delivers_it(client, rt, run_jobs, fake_aggregator):
    assert replay(client, load("vonage", "mo_get_text")).status_code == 200
    run_jobs()
    [report] = reports(rt)
    [req] = fake_aggregator.requests
    assert (req.method, req.path) == ("POST", "/sms/json")
    [form] = sent_forms(fake_aggregator)
    [out] = outbox(rt)
    assert (form["to"], form["from"], form["client-ref"]) == ("6281234567890", "1708", str(out.id))
    assert report.tracking_no in form["text"] and "type" not in form  # GSM-7: no unicode flag
    assert form["callback"] == f"https://lapor.example.id/sms/vonage/status?token={INBOUND_TOKEN}"
    assert (out.aggregator, out.status, out.segments) == ("vonage", "ACCEPTED", 1)
    assert out.external_id.startswith("0C")

    dlr = load("vonage", "dlr_get_delivered")  # recorded with client-ref=1: our first MT
    assert replay(client, dlr).status_code == 200
    assert outbox(rt)[0].status == "DELIVERED"


def test_a_dlr_by_message_id_finds_the_mt(client, rt, run_jobs, fake_aggregator):
    assert replay(client, load("vonage", "mo_get_text")).status_code == 200
    run_jobs()
    [out] = outbox(rt)
    fx = load("vonage", "dlr_json_failed")
    body = {**json.loads(fx["body"]), "messageId": out.external_id}
    assert replay(client, fx, body=json.dumps(body)).status_code == 200
    assert outbox(rt)[0].status == "UNDELIVERED"


@pytest.mark.parametrize(
    ("name", "changes", "status", "field"),
    [
        pytest.param("mo_get_binary", {}, 400, "type", id="binary-mo"),
        pytest.param("mo_get_missing_msisdn", {}, 400, "msisdn", id="no-msisdn"),
        pytest.param(
            "mo_get_text",
            {"query_string": "msisdn=6281234567890&text=x&messageId=1"},
            401,
            None,
            id="no-token",
        ),
        pytest.param("dlr_get_bogus", {}, 400, "status", id="bogus-dlr"),
        pytest.param(
            "dlr_get_delivered",
            {"query_string": f"status=delivered&client-ref=99999999999&token={INBOUND_TOKEN}"},
            400,
            "messageId",
            id="client-ref-beyond-any-row-falls-back-to-missing-message-id",
        ),
    ],
)
def test_hostile_requests_are_refused_and_a_normal_lapor_still_gets_its_reply(
    client, rt, run_jobs, fake_aggregator, name, changes, status, field
):
    resp = replay(client, load("vonage", name), **changes)
    assert resp.status_code == status
    if field:
        assert resp.get_json()["field"] == field
    assert inbox(rt) == []
    assert replay(client, load("vonage", "mo_get_text")).status_code == 200
    run_jobs()
    assert len(reports(rt)) == 1 and len(fake_aggregator.requests) == 1


def _signed_query(**changes) -> str:
    params = {k: v for k, v in parse_qsl(load("vonage", "mo_get_text")["query_string"]) if k != "token"}
    params["timestamp"] = str(int(time.time()))
    text = "".join(f"&{k}={params[k].replace('&', '_').replace('=', '_')}" for k in sorted(params))
    params["sig"] = hashlib.md5((text + SIGNING).encode()).hexdigest()  # noqa: S324 (Vonage's scheme)
    params.update(changes)
    return urlencode({**params, "token": INBOUND_TOKEN})


def test_with_a_signature_secret_a_forged_mo_is_401_and_a_replay_a_duplicate(rt):
    signed_rt = rt.__class__(
        **{**rt.__dict__, "settings": rt.settings.with_aggregator("vonage", signature_secret=SIGNING)}
    )
    client = create_app(runtime=signed_rt).test_client()
    fx = load("vonage", "mo_get_text")
    forged = replay(client, fx, query_string=_signed_query(text="LAPOR palsu"))
    assert forged.status_code == 401
    unsigned = replay(client, fx)
    assert unsigned.status_code == 401
    good = _signed_query()
    assert replay(client, fx, query_string=good).status_code == 200
    assert replay(client, fx, query_string=good).status_code == 200  # replayed: a duplicate
    assert len(inbox(rt)) == 1
