"""The issue's "done when", through the admin API alone plus the real SMS pipeline: find a
report filed by SMS, read its timeline, post a follow-up that reaches the citizen, see the
citizen's BALAS in the timeline, and watch the SLA clock close the next one."""

from __future__ import annotations

import logging
from datetime import timedelta

from gateway.gsm7 import is_gsm7, segments
from gateway.models import utcnow
from gateway.services import sla
from tests.store.admin_helpers import bearer, no_quiet_hours
from tests.store.helpers import post_mo

CITIZEN = "081234567890"


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_admin_handles_a_report_filed_by_sms_until_the_sla_clock_closes_it(
    client, rt, run_jobs, fake_aggregator
):
    logs = _Collect()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(logs)
    root.setLevel(logging.DEBUG)
    try:
        _handle_report(client, rt, run_jobs, fake_aggregator)
    finally:
        root.removeHandler(logs)
        root.setLevel(old_level)
    text = "\n".join(logs.lines)
    assert "SLA clock closed 1 report(s)" in text  # the collector works
    for secret in ("6281234567890", "081234567890", "jembatan", "survei", "terima kasih", "lpr_"):
        assert secret not in text


def _handle_report(client, rt, run_jobs, fake_aggregator):
    no_quiet_hours(rt)
    auth = bearer(rt, "admin", "petugas-dinas-pu")
    assert post_mo(client, "LAPOR jembatan gantung di Desa Sukamaju putus", sender=CITIZEN).status_code == 202
    run_jobs()

    # Find it by text, as a handler would.
    found = client.get("/api/v1/reports", query_string={"q": "jembatan gantung"}, headers=auth).get_json()
    assert found["total"] == 1
    [listed] = found["items"]
    no = listed["tracking_no"]
    assert listed["reporter"] == "+62812****890" and listed["channel"] == "SMS"

    # Post a follow-up: it reaches the citizen as an SMS naming the number and teaching BALAS.
    resp = client.post(
        f"/api/v1/reports/{no}/follow-ups",
        json={"text": "Tim Dinas PU sudah survei, perbaikan dijadwalkan minggu depan."},
        headers=auth,
    )
    assert resp.status_code == 201
    run_jobs()
    notice = fake_aggregator.sent()[-1]
    assert notice["to"] == "+6281234567890"
    assert no in notice["text"] and f"BALAS {no}" in notice["text"] and "survei" in notice["text"]
    assert is_gsm7(notice["text"]) and segments(notice["text"]) <= 3

    # The citizen answers with BALAS; it shows up in the timeline.
    post_mo(client, f"BALAS {no} terima kasih, saya tunggu", sender=CITIZEN)
    run_jobs()
    detail = client.get(f"/api/v1/reports/{no}", headers=auth).get_json()
    kinds = [(i["type"], i.get("kind")) for i in detail["timeline"]]
    assert ("event", "CITIZEN_REPLY") in kinds and ("event", "FOLLOW_UP") in kinds
    assert [i["text"] for i in detail["timeline"] if i.get("kind") == "CITIZEN_REPLY"] == [
        "terima kasih, saya tunggu"
    ]
    sent = [i for i in detail["timeline"] if i["type"] == "outbound_sms"]
    assert [i["kind"] for i in sent] == ["REPLY", "NOTICE", "REPLY"]
    assert all(i["state"] == "ACCEPTED" and i["to"] == "+62812****890" for i in sent)
    assert detail["status"] == "IN_PROGRESS" and detail["sla"]["waiting_for"] == "FOLLOW_UP"

    # A second follow-up the citizen does not answer: the SLA clock closes the report.
    client.post(f"/api/v1/reports/{no}/follow-ups", json={"text": "Perbaikan selesai."}, headers=auth)
    run_jobs()
    assert sla.run_clock(rt, now=utcnow() + timedelta(days=9)) == []  # not yet 10 working days
    assert sla.run_clock(rt, now=utcnow() + timedelta(days=20)) == [no]
    run_jobs()
    closing = fake_aggregator.sent()[-1]["text"]
    assert no in closing and "Selesai" in closing and segments(closing) == 1
    detail = client.get(f"/api/v1/reports/{no}", headers=auth).get_json()
    assert detail["status"] == "DONE" and detail["sla"] is None and detail["closed_at"]
    [closed] = [i for i in detail["timeline"] if i.get("kind") == "STATUS" and i["status"] == "DONE"]
    assert closed["actor"] == "sla"
