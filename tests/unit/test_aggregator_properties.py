"""Property tests: no request, however malformed, makes an aggregator parser raise anything
but InvalidPayload (a clear 400), and whatever it does accept is well formed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.aggregators import REGISTRY, inbound_aggregator
from gateway.aggregators.base import WireRequest
from gateway.errors import InvalidPayload
from gateway.models import DLR_STATUSES

NAMES = ["from", "to", "text", "id", "timestamp", "status", "ts", "coding", "charset", "smsc_id"]
FIELDS = st.dictionaries(st.sampled_from(NAMES), st.text(max_size=60), max_size=len(NAMES))
REQUESTS = st.builds(
    WireRequest,
    method=st.sampled_from(["GET", "POST"]),
    query=FIELDS,
    form=FIELDS,
    json=st.one_of(st.none(), FIELDS, st.lists(st.integers(), max_size=3)),
    body=st.binary(max_size=200),
    content_type=st.sampled_from(["", "text/plain", "application/json", "application/x-www-form-urlencoded"]),
    raw_query=st.binary(max_size=200),
)
INBOUND = sorted(name for name in REGISTRY if inbound_aggregator(name))


@pytest.mark.parametrize("name", INBOUND)
@settings(max_examples=300, deadline=None)
@given(req=REQUESTS)
def test_parse_inbound_accepts_or_names_the_field(name, req):
    try:
        messages = REGISTRY[name].parse_inbound(req)
    except InvalidPayload as exc:
        assert exc.field
        return
    for sms in messages:
        assert sms.sender.strip() and sms.external_id.strip()
        assert isinstance(sms.text, str)


@pytest.mark.parametrize("name", INBOUND)
@settings(max_examples=300, deadline=None)
@given(req=REQUESTS)
def test_parse_status_accepts_or_names_the_field(name, req):
    try:
        updates = REGISTRY[name].parse_status(req)
    except InvalidPayload as exc:
        assert exc.field
        return
    for update in updates:
        assert update.status in DLR_STATUSES and update.message_ref
