"""RQ jobs. Thin on purpose: they take ids, get the process's runtime, and call services.

The runtime is built lazily from the environment the first time a job runs in a process,
so importing this module (as RQ does) connects to nothing. Workers are SimpleWorkers (no
fork per job), so one runtime, with its pooled connections, serves every job of a process.
"""

from __future__ import annotations

from config.settings import load_settings
from gateway.runtime import Runtime, build_runtime
from gateway.services import conversation, outbox, sweeper

_runtime: Runtime | None = None


def use_runtime(rt: Runtime | None) -> None:
    """Make jobs in this process use `rt` (tests, benchmarks); None resets."""
    global _runtime
    _runtime = rt


def runtime() -> Runtime:
    """The process's runtime, built on first use."""
    global _runtime
    if _runtime is None:
        _runtime = build_runtime(load_settings())
    return _runtime


def process_inbound(inbound_id: int) -> str:
    """Parse and answer one stored MO."""
    return conversation.process_inbound(runtime(), inbound_id)


def send_outbound(outbound_id: int) -> str:
    """One send attempt for one MT."""
    return outbox.send_outbound(runtime(), outbound_id)


def sweep() -> str:
    """Periodic: re-enqueue unfinished work the database knows of."""
    return str(sweeper.sweep(runtime()))
