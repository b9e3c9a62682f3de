"""Fault 4: the database unreachable while MOs arrive. The receiver answers 503 (so the
aggregator keeps the message and retries); nothing is acknowledged that was not stored."""

from __future__ import annotations

import time

from sqlalchemy import create_engine, text


def test_database_outage_is_503_and_nothing_acknowledged_is_lost(rig):
    rig.start_gateway()
    stream, messages = rig.stream("dbdown", threads=4)
    thread = stream.start()
    time.sleep(1.0)
    rig.proxy.cut()
    time.sleep(4.0)
    acked_during_outage = set(stream.acked)
    rig.proxy.restore()
    restored = time.monotonic()
    thread.join(timeout=90)
    tally = rig.settle_and_count("4 database unreachable for 4 s", messages, restored)
    assert stream.refusals.get("503", 0) > 0, stream.refusals  # the outage was seen, and answered 503
    assert len(stream.acked) == len(messages)
    engine = create_engine(rig.database_url)
    with engine.connect() as conn:
        stored = {r[0] for r in conn.execute(text("SELECT external_id FROM inbound_messages"))}
    engine.dispose()
    assert acked_during_outage <= stored  # every acknowledgement was backed by a row
    assert (tally.lost, tally.duplicated, tally.quarantined) == (0, 0, 0), tally
