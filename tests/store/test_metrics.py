"""`/metrics` on both databases: counters move by exactly the traffic sent, the token is
required, and the scrape-time gauges read the database and Redis (or say they could not)."""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from rq import Queue
from sqlalchemy import select

from gateway.app import create_app
from gateway.db import make_engine, make_sessionmaker
from gateway.models import InboundMessage, OutboundMessage, QuarantinedWork, WebhookDelivery, utcnow
from tests.store.helpers import AUTH, outbox, post_mo
from tests.support.processes import free_port

METRICS_TOKEN = "test-metrics-secret"
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def metrics_app(rt, token: str = METRICS_TOKEN, **parts):
    """A test client of an app whose runtime has the metrics token (and any parts replaced)."""
    runtime = dataclasses.replace(rt, settings=rt.settings.replace(metrics_token=token), **parts)
    app = create_app(runtime=runtime)
    app.testing = True
    return app.test_client()


def scrape(client) -> dict[tuple[str, frozenset], float]:
    """GET /metrics, parsed by prometheus_client's own parser: {(sample, labels): value}."""
    resp = client.get("/metrics", headers=SCRAPE)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(resp.get_data(as_text=True))
        for sample in family.samples
    }


def delta(before: dict, after: dict, name: str, **labels) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def send_everything(rt, run_jobs, timeout: float = 10.0) -> None:
    """Run jobs (delayed retries included) until no MT is QUEUED."""
    deadline = time.monotonic() + timeout
    run_jobs(with_scheduler=True)
    while any(o.status == "QUEUED" for o in outbox(rt)) and time.monotonic() < deadline:
        time.sleep(0.1)
        run_jobs(with_scheduler=True)


def test_counters_move_by_exactly_the_traffic_sent(rt, client, run_jobs, fake_aggregator):
    scraper = metrics_app(rt)
    before = scrape(scraper)
    # Four new MOs (each from its own number), a repeat of one, and one refused with 400.
    for n in range(4):
        assert (
            post_mo(client, "LAPOR lampu jalan mati di gang 3", f"08123456780{n}", f"m-{n}").status_code
            == 202
        )
    assert post_mo(client, "LAPOR lampu jalan mati di gang 3", "081234567800", "m-0").status_code == 200
    assert post_mo(client, "LAPOR lampu jalan mati", "0812-FLOWERS", "m-bad").status_code == 400
    # The four replies: one answer 503 (retried, then accepted), one 400 (failed for good).
    fake_aggregator.answer_next((503, "busy"), (400, "bad number"))
    send_everything(rt, run_jobs)
    accepted = [o for o in outbox(rt) if o.status == "ACCEPTED"]
    assert len(accepted) == 3 and len(fake_aggregator.requests) == 5
    dlrs = ["DELIVERED", "DELIVERED", "UNDELIVERED"]
    for out, status in zip(accepted, dlrs, strict=True):
        data = {"id": out.external_id, "status": status}
        assert client.post("/sms/generic/status", data=data, headers=AUTH).status_code == 200
    after = scrape(scraper)

    mo = "gateway_mo_received_total"
    assert delta(before, after, mo, aggregator="generic", outcome="accepted") == 4
    assert delta(before, after, mo, aggregator="generic", outcome="duplicate") == 1
    assert delta(before, after, mo, aggregator="generic", outcome="refused") == 1
    mt = "gateway_mt_sends_total"
    assert delta(before, after, mt, aggregator="generic", outcome="accepted") == 3
    assert delta(before, after, mt, aggregator="generic", outcome="retry") == 1
    assert delta(before, after, mt, aggregator="generic", outcome="failed") == 1
    assert delta(before, after, mt, aggregator="generic", outcome="quarantined") == 0
    assert delta(before, after, "gateway_mt_send_retries_total", aggregator="generic") == 1
    latency = "gateway_mt_send_latency_seconds_count"
    assert delta(before, after, latency, aggregator="generic") == 5
    dlr = "gateway_dlr_received_total"
    assert delta(before, after, dlr, aggregator="generic", status="DELIVERED") == 2
    assert delta(before, after, dlr, aggregator="generic", status="UNDELIVERED") == 1
    assert delta(before, after, dlr, aggregator="generic", status="SENT") == 0


