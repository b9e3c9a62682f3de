"""Fault 5: the aggregator's send API down (connection refused, then 500s, then 429 with
Retry-After); sends back off and all go out once it recovers. A permanent 4xx ends FAILED
after one try, without a retry storm."""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import create_engine, text

from tests.support.aggregator import start_fake_aggregator


def test_send_api_outage_backs_off_and_delivers_everything_once(rig):
    port = rig.fake.server.server_address[1]
    rig.start_gateway()
    rig.fake.close()  # connection refused
    stream, messages = rig.stream("sendapi", threads=4)
    thread = stream.start()
    time.sleep(2.0)
    rig.fake = start_fake_aggregator(port=port, on_send=rig.sends)
    rig.sends.mode = "500"
    time.sleep(2.0)
    rig.sends.mode = "429"
    time.sleep(2.0)
    rig.sends.mode = "ok"
    restored = time.monotonic()
    thread.join(timeout=60)
    tally = rig.settle_and_count("5 send API refused, 500, 429 for 6 s", messages, restored)
    assert (tally.lost, tally.duplicated, tally.quarantined) == (0, 0, 0), tally
    # Backed off, no storm: a bounded number of attempts per message during 6 s of outage.
    attempts = Counter(body["id"] for body in rig.fake.sent())
    assert max(attempts.values()) <= 8, attempts.most_common(3)


def test_permanent_4xx_fails_once_without_retries(rig):
    rig.fake.on_send = lambda recorded: (400, "invalid destination")
    rig.start_gateway()
    stream, messages = rig.stream("perm400", n=20, threads=4)
    stream.run()
    engine = create_engine(rig.database_url)

    def failed() -> int:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM outbound_messages WHERE status = 'FAILED'"))

    deadline = time.monotonic() + 30
    while failed() < len(messages) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2.5)  # a retry would show up now (backoff base 0.2 s, sweeper every 1 s)
    assert failed() == len(messages)
    with engine.connect() as conn:
        attempts = conn.execute(text("SELECT attempts FROM outbound_messages")).scalars().all()
    engine.dispose()
    assert attempts == [1] * len(messages)
    assert len(rig.fake.requests) == len(messages)  # one request each: no retry storm
