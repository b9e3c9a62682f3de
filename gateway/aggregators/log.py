"""The `log` outbound: prints each MT instead of sending it (the embedded default, so a new
user sees the replies in the terminal). The number is masked like everywhere else."""

from __future__ import annotations

from gateway.aggregators.base import Aggregator, OutboundSMS, SendRequest, SendResponse


class LogOutbound(Aggregator):
    name = "log"

    def build_send(self, sms: OutboundSMS, settings) -> SendRequest:
        """No HTTP: the sender recognises the `log:` scheme and prints instead."""
        return SendRequest(
            method="LOG", url="log:", json={"id": sms.gateway_id, "to": sms.to, "text": sms.text}
        )

    def read_send_response(self, resp: SendResponse) -> str:
        """Always accepted; the id is ours, prefixed so it cannot collide with a real one."""
        return resp.text
