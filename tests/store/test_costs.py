"""Cost accounting (real pipeline, both databases): each MT stores its segments and encoding,
and the admin API shows what was spent (MTs the aggregator accepted) per report and per local
day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from gateway import clock
from gateway.gsm7 import segments
from gateway.models import OutboundMessage
from tests.store.admin_helpers import bearer, no_quiet_hours
from tests.store.helpers import file_report, outbox, post_mo

CITIZEN = "081234567890"
LONG = "Tim Dinas PU sudah survei lokasi dan mencatat kerusakan. " * 5


def test_each_mt_stores_its_segments_and_encoding(client, rt, run_jobs, fake_aggregator):
    no_quiet_hours(rt)
    no = file_report(client, rt, run_jobs, fake_aggregator, sender=CITIZEN)
    client.post(f"/api/v1/reports/{no}/follow-ups", json={"text": LONG}, headers=bearer(rt))
    run_jobs()
    reply, notice = outbox(rt)
    assert (reply.segments, reply.encoding) == (1, "GSM-7")
    assert notice.segments == segments(notice.text) == 3 and notice.encoding == "GSM-7"
    shown = client.get("/api/v1/outbound", headers=bearer(rt, "viewer")).get_json()["items"]
    assert [(i["segments"], i["encoding"]) for i in shown] == [(3, "GSM-7"), (1, "GSM-7")]


def test_report_detail_counts_only_what_the_aggregator_accepted(client, rt, run_jobs, fake_aggregator):
    no_quiet_hours(rt)
    auth = bearer(rt)
    no = file_report(client, rt, run_jobs, fake_aggregator, sender=CITIZEN)  # reply: 1 segment
    client.post(f"/api/v1/reports/{no}/follow-ups", json={"text": LONG}, headers=auth)  # 3 segments
    run_jobs()
    fake_aggregator.answer_next((400, "bad"))  # refused for good: FAILED, never accepted
    client.post(f"/api/v1/reports/{no}/replies", json={"text": "Mohon kirim foto."}, headers=auth)
    run_jobs()
    post_mo(client, "BERHENTI", sender=CITIZEN)
    run_jobs()
    client.post(f"/api/v1/reports/{no}/replies", json={"text": "Terima kasih."}, headers=auth)  # SUPPRESSED
    run_jobs()
    assert [o.status for o in outbox(rt) if o.report_id] == ["ACCEPTED", "ACCEPTED", "FAILED", "SUPPRESSED"]
    detail = client.get(f"/api/v1/reports/{no}", headers=auth).get_json()
    assert detail["spent"] == {"mts": 2, "segments": 4}


def set_accepted(rt, at: dict[int, datetime | None]) -> None:
    with rt.transaction() as s:
        for oid, when in at.items():
            s.execute(update(OutboundMessage).where(OutboundMessage.id == oid).values(accepted_at=when))


def test_segments_per_local_day_by_kind(client, rt, run_jobs, fake_aggregator):
    no_quiet_hours(rt)
    rt.settings = rt.settings.replace(timezone="Asia/Jakarta")  # UTC+7, no DST
    auth = bearer(rt, "viewer")
    no = file_report(client, rt, run_jobs, fake_aggregator, sender=CITIZEN)
    client.post(f"/api/v1/reports/{no}/follow-ups", json={"text": LONG}, headers=bearer(rt))
    post_mo(client, "INFO", sender="081311112222")
    run_jobs()
    reply, notice, info = outbox(rt)
    # 16:59 UTC is 23:59 on 1 March in Jakarta; 17:00 UTC is already 2 March.
    set_accepted(
        rt,
        {
            reply.id: datetime(2026, 3, 1, 16, 59, tzinfo=UTC),
            notice.id: datetime(2026, 3, 1, 17, 0, tzinfo=UTC),
            info.id: datetime(2026, 3, 3, 1, 0, tzinfo=UTC),
        },
    )
    resp = client.get(
        "/api/v1/stats/segments", query_string={"since": "2026-03-01", "until": "2026-03-03"}, headers=auth
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["timezone"] == "Asia/Jakarta"
    by_day = {d["day"]: (d["mts"], d["segments"]) for d in body["days"]}
    assert by_day == {"2026-03-01": (1, 1), "2026-03-02": (1, 3), "2026-03-03": (1, 1)}
    assert body["days"][1]["by_kind"] == {
        "REPLY": {"mts": 0, "segments": 0},
        "NOTICE": {"mts": 1, "segments": 3},
    }
    assert body["total"]["mts"] == 3 and body["total"]["segments"] == 5
    assert body["total"]["by_kind"]["REPLY"] == {"mts": 2, "segments": 2}

    # An MT never accepted costs nothing; a day outside the range is not counted.
    set_accepted(rt, {info.id: None})
    one = client.get(
        "/api/v1/stats/segments", query_string={"since": "2026-03-02", "until": "2026-03-03"}, headers=auth
    )
    assert [(d["day"], d["segments"]) for d in one.get_json()["days"]] == [
        ("2026-03-02", 3),
        ("2026-03-03", 0),
    ]


def test_segments_default_to_the_last_seven_local_days(client, rt, run_jobs, fake_aggregator):
    file_report(client, rt, run_jobs, fake_aggregator, sender=CITIZEN)
    body = client.get("/api/v1/stats/segments", headers=bearer(rt, "viewer")).get_json()
    today = datetime.now(clock.parse_zone(rt.settings.timezone)).date()
    assert [d["day"] for d in body["days"]] == [
        (today - timedelta(days=n)).isoformat() for n in range(6, -1, -1)
    ]
    assert body["total"]["mts"] == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param({"since": "2026-13-01"}, "since", id="bad-month"),
        pytest.param({"until": "1.3.2026"}, "until", id="not-iso"),
        pytest.param({"since": "1999-12-31", "until": "2000-01-01"}, "since", id="before-2000"),
        pytest.param({"since": "2026-03-02", "until": "2026-03-01"}, "since", id="since-after-until"),
        pytest.param({"since": "2025-01-01", "until": "2026-01-02"}, "until", id="367-days"),
    ],
)
def test_segments_stats_refuse_bad_dates_with_400(client, rt, query, field):
    resp = client.get("/api/v1/stats/segments", query_string=query, headers=bearer(rt, "viewer"))
    assert resp.status_code == 400
    assert resp.get_json()["field"] == field


def test_segments_stats_take_a_year(client, rt):
    query = {"since": "2025-01-01", "until": "2025-12-31"}
    body = client.get("/api/v1/stats/segments", query_string=query, headers=bearer(rt, "viewer")).get_json()
    assert len(body["days"]) == 365 and body["days"][0]["day"] == date(2025, 1, 1).isoformat()


def test_segments_stats_need_a_token(client):
    assert client.get("/api/v1/stats/segments").status_code == 401
