"""Fault 7: gunicorn workers killed with SIGKILL while requests are in flight; the aggregator
retries what got no answer, and each report is filed once."""

from __future__ import annotations

import time

from tests.support.faults import kill_group_member, worker_children


def test_receiver_killed_mid_request_files_each_report_once(rig):
    gw = rig.start_gateway()
    stream, messages = rig.stream("gunikill", threads=6)
    thread = stream.start()
    kills = 0
    deadline = time.monotonic() + 15
    while kills < 5 and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.5)
        workers = worker_children(gw.proc.pid, "gunicorn")
        if workers:
            kill_group_member(workers[kills % len(workers)])
            kills += 1
    restored = time.monotonic()
    thread.join(timeout=60)
    tally = rig.settle_and_count("7 gunicorn worker kill -9 mid-request (x5)", messages, restored)
    assert kills >= 3, "no gunicorn worker found to kill"
    assert len(stream.acked) == len(messages)
    assert (tally.lost, tally.duplicated, tally.quarantined) == (0, 0, 0), tally
