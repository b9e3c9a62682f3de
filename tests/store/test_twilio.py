"""Twilio through the app on SQLite and PostgreSQL: recorded, signed callbacks posted to
/sms/twilio/inbound and /status (the signature checked against GATEWAY_PUBLIC_URL, not the
Host the request reached), the reply sent to a real server playing Twilio's Messages API."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from config.settings import load_settings
from gateway.models import InboundMessage
from tests.conftest import INBOUND_TOKEN, TEST_REDIS_URL, _database_url
from tests.store.helpers import AUTH, outbox, reports
from tests.support.recorded import body_of, load

SID = "AC" + "0" * 32
AUTH_TOKEN = load("twilio", "mo_gsm")["_signed_with"]["auth_token"]
FORM = "application/x-www-form-urlencoded"


def twilio_answer(recorded):
    """Twilio's 201 for a created message."""
    return 201, json.dumps({"sid": f"SM{len(recorded.body):032d}", "status": "queued"})


@pytest.fixture
def settings(backend, tmp_path, redis_db, fake_aggregator):
    """The gateway sending through Twilio (its API a real server on 127.0.0.1), reached by
    Twilio at https://gateway.example.id (the URL its callbacks are signed with)."""
    fake_aggregator.on_send = twilio_answer
    env = {
        "DATABASE_URL": _database_url(backend, tmp_path),
        "REDIS_URL": TEST_REDIS_URL,
        "GATEWAY_INBOUND_TOKEN": INBOUND_TOKEN,
        "GATEWAY_OUTBOUND": "twilio",
        "GATEWAY_TWILIO_BASE_URL": fake_aggregator.url.removesuffix("/send"),
        "GATEWAY_TWILIO_ACCOUNT_SID": SID,
        "GATEWAY_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "GATEWAY_TWILIO_FROM": "+15005550006",
        "GATEWAY_PUBLIC_URL": "https://gateway.example.id",
        "GATEWAY_SEND_TIMEOUT": "2",
    }
    return load_settings(env, dotenv_path=None)


def post(client, name: str, query: str | None = None, **headers):
    """Replay a recorded Twilio callback with its signature (to the test client's own host)."""
    fx = load("twilio", name)
    q = fx["query_string"] if query is None else query
    sent = {"X-Twilio-Signature": fx["headers"]["X-Twilio-Signature"], **headers}
    return client.post(f"{fx['path']}?{q}", data=body_of(fx), content_type=FORM, headers=sent)


def refused(route: str) -> float:
    labels = {"aggregator": "twilio", "route": route}
    return REGISTRY.get_sample_value("gateway_callback_signatures_refused_total", labels) or 0.0


def test_signed_mo_files_a_report_the_reply_goes_to_twilio_and_its_status_applies(
    rt, client, run_jobs, fake_aggregator
):
    resp = post(client, "mo_gsm")
    assert (resp.status_code, resp.content_type.split(";")[0]) == (200, "text/xml")
    assert "<Response/>" in resp.get_data(as_text=True)
    run_jobs()
    [report] = reports(rt)
    [out] = outbox(rt)

    [req] = fake_aggregator.requests
    assert (req.method, req.path) == ("POST", f"/2010-04-01/Accounts/{SID}/Messages.json")
    assert req.headers["Authorization"].startswith("Basic ")
    form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
    assert (form["To"], form["From"]) == ("+6281234567890", "+15005550006")
    assert report.tracking_no in form["Body"]
    assert form["StatusCallback"] == (
        f"https://gateway.example.id/sms/twilio/status?id={out.id}&token={INBOUND_TOKEN}"
    )
    assert (out.aggregator, out.status, out.external_id.startswith("SM")) == ("twilio", "ACCEPTED", True)

    # The recorded callback is for MT 42 and signed so; ours is out.id: sign it as Twilio would.
    from gateway.aggregators.twilio import signature

    fx = load("twilio", "status_delivered")
    params = {k: v[0] for k, v in parse_qs(fx["body"]).items()}
    query = f"id={out.id}&token={INBOUND_TOKEN}"
    sig = signature(AUTH_TOKEN, f"https://gateway.example.id/sms/twilio/status?{query}", params)
    resp = client.post(
        f"/sms/twilio/status?{query}", data=fx["body"], content_type=FORM, headers={"X-Twilio-Signature": sig}
    )
    assert resp.status_code == 200
    assert outbox(rt)[0].status == "DELIVERED"


