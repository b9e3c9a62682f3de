"""What a job did with one piece of work: returned by jobs (RQ keeps it as the job's result),
logged, and counted in metrics. Not stored in a table, except MoOutcome.FLOOD (an MO's
`command` when flood control kept it from being acted on)."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """An outcome reads as its plain value even inside a container (a job's result such as
    "{'delivered': 1, 'retry': 0}" stays what it was before these were enums)."""

    __repr__ = str.__repr__


class SendOutcome(Outcome):
    """One MT's send attempt (gateway.services.outbox); the first four are the `outcome`
    label of gateway_mt_sends_total (metrics.MT_OUTCOMES)."""

    ACCEPTED = "accepted"  # the aggregator took it
    RETRY = "retry"  # a retryable failure: back to QUEUED with a backoff
    FAILED = "failed"  # a permanent failure, or out of attempts: FAILED
    QUARANTINED = "quarantined"  # it kept failing inside the gateway: set aside
    HANDED_OFF = "handed-off"  # not tried by this job: left QUEUED for a send job
    NOT_DUE = "not-due"  # QUEUED, waiting for its retry time
    SKIPPED = "skipped"  # not QUEUED (sent, sending or final already)


class MoOutcome(Outcome):
    """Why an MO was not acted on as a command (instead of a command kind, see
    gateway.services.conversation)."""

    FLOOD = "FLOOD"  # past its number's flood limit (stored as the MO's command)
    ALREADY_DONE = "already-done"  # handled by an earlier run of the job
    MISSING = "missing"  # no such MO
    QUARANTINED = "quarantined"  # set aside while the job waited


class DeliveryOutcome(Outcome):
    """What one delivery run did with a webhook (gateway.services.upstream.deliver_due)."""

    DELIVERED = "delivered"
    RETRY = "retry"
    QUARANTINED = "quarantined"


class PartOutcome(Outcome):
    """What storing one part of a long SMS did (gateway.services.multipart; also the `outcome`
    label of gateway_mo_parts)."""

    STORED = "stored"
    DUPLICATE = "duplicate"  # stored already (the same id, or the same index again)
    LATE = "late"  # its message was closed already: recorded, not filed


class Receipt(Outcome):
    """What the receiver did with an MO (the `outcome` label of gateway_mo_received_total)."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # stored before: acknowledged, not processed again
    REFUSED = "refused"  # bad input or a bad token


class ConsoleOutcome(Outcome):
    """What a handler console request came to (the `outcome` label of
    gateway_console_requests_total)."""

    OK = "ok"
    REFUSED = "refused"  # not allowed (login failed, no session, a viewer acting, not FAILED)
    INVALID = "invalid"  # bad input
    NOT_FOUND = "not_found"
