"""The shared sender against real servers on 127.0.0.1: proxies from the environment are
still honoured although requests no longer re-reads the environment on every send."""

from __future__ import annotations

from gateway.aggregators.base import SendRequest
from gateway.sender import Sender
from tests.support.aggregator import start_fake_aggregator
from tests.support.processes import free_port


def test_an_environment_proxy_is_used(monkeypatch):
    proxy = start_fake_aggregator()  # records what reaches it, as a forward proxy would
    try:
        host, port = proxy.server.server_address[:2]
        for var in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("HTTP_PROXY", f"http://{host}:{port}")
        target = f"http://127.0.0.1:{free_port()}/send"  # nothing listens there: only the proxy can answer
        answer = Sender(timeout=2).submit(SendRequest("POST", target, json={"id": "1"}))
        assert answer.status_code == 200
        [seen] = proxy.requests
        assert seen.path == target  # a proxied request names the absolute URL
    finally:
        proxy.close()


def test_without_a_proxy_the_request_goes_straight_to_the_aggregator(monkeypatch):
    aggregator = start_fake_aggregator()
    try:
        for var in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(var, raising=False)
        answer = Sender(timeout=2).submit(SendRequest("POST", aggregator.url, json={"id": "2"}))
        assert answer.status_code == 200 and aggregator.requests[0].path == "/send"
    finally:
        aggregator.close()
