"""Whole USSD sessions through the real gateway processes (gunicorn + RQ workers with the
scheduler), on both wire formats, against a real fake aggregator on 127.0.0.1: file (END with
the tracking number, then the SMS), check, answer a follow-up, and a dropped session whose
draft gets its one SMS."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import INBOUND_TOKEN
from tests.support.processes import wait_until

pytestmark = pytest.mark.e2e
OWNER = "+6281298765432"
AUTH = {"Authorization": f"Bearer {INBOUND_TOKEN}"}
COMPLAINT = "Lampu jalan Jl. Kenanga 3*4 mati total sejak seminggu"


@pytest.fixture
def gateway_env(gateway_env):
    """Sessions expire after 2 s, so the dead-draft SMS comes within the test."""
    return {**gateway_env, "GATEWAY_USSD_SESSION_TTL": "2"}


def at_session(gw, session_id: str, inputs: list[str]) -> list[str]:
    """Africa's Talking: every step re-sends all inputs so far joined by `*`."""
    screens = []
    for n in range(len(inputs) + 1):
        form = {
            "sessionId": session_id,
            "serviceCode": "*384*1708#",
            "phoneNumber": OWNER,
            "networkCode": "51010",
            "text": "*".join(inputs[:n]),
        }
        resp = requests.post(f"{gw.url}/ussd/africastalking", data=form, headers=AUTH, timeout=5)
        assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/plain")
        screens.append(resp.text)
    return screens


def generic_session(gw, session_id: str, inputs: list[str]) -> list[dict]:
    answers = []
    for latest in ["", *inputs]:
        body = {"session_id": session_id, "msisdn": "081298765432", "input": latest}
        resp = requests.post(f"{gw.url}/ussd/generic", json=body, headers=AUTH, timeout=5)
        assert resp.status_code == 200
        answers.append(resp.json())
    return answers


def test_file_check_answer_and_dropped_draft_through_real_processes(gateway, fake_aggregator, tmp_path):
    # File through Africa's Talking; the free text contains "*".
    screens = at_session(gateway, "ATUid_e2e_1", ["1", COMPLAINT, "1", "1"])
    assert [s[:4] for s in screens] == ["CON ", "CON ", "CON ", "CON ", "END "]
    [number] = set(re.findall(r"\d{10}", screens[-1]))
    sms = wait_until(lambda: fake_aggregator.sent(), timeout=15)
    assert sms and sms[0]["to"] == OWNER and number in sms[0]["text"]

    # An officer asks a follow-up (written straight into the store here).
    engine = create_engine(f"sqlite:///{tmp_path}/gateway.db")
    with engine.begin() as conn:
        report_id, stored = conn.execute(
            text("SELECT id, text FROM reports WHERE tracking_no = :n"), {"n": number}
        ).one()
        conn.execute(
            text(
                "INSERT INTO report_events (report_id, kind, text, actor, created_at)"
                " VALUES (:r, 'FOLLOW_UP', :t, 'petugas', CURRENT_TIMESTAMP)"
            ),
            {"r": report_id, "t": "Di depan rumah nomor berapa tepatnya? " * 4},
        )
    assert stored == COMPLAINT

    # Check and answer through the generic format.
    checked = generic_session(gateway, "gen-e2e-1", ["2", number])
    assert checked[-1]["action"] == "end" and f"Laporan {number}: Belum diverifikasi" in checked[-1]["text"]
    answered = generic_session(gateway, "gen-e2e-2", ["3", number, "98", "1", "Depan rumah no 12*B"])
    assert answered[2]["text"].startswith("Pesan petugas (1/") and answered[3]["text"].startswith(
        "Pesan petugas (2/"
    )
    assert answered[-1]["action"] == "end" and "diterima" in answered[-1]["text"]
    with engine.connect() as conn:
        replies = (
            conn.execute(text("SELECT text FROM report_events WHERE kind = 'CITIZEN_REPLY'")).scalars().all()
        )
    assert replies == ["Depan rumah no 12*B"]

    # A session dropped mid-draft: one SMS after the session TTL (2 s) + grace, from the worker.
    generic_session(gateway, "gen-e2e-3", ["1", "Sampah menumpuk di pasar lama berhari-hari"])
    notice = wait_until(
        lambda: [m for m in fake_aggregator.sent() if "belum terkirim" in m["text"]], timeout=20
    )
    assert notice and notice[0]["to"] == OWNER
    # Dialling again offers the draft back.
    again = generic_session(gateway, "gen-e2e-4", [])
    assert again[0]["text"].startswith('Laporan belum terkirim:\n"Sampah menumpuk')
    engine.dispose()

    assert len([m for m in fake_aggregator.sent() if "belum terkirim" in m["text"]]) == 1
    log = gateway.log()
    for secret in ("6281298765432", "081298765432", "Kenanga", "Sampah", "Depan rumah", INBOUND_TOKEN):
        assert secret not in log
