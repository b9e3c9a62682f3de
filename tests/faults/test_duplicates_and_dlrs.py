"""Fault 6: the same MO posted 5 times concurrently to different receiver processes; delivery
reports that arrive before our send is recorded, twice, and out of order."""

from __future__ import annotations

import random
import threading
import time

import requests
from sqlalchemy import create_engine, text

from tests.conftest import INBOUND_TOKEN


def test_concurrent_repeats_and_early_repeated_late_dlrs(rig):
    gw = rig.start_gateway()
    status_url = f"{gw.url}/sms/generic/status"
    auth = {"Authorization": f"Bearer {INBOUND_TOKEN}"}
    plain_answer = rig.sends

    def dlr(agg_id: str, status: str) -> None:
        requests.post(status_url, data={"id": agg_id, "status": status}, headers=auth, timeout=5)

    def answer_with_dlrs(recorded):
        answer = plain_answer(recorded)
        if answer[0] == 200:
            agg_id = answer[1].split('"')[3]
            # Before the worker has recorded agg_id: DELIVERED, twice.
            dlr(agg_id, "DELIVERED")
            dlr(agg_id, "DELIVERED")
            # After: a late SENT that must not move it back.
            threading.Timer(0.5, dlr, args=(agg_id, "SENT")).start()
        return answer

    rig.fake.on_send = answer_with_dlrs
    stream, messages = rig.stream("dup5", threads=20, rate=None)
    stream.messages = [m for m in messages for _ in range(5)]
    random.Random(7).shuffle(stream.messages)
    started = time.monotonic()
    stream.run()
    tally = rig.settle_and_count("6 same MO x5 at once + early/dup/late DLRs", messages, started)
    assert (tally.lost, tally.duplicated, tally.quarantined) == (0, 0, 0), tally
    time.sleep(1.0)  # the late SENTs
    engine = create_engine(rig.database_url)
    with engine.connect() as conn:
        inbound = conn.scalar(text("SELECT count(*) FROM inbound_messages"))
        states = dict(
            conn.execute(text("SELECT status, count(*) FROM outbound_messages GROUP BY status")).all()
        )
        early = conn.scalar(text("SELECT count(*) FROM delivery_reports WHERE status = 'DELIVERED'"))
    engine.dispose()
    assert inbound == len(messages)  # 5 posts each, stored once
    assert states == {"DELIVERED": len(messages)}, states
    assert early == 2 * len(messages)
