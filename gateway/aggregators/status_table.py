"""Helpers every aggregator module shares for what its tables say: its delivery-report codes
mapped to ours (one dict per aggregator, data not code), and its send API's own error codes
classified as retryable, throttled or permanent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.errors import InvalidPayload, SendError
from gateway.models import DLR_STATUSES


def map_status(table: Mapping[str, str], raw: str | None, field: str) -> str:
    """Our DLR status for the aggregator's `raw` code; a missing or unknown code is a 400
    naming `field` (and listing the codes the table knows)."""
    if raw is None or not str(raw).strip():
        raise InvalidPayload(field, "is required")
    status = table.get(str(raw).strip())
    if status is None:
        raise InvalidPayload(field, f"unknown status {str(raw)[:20]!r}; one of {', '.join(table)}")
    assert status in DLR_STATUSES, status  # a table bug, caught by the adapter's own test
    return status


RETRYABLE, THROTTLED, PERMANENT = "retryable", "throttled", "permanent"


@dataclass(frozen=True)
class ErrorCode:
    """What one of the aggregator's own error codes means for a send: `kind` is RETRYABLE
    (try again later), THROTTLED (we send too fast: every worker pauses, then retry) or
    PERMANENT (a retry cannot help: FAILED, visible to admins); `meaning` is for the log."""

    kind: str
    meaning: str

    def error(self, code: str | int, retry_after: float | None = None) -> SendError:
        """The SendError this code stands for."""
        retryable = self.kind != PERMANENT
        return SendError(
            f"error {code}: {self.meaning}",
            retryable=retryable,
            retry_after=retry_after if retryable else None,
            throttled=self.kind == THROTTLED,
        )
