"""The aggregator registry: adding an aggregator is one module, one line here, one test table."""

from __future__ import annotations

from gateway.aggregators.base import Aggregator
from gateway.aggregators.generic import Generic
from gateway.aggregators.kannel import Kannel
from gateway.aggregators.log import LogOutbound

REGISTRY: dict[str, Aggregator] = {
    "generic": Generic(),
    "kannel": Kannel(),
    "log": LogOutbound(),
}


def inbound_aggregator(name: str) -> Aggregator | None:
    """The aggregator that owns /sms/<name>/...; `log` only sends, so it has no routes."""
    agg = REGISTRY.get(name)
    return agg if agg is not None and agg.name != "log" else None
