"""How an HTTP answer from a send API is classified, shared by every aggregator."""

from __future__ import annotations

from gateway.aggregators.base import SendResponse
from gateway.errors import SendError
from gateway.msisdn import redact_numbers


def retry_after_seconds(resp: SendResponse) -> float | None:
    """The Retry-After header in seconds, when it is given as a number."""
    raw = {k.lower(): v for k, v in (resp.headers or {}).items()}.get("retry-after")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except (TypeError, ValueError):
        return None  # an HTTP date: rare from aggregators; our own backoff applies


def classify_http_failure(resp: SendResponse) -> SendError:
    """429 and 5xx are worth retrying; any other non-2xx is permanent."""
    retryable = resp.status_code == 429 or resp.status_code >= 500
    snippet = redact_numbers(" ".join(resp.text.split()))[:120]
    return SendError(
        f"HTTP {resp.status_code}: {snippet}",
        retryable=retryable,
        retry_after=retry_after_seconds(resp),
        throttled=resp.status_code == 429,
    )
