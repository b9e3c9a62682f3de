"""Small helpers the aggregator modules share: reading an aggregator's status code through its
table (data, one dict per aggregator), and turning a send API's own refusal code into a
classified SendError. Pure functions, no I/O.

A DLR status table maps the aggregator's raw status to one of gateway.models.DLR_STATUSES;
a send-code table maps the aggregator's answer codes to `SendCode` (what it means, whether a
retry can help, whether it says we send too fast)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.aggregators.generic import parse_iso_timestamp
from gateway.edge import check_sent_at
from gateway.errors import InvalidPayload, SendError
from gateway.msisdn import redact_numbers


@dataclass(frozen=True)
class SendCode:
    """One refusal code of a send API: its meaning, and how the outbox should treat it."""

    meaning: str
    retryable: bool = False
    throttled: bool = False  # the aggregator says we send too fast: every worker pauses


def dlr_status(table: Mapping[str, str], raw: str | None, field: str) -> str:
    """Our DLR status for the aggregator's raw status (looked up as given, then lower-cased);
    400 naming `field` when it is missing or not in the table."""
    value = (raw or "").strip()
    if not value:
        raise InvalidPayload(field, "is required")
    status = table.get(value) or table.get(value.lower())
    if status is None:
        raise InvalidPayload(field, f"unknown status {value[:32]!r}")
    return status


def send_error(
    aggregator: str,
    code: str,
    table: Mapping[str, SendCode],
    detail: str = "",
    retry_after: float | None = None,
) -> SendError:
    """The SendError for a refusal `code` the aggregator answered. A code missing from the table
    is taken as permanent (an unknown refusal repeated six times helps no one; an admin can
    requeue it). `detail` (the aggregator's own text) is kept short, numbers masked."""
    known = table.get(code)
    meaning = known.meaning if known else "unknown code"
    text = redact_numbers(" ".join(detail.split()))[:120]
    reason = f"{aggregator} refused: {code} {meaning}" + (f" ({text})" if text else "")
    retryable = bool(known and known.retryable)
    return SendError(
        reason,
        retryable=retryable,
        retry_after=retry_after if retryable else None,
        throttled=bool(known and known.throttled),
    )


def utc_timestamp(
    raw: str | None, field: str, formats: tuple[str, ...] = (), iso: bool = False
) -> datetime | None:
    """An optional timestamp in UTC, in one of `formats` (strptime; naive means UTC) or, with
    `iso`, any ISO 8601 form; a present but unreadable or implausible one is a 400."""
    value = (raw or "").strip()
    if not value:
        return None
    for fmt in formats:
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return check_sent_at(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC), field)
    if iso:
        return parse_iso_timestamp(value, field)
    raise InvalidPayload(field, "is not a timestamp in this aggregator's format")
