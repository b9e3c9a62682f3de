"""The aggregator seam: an aggregator that exists only in this file, registered by a fixture
(one registry line, taken out again afterwards), gets its routes, its own GATEWAY_T3ST_*
settings, its send-rate cap and MT sending against GATEWAY_T3ST_BASE_URL, with no other file
changed. Also: GATEWAY_OUTBOUND=log is a sender, not an aggregator (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from config.settings import load_settings
from gateway.aggregators import REGISTRY
from gateway.aggregators.base import (
    Aggregator,
    AggregatorConfig,
    InboundSMS,
    OutboundSMS,
    SendRequest,
    SendResponse,
    StatusUpdate,
    WireRequest,
    setting,
)
from gateway.aggregators.http_status import classify_http_failure
from gateway.app import create_app
from gateway.errors import CallbackRefused, ConfigError, InvalidPayload
from gateway.models import InboundMessage
from gateway.runtime import build_runtime
from gateway.sender import LogSender
from gateway.services.outbox import queue_message, send_outbound
from tests.conftest import INBOUND_TOKEN, TEST_REDIS_URL, _database_url
from tests.store.helpers import AUTH, outbox

NAME = "t3st"  # a digit in the name: its variables are GATEWAY_T3ST_*
API_KEY = "t3st-api-key"
TO = "+6281234567890"


@dataclass(frozen=True)
class T3stConfig(AggregatorConfig):
    base_url: str = setting("https://api.t3st.invalid", url=True)
    api_key: str = setting("", required=True, secret=True)
    signature_secret: str = setting("", secret=True)


class T3st(Aggregator):
    """A small JSON aggregator with an optional HMAC signature over the body."""

    name = NAME
    Config = T3stConfig
    STATES = {"ok": "DELIVERED", "fail": "UNDELIVERED"}

    def parse_inbound(self, req: WireRequest) -> list[InboundSMS]:
        data = req.json or {}
        for key in ("msisdn", "text", "mid"):
            if not isinstance(data.get(key), str):
                raise InvalidPayload(key, "is required")
        return [InboundSMS(data["msisdn"], "1708", data["text"], data["mid"])]

    def parse_status(self, req: WireRequest) -> list[StatusUpdate]:
        state = req.field("state") or ""
        if state not in self.STATES:
            raise InvalidPayload("state", "must be ok or fail")
        return [StatusUpdate(req.field("mid") or "", self.STATES[state], state)]

    def build_send(self, sms: OutboundSMS, config: T3stConfig) -> SendRequest:
        body = {"to": sms.to, "text": sms.text, "ref": str(sms.gateway_id)}
        return SendRequest("POST", config.endpoint("/v1/sms"), json=body, headers={"X-Key": config.api_key})

    def read_send_response(self, resp: SendResponse) -> str:
        if 200 <= resp.status_code < 300:
            return resp.json()["id"]
        raise classify_http_failure(resp)

    def verify(self, req: WireRequest, config: T3stConfig, settings) -> str | None:
        if not config.signature_secret:
            return None
        expected = hmac.new(config.signature_secret.encode(), req.body, hashlib.sha256).hexdigest()
        given = req.header("X-T3st-Signature") or ""
        if not hmac.compare_digest(given, expected):
            raise CallbackRefused("bad X-T3st-Signature")
        return given


@pytest.fixture
def t3st(monkeypatch):
    """The one registry line, for this test only."""
    monkeypatch.setitem(REGISTRY, NAME, T3st())
    return REGISTRY[NAME]


def t3st_env(**extra) -> dict[str, str]:
    return {"GATEWAY_INBOUND_TOKEN": INBOUND_TOKEN, "GATEWAY_OUTBOUND": NAME, **extra}


@pytest.fixture
def settings(backend, tmp_path, redis_db, fake_aggregator, t3st):
    """The gateway configured to send through t3st, its API a real server on 127.0.0.1."""
    base = fake_aggregator.url.removesuffix("/send")
    env = t3st_env(
        DATABASE_URL=_database_url(backend, tmp_path),
        REDIS_URL=TEST_REDIS_URL,
        GATEWAY_T3ST_BASE_URL=base,
        GATEWAY_T3ST_API_KEY=API_KEY,
        GATEWAY_T3ST_TPS="7",
        GATEWAY_SEND_TIMEOUT="2",
    )
    return load_settings(env, dotenv_path=None)


def test_its_settings_come_from_its_own_variables(settings, fake_aggregator):
    config = settings.aggregator_config(NAME)
    assert (config.base_url, config.api_key, config.tps) == (
        fake_aggregator.url.removesuffix("/send"),
        API_KEY,
        7,
    )
    assert settings.send_caps()[NAME] == 7
    assert API_KEY not in repr(settings)  # a secret is never shown, not even in a repr


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        pytest.param({}, "GATEWAY_T3ST_API_KEY", id="required-when-it-sends"),
        pytest.param({"GATEWAY_T3ST_API_KEY": "k", "GATEWAY_T3ST_TPS": "-1"}, "GATEWAY_T3ST_TPS", id="tps"),
        pytest.param({"GATEWAY_T3ST_API_KEY": "k", "GATEWAY_T3ST_TPS": "x"}, "GATEWAY_T3ST_TPS", id="int"),
        pytest.param(
            {"GATEWAY_T3ST_API_KEY": "k", "GATEWAY_T3ST_BASE_URL": "api"}, "GATEWAY_T3ST_BASE_URL", id="url"
        ),
    ],
)
def test_its_invalid_settings_stop_start_up_naming_the_variable(t3st, env, variable):
    with pytest.raises(ConfigError, match=variable):
        load_settings(t3st_env(**env), dotenv_path=None)


def test_without_the_registry_line_it_does_not_exist():
    with pytest.raises(ConfigError, match="GATEWAY_OUTBOUND"):
        load_settings(t3st_env(GATEWAY_T3ST_API_KEY="k"), dotenv_path=None)


def test_it_sends_against_its_base_url_and_its_dlr_applies(rt, client, fake_aggregator):
    with rt.transaction() as s:
        oid = queue_message(s, rt, "seam:1", TO, "Halo dari 1708").id
    assert send_outbound(rt, oid) == "accepted"
    [req] = fake_aggregator.requests
    assert (req.method, req.path, req.headers["X-Key"]) == ("POST", "/v1/sms", API_KEY)
    assert req.json() == {"to": TO, "text": "Halo dari 1708", "ref": str(oid)}
    [out] = outbox(rt)
    assert (out.aggregator, out.status, out.external_id) == (NAME, "ACCEPTED", "agg-1")

    resp = client.post(f"/sms/{NAME}/status", data={"mid": "agg-1", "state": "ok"}, headers=AUTH)
    assert resp.status_code == 200
    assert outbox(rt)[0].status == "DELIVERED"


def test_its_inbound_route_stores_the_mo(rt, client):
    body = {"msisdn": "081234567890", "text": "LAPOR jalan rusak", "mid": "t-1"}
    assert client.post(f"/sms/{NAME}/inbound", json=body, headers=AUTH).status_code == 202
    assert client.post(f"/sms/{NAME}/inbound", json=body).status_code == 401  # the shared token
    bad = client.post(f"/sms/{NAME}/inbound", json={**body, "mid": None}, headers=AUTH)
    assert (bad.status_code, bad.get_json()["field"]) == (400, "mid")
    with rt.sessions() as s:
        assert s.scalars(select(InboundMessage.aggregator)).all() == [NAME]


def test_its_own_signature_is_checked_and_a_replay_is_a_duplicate(rt, t3st, monkeypatch):
    secret = "t3st-signing"
    signed = rt.__class__(
        **{**rt.__dict__, "settings": rt.settings.with_aggregator(NAME, signature_secret=secret)}
    )
    client = create_app(runtime=signed).test_client()
    body = json.dumps({"msisdn": "081234567890", "text": "LAPOR lampu mati", "mid": "t-2"}).encode()
    good = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

    def post(signature: str):
        headers = {**AUTH, "Content-Type": "application/json", "X-T3st-Signature": signature}
        return client.post(f"/sms/{NAME}/inbound", data=body, headers=headers)

    refused = post("0" * 64)
    assert (refused.status_code, refused.get_json()["reason"]) == (401, "bad X-T3st-Signature")
    assert not rt.redis.exists(f"gw:sig:{good}")
    assert post(good).status_code == 202
    assert rt.redis.exists(f"gw:sig:{good}")  # its replay key, remembered once handled
    monkeypatch.setattr(t3st, "parse_inbound", lambda req: pytest.fail("a replay is not handled again"))
    assert post(good).status_code == 202  # acknowledged as the duplicate it is
    with rt.sessions() as s:
        assert len(s.scalars(select(InboundMessage.id)).all()) == 1


def test_log_is_a_sender_chosen_at_start_up_not_an_aggregator(settings, request, caplog):
    from tests.conftest import prepare_database

    log_settings = settings.replace(outbound="log")
    prepare_database(log_settings, request)
    rt = build_runtime(log_settings)
    try:
        assert isinstance(rt.sender, LogSender) and "log" not in REGISTRY
        with rt.transaction() as s:
            oid = queue_message(s, rt, "log:1", TO, "Balasan 1708").id
        with caplog.at_level("INFO", logger="gateway.sender"):
            assert send_outbound(rt, oid) == "accepted"
        [out] = outbox(rt)
        assert (out.aggregator, out.status, out.external_id) == ("log", "ACCEPTED", f"log-{oid}")
        assert "+62812****890: Balasan 1708" in caplog.text and TO not in caplog.text
        client = create_app(runtime=rt).test_client()
        assert client.post("/sms/log/inbound", json={}, headers=AUTH).status_code == 404
    finally:
        rt.engine.dispose()
