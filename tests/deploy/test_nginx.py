"""The deployment of deploy/ as real processes: nginx (the shipped site) in front of gunicorn
(deploy/gunicorn.conf.py, as the systemd unit starts it), on loopback.

- Slow clients: 50 connections that send half a request line and stop hold both sync gunicorn
  workers, so a normal MO sent straight to gunicorn waits for its timeout; through nginx the
  same attack leaves normal MOs fast (nginx reads whole requests before passing them on).
- Every inbound route works through the proxy, a body over the limit gets 413, and neither
  access log holds the `?token=` secret.
- With GATEWAY_TRUSTED_PROXIES=1 the app sees the public URL and the client's address.

Run: pytest -m deploy -s tests/deploy (prints the p99 figures).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import count

import flask
import pytest
import requests
from werkzeug.serving import make_server

from config.settings import load_settings
from gateway.app import create_app
from gateway.runtime import build_runtime
from gateway.services.tokens import create_token
from tests.conftest import INBOUND_TOKEN, TEST_REDIS_URL
from tests.support.nginx import require_nginx, start_nginx
from tests.support.processes import free_port, start_receiver

pytestmark = pytest.mark.deploy

SLOW_CLIENTS = 50
AUTH = {"Authorization": f"Bearer {INBOUND_TOKEN}"}
_ids = count(1)


def _env(tmp_path, trusted: str = "1") -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path}/gateway.db",
        "REDIS_URL": TEST_REDIS_URL,
        "GATEWAY_INBOUND_TOKEN": INBOUND_TOKEN,
        "GATEWAY_TRUSTED_PROXIES": trusted,
        "GATEWAY_WEB_WORKERS": "2",
    }


@pytest.fixture(scope="module")
def receiver(tmp_path_factory):
    """One receiver (and nginx) for the module: each start costs seconds on 2 cores."""
    require_nginx()
    tmp_path = tmp_path_factory.mktemp("receiver")
    env = _env(tmp_path)
    gw = start_receiver(tmp_path, env)  # after `alembic upgrade head`, as a deployment does
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def proxy(tmp_path_factory, receiver):
    nginx = start_nginx(tmp_path_factory.mktemp("nginx"), receiver.url.removeprefix("http://"))
    yield nginx
    nginx.stop()


def _mo(base: str, timeout: float) -> float:
    """Send one normal MO; its latency in seconds (`timeout` when it got no answer in time)."""
    n = next(_ids)
    start = time.monotonic()
    try:
        r = requests.post(
            f"{base}/sms/generic/inbound",
            headers={**AUTH, "Connection": "close"},
            data={
                "from": "081234567890",
                "to": "1708",
                "id": f"mo-{n}",
                "text": f"LAPOR jalan rusak nomor {n}",
            },
            timeout=timeout,
        )
    except (requests.Timeout, requests.ConnectionError):
        return timeout
    assert r.status_code == 202, r.text
    return time.monotonic() - start


def _latencies(base: str, n: int, concurrency: int, timeout: float) -> list[float]:
    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(lambda _: _mo(base, timeout), range(n)))


def p99(values: list[float]) -> float:
    """The 99th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[math.ceil(0.99 * len(ordered)) - 1]


@contextlib.contextmanager
def slow_clients(port: int, n: int = SLOW_CLIENTS):
    """`n` connections that each send half a request line and then nothing."""
    socks = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"POST /sms/generic/inbound HTT")
            socks.append(s)
        time.sleep(0.5)  # both gunicorn workers have accepted one by now
        yield socks
    finally:
        for s in socks:
            s.close()


def still_open(s: socket.socket) -> bool:
    """Whether the server has not closed this connection yet (nothing to read, no EOF)."""
    s.setblocking(False)
    try:
        return False if s.recv(1, socket.MSG_PEEK) == b"" else True
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        s.setblocking(True)


def test_slow_clients_stall_gunicorn_alone_but_not_behind_nginx(receiver, proxy):
    gunicorn_port = int(receiver.url.rsplit(":", 1)[1])
    cap = 5.0  # seconds a normal MO is given straight at gunicorn (its timeout is 30 s)
    with slow_clients(gunicorn_port):
        direct = _latencies(receiver.url, n=8, concurrency=8, timeout=cap)
    # Closing the slow connections frees the workers (they read EOF).
    assert max(_latencies(receiver.url, n=4, concurrency=1, timeout=10)) < 5

    with slow_clients(proxy.port) as socks:
        started = time.monotonic()
        behind = _latencies(proxy.url, n=200, concurrency=4, timeout=cap)
        elapsed = time.monotonic() - started
        held = sum(still_open(s) for s in socks)
    print(
        f"\nslow clients ({SLOW_CLIENTS}, 2 sync gunicorn workers): normal MO p99 straight at gunicorn "
        f"{p99(direct):.3f} s (n={len(direct)}, capped at {cap:.0f} s); through nginx {p99(behind):.3f} s "
        f"(n={len(behind)}, median {sorted(behind)[len(behind) // 2]:.3f} s, {elapsed:.1f} s run, "
        f"{held}/{SLOW_CLIENTS} slow connections still held)"
    )
    # The attack works on gunicorn alone (else the nginx figure would prove nothing)...
    assert p99(direct) >= cap * 0.9
    # ...and behind nginx it does not delay normal MOs while every slow client is still held.
    assert held == SLOW_CLIENTS
    assert p99(behind) < 1.0


