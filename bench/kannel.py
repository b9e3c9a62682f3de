"""Kannel-driven end to end (issue #6, goal 6): MOs injected into a real Kannel through fakesmsc
-> bearerbox -> smsbox `get-url` -> the gateway as `make run` starts it -> GET /cgi-bin/sendsms
-> bearerbox -> fakesmsc, timed until every reply has reached fakesmsc. Needs the Debian
packages kannel and kannel-extras.

    .venv/bin/python bench/kannel.py [--mo 2000] [--timeout 180] [--json PATH]

Two runs, one after the other, each with its own Kannel (tests/support/kannel.py):
- reference: Kannel pushing the same MOs to a tiny threaded HTTP server answering 202, timed
  until it has received them all (Kannel's own push rate on this machine);
- gateway: the MOs (each from its own number, so the flood limit never applies) through the
  gateway (SQLite, Redis db 9, flushed before and after), timed from the first injection until
  fakesmsc has logged a reply to every number. `lost` = MOs without a reply when the bounded wait ends.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redis import Redis  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.memory import stop_gateway  # noqa: E402
from bench.receiver import write_json  # noqa: E402
from gateway.db import make_engine  # noqa: E402
from gateway.migrate import upgrade_to_head  # noqa: E402
from gateway.models import InboundMessage  # noqa: E402
from tests.support import processes  # noqa: E402
from tests.support.kannel import KannelHarness, RecordingServer, kannel_harness, missing_binaries  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/9"
TOKEN = "bench-kannel-token"
MO_QUERY = "from=%p&to=%P&text=%a&id=%I&ts=%T&coding=%c&charset=%C&token=" + TOKEN
POKE_EVERY = 0.02  # fakesmsc reads its bearerbox socket only between stdin reads
LINE_TIMEOUT = 0.5  # longest wait for fakesmsc to send one injected line


def number(i: int) -> str:
    """The sender of MO i, as the fake SMSC reports it (national format)."""
    return f"0813{60000000 + i:08d}"


def inject(kannel: KannelHarness, tail: FakesmscLog, n: int) -> float:
    """Write n MO lines to fakesmsc, each once fakesmsc has sent the one before (lines that reach
    it together are lost: it takes one line per read). When the first one went in."""
    start = time.monotonic()
    for i in range(n):
        kannel.inject_line(f"{number(i)} 1708 text LAPOR jalan rusak nomor {i} di desa")
        deadline = time.monotonic() + LINE_TIMEOUT
        while tail.poll() <= i and time.monotonic() < deadline:
            time.sleep(0.0001)
    return start


def poke(kannel: KannelHarness) -> None:
    """Write a blank line to fakesmsc: it sends nothing, but reads what bearerbox sent it."""
    try:
        kannel.procs["fakesmsc"].stdin.write(b"\n")
        kannel.procs["fakesmsc"].stdin.flush()
    except (OSError, ValueError, KeyError):
        pass


class FakesmscLog:
    """Reads fakesmsc's log incrementally: how many MOs it sent, which numbers got an MT."""

    def __init__(self, kannel: KannelHarness):
        self.kannel, self.offset, self.sent, self.receivers = kannel, 0, 0, set()

    def poll(self) -> int:
        """Read what fakesmsc logged since the last call; how many MOs it has sent so far."""
        with open(self.kannel.fakesmsc_log, "rb") as log:
            log.seek(self.offset)
            chunk = log.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        for line in complete.decode("utf-8", "replace").splitlines():
            if "fakesmsc: sent message" in line:
                self.sent += 1
            elif "Got message" in line and ": <" in line:
                self.receivers.add(line.split(": <", 1)[1].split(" ", 2)[1])
        return self.sent

    def replied(self) -> int:
        """Wake fakesmsc (it reads bearerbox's MTs between stdin reads), then count numbers
        that got a reply."""
        poke(self.kannel)
        self.poll()
        return len(self.receivers)


def reference(n: int, timeout: float, workdir: Path) -> dict:
    """Kannel pushing n MOs to a trivial server answering 202: seconds until it got them all."""
    with RecordingServer(202) as sink:
        with kannel_harness(f"{sink.url}/mo?{MO_QUERY}", workdir=workdir) as kannel:
            tail = FakesmscLog(kannel)
            start = inject(kannel, tail, n)
            inject_s = time.monotonic() - start
            got = sink.wait_for(tail.poll(), timeout=timeout)
            done = time.monotonic()
            sent = tail.poll()
    return {
        "mo": n,
        "injected": sent,
        "received": len(got),
        "inject_s": inject_s,
        "seconds": done - start,
        "push_per_s": len(got) / (done - start),
    }


