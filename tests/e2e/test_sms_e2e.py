"""The whole SMS pipeline as real processes (gunicorn + RQ workers + cron, started by the same
script as `make run`) against a real fake aggregator on 127.0.0.1:
LAPOR -> reply with tracking number -> CEK -> status -> BALAS -> ack -> DLR -> DELIVERED."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import INBOUND_TOKEN, SEND_TOKEN
from tests.support.logs import is_formatted, lines_by_correlation
from tests.support.processes import wait_until

pytestmark = pytest.mark.e2e
OWNER = "081298765432"


@pytest.fixture(params=[pytest.param("text", id="text-logs"), pytest.param("json", id="json-logs")])
def gateway_env(request, gateway_env):
    """The e2e run in each log format (GATEWAY_LOG_FORMAT)."""
    return {**gateway_env, "GATEWAY_LOG_FORMAT": request.param}


def send_mo(gw, text: str, msg_id: str, sender: str = OWNER, in_query: bool = False) -> requests.Response:
    """POST an MO; `in_query`: the token as `?token=`, as aggregators that only configure a URL do."""
    auth = (
        {"params": {"token": INBOUND_TOKEN}}
        if in_query
        else {"headers": {"Authorization": f"Bearer {INBOUND_TOKEN}"}}
    )
    return requests.post(
        f"{gw.url}/sms/generic/inbound",
        data={"from": sender, "to": "1708", "text": text, "id": msg_id},
        timeout=5,
        **auth,
    )


def mo_id(response: requests.Response) -> int:
    [inbound_id] = response.json()["ids"]
    return inbound_id


def in_order(messages: list[str], steps: list[str]) -> bool:
    found = iter(messages)
    return all(any(step in message for message in found) for step in steps)


def next_reply(fake, count: int) -> dict:
    sent = wait_until(lambda: fake.sent() if len(fake.sent()) >= count else None, timeout=15)
    assert sent, f"no reply number {count} reached the aggregator"
    return sent[count - 1]


def test_lapor_cek_balas_and_delivery_through_real_processes(gateway, fake_aggregator, tmp_path):
    lapor = send_mo(gateway, "LAPOR Saluran air di Jl. Melati RT 02 tersumbat", "e2e-1")
    assert lapor.status_code == 202
    reply = next_reply(fake_aggregator, 1)
    assert reply["to"] == "+6281298765432"
    [tracking] = set(re.findall(r"\d{10}", reply["text"]))

    cek = send_mo(gateway, f"CEK#{tracking}", "e2e-2", in_query=True)
    assert cek.status_code == 202
    status = next_reply(fake_aggregator, 2)["text"]
    assert tracking in status and "Belum diverifikasi" in status

    balas = send_mo(gateway, f"bls {tracking} belum ada perbaikan", "e2e-3")
    assert balas.status_code == 202
    assert "diterima" in next_reply(fake_aggregator, 3)["text"]

    # The aggregator reports delivery of the first reply by its own id.
    dlr = requests.post(
        f"{gateway.url}/sms/generic/status",
        json={"id": "agg-1", "status": "DELIVERED"},
        headers={"Authorization": f"Bearer {INBOUND_TOKEN}"},
        timeout=5,
    )
    assert dlr.status_code == 200
    engine = create_engine(f"sqlite:///{tmp_path}/gateway.db")
    with engine.connect() as conn:
        states = dict(conn.execute(text("SELECT external_id, status FROM outbound_messages")).all())
        events = [r[0] for r in conn.execute(text("SELECT kind FROM report_events ORDER BY id"))]
    engine.dispose()
    assert states == {"agg-1": "DELIVERED", "agg-2": "ACCEPTED", "agg-3": "ACCEPTED"}
    assert events == ["CREATED", "CITIZEN_REPLY"]
    assert len(fake_aggregator.sent()) == 3  # nothing sent twice

    # Each MO's life in the processes' own output (receiver, worker), by its correlation id.
    expected = {
        mo_id(lapor): ["MO received", "MO filed: REPORT", "reply queued", "sent to", "MT 1 delivered"],
        mo_id(cek): ["MO received", "MO answered: CHECK", "reply queued", "sent to"],
        mo_id(balas): ["MO received", "MO filed: REPLY", "reply queued", "sent to"],
    }
    by_mo = wait_until(lambda: _lifecycles_logged(gateway, expected), timeout=10)
    assert by_mo, lines_by_correlation(gateway.log())
    log = gateway.log()
    # Every process (gunicorn, its workers, the RQ pool and workers, cron) prints in one format;
    # only run-gateway.sh's own notes ("gateway: ...") are plain.
    plain = [line for line in log.splitlines() if not line.startswith("gateway: ") and not is_formatted(line)]
    assert not plain, plain
    # gunicorn's access log in the same format, with the path but never the query (`?token=`).
    access = [m for m in lines_by_correlation(log)["-"] if '"POST /sms/generic/inbound"' in m]
    assert len(access) == 3, access
    # No phone number, complaint text or secret anywhere in the logs.
    for secret in ("6281298765432", "081298765432", "Melati", "perbaikan", INBOUND_TOKEN, SEND_TOKEN):
        assert secret not in log


def _lifecycles_logged(gw, expected: dict[int, list[str]]) -> bool:
    grouped = lines_by_correlation(gw.log())
    return all(in_order(grouped.get(f"mo-{i}", []), steps) for i, steps in expected.items())
