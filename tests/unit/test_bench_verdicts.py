"""The receiver rows of `make bench`'s table (bench/verdicts.py): the goal is judged against the
bare route of the same run and setting, and the floor is a reference, never a verdict."""

from __future__ import annotations

import pytest

from bench.verdicts import receiver_rows


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