def test_a_replayed_mo_is_a_duplicate_and_ucs2_and_long_keep_their_text(rt, client):
    assert post(client, "mo_ucs2").status_code == 200
    assert post(client, "mo_ucs2").status_code == 200  # the same signed request again
    assert post(client, "mo_long").status_code == 200
    with rt.sessions() as s:
        texts = dict(s.execute(select(InboundMessage.external_id, InboundMessage.text)).all())
    assert len(texts) == 2
    assert "جسر rusak parah 😀" in texts["SM" + "b" * 32] and len(texts["SM" + "c" * 32]) > 160


@pytest.mark.parametrize(
    ("name", "query", "headers", "route"),
    [
        pytest.param(
            "mo_gsm", None, {"X-Twilio-Signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}, "inbound", id="forged"
        ),
        pytest.param("mo_gsm", f"token={INBOUND_TOKEN}&x=1", {}, "inbound", id="query-changed"),
        pytest.param("status_delivered", None, {"X-Twilio-Signature": ""}, "status", id="status-unsigned"),
    ],
)
def test_a_bad_signature_is_a_401_counted_and_logged_and_nothing_is_stored(
    rt, client, caplog, name, query, headers, route
):
    before = refused(route)
    with caplog.at_level("WARNING", logger="gateway.web.sms"):
        resp = post(client, name, query=query, **headers)
    assert resp.status_code == 401 and "X-Twilio-Signature" in resp.get_json()["reason"]
    assert refused(route) == before + 1
    assert f"twilio callback to /{route} refused" in caplog.text and INBOUND_TOKEN not in caplog.text
    with rt.sessions() as s:
        assert s.scalars(select(InboundMessage.id)).all() == []


def test_the_inbound_token_is_checked_before_the_signature(client):
    assert post(client, "mo_gsm", query="").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param("From=%2B6281234567890&Body=LAPOR+x", "MessageSid", id="no-sid"),
        pytest.param("MessageSid=SM1&From=0812-FLOWERS&Body=LAPOR+x", "From", id="sender-with-letters"),
        pytest.param("MessageSid=SM1&From=%2B6281234567890&Body=%FF%FE", "Body", id="body-not-utf8"),
    ],
)
def test_hostile_mo_is_a_400_naming_the_field_and_a_lapor_still_gets_its_reply(
    rt, client, run_jobs, fake_aggregator, body, field
):
    from gateway.aggregators.twilio import signature

    params = {k: v[0] for k, v in parse_qs(body, encoding="utf-8", errors="replace").items()}
    query = f"token={INBOUND_TOKEN}"
    sig = signature(AUTH_TOKEN, f"https://gateway.example.id/sms/twilio/inbound?{query}", params)
    resp = client.post(
        f"/sms/twilio/inbound?{query}", data=body, content_type=FORM, headers={"X-Twilio-Signature": sig}
    )
    assert (resp.status_code, resp.get_json()["field"]) == (400, field)
    assert post(client, "mo_gsm").status_code == 200
    run_jobs()
    assert len(fake_aggregator.requests) == 1 and len(reports(rt)) == 1


def test_a_status_for_an_unknown_message_is_stored_and_acknowledged(rt, client):
    resp = post(client, "status_courier")
    assert resp.status_code == 200 and outbox(rt) == []
    assert client.post("/sms/twilio/status", data={"MessageSid": "x"}, headers=AUTH).status_code == 401
