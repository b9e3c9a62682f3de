"""RQ jobs. Thin on purpose: they take ids, get the process's runtime, and call services.

The runtime is built lazily from the environment the first time a job runs in a process,
so importing this module (as RQ does) connects to nothing. Workers are SimpleWorkers (no
fork per job), so one runtime, with its pooled connections, serves every job of a process.
"""

from __future__ import annotations

from config.settings import load_settings
from gateway.dberrors import redact_database_errors
from gateway.models import QuarantineKind
from gateway.runtime import Runtime, build_runtime
from gateway.services import drain, outbox, quarantine, sla, sweeper, upstream

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


@redact_database_errors
def drain_inbound() -> str:
    """Handle every pending MO, in batches (rung by the receiver's doorbell or the sweeper)."""
    return str(drain.drain_inbound(runtime()))


@redact_database_errors
def send_outbound(outbound_id: int) -> str:
    """One send attempt for one MT (a reply takes the other due replies along)."""
    return str(outbox.send_with_due_replies(runtime(), outbound_id))


@redact_database_errors
def sweep() -> str:
    """Periodic: re-enqueue unfinished work the database knows of."""
    return str(sweeper.sweep(runtime()))


@redact_database_errors
def sla_clock() -> str:
    """Periodic: close reports whose follow-up went unanswered for the SLA's working days."""
    return ",".join(sla.run_clock(runtime()))


@redact_database_errors
def deliver_webhooks() -> str:
    """Send due webhooks to the complaint system (after a report or BALAS, retries, cron)."""
    return str(upstream.deliver_due(runtime()))


@redact_database_errors
def ussd_draft_check(fmt_name: str, session_key: str) -> str:
    """Scheduled at a USSD session's expiry: one SMS if it died with an unsent draft (tried
    up to quarantine.MAX_TRIES times, then set aside for an admin)."""
    from gateway.ussd import service

    rt = runtime()
    return str(
        quarantine.run_guarded(
            rt,
            QuarantineKind.USSD,
            f"{fmt_name}:{session_key}",
            lambda: service.check_dead_draft(rt, fmt_name, session_key),
        )
    )


@redact_database_errors
def apply_delivery_report(dlr_id: int) -> str:
    """Apply one stored DLR (a quarantined one an admin retried)."""
    rt = runtime()
    return str(
        quarantine.run_guarded(rt, QuarantineKind.DLR, dlr_id, lambda: outbox.apply_stored_dlr(rt, dlr_id))
    )
