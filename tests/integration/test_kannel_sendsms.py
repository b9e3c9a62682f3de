"""The Kannel adapter against a real Kannel (bearerbox + smsbox + fakesmsc on 127.0.0.1).

One Kannel serves the whole module; its sms-service and the dlr-urls point at a recording HTTP
server standing in for the gateway. Skipped when the Debian kannel packages are missing.
"""

from __future__ import annotations

import dataclasses
import time

import pytest
import requests

from gateway.aggregators.base import OutboundSMS, SendResponse, StatusUpdate
from gateway.aggregators.kannel import Kannel, KannelConfig
from gateway.errors import SendError
from tests.support.kannel import RecordingServer, kannel_harness, require_kannel, wire_request

pytestmark = pytest.mark.kannel
KANNEL = Kannel()
TOKEN = "integration-token"
MO_QUERY = "from=%p&to=%P&text=%a&id=%I&ts=%T&coding=%c&charset=%C&token=" + TOKEN


@pytest.fixture(scope="module")
def peer():
    with RecordingServer() as server:
        yield server


@pytest.fixture(scope="module")
def kannel(peer):
    require_kannel()
    with kannel_harness(f"{peer.url}/sms/kannel/inbound?{MO_QUERY}") as harness:
        yield harness


@pytest.fixture
def settings(kannel, peer):
    return KannelConfig(
        public_url=peer.url,
        inbound_token=TOKEN,
        sendsms_url=kannel.sendsms_url,
        username=kannel.username,
        password=kannel.password,
    )


def send(sms: OutboundSMS, settings) -> str:
    req = KANNEL.build_send(sms, settings)
    resp = requests.request(req.method, req.url, params=req.params, timeout=5)
    return KANNEL.read_send_response(SendResponse(resp.status_code, resp.text, dict(resp.headers)))


def statuses_for(
    peer: RecordingServer, gateway_id: int, count: int, timeout: float = 5.0
) -> list[StatusUpdate]:
    """The DLRs Kannel sent for `gateway_id`, parsed; waits (bounded) until `count` arrived."""
    deadline = time.monotonic() + timeout
    while True:
        found = [
            update
            for rec in list(peer.requests)
            if rec.raw_path.startswith(f"/sms/kannel/status?id={gateway_id}&")
            for update in KANNEL.parse_status(wire_request(rec.method, rec.raw_path, rec.headers, rec.body))
        ]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


@pytest.mark.parametrize(
    "gateway_id, text, coding",
    [
        pytest.param(501, "Laporan 12345678 diterima. Ketik CEK 12345678 untuk status.", "text", id="gsm7"),
        pytest.param(502, "Terima kasih “ü” – جسر 😀", "ucs-2", id="ucs2"),
    ],
)
def test_sendsms_accepted_delivered_and_reported(kannel, peer, settings, gateway_id, text, coding):
    before = len(kannel.received_mt())
    assert send(OutboundSMS(gateway_id, "+6281234567890", "1708", text), settings) == ""

    mt = kannel.wait_for_mt(before + 1)[before:]
    assert [(m.sender, m.receiver, m.coding, m.text) for m in mt] == [
        ("1708", "+6281234567890", coding, text)
    ]

    got = statuses_for(peer, gateway_id, 2)
    # Two DLR events, 8 (SMSC accepted) and 1 (delivered); smsbox may call them in either order.
    assert sorted((s.message_ref, s.status, s.raw_status) for s in got) == [
        (str(gateway_id), "DELIVERED", "1"),
        (str(gateway_id), "SENT", "8"),
    ]


def test_wrong_credentials_are_permanent(kannel, settings):
    bad = dataclasses.replace(settings, password="wrong")
    with pytest.raises(SendError) as err:
        send(OutboundSMS(503, "+6281234567890", "1708", "x"), bad)
    assert err.value.retryable is False
    assert "403" in err.value.reason and "wrong" not in err.value.reason


def test_mo_reaches_the_gateway_url_and_parses(kannel, peer):
    before = len(peer.requests)
    kannel.inject_mo("6281234567890", "1708", "LAPOR lampu jalan mati ü")
    recs = [r for r in peer.wait_for(before + 1)[before:] if r.raw_path.startswith("/sms/kannel/inbound?")]
    assert recs, "Kannel did not call the get-url"
    (sms,) = KANNEL.parse_inbound(
        wire_request(recs[0].method, recs[0].raw_path, recs[0].headers, recs[0].body)
    )
    assert (sms.sender, sms.to, sms.text) == ("6281234567890", "1708", "LAPOR lampu jalan mati ü")
    assert len(sms.external_id) == 36 and sms.sent_at is not None