@pytest.fixture(scope="module")
def admin_token(receiver):
    rt = build_runtime(load_settings(_env(receiver.log_path.parent), dotenv_path=None))
    try:
        yield create_token(rt, "nginx-test", "viewer")
    finally:
        rt.engine.dispose()


ROUTES = [
    pytest.param(
        "POST",
        "/sms/generic/inbound",
        {
            "headers": AUTH,
            "data": {"from": "081234567890", "to": "1708", "id": "r-1", "text": "LAPOR jalan rusak"},
        },
        202,
        id="generic-inbound",
    ),
    pytest.param(
        "POST",
        "/sms/generic/status",
        {"headers": AUTH, "data": {"id": "agg-1", "status": "DELIVERED"}},
        200,
        id="generic-status",
    ),
    pytest.param(
        "GET",
        "/sms/kannel/inbound",
        {
            "params": {
                "from": "+6281234567890",
                "to": "1708",
                "text": "LAPOR lampu mati",
                "id": "k-1",
                "token": INBOUND_TOKEN,
            }
        },
        202,
        id="kannel-get-token-in-query",
    ),
    pytest.param(
        "POST",
        "/ussd/generic",
        {"headers": AUTH, "json": {"session_id": "s-1", "msisdn": "081234567890", "input": ""}},
        200,
        id="ussd-generic",
    ),
    pytest.param(
        "POST",
        "/ussd/africastalking",
        {
            "headers": AUTH,
            "data": {
                "sessionId": "AT-1",
                "serviceCode": "*1708#",
                "phoneNumber": "+6281234567890",
                "text": "",
            },
        },
        200,
        id="ussd-africastalking",
    ),
    pytest.param("GET", "/api/v1/reports", {"admin": True}, 200, id="admin-api-bearer"),
    pytest.param("GET", "/api/v1/reports", {}, 401, id="admin-api-no-token"),
    pytest.param(
        "POST", "/sms/generic/inbound", {"data": {"from": "0812", "id": "x"}}, 401, id="inbound-no-token"
    ),
    pytest.param(
        "POST",
        "/sms/generic/inbound",
        {"headers": AUTH, "data": {"text": "x" * 17000}},
        413,
        id="body-over-16k",
    ),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), ROUTES)
def test_every_inbound_route_works_through_nginx(proxy, receiver, admin_token, method, path, kwargs, status):
    kwargs = dict(kwargs)
    if kwargs.pop("admin", False):
        kwargs["headers"] = {"Authorization": f"Bearer {admin_token}"}
    reached_gunicorn = receiver.log().count(f"{method} {path}")
    r = requests.request(method, f"{proxy.url}{path}", timeout=10, **kwargs)
    assert r.status_code == status, r.text
    if status == 413:  # refused by nginx in the gateway's JSON shape; gunicorn never saw it
        assert r.json()["error"] == "request_entity_too_large"
        time.sleep(0.2)
        assert receiver.log().count(f"{method} {path}") == reached_gunicorn
    # The access logs name the route, never the secret in the query.
    time.sleep(0.2)
    assert f"{method} {path}" in proxy.access_log()
    if status != 413:  # passed on exactly once
        assert receiver.log().count(f"{method} {path}") == reached_gunicorn + 1
    for log in (proxy.access_log(), receiver.log()):
        assert INBOUND_TOKEN not in log and "token=" not in log


def test_gunicorn_logs_the_client_address_nginx_forwarded(proxy, receiver):
    """GATEWAY_TRUSTED_PROXIES=1: the receiver (its access log) sees the address the request
    came from (127.0.0.5 here), not nginx's 127.0.0.1; a forged X-Forwarded-For is ignored."""
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10, source_address=("127.0.0.5", 0))
    conn.request("GET", "/api/v1/openapi.json", headers={"X-Forwarded-For": "198.51.100.1"})
    assert conn.getresponse().status == 200
    conn.close()
    time.sleep(0.2)
    line = [line for line in receiver.log().splitlines() if "/api/v1/openapi.json" in line][-1]
    # After the log format's prefix (time, level, logger, pid, correlation id): the address.
    assert " gunicorn.access " in line and ' 127.0.0.5 "GET /api/v1/openapi.json"' in line, line


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        pytest.param("1", "http://sms.lapor.test:{port}/api/v1/openapi.json", id="trusted-public-url"),
        pytest.param("0", "http://sms.lapor.test/api/v1/openapi.json", id="untrusted-loses-the-port"),
    ],
)
def test_app_factory_behind_nginx_sees_the_url_the_client_called(tmp_path, redis_db, trusted, expected):
    """The app from the factory, served in this process behind the real nginx: the URL it
    sees for a request (what a URL-based signature is computed over) is the public one."""
    require_nginx()
    app = create_app(load_settings(_env(tmp_path, trusted), dotenv_path=None))
    seen: list[str] = []
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    nginx = start_nginx(tmp_path / "nginx", f"127.0.0.1:{port}")
    try:
        with flask.request_started.connected_to(lambda sender, **_: seen.append(flask.request.url), app):
            r = requests.get(
                f"{nginx.url}/api/v1/openapi.json",
                headers={"Host": f"sms.lapor.test:{nginx.port}"},
                timeout=10,
            )
        assert r.status_code == 200 and json.loads(r.text)["openapi"].startswith("3")
    finally:
        nginx.stop()
        server.shutdown()
    assert seen == [expected.format(port=nginx.port)]
