"""The helpers the aggregator interface gives every adapter (gateway/aggregators/base.py)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import pytest
from flask import Flask

from gateway.aggregators.base import AggregatorConfig, WireRequest, env_var, setting
from gateway.web.wire import wire_request


@dataclass(frozen=True)
class SampleConfig(AggregatorConfig):
    subaccount_id: str = setting("")
    from_: str = setting("")
    window: int = setting(300, env="GATEWAY_SIGNATURE_WINDOW")


@pytest.mark.parametrize(
    ("aggregator", "field_name", "variable"),
    [
        pytest.param("8x8", "subaccount_id", "GATEWAY_8X8_SUBACCOUNT_ID", id="digits-in-the-name"),
        pytest.param("twilio", "from_", "GATEWAY_TWILIO_FROM", id="trailing-underscore-dropped"),
        pytest.param("infobip", "base_url", "GATEWAY_INFOBIP_BASE_URL", id="inherited"),
        pytest.param("generic", "window", "GATEWAY_SIGNATURE_WINDOW", id="named-explicitly"),
    ],
)
def test_each_field_reads_its_variable(aggregator, field_name, variable):
    assert env_var(aggregator, next(f for f in fields(SampleConfig) if f.name == field_name)) == variable


@pytest.mark.parametrize(
    ("base", "path", "url"),
    [
        pytest.param(
            "https://api.example.com", "/sms/2/text", "https://api.example.com/sms/2/text", id="plain"
        ),
        pytest.param("http://127.0.0.1:8080/", "sms", "http://127.0.0.1:8080/sms", id="slashes"),
    ],
)
def test_endpoint_appends_the_api_path_to_the_base_url(base, path, url):
    assert SampleConfig(base_url=base).endpoint(path) == url


def test_callback_url_carries_the_inbound_token_encoded():
    config = SampleConfig(public_url="https://gw.example.id/", inbound_token="a/b+c")
    assert config.callback_url("infobip", "status", {"id": "42"}) == (
        "https://gw.example.id/sms/infobip/status?id=42&token=a%2Fb%2Bc"
    )
    assert "a/b+c" not in repr(config)


def test_the_wire_request_has_the_path_and_headers_for_signature_schemes():
    app = Flask(__name__)
    with app.test_request_context(
        "/sms/twilio/inbound?x=1", method="POST", data={"Body": "hi"}, headers={"X-Twilio-Signature": "s"}
    ):
        from flask import request

        req = wire_request(request)
    assert (req.path, req.raw_query) == ("/sms/twilio/inbound", b"x=1")
    assert (req.header("x-twilio-signature"), req.header("X-TWILIO-SIGNATURE")) == ("s", "s")
    assert req.form == {"Body": "hi"} and WireRequest().header("missing") is None
