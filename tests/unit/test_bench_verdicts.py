"""The receiver rows of `make bench`'s table (bench/verdicts.py): the goal is judged against the
bare route of the same run and setting, and the floor is a reference, never a verdict."""

from __future__ import annotations

import pytest

from bench.verdicts import cap_rows, receiver_rows, rtt_rows


def _run(route: str, db: str, per_s: float, server: str = "2 sync") -> dict:
    return {"route": route, "db": db, "server": server, "per_s": per_s, "p99_ms": 3.0}


BARE = _run("bare", "-", 5000.0)


@pytest.mark.parametrize(
    ("runs", "kannel_push", "expected"),
    [
        pytest.param(
            [BARE, _run("gateway", "sqlite", 3100.0)],
            None,
            [("receiver: MO accepted/s, sqlite", "meets", "3,100/s (0.62 x bare), p99 3.0 ms")],
            id="above-ratio-no-floor",
        ),
        pytest.param(
            [BARE, _run("floor", "postgres", 2400.0), _run("gateway", "postgres", 1920.0)],
            None,
            [
                ("receiver: floor, bare + 1 durable INSERT, postgres", "-", "2,400/s (0.48 x bare)"),
                (
                    "receiver: MO accepted/s, postgres",
                    "misses",
                    "1,920/s (0.38 x bare, 0.80 x floor), p99 3.0 ms",
                ),
            ],
            id="below-ratio-with-floor",
        ),
        pytest.param(
            [BARE, _run("gateway", "sqlite", 3100.0)],
            3200.0,
            [("receiver: MO accepted/s, sqlite", "misses", "3,100/s (0.62 x bare), p99 3.0 ms")],
            id="ratio-met-but-slower-than-kannel-push",
        ),
        pytest.param(
            [
                BARE,
                _run("gateway", "sqlite", 3100.0),
                _run("gateway", "sqlite", 1000.0, server="2 gthreadx4"),
            ],
            None,
            [("receiver: MO accepted/s, sqlite", "meets", "3,100/s (0.62 x bare), p99 3.0 ms")],
            id="other-settings-are-not-judged-against-this-bare",
        ),
    ],
)
def test_receiver_rows(runs, kannel_push, expected):
    results = {"receiver": {"runs": runs}}
    if kannel_push is not None:
        results["kannel"] = {"reference": {"push_per_s": kannel_push}}
    rows = receiver_rows(results)
    assert rows[0]["figure"] == "receiver: bare Flask route req/s (2 sync)"
    assert [(r["figure"], r["verdict"], r["measured"]) for r in rows[1:]] == expected


def test_receiver_rows_say_when_figures_are_medians_of_rounds():
    bare = BARE | {"per_s_rounds": [4800.0, 5000.0, 5100.0]}
    rows = receiver_rows({"receiver": {"runs": [bare, _run("gateway", "sqlite", 3100.0)]}})
    assert rows[0]["measured"] == "5,000/s (each a median of 3 rounds)"


def test_receiver_rows_without_a_receiver_run_says_so():
    (only,) = receiver_rows({})
    assert only["verdict"] == "n/a"
    assert "did not run" in only["measured"]


def _pipeline(burst_per_s: float, p99_ms: float, rss_mb: float, lost: int = 0) -> dict:
    load = [{"offered": 100, "achieved": 99.0, "p50_ms": 40.0, "p99_ms": p99_ms, "lost": 0}]
    burst = {"n": 2000, "e2e_per_s": burst_per_s, "lost": lost}
    return {"burst": burst, "load": load, "peak_rss_mb": {"rq worker": rss_mb}}


def _verdicts(rows: list[dict]) -> dict[str, str]:
    return {r["figure"]: r["verdict"] for r in rows}


@pytest.mark.parametrize(
    ("at_150", "expected"),
    [
        pytest.param(
            _pipeline(160.0, 390.0, 70.0),
            {"burst": "meets", "latency": "meets", "RSS": "meets"},
            id="latency-insensitive",
        ),
        pytest.param(
            _pipeline(150.0, 390.0, 70.0),
            {"burst": "misses", "latency": "meets", "RSS": "meets"},
            id="below-0.8-of-loopback",
        ),
        pytest.param(
            _pipeline(160.0, 410.0, 80.0),
            {"burst": "meets", "latency": "misses", "RSS": "misses"},
            id="p99-over-400-and-memory-grew",
        ),
        pytest.param(
            _pipeline(190.0, 100.0, 70.0, lost=1),
            {"burst": "misses", "latency": "meets", "RSS": "meets"},
            id="a-lost-reply-misses-whatever-the-rate",
        ),
    ],
)
def test_send_rtt_rows_judge_150_ms_against_the_same_runs_loopback(at_150, expected):
    results = {
        "pipeline-sqlite": _pipeline(195.0, 30.0, 70.0),
        "pipeline-rtt150": at_150,
        "pipeline-rtt300": _pipeline(90.0, 2000.0, 90.0),
    }
    verdicts = _verdicts(rtt_rows(results))
    for word, verdict in expected.items():
        [judged] = [v for f, v in verdicts.items() if "150 ms" in f and word in f]
        assert judged == verdict
    assert {v for f, v in verdicts.items() if "300 ms" in f} == {"-"}  # a point of the curve only


@pytest.mark.parametrize(
    ("busiest", "throttled", "reply_ms", "expected"),
    [
        pytest.param(50, 0, 1500.0, ["meets", "meets"], id="under-the-cap-reply-in-time"),
        pytest.param(51, 0, 1500.0, ["misses", "meets"], id="one-over-the-cap"),
        pytest.param(50, 3, 2100.0, ["misses", "misses"], id="throttled-and-reply-late"),
    ],
)
def test_cap_rows(busiest, throttled, reply_ms, expected):
    cap = {
        "n": 2000,
        "tps": 50,
        "max_in_any_1s": busiest,
        "throttled_429": throttled,
        "lost": 0,
        "e2e_per_s": 47,
    }
    results = {
        "tps-cap": {"latency_ms": 150, "tps_cap": cap},
        "priority": {"priority": {"notices": 5000, "tps": 50, "reply_ms": reply_ms, "sends_before": 12}},
    }
    assert [r["verdict"] for r in cap_rows(results)] == expected
