"""The complaint-system link, against a real webhook receiver on 127.0.0.1: signed webhooks
for new reports and BALAS, retried until delivered; signed events in, refused when stale,
badly signed or replayed, and turned into the same notices as an admin's action."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from gateway.models import QuarantineKind, WebhookDelivery, utcnow
from gateway.security import sign, verify_signature
from gateway.services import upstream
from tests.store.admin_helpers import bearer, no_quiet_hours
from tests.store.helpers import file_report, outbox, post_mo
from tests.support.processes import free_port
from tests.support.upstream import start_upstream_receiver

SECRET = "upstream-shared-secret"


@pytest.fixture
def receiver():
    r = start_upstream_receiver()
    yield r
    r.close()


@pytest.fixture
def linked(rt, receiver):
    """The runtime with the complaint-system link on, quiet hours off."""
    no_quiet_hours(rt)
    rt.settings = rt.settings.replace(upstream_url=receiver.url, upstream_secret=SECRET)
    return rt


def deliveries(rt) -> list[WebhookDelivery]:
    with rt.sessions() as s:
        return list(s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def _verified(hook) -> dict:
    ts, sig = hook.headers["X-Lapor-Timestamp"], hook.headers["X-Lapor-Signature"]
    assert verify_signature(SECRET, ts, sig, hook.body, time.time(), 300) is None
    return hook.json()


def test_new_report_and_balas_are_posted_as_signed_webhooks(
    client, linked, run_jobs, fake_aggregator, receiver
):
    no = file_report(client, linked, run_jobs, fake_aggregator, sender="081234567890")
    post_mo(client, f"BALAS {no} lubangnya makin besar", sender="081234567890")
    run_jobs()
    created, reply = (_verified(h) for h in receiver.requests)
    assert created["type"] == "report.created" and created["id"] == f"report.created:{no}"
    assert created["data"]["tracking_no"] == no and created["data"]["reporter"] == "+62812****890"
    assert created["data"]["text"] == "jalan rusak di depan pasar" and created["data"]["channel"] == "SMS"
    assert reply["type"] == "report.citizen_reply" and reply["data"] == {
        "tracking_no": no,
        "text": "lubangnya makin besar",
        "received_at": reply["data"]["received_at"],
    }
    assert receiver.requests[0].headers["X-Lapor-Event-Id"] == created["id"]
    assert [d.status for d in deliveries(linked)] == ["DELIVERED", "DELIVERED"]


def test_a_webhook_is_retried_until_the_upstream_takes_it(
    client, linked, run_jobs, fake_aggregator, receiver
):
    receiver.answer_next((500, ""), (503, ""))
    file_report(client, linked, run_jobs, fake_aggregator)
    [d] = deliveries(linked)
    assert (d.status, d.attempts, d.last_error) == ("PENDING", 1, "HTTP 500")
    assert upstream.deliver_due(linked, now=utcnow() + timedelta(hours=2)) == {"delivered": 0, "retry": 1}
    assert upstream.deliver_due(linked, now=utcnow() + timedelta(hours=4)) == {"delivered": 1, "retry": 0}
    [d] = deliveries(linked)
    assert (d.status, d.attempts) == ("DELIVERED", 3)
    assert len({h.body for h in receiver.requests}) == 1  # the same bytes every time
    assert len({h.headers["X-Lapor-Event-Id"] for h in receiver.requests}) == 1
    assert upstream.deliver_due(linked, now=utcnow() + timedelta(hours=6)) == {"delivered": 0, "retry": 0}


def test_an_unreachable_upstream_loses_nothing(client, rt, run_jobs, fake_aggregator, receiver):
    no_quiet_hours(rt)
    rt.settings = rt.settings.replace(
        upstream_url=f"http://127.0.0.1:{free_port()}/down", upstream_secret=SECRET, send_backoff_base=60.0
    )
    file_report(client, rt, run_jobs, fake_aggregator)
    [d] = deliveries(rt)
    assert d.status == "PENDING" and d.attempts == 1 and "connection failed" in d.last_error
    assert upstream.deliver_due(rt) == {"delivered": 0, "retry": 0}  # not due yet: backoff
    rt.settings = rt.settings.replace(upstream_url=receiver.url)  # the upstream is back
    assert upstream.deliver_due(rt, now=utcnow() + timedelta(hours=2))["delivered"] == 1
    assert _verified(receiver.requests[0])["type"] == "report.created"


def test_without_the_link_no_webhooks_are_kept(client, rt, run_jobs, fake_aggregator, receiver):
    file_report(client, rt, run_jobs, fake_aggregator)
    assert deliveries(rt) == [] and receiver.requests == []


def _post_event(client, event: dict, secret: str = SECRET, ts: int | None = None, body: bytes | None = None):
    body = body if body is not None else json.dumps(event).encode()
    ts = int(time.time()) if ts is None else ts
    headers = {"X-Lapor-Timestamp": str(ts), "X-Lapor-Signature": sign(secret, ts, body)}
    return client.post("/api/v1/events", data=body, headers=headers, content_type="application/json")


def test_upstream_events_act_like_admin_actions(client, linked, run_jobs, fake_aggregator):
    no = file_report(client, linked, run_jobs, fake_aggregator)
    status = {
        "id": "evt-1",
        "type": "status_changed",
        "tracking_no": no,
        "status": "VERIFIED",
        "actor": "sp4n",
    }
    follow = {
        "id": "evt-2",
        "type": "follow_up",
        "tracking_no": no,
        "text": "Dinas PU menjadwalkan perbaikan.",
    }
    assert _post_event(client, status).status_code == 200
    assert _post_event(client, follow).status_code == 200
    run_jobs()
    status_sms, follow_sms = (m["text"] for m in fake_aggregator.sent()[1:])
    assert "Terverifikasi" in status_sms and f"BALAS {no}" in status_sms
    assert "Dinas PU menjadwalkan perbaikan." in follow_sms and f"BALAS {no}" in follow_sms
    detail = client.get(f"/api/v1/reports/{no}", headers=bearer(linked, "viewer")).get_json()
    actors = [(i["kind"], i["actor"]) for i in detail["timeline"] if i["type"] == "event"]
    assert actors[1:] == [("STATUS", "upstream:sp4n"), ("FOLLOW_UP", "upstream:complaint-system")]
    assert detail["status"] == "IN_PROGRESS" and detail["last_follow_up_at"]


def test_replayed_stale_or_badly_signed_events_are_refused(client, linked, run_jobs, fake_aggregator):
    no = file_report(client, linked, run_jobs, fake_aggregator)
    event = {"id": "evt-9", "type": "follow_up", "tracking_no": no, "text": "Sudah ditangani."}
    stale = _post_event(client, event, ts=int(time.time()) - 301)
    assert stale.status_code == 401 and "window" in stale.get_json()["reason"]
    assert _post_event(client, event, secret="guessed").status_code == 401
    body = json.dumps(event).encode()
    ts = int(time.time())
    tampered = client.post(
        "/api/v1/events",
        data=body.replace(b"Sudah", b"Belum"),
        headers={"X-Lapor-Timestamp": str(ts), "X-Lapor-Signature": sign(SECRET, ts, body)},
        content_type="application/json",
    )
    assert tampered.status_code == 401
    assert client.post("/api/v1/events", json=event).status_code == 401
    assert _post_event(client, event).status_code == 200
    replay = _post_event(client, event)  # same id, freshly signed
    assert replay.status_code == 409 and replay.get_json()["error"] == "replayed"
    run_jobs()
    assert [o.kind for o in outbox(linked)] == ["REPLY", "NOTICE"]  # one notice only


@pytest.mark.parametrize(
    ("event", "code", "field"),
    [
        pytest.param({"id": "e", "type": "deleted", "tracking_no": "1"}, 400, "type", id="unknown-type"),
        pytest.param({"type": "follow_up", "tracking_no": "1", "text": "x"}, 400, "id", id="no-id"),
        pytest.param(
            {"id": "e", "type": "status_changed", "tracking_no": "1", "status": "X"}, 400, "status", id="st"
        ),
        pytest.param(
            {"id": "e", "type": "follow_up", "tracking_no": "1234567890", "text": "x"}, 404, None, id="404"
        ),
    ],
)
def test_bad_events_are_refused_without_using_up_the_id(client, linked, event, code, field):
    resp = _post_event(client, event)
    assert resp.status_code == code
    if field:
        assert resp.get_json()["field"] == field
    assert (
        _post_event(client, {"id": "e", "type": "follow_up", "tracking_no": "1", "text": "x"}).status_code
        == 404
    )


def test_events_are_404_when_the_link_is_off(client, rt):
    event = {"id": "e1", "type": "follow_up", "tracking_no": "1234567890", "text": "x"}
    assert _post_event(client, event).status_code == 404


def test_reports_and_answers_made_through_ussd_are_forwarded_too(
    client, linked, run_jobs, fake_aggregator, receiver
):
    from tests.store.test_ussd import STAR_TEXT, UssdSession, tracking_in

    ussd = UssdSession(client, "generic", msisdn="+6281234567890")
    ussd.step(), ussd.step("1"), ussd.step(STAR_TEXT), ussd.step("1")
    number = tracking_in(ussd.step("1")[0])
    answer = UssdSession(client, "generic", msisdn="+6281234567890")
    answer.step(), answer.step("3"), answer.step(number), answer.step("1")
    answer.step("sudah ditambal tapi belum rapi")
    run_jobs()
    created, reply = (_verified(h) for h in receiver.requests)
    assert (created["type"], created["data"]["tracking_no"], created["data"]["channel"]) == (
        "report.created",
        number,
        "USSD",
    )
    assert (reply["type"], reply["data"]["tracking_no"], reply["data"]["text"]) == (
        "report.citizen_reply",
        number,
        "sudah ditambal tapi belum rapi",
    )


def test_a_webhook_that_fails_inside_the_gateway_is_quarantined_and_the_others_go(
    client, linked, run_jobs, fake_aggregator, receiver, monkeypatch
):
    """A webhook whose delivery raises (here: signing it) is tried MAX_TRIES times and set
    aside; the next one is still delivered, and an admin can put it back."""
    from gateway.services import quarantine

    real_sign = upstream.sign

    def sign_or_choke(secret, timestamp, body):
        if b"sumur" in body:
            raise UnicodeError("poison")
        return real_sign(secret, timestamp, body)

    monkeypatch.setattr(upstream, "sign", sign_or_choke)
    file_report(
        client, linked, run_jobs, fake_aggregator, sender="081200000001", text="LAPOR sumur warga kering"
    )
    file_report(
        client, linked, run_jobs, fake_aggregator, sender="081200000002", text="LAPOR jalan rusak parah"
    )
    statuses = [d.status for d in deliveries(linked)]
    assert statuses == ["QUARANTINED", "DELIVERED"]
    assert [json.loads(h.body)["data"]["text"] for h in receiver.requests] == ["jalan rusak parah"]
    [entry] = quarantine.list_entries(linked, kind=QuarantineKind.WEBHOOK)
    assert (entry.failures, entry.error_type) == (quarantine.MAX_TRIES, "UnicodeError")

    monkeypatch.setattr(upstream, "sign", real_sign)
    assert quarantine.retry(linked, entry.id) is not None
    run_jobs()
    assert [d.status for d in deliveries(linked)] == ["DELIVERED", "DELIVERED"]