def inbound_rows(engine) -> int:
    """MOs the gateway has stored."""
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(InboundMessage))


def wait_replies(tail: FakesmscLog, engine, n: int, start: float, timeout: float) -> dict:
    """Poll (bounded) until every number got a reply; when all MOs were stored and all replied."""
    stored_at, deadline, last_db = None, start + timeout, 0.0
    while time.monotonic() < deadline:
        replied = tail.replied()
        now = time.monotonic()
        if stored_at is None and now - last_db > 0.25:
            last_db = now
            if inbound_rows(engine) >= n:
                stored_at = now
        if replied >= n:
            break
        time.sleep(POKE_EVERY)
    done = time.monotonic()
    wanted = {"+62" + number(i)[1:] for i in range(n)}
    return {
        "injected": tail.poll(),
        "replied": len(tail.receivers & wanted),
        "stored_s": (stored_at or done) - start,
        "seconds": done - start,
    }


def gateway(n: int, timeout: float, workdir: Path) -> dict:
    """n MOs through Kannel and the gateway; seconds until every reply reached fakesmsc."""
    port = processes.free_port()
    db_url = f"sqlite:///{workdir}/gateway.db"
    upgrade_to_head(db_url)
    engine = make_engine(db_url)
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    mo_url = f"http://127.0.0.1:{port}/sms/kannel/inbound?{MO_QUERY}"
    try:
        with kannel_harness(mo_url, workdir=workdir / "kannel") as kannel:
            gw = processes.start_gateway(workdir, gateway_env(kannel, db_url), port=port)
            try:
                tail = FakesmscLog(kannel)
                start = inject(kannel, tail, n)
                out = wait_replies(tail, engine, n, start, timeout)
            finally:
                stop_gateway(gw)
    finally:
        redis.flushdb()
        engine.dispose()
    out.update(mo=n, lost=n - out["replied"], e2e_per_s=out["replied"] / out["seconds"])
    out["stored_per_s"] = n / out["stored_s"]
    return out


def gateway_env(kannel: KannelHarness, db_url: str) -> dict[str, str]:
    """The gateway's settings: send through this Kannel, no flood limit in practice."""
    return {
        "REDIS_URL": REDIS_URL,
        "DATABASE_URL": db_url,
        "GATEWAY_INBOUND_TOKEN": TOKEN,
        "GATEWAY_OUTBOUND": "kannel",
        "GATEWAY_KANNEL_SENDSMS_URL": kannel.sendsms_url,
        "GATEWAY_KANNEL_USERNAME": kannel.username,
        "GATEWAY_KANNEL_PASSWORD": kannel.password,
        "GATEWAY_FLOOD_LIMIT": "1000000",
    }


def print_table(ref: dict, gw: dict) -> None:
    """Both runs, one row each."""
    print(f"{'run':<34} {'MO':>6} {'seconds':>8} {'per s':>8} {'lost':>5}")
    lost_ref = ref["mo"] - ref["received"]
    print(
        f"{'Kannel -> 202 server (reference)':<34} {ref['mo']:>6} {ref['seconds']:>8.2f}"
        f" {ref['push_per_s']:>8.0f} {lost_ref:>5}"
    )
    stored = f"{gw['mo']:>6} {gw['stored_s']:>8.2f} {gw['stored_per_s']:>8.0f}"
    print(f"{'Kannel -> gateway: MO stored':<34} {stored}")
    print(
        f"{'Kannel -> gateway -> reply at SMSC':<34} {gw['mo']:>6} {gw['seconds']:>8.2f}"
        f" {gw['e2e_per_s']:>8.0f} {gw['lost']:>5}"
    )


def main() -> int:
    """Reference, then the gateway; print the table; exit 1 if a reply is missing."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mo", type=int, default=2000, help="MOs to inject (default 2000)")
    p.add_argument("--timeout", type=float, default=180, help="longest wait for the replies, s (default 180)")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    args = p.parse_args()
    if not (0 < args.mo <= 20_000 and 0 < args.timeout <= 900):
        p.error("need 0 < --mo <= 20000 and 0 < --timeout <= 900")
    if reason := missing_binaries():
        sys.exit(f"bench/kannel.py: {reason}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="bench-kannel-") as tmp:
        ref = reference(args.mo, min(args.timeout, 60), Path(tmp) / "reference")
        gw = gateway(args.mo, args.timeout, Path(tmp))
    print_table(ref, gw)
    print("\nfakesmsc -i 0, Kannel logs at debug level (the test harness's config); gateway as `make run`")
    if args.json:
        write_json(args.json, {"reference": ref, "gateway": gw})
    return 0 if gw["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
