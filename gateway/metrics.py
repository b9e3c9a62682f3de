"""Every Prometheus metric of the gateway, declared once, and the registry a scrape reads.

Two kinds:
- Counters and histograms that the code moves as work happens (an MO stored, a send
  answered). Under gunicorn and RQ each process keeps its own; with
  `PROMETHEUS_MULTIPROC_DIR` set (scripts/run-gateway.sh does) prometheus_client writes them
  to files in that folder and a scrape of any process sums every process's files.
- Gauges read from the database and Redis at scrape time (`StateCollector`): queue depth,
  oldest waiting work, quarantined work, webhook backlog. They describe shared state, so they
  are right whichever process is scraped, and they cost nothing on the hot path.

Labels are low-cardinality names from fixed sets (aggregator and format names that passed
the registry look-up, outcomes, DLR statuses, quarantine kinds): never a number or a text.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from gateway.models import (
    InboundMessage,
    InboundStatus,
    OutboundMessage,
    OutboundStatus,
    WebhookDelivery,
    WebhookStatus,
    as_utc,
    utcnow,
)
from gateway.outcomes import SendOutcome
from gateway.services.quarantine import KINDS, count_quarantined_in

log = logging.getLogger("gateway.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

MO_RECEIVED = Counter(
    "gateway_mo_received",
    "MOs received, by aggregator and outcome (accepted, duplicate, refused with 400).",
    ["aggregator", "outcome"],
)
MO_PARTS = Counter(
    "gateway_mo_parts",
    "Parts of long MOs delivered separately, by aggregator and outcome (stored, duplicate, "
    "late: after their message was closed, recorded but not filed).",
    ["aggregator", "outcome"],
)
MO_ASSEMBLED = Counter(
    "gateway_mo_assembled",
    "Long MOs made into one inbox MO from their parts, by aggregator and outcome (complete; "
    "incomplete: the timeout passed first).",
    ["aggregator", "outcome"],
)
MT_SENDS = Counter(
    "gateway_mt_sends",
    "MT send attempts answered, by aggregator and outcome (accepted, retry, failed, quarantined).",
    ["aggregator", "outcome"],
)
MT_SEND_RETRIES = Counter(
    "gateway_mt_send_retries",
    "MT send attempts that were retries (attempt 2 and later), by aggregator.",
    ["aggregator"],
)
SEND_RATE_WAITS = Counter(
    "gateway_mt_send_rate_waits",
    "Sends that had to wait for the aggregator's TPS cap or a shared 429 pause, by aggregator "
    "and priority (reply, bulk).",
    ["aggregator", "priority"],
)
SEND_LATENCY = Histogram(
    "gateway_mt_send_latency_seconds",
    "Time of one send request to the aggregator's API (any answer, timeouts included).",
    ["aggregator"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DLR_RECEIVED = Counter(
    "gateway_dlr_received",
    "Delivery reports received, by aggregator and status (SENT, DELIVERED, ...).",
    ["aggregator", "status"],
)
USSD_UNKNOWN_SCREENS = Counter(
    "gateway_ussd_unknown_screens",
    "USSD sessions loaded at a screen this deploy has not registered (saved by another version), "
    "restarted at the main menu.",
)
CALLBACKS_REFUSED = Counter(
    "gateway_callback_signatures_refused",
    "Aggregator callbacks answered 401 because their native signature did not check out "
    "(X-Twilio-Signature, X-Lapor-Signature, ...), by aggregator and route (inbound, status).",
    ["aggregator", "route"],
)
USSD_STEP_LATENCY = Histogram(
    "gateway_ussd_step_latency_seconds",
    "Time to answer one USSD step, by format.",
    ["format"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
CONSOLE_REQUESTS = Counter(
    "gateway_console_actions",
    "Handler console actions, by action (login, status, follow_up, reply, requeue, ...) and "
    "outcome (ok, refused, invalid, not_found).",
    ["action", "outcome"],
)
PHONE_MESSAGES = Counter(
    "gateway_phone_simulator_inputs",
    "What the /phone simulator sent through the real routes, by channel (sms, ussd) and outcome.",
    ["channel", "outcome"],
)
CRON_LEADERSHIP = Counter(
    "gateway_cron_leadership",
    "Changes of which cron scheduler runs the periodic jobs (workers.leader), by event: "
    "acquired, lost (not renewed in time: Redis away or the lease taken over), released (stopped).",
    ["event"],
)

MT_OUTCOMES = (SendOutcome.ACCEPTED, SendOutcome.RETRY, SendOutcome.FAILED, SendOutcome.QUARANTINED)


def count_send(aggregator: str, outcome: str, attempt: int) -> None:
    """One send attempt's outcome (only the four in MT_OUTCOMES are counted); a retry when
    it was not the first attempt."""
    if outcome in MT_OUTCOMES:
        MT_SENDS.labels(aggregator, outcome).inc()
    if attempt > 1:
        MT_SEND_RETRIES.labels(aggregator).inc()


class StateCollector:
    """Gauges of shared state read at scrape time from the database and Redis. A dependency
    that is down does not fail the scrape: its gauges are left out and
    `gateway_up{dependency=...}` says 0."""

    def __init__(self, runtime):
        self.rt = runtime

    def collect(self) -> Iterator[Metric]:
        """The gauges (called by prometheus_client on every scrape)."""
        up = GaugeMetricFamily(
            "gateway_up", "Whether the scrape could read a dependency (1) or not (0).", labels=["dependency"]
        )
        db_metrics = self._guarded(self._database_metrics, "database", SQLAlchemyError)
        up.add_metric(["database"], 0 if db_metrics is None else 1)
        redis_metrics = self._guarded(self._redis_metrics, "redis", RedisError)
        up.add_metric(["redis"], 0 if redis_metrics is None else 1)
        yield up
        yield from db_metrics or []
        yield from redis_metrics or []

    @staticmethod
    def _guarded(read: Callable[[], list[Metric]], name: str, errors: type[Exception]):
        try:
            return read()
        except errors as exc:
            log.warning("metrics: %s unreadable at scrape time (%s)", name, type(exc).__name__)
            return None

    def _redis_metrics(self) -> list[Metric]:
        depth = GaugeMetricFamily("gateway_queue_depth", "Jobs waiting in the RQ queue.", labels=["queue"])
        # The bulk queue (notices) drains only when the main one is empty: its depth is how far
        # notices are behind.
        for queue in (self.rt.queue, self.rt.bulk_queue):
            depth.add_metric([queue.name], queue.count)
        return [depth]

    def _database_metrics(self) -> list[Metric]:
        now = utcnow()
        with self.rt.sessions() as s:
            oldest_mo = s.scalar(
                select(func.min(InboundMessage.received_at)).where(
                    InboundMessage.status == InboundStatus.PENDING
                )
            )
            # Since it was due: a retry waiting out its backoff, or a notice held until the end
            # of quiet hours, is not late.
            oldest_mt = s.scalar(
                select(func.min(OutboundMessage.next_attempt_at)).where(
                    OutboundMessage.status == OutboundStatus.QUEUED, OutboundMessage.next_attempt_at <= now
                )
            )
            quarantined = count_quarantined_in(s)
            backlog = s.scalar(select(func.count()).where(WebhookDelivery.status == WebhookStatus.PENDING))
        mo_doc = "Seconds since the oldest PENDING MO was received (0: none)."
        mt_doc = "Seconds the oldest QUEUED MT has waited since its send was due (0: none)."
        backlog_doc = "Webhook deliveries to the complaint system still PENDING."
        return [
            _age("gateway_oldest_pending_mo_age_seconds", mo_doc, oldest_mo, now),
            _age("gateway_oldest_queued_mt_age_seconds", mt_doc, oldest_mt, now),
            _quarantined(quarantined),
            GaugeMetricFamily("gateway_webhook_backlog", backlog_doc, backlog),
        ]


def _age(name: str, doc: str, oldest: datetime | None, now: datetime) -> Metric:
    age = 0.0 if oldest is None else max(0.0, (now - as_utc(oldest)).total_seconds())
    return GaugeMetricFamily(name, doc, age)


def _quarantined(counts: dict[str, int]) -> Metric:
    gauge = GaugeMetricFamily("gateway_quarantined", "Work QUARANTINED, by kind.", labels=["kind"])
    for kind in KINDS:  # every kind, zeros included, so a panel never shows "no data"
        gauge.add_metric([kind], counts.get(kind, 0))
    return gauge


def scrape(runtime) -> bytes:
    """The text exposition of every metric: the counters of every process (multiprocess
    mode) or of this one, and the state gauges read now."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    registry.register(StateCollector(runtime))
    return generate_latest(registry)
