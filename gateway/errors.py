"""One root for the gateway's own errors, so handlers can tell ours from bugs."""

from __future__ import annotations


class GatewayError(Exception):
    """Root of every error the gateway raises on purpose."""


class ConfigError(GatewayError):
    """Invalid configuration; the message names the environment variable."""


class InvalidPayload(GatewayError):
    """A callback we cannot accept; answered 400 with the field named."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class CallbackRefused(GatewayError):
    """An aggregator callback whose native signature does not check out; answered 401."""


class InvalidNumber(GatewayError):
    """A phone number that is not a valid, reachable Indonesian number."""


class SendError(GatewayError):
    """An outbound send failed. `retryable` says whether trying again can help;
    `retry_after` is the aggregator's own hint in seconds, when it gave one; `throttled`: the
    aggregator said we send too fast (429 or its own code), so every worker pauses."""

    def __init__(
        self, reason: str, retryable: bool, retry_after: float | None = None, throttled: bool = False
    ):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        self.throttled = throttled
