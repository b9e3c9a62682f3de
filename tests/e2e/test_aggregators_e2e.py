"""The SMS pipeline as real processes (gunicorn + RQ workers + cron) for each aggregator
format, against a real HTTP server on 127.0.0.1 playing that aggregator's send API: a recorded
MO (tests/fixtures/<name>/, replayed verbatim) files a report, the reply's send request is
checked field by field (path, auth, body fields, callback URL), and a recorded delivery report,
sent where the MT told the aggregator to send it, marks the reply DELIVERED.

generic, kannel (sendsms played by the fake; test_kannel_e2e.py drives a real Kannel),
infobip and twilio; twilio's gateway is reached at 127.0.0.1 while its GATEWAY_PUBLIC_URL is
https://gateway.example.id, the URL Twilio signed its callbacks with, as behind a proxy."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import create_engine, text

from gateway.aggregators.twilio import signature
from tests.conftest import SEND_TOKEN, TEST_REDIS_URL
from tests.support.aggregator import Recorded, start_fake_aggregator
from tests.support.processes import start_gateway, wait_until
from tests.support.recorded import body_of, load

pytestmark = pytest.mark.e2e
CITIZEN = "+6281234567890"
TWILIO_SID = "AC" + "0" * 32
TWILIO_PUBLIC = "https://gateway.example.id"
WAIT = 15.0


@dataclass(frozen=True)
class Case:
    """One aggregator: its settings (given the fake API's base URL), the recorded MO, how the
    fake answers a send, what the send request must hold, and the DLR it sends back."""

    name: str
    mo: str
    env: Callable[[str], dict[str, str]]
    answer: Callable[[Recorded], tuple] | None
    check: Callable[[Recorded, int, str], None]  # (request, MT id, tracking number)
    dlr: Callable[[str, Recorded], requests.Response]  # (gateway URL, the send request)


def form(req: Recorded) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(req.body.decode()).items()}


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


# --- generic ------------------------------------------------------------------------------
def generic_check(req: Recorded, mt: int, tracking: str) -> None:
    assert (req.method, req.path, req.headers["Authorization"]) == ("POST", "/send", f"Bearer {SEND_TOKEN}")
    body = req.json()
    assert (body["id"], body["to"], body["from"]) == (str(mt), CITIZEN, "1708") and tracking in body["text"]


def generic_dlr(gw: str, req: Recorded) -> requests.Response:
    fx = load("generic", "dlr_form_delivered")  # id=agg-1: the fake's answer to the first send
    return requests.post(gw + fx["path"], data=body_of(fx), headers=fx["headers"], timeout=5)


# --- kannel -------------------------------------------------------------------------------
def kannel_check(req: Recorded, mt: int, tracking: str) -> None:
    assert (req.method, urlsplit(req.path).path) == ("GET", "/cgi-bin/sendsms")
    q = query(req.path)
    assert {k: q[k] for k in ("username", "password", "from", "to", "charset", "coding", "dlr-mask")} == {
        "username": "gateway",
        "password": "sendsms-pw",
        "from": "1708",
        "to": CITIZEN,
        "charset": "UTF-8",
        "coding": "0",
        "dlr-mask": "31",
    }
    assert tracking in q["text"]
    assert re.fullmatch(
        rf"http://127\.0\.0\.1:\d+/sms/kannel/status\?id={mt}&status=%d&smsc_id=%i&token=\S+", q["dlr-url"]
    )


def kannel_dlr(gw: str, req: Recorded) -> requests.Response:
    # What Kannel does with the dlr-url: %d = 1 (delivered), %i = the SMSC (dlr_delivered.json).
    url = query(req.path)["dlr-url"].replace("%d", "1").replace("%i", "fake")
    return requests.get(gw + path_and_query(url), timeout=5)


# --- infobip ------------------------------------------------------------------------------
def infobip_answer(req: Recorded) -> tuple:
    return 200, json.dumps(
        {"messages": [{"messageId": "ib-4242", "status": {"groupId": 1, "groupName": "PENDING"}}]}
    )


def infobip_check(req: Recorded, mt: int, tracking: str) -> None:
    assert (req.method, req.path, req.headers["Authorization"]) == (
        "POST",
        "/sms/3/messages",
        "App ib-e2e-key",
    )
    [message] = req.json()["messages"]
    assert (message["sender"], message["destinations"]) == ("1708", [{"to": CITIZEN.lstrip("+")}])
    assert tracking in message["content"]["text"]
    hooks = message["webhooks"]
    assert (hooks["callbackData"], hooks["contentType"]) == (str(mt), "application/json")
    assert re.fullmatch(
        r"http://127\.0\.0\.1:\d+/sms/infobip/status\?token=test-inbound-secret", hooks["delivery"]["url"]
    )


def infobip_dlr(gw: str, req: Recorded) -> requests.Response:
    hooks = req.json()["messages"][0]["webhooks"]
    body = json.loads(body_of(load("infobip", "dlr_delivered_ours")))
    body["results"][0].update(messageId="ib-4242", callbackData=hooks["callbackData"])
    return requests.post(gw + path_and_query(hooks["delivery"]["url"]), json=body, timeout=5)


# --- twilio -------------------------------------------------------------------------------
TWILIO_TOKEN = load("twilio", "mo_gsm")["_signed_with"]["auth_token"]


def twilio_answer(req: Recorded) -> tuple:
    return 201, json.dumps({"sid": "SM" + "d" * 32, "status": "queued"})


def twilio_check(req: Recorded, mt: int, tracking: str) -> None:
    assert (req.method, req.path) == ("POST", f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json")
    import base64

    assert base64.b64decode(req.headers["Authorization"].removeprefix("Basic ")).decode() == (
        f"{TWILIO_SID}:{TWILIO_TOKEN}"
    )
    f = form(req)
    assert (f["To"], f["From"]) == (CITIZEN, "+15005550006") and tracking in f["Body"]
    assert f["StatusCallback"] == f"{TWILIO_PUBLIC}/sms/twilio/status?id={mt}&token=test-inbound-secret"


def twilio_dlr(gw: str, req: Recorded) -> requests.Response:
    callback = form(req)["StatusCallback"]
    params = {k: v[0] for k, v in parse_qs(load("twilio", "status_delivered")["body"]).items()}
    params["MessageSid"] = params["SmsSid"] = "SM" + "d" * 32
    headers = {"X-Twilio-Signature": signature(TWILIO_TOKEN, callback, params)}  # as Twilio signs it
    return requests.post(gw + path_and_query(callback), data=params, headers=headers, timeout=5)


CASES = [
    Case(
        "generic",
        "mo_form_local",
        lambda base: {
            "GATEWAY_INBOUND_TOKEN": "acc-inbound-secret",  # the recorded requests' token
            "GATEWAY_GENERIC_BASE_URL": base,
            "GATEWAY_GENERIC_SEND_TOKEN": SEND_TOKEN,
        },
        None,
        generic_check,
        generic_dlr,
    ),
    Case(
        "kannel",
        "mo_get_gsm",
        lambda base: {
            "GATEWAY_INBOUND_TOKEN": "test-inbound-token",
            "GATEWAY_KANNEL_BASE_URL": base,
            "GATEWAY_KANNEL_USERNAME": "gateway",
            "GATEWAY_KANNEL_PASSWORD": "sendsms-pw",
        },
        lambda req: (202, "0: Accepted for delivery", {"Content-Type": "text/html"}),
        kannel_check,
        kannel_dlr,
    ),
    Case(
        "infobip",
        "mo_gsm",
        lambda base: {
            "GATEWAY_INBOUND_TOKEN": "test-inbound-secret",
            "GATEWAY_INFOBIP_BASE_URL": base,
            "GATEWAY_INFOBIP_API_KEY": "ib-e2e-key",
        },
        infobip_answer,
        infobip_check,
        infobip_dlr,
    ),
    Case(
        "twilio",
        "mo_gsm",
        lambda base: {
            "GATEWAY_INBOUND_TOKEN": "test-inbound-secret",
            "GATEWAY_TWILIO_BASE_URL": base,
            "GATEWAY_TWILIO_ACCOUNT_SID": TWILIO_SID,
            "GATEWAY_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "GATEWAY_TWILIO_FROM": "+15005550006",
            "GATEWAY_PUBLIC_URL": TWILIO_PUBLIC,  # what Twilio calls; we are reached at 127.0.0.1
        },
        twilio_answer,
        twilio_check,
        twilio_dlr,
    ),
]


def replay(gw_url: str, fx: dict) -> requests.Response:
    """Send a recorded callback to the gateway as it was recorded."""
    url = f"{gw_url}{fx['path']}" + (f"?{fx['query_string']}" if fx.get("query_string") else "")
    headers = {
        k: v for k, v in fx["headers"].items() if k.lower() not in ("host", "content-length", "connection")
    }
    return requests.request(fx["method"], url, data=body_of(fx) or None, headers=headers, timeout=5)


def rows(tmp_path, sql: str) -> list[tuple]:
    engine = create_engine(f"sqlite:///{tmp_path}/gateway.db")
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_recorded_mo_reply_and_dlr_through_real_processes(case, tmp_path, redis_db):
    fake = start_fake_aggregator(on_send=case.answer)
    env = {
        "REDIS_URL": TEST_REDIS_URL,
        "GATEWAY_OUTBOUND": case.name,
        **case.env(fake.url.removesuffix("/send")),
    }
    gw = start_gateway(tmp_path, env)
    try:
        mo = replay(gw.url, load(case.name, case.mo))
        assert 200 <= mo.status_code < 300, mo.text
        assert wait_until(lambda: fake.requests, timeout=WAIT), gw.log()[-3000:]
        [req] = fake.requests
        [(tracking, sender)] = rows(tmp_path, "SELECT tracking_no, msisdn FROM reports")
        [(mt, to, aggregator)] = rows(tmp_path, "SELECT id, msisdn, aggregator FROM outbound_messages")
        assert (sender, to, aggregator) == (CITIZEN, CITIZEN, case.name)
        case.check(req, mt, tracking)

        assert case.dlr(gw.url, req).status_code == 200
        delivered = wait_until(
            lambda: rows(tmp_path, "SELECT status FROM outbound_messages") == [("DELIVERED",)], timeout=WAIT
        )
        assert delivered, rows(tmp_path, "SELECT status, external_id, last_error FROM outbound_messages")
        assert len(fake.requests) == 1  # nothing sent twice
        for secret in ("81234567890", "Melati", "Sudirman", TWILIO_TOKEN, SEND_TOKEN):
            assert secret not in gw.log(), f"{secret!r} in the gateway log"
    finally:
        gw.stop()
        fake.close()
