"""The whole SMS pipeline as real processes (gunicorn + RQ workers + cron, started by the same
script as `make run`) against a real fake aggregator on 127.0.0.1:
LAPOR -> reply with tracking number -> CEK -> status -> BALAS -> ack -> DLR -> DELIVERED."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import INBOUND_TOKEN
from tests.support.processes import wait_until

pytestmark = pytest.mark.e2e
OWNER = "081298765432"


def send_mo(gw, text: str, msg_id: str, sender: str = OWNER) -> requests.Response:
    return requests.post(
        f"{gw.url}/sms/generic/inbound",
        data={"from": sender, "to": "1708", "text": text, "id": msg_id},
        headers={"Authorization": f"Bearer {INBOUND_TOKEN}"},
        timeout=5,
    )


def next_reply(fake, count: int) -> dict:
    sent = wait_until(lambda: fake.sent() if len(fake.sent()) >= count else None, timeout=15)
    assert sent, f"no reply number {count} reached the aggregator"
    return sent[count - 1]


def test_lapor_cek_balas_and_delivery_through_real_processes(gateway, fake_aggregator, tmp_path):
    assert send_mo(gateway, "LAPOR Saluran air di Jl. Melati RT 02 tersumbat", "e2e-1").status_code == 202
    reply = next_reply(fake_aggregator, 1)
    assert reply["to"] == "+6281298765432"
    [tracking] = set(re.findall(r"\d{10}", reply["text"]))

    assert send_mo(gateway, f"CEK#{tracking}", "e2e-2").status_code == 202
    status = next_reply(fake_aggregator, 2)["text"]
    assert tracking in status and "Belum diverifikasi" in status

    assert send_mo(gateway, f"bls {tracking} belum ada perbaikan", "e2e-3").status_code == 202
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
    # Nothing sent twice, and no phone number or complaint text in the logs.
    assert len(fake_aggregator.sent()) == 3
    log = gateway.log()
    assert "6281298765432" not in log and "081298765432" not in log and "Melati" not in log
    assert INBOUND_TOKEN not in log