def test_a_ussd_step_is_timed_by_format(rt, client):
    scraper = metrics_app(rt)
    before = scrape(scraper)
    body = {"session_id": "s-metrics", "msisdn": "081234567890", "input": "", "service_code": "*1708#"}
    assert client.post("/ussd/generic", json=body, headers=AUTH).status_code == 200
    after = scrape(scraper)
    assert delta(before, after, "gateway_ussd_step_latency_seconds_count", format="generic") == 1
    assert delta(before, after, "gateway_ussd_step_latency_seconds_sum", format="generic") > 0


@pytest.mark.parametrize(
    ("configured", "headers", "query", "status"),
    [
        pytest.param("", SCRAPE, "", 404, id="unset-answers-404"),
        pytest.param(METRICS_TOKEN, {}, "", 401, id="no-token"),
        pytest.param(METRICS_TOKEN, {"Authorization": "Bearer wrong"}, "", 401, id="wrong-token"),
        pytest.param(METRICS_TOKEN, AUTH, "", 401, id="the-inbound-token-is-not-it"),
        pytest.param(METRICS_TOKEN, {}, f"?token={METRICS_TOKEN}", 401, id="query-token-refused"),
        pytest.param(METRICS_TOKEN, {"Authorization": METRICS_TOKEN}, "", 401, id="not-bearer"),
        pytest.param(METRICS_TOKEN, SCRAPE, "", 200, id="right-token"),
    ],
)
def test_metrics_needs_its_own_token(rt, configured, headers, query, status):
    resp = metrics_app(rt, token=configured).get(f"/metrics{query}", headers=headers)
    assert resp.status_code == status
    body = resp.get_data(as_text=True)
    assert ("gateway_mo_received" in body) == (status == 200)
    if status == 200:
        assert resp.content_type.startswith("text/plain")


def _fill_state(rt) -> None:
    """Rows whose gauges the scrape must read: some count, some must not."""
    now = utcnow()
    mo = dict(aggregator="generic", msisdn="+6281234567890", to="1708", text="x")
    mt = dict(aggregator="generic", msisdn="+6281234567890", sender="1708", text="x")
    with rt.transaction() as s:
        s.add_all(
            [
                InboundMessage(external_id="old", received_at=now - timedelta(seconds=120), **mo),
                InboundMessage(external_id="new", received_at=now - timedelta(seconds=5), **mo),
                InboundMessage(external_id="done", status="DONE", received_at=now - timedelta(hours=9), **mo),
                OutboundMessage(dedupe_key="due", next_attempt_at=now - timedelta(seconds=300), **mt),
                OutboundMessage(dedupe_key="later", next_attempt_at=now + timedelta(hours=8), **mt),
                OutboundMessage(
                    dedupe_key="sent", status="ACCEPTED", next_attempt_at=now - timedelta(days=1), **mt
                ),
            ]
        )
        for i, (kind, state) in enumerate(
            [
                ("MO", "QUARANTINED"),
                ("MO", "QUARANTINED"),
                ("MT", "QUARANTINED"),
                ("MT", "FAILING"),
                ("DLR", "DROPPED"),
            ]
        ):
            s.add(QuarantinedWork(kind=kind, ref=str(i), state=state, failures=3, error_type="E", reason="r"))
        for i, status in enumerate(["PENDING", "PENDING", "PENDING", "DELIVERED"]):
            s.add(WebhookDelivery(event_id=f"e-{i}", event_type="report.created", body="{}", status=status))
    for _ in range(3):
        rt.queue.enqueue("workers.jobs.no_such_job")
    for _ in range(2):
        rt.bulk_queue.enqueue("workers.jobs.no_such_job")


