"""The whole SMS pipeline through a real Kannel: citizen phone (fakesmsc) -> bearerbox -> smsbox
sms-service (get-url or post-url) -> the gateway as real processes (gunicorn + RQ workers + cron)
-> GET /cgi-bin/sendsms -> bearerbox -> fakesmsc, and Kannel's DLRs back through the dlr-url:
LAPOR -> reply with tracking number -> CEK -> status -> BALAS -> ack -> every MT DELIVERED,
plus a UCS-2 (Arabic + emoji) LAPOR filed with its text intact. Skipped without Kannel."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import INBOUND_TOKEN, TEST_REDIS_URL
from tests.support import processes
from tests.support.kannel import FakeMT, KannelHarness, kannel_harness, require_kannel
from tests.support.processes import start_gateway, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.kannel]

CITIZEN = "081298765432"  # as the fake SMSC reports the sender
CITIZEN_E164 = "+6281298765432"  # as the gateway addresses its replies
OTHER = "6285711122233"
COMPLAINT = "LAPOR Saluran air di Jl. Melati RT 02 tersumbat"
UCS2_COMPLAINT = "Jembatan جسر rusak parah 😀"
MO_QUERY = "from=%p&to=%P&text=%a&id=%I&ts=%T&coding=%c&charset=%C&token=" + INBOUND_TOKEN
WAIT = 15.0


@pytest.fixture(params=["get", "post"])
def system(request, tmp_path, redis_db):
    """Kannel and the gateway wired to each other. Kannel's MO URL needs the gateway's port and
    the gateway needs Kannel's sendsms URL, so the gateway's port is chosen first, Kannel is
    started with it, then the gateway is started on that very port."""
    require_kannel()
    port = processes.free_port()
    mo_url = f"http://127.0.0.1:{port}/sms/kannel/inbound?{MO_QUERY}"
    with kannel_harness(mo_url, post=request.param == "post", workdir=tmp_path / "kannel") as kannel:
        gw = start_gateway(
            tmp_path,
            {
                "REDIS_URL": TEST_REDIS_URL,
                "GATEWAY_INBOUND_TOKEN": INBOUND_TOKEN,
                "GATEWAY_OUTBOUND": "kannel",
                "GATEWAY_KANNEL_SENDSMS_URL": kannel.sendsms_url,
                "GATEWAY_KANNEL_USERNAME": kannel.username,
                "GATEWAY_KANNEL_PASSWORD": kannel.password,
            },
            port=port,
        )
        try:
            assert gw.url == f"http://127.0.0.1:{port}"
            yield gw, kannel
        finally:
            gw.stop()


def next_mt(kannel: KannelHarness, count: int) -> FakeMT:
    """The `count`-th MT fakesmsc received (waits, bounded)."""
    got = kannel.wait_for_mt(count, timeout=WAIT)
    assert len(got) >= count, (
        f"MT number {count} never reached fakesmsc (got {len(got)}); smsbox log tail:\n"
        + kannel.log("smsbox")[-2000:]
    )
    return got[count - 1]


def db_rows(tmp_path, sql: str) -> list[tuple]:
    engine = create_engine(f"sqlite:///{tmp_path}/gateway.db")
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def test_lapor_cek_balas_dlr_and_ucs2_through_real_kannel(system, tmp_path):
    gw, kannel = system

    # (1) LAPOR -> report filed, reply with a 10-digit tracking number to the citizen.
    kannel.inject_mo(CITIZEN, "1708", COMPLAINT)
    reply = next_mt(kannel, 1)
    assert (reply.sender, reply.receiver, reply.coding) == ("1708", CITIZEN_E164, "text")
    [tracking] = set(re.findall(r"\d{10}", reply.text))

    # (2) CEK -> the status, to the reporter's own number.
    kannel.inject_mo(CITIZEN, "1708", f"CEK {tracking}")
    status = next_mt(kannel, 2)
    assert status.receiver == CITIZEN_E164
    assert tracking in status.text and "Belum diverifikasi" in status.text

    # (3) BALAS -> acknowledgement.
    kannel.inject_mo(CITIZEN, "1708", f"BALAS {tracking} belum ada perbaikan sampai hari ini")
    ack = next_mt(kannel, 3)
    assert ack.receiver == CITIZEN_E164 and "diterima" in ack.text

    # (5) A UCS-2 MO (Arabic + emoji) is filed with its text intact.
    kannel.inject_mo(OTHER, "1708", f"LAPOR {UCS2_COMPLAINT}")
    ucs2_reply = next_mt(kannel, 4)
    assert ucs2_reply.receiver == "+" + OTHER
    [tracking2] = set(re.findall(r"\d{10}", ucs2_reply.text))
    assert tracking2 != tracking

    reports = dict(db_rows(tmp_path, "SELECT tracking_no, text FROM reports"))
    assert set(reports) == {tracking, tracking2}
    assert "Melati RT 02 tersumbat" in reports[tracking]
    assert UCS2_COMPLAINT in reports[tracking2], reports[tracking2]
    events = [r[0] for r in db_rows(tmp_path, "SELECT kind FROM report_events ORDER BY id")]
    assert events == ["CREATED", "CITIZEN_REPLY", "CREATED"]

    # (4) Kannel's DLRs (8 = SMSC accepted, then 1 = delivered) make every MT DELIVERED.
    def all_delivered():
        rows = db_rows(tmp_path, "SELECT status FROM outbound_messages")
        return rows if len(rows) == 4 and all(s == "DELIVERED" for (s,) in rows) else None

    assert wait_until(all_delivered, timeout=WAIT), db_rows(
        tmp_path, "SELECT id, status, attempts, last_error FROM outbound_messages"
    )
    inbound = db_rows(tmp_path, "SELECT aggregator, status FROM inbound_messages")
    assert len(inbound) == 4 and {a for a, _ in inbound} == {"kannel"}

    # Nothing sent twice, and no phone number, complaint text or secret in the gateway's log.
    assert len(kannel.received_mt()) == 4
    log = gw.log()
    for secret in (
        "81298765432",
        "85711122233",
        "Melati",
        "perbaikan",
        "Jembatan",
        INBOUND_TOKEN,
        kannel.password,
    ):
        assert secret not in log, f"{secret!r} in the gateway log"
    # Any Indonesian mobile number (not inside an id such as an RQ job UUID).
    phone = re.search(r"(?<![\w-])(?:\+?62|0)8\d{7,11}(?![\w-])", log)
    assert phone is None, f"a phone number in the gateway log: {phone and phone.group()}"
