"""The aggregator registry: adding an aggregator is one module, one line here, one test table
(README "Adding an aggregator"; the interface is gateway/aggregators/base.py).

A registered aggregator gets /sms/<name>/inbound and /sms/<name>/status, may be chosen with
GATEWAY_OUTBOUND=<name>, and reads its own GATEWAY_<NAME>_* settings (config/aggregators.py).
`log` is not an aggregator: it is the sender GATEWAY_OUTBOUND=log picks (gateway.sender)."""

from __future__ import annotations

from gateway.aggregators.africastalking import AfricasTalking
from gateway.aggregators.base import Aggregator
from gateway.aggregators.dartmedia import Dartmedia
from gateway.aggregators.eight_by_eight import EightByEight
from gateway.aggregators.generic import Generic
from gateway.aggregators.infobip import Infobip
from gateway.aggregators.jasmin import Jasmin
from gateway.aggregators.kannel import Kannel
from gateway.aggregators.twilio import Twilio
from gateway.aggregators.vonage import Vonage

REGISTRY: dict[str, Aggregator] = {
    "generic": Generic(),
    "kannel": Kannel(),
    "jasmin": Jasmin(),
    "dartmedia": Dartmedia(),
    "vonage": Vonage(),
    "africastalking": AfricasTalking(),
    "8x8": EightByEight(),
    "infobip": Infobip(),
    "twilio": Twilio(),
}


def inbound_aggregator(name: str) -> Aggregator | None:
    """The aggregator that owns /sms/<name>/..., or None."""
    return REGISTRY.get(name)