def test_scrape_time_gauges_read_the_database_and_redis(rt):
    _fill_state(rt)
    got = scrape(metrics_app(rt))

    def gauge(name, **labels):
        return got[(name, frozenset(labels.items()))]

    assert gauge("gateway_up", dependency="database") == 1
    assert gauge("gateway_up", dependency="redis") == 1
    assert gauge("gateway_queue_depth", queue=rt.settings.queue_name) == 3
    assert gauge("gateway_queue_depth", queue=f"{rt.settings.queue_name}-bulk") == 2
    assert 120 <= gauge("gateway_oldest_pending_mo_age_seconds") < 150
    assert 300 <= gauge("gateway_oldest_queued_mt_age_seconds") < 330
    assert gauge("gateway_webhook_backlog") == 3
    quarantined = {kind: gauge("gateway_quarantined", kind=kind) for kind in ("MO", "MT", "DLR", "WEBHOOK")}
    assert quarantined == {"MO": 2, "MT": 1, "DLR": 0, "WEBHOOK": 0}
    with rt.sessions() as s:  # the same count the quarantine table gives
        rows = s.scalars(select(QuarantinedWork).where(QuarantinedWork.state == "QUARANTINED")).all()
    assert sum(quarantined.values()) == len(rows)


def test_gauges_are_zero_when_nothing_waits(rt):
    got = scrape(metrics_app(rt))
    for name in ("gateway_oldest_pending_mo_age_seconds", "gateway_oldest_queued_mt_age_seconds"):
        assert got[(name, frozenset())] == 0
    assert got[("gateway_webhook_backlog", frozenset())] == 0
    assert got[("gateway_queue_depth", frozenset({("queue", rt.settings.queue_name)}))] == 0


def _dead_redis():
    redis = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1, socket_timeout=1)
    return {
        "redis": redis,
        "queue": Queue("gateway", connection=redis),
        "bulk_queue": Queue("gateway-bulk", connection=redis),
    }


def _dead_database():
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    return {"engine": engine, "sessions": make_sessionmaker(engine)}


@pytest.mark.parametrize(
    ("broken", "down", "missing", "present"),
    [
        pytest.param(
            _dead_redis,
            "redis",
            "gateway_queue_depth",
            "gateway_oldest_pending_mo_age_seconds",
            id="redis-down",
        ),
        pytest.param(
            _dead_database,
            "database",
            "gateway_oldest_pending_mo_age_seconds",
            "gateway_queue_depth",
            id="db-down",
        ),
    ],
)
def test_a_dependency_down_does_not_fail_the_scrape(rt, broken, down, missing, present):
    got = scrape(metrics_app(rt, **broken()))  # scrape() asserts the 200
    names = {name for name, _ in got}
    up = {dict(labels)["dependency"]: value for (name, labels), value in got.items() if name == "gateway_up"}
    assert up == {"database": float(down != "database"), "redis": float(down != "redis")}
    assert missing not in names and present in names


def test_a_scrape_that_cannot_be_read_is_retried_then_a_503_naming_it(rt, monkeypatch):
    """The metric files of the other processes are read while those processes write them; a
    read caught mid-write is tried again, and one that still fails is a 503 saying so (a
    Prometheus scrape failing visibly), never a 500."""
    from gateway.web import metrics as route

    real, fails = route.scrape, iter([True])

    def flaky(runtime):
        if next(fails, False):
            raise ValueError("mmap read caught a file being written")
        return real(runtime)

    monkeypatch.setattr(route, "scrape", flaky)
    client = metrics_app(rt)
    assert client.get("/metrics", headers=SCRAPE).status_code == 200
    monkeypatch.setattr(route, "scrape", lambda runtime: 1 / 0)
    resp = client.get("/metrics", headers=SCRAPE)
    assert resp.status_code == 503
    assert "ZeroDivisionError" in resp.get_data(as_text=True)
