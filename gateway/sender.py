"""The one shared outbound HTTP client: pooled connections, explicit timeouts, and transport
failures mapped to retryable send errors."""

from __future__ import annotations

import logging

import requests

from gateway.aggregators.base import SendRequest, SendResponse
from gateway.errors import SendError
from gateway.msisdn import mask_msisdn

log = logging.getLogger("gateway.sender")


class Sender:
    """Submits SendRequests. One per process; `requests.Session` pools connections per host."""

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.session = requests.Session()

    def submit(self, req: SendRequest) -> SendResponse:
        """Make the request; raise SendError(retryable=True) when the network fails."""
        if req.method == "LOG":
            return self._log(req)
        try:
            resp = self.session.request(
                req.method,
                req.url,
                params=req.params,
                json=req.json,
                headers=dict(req.headers),
                # (connect, read): a dead host fails fast; a slow API gets the full budget.
                timeout=(min(3.0, self.timeout), self.timeout),
                allow_redirects=False,
            )
        except requests.Timeout:
            raise SendError("timeout", retryable=True) from None
        except requests.ConnectionError:
            raise SendError("connection failed", retryable=True) from None
        except requests.RequestException as exc:
            raise SendError(f"request error: {type(exc).__name__}", retryable=False) from None
        return SendResponse(resp.status_code, resp.text, dict(resp.headers))

    @staticmethod
    def _log(req: SendRequest) -> SendResponse:
        msg = req.json
        # Printed for the developer running `make run`: the reply text is ours (it carries a
        # tracking number, never the complaint), the number is masked.
        log.warning("MT (GATEWAY_OUTBOUND=log) to %s: %s", mask_msisdn(msg["to"]), msg["text"])
        return SendResponse(200, f"log-{msg['id']}")
