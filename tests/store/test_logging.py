"""One MO's life in the log (issue 13): received, filed, reply queued, sent, delivered, each
line under the MO's correlation id, and no phone number, complaint text or token anywhere."""

from __future__ import annotations

import json

import pytest

from tests.conftest import INBOUND_TOKEN, SEND_TOKEN
from tests.store.admin_helpers import bearer, no_quiet_hours
from tests.store.helpers import AUTH, outbox, post_mo, reports
from tests.support.logs import gateway_log, lines_by_correlation

SENDER = "081234567890"
COMPLAINT = "LAPOR lampu jalan di Gang Kenari padam sejak minggu lalu"
LIFECYCLE = ["MO received", "MO filed: REPORT", "reply queued as MT", "sent to", "delivered"]


def _in_order(messages: list[str], expected: list[str]) -> bool:
    found = iter(messages)
    return all(any(step in message for message in found) for step in expected)


@pytest.mark.parametrize("fmt", [pytest.param("text", id="text"), pytest.param("json", id="json")])
def test_an_mos_lifecycle_is_logged_under_its_correlation_id(client, rt, run_jobs, fmt, caplog):
    with gateway_log(fmt) as printed:
        response = post_mo(client, COMPLAINT, sender=SENDER)
        assert response.status_code == 202
        [inbound_id] = response.get_json()["ids"]
        run_jobs()
        [reply] = outbox(rt)
        report = {"id": reply.external_id, "status": "DELIVERED"}
        dlr = client.post("/sms/generic/status", json=report, headers=AUTH)
        assert dlr.status_code == 200
    output = printed.getvalue()
    if fmt == "json":
        assert all(json.loads(line) for line in output.splitlines())  # one object per line
    messages = lines_by_correlation(output)[f"mo-{inbound_id}"]
    assert _in_order(messages, LIFECYCLE), messages
    [filed] = [m for m in messages if m.startswith("MO filed")]
    assert filed == f"MO filed: REPORT, report {reports(rt)[0].tracking_no}"
    for secret in ("81234567890", "Kenari", "lampu jalan", INBOUND_TOKEN, SEND_TOKEN):
        assert secret not in output and secret not in caplog.text


def test_a_notice_is_followed_by_its_own_correlation_id(client, rt, run_jobs, caplog):
    """An MT that answers no MO (an agency's follow-up) is `mt-<id>` from queueing to DLR."""
    no_quiet_hours(rt)
    auth = bearer(rt, "admin", "petugas-dinas")
    assert post_mo(client, COMPLAINT, sender=SENDER).status_code == 202
    run_jobs()
    [tracking_no] = [r.tracking_no for r in reports(rt)]
    with gateway_log() as printed:
        follow_up = {"text": "Tim sudah survei ke Gang Kenari"}
        resp = client.post(f"/api/v1/reports/{tracking_no}/follow-ups", json=follow_up, headers=auth)
        assert resp.status_code == 201
        run_jobs()
        notice = outbox(rt)[-1]
        report = {"id": notice.external_id, "status": "DELIVERED"}
        assert client.post("/sms/generic/status", json=report, headers=AUTH).status_code == 200
    output = printed.getvalue()
    messages = lines_by_correlation(output)[f"mt-{notice.id}"]
    assert _in_order(messages, ["notice queued as MT", "sent to", "delivered"]), messages
    assert "FOLLOW_UP by token:petugas-dinas" in messages[0]
    for secret in ("81234567890", "Kenari", "survei", "lpr_"):
        assert secret not in output and secret not in caplog.text
