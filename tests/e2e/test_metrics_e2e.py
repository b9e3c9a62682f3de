"""Metrics in multiprocess mode, with the gateway as real processes (scripts/run-gateway.sh):
MOs are counted in the gunicorn workers, sends in the RQ workers, and one scrape of either
gunicorn worker sees them all."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import INBOUND_TOKEN
from tests.support.processes import ROOT, wait_until

pytestmark = pytest.mark.e2e
METRICS_TOKEN = "e2e-metrics-secret"
MOS = 12


@pytest.fixture
def gateway_env(gateway_env, tmp_path):
    # A previous run's counts in the folder: the start must empty it, or they would add up.
    folder = tmp_path / "prometheus"
    folder.mkdir()
    stale = "from gateway.metrics import MO_RECEIVED; MO_RECEIVED.labels('generic', 'accepted').inc(1000)"
    subprocess.run(
        [sys.executable, "-c", stale],
        cwd=ROOT,
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)},
        check=True,
    )
    assert list(folder.glob("counter_*.db"))
    return {
        **gateway_env,
        "GATEWAY_METRICS_TOKEN": METRICS_TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "GATEWAY_WEB_WORKERS": "2",
        "GATEWAY_JOB_WORKERS": "2",
    }


def scrape(gw) -> dict[tuple[str, frozenset], float]:
    resp = requests.get(f"{gw.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=5)
    assert resp.status_code == 200
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(resp.text)
        for s in family.samples
    }


def value(got: dict, name: str, **labels) -> float:
    return got.get((name, frozenset(labels.items())), 0.0)


def test_one_scrape_sums_every_process(gateway, fake_aggregator, tmp_path):
    for n in range(MOS):
        resp = requests.post(
            f"{gateway.url}/sms/generic/inbound",
            data={
                "from": f"0812987650{n:02d}",
                "to": "1708",
                "text": "LAPOR got mampet di RT 5",
                "id": f"e2e-m{n}",
            },
            headers={"Authorization": f"Bearer {INBOUND_TOKEN}"},
            timeout=5,
        )
        assert resp.status_code == 202

    def all_counted():
        got = scrape(gateway)
        return (
            got
            if value(got, "gateway_mt_sends_total", aggregator="generic", outcome="accepted") >= MOS
            else None
        )

    got = wait_until(all_counted, timeout=20)
    assert got, "the RQ workers' sends never showed in a scrape"
    assert value(got, "gateway_mo_received_total", aggregator="generic", outcome="accepted") == MOS
    assert value(got, "gateway_mt_sends_total", aggregator="generic", outcome="accepted") == MOS
    assert value(got, "gateway_mt_send_latency_seconds_count", aggregator="generic") == MOS
    assert len(fake_aggregator.sent()) == MOS
    # Every scrape, whichever gunicorn worker answers it, gives the same sums.
    for _ in range(4):
        again = scrape(gateway)
        assert value(again, "gateway_mo_received_total", aggregator="generic", outcome="accepted") == MOS
        assert value(again, "gateway_mt_sends_total", aggregator="generic", outcome="accepted") == MOS
    # The counts came from several processes: the receiver's and the workers' files.
    pids = {p.stem.rsplit("_", 1)[1] for p in (tmp_path / "prometheus").glob("counter_*.db")}
    assert len(pids) >= 2, pids
