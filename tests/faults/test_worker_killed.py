"""Fault 1: RQ workers killed with SIGKILL in the middle of jobs, several times."""

from __future__ import annotations

import time

from tests.support.faults import kill_group_member, worker_children


def test_kill_9_of_workers_mid_job_loses_and_duplicates_nothing(rig):
    rig.sends.delay = 0.05  # each send keeps a worker busy, so the kills land mid-job
    gw = rig.start_gateway()
    stream, messages = rig.stream("kill9")
    thread = stream.start()
    kills = 0
    deadline = time.monotonic() + 20
    while kills < 6 and time.monotonic() < deadline:
        time.sleep(0.7)
        workers = worker_children(gw.proc.pid, "worker-pool")
        if workers:
            kill_group_member(workers[0])
            kills += 1
    restored = time.monotonic()
    thread.join(timeout=60)
    tally = rig.settle_and_count("1 kill -9 RQ worker mid-job (x6)", messages, restored)
    assert kills >= 3, "the workers were not found to kill"
    assert len(stream.acked) == len(messages)
    assert (tally.lost, tally.duplicated, tally.quarantined) == (0, 0, 0), tally
