"""The edge answers who-are-you before anything else: an unknown route name is only named to a
caller that presented the inbound token (issue 12)."""

from __future__ import annotations

import pytest

from tests.store.helpers import AUTH


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/sms/nosuch/inbound", id="sms-inbound"),
        pytest.param("/sms/nosuch/status", id="sms-status"),
        pytest.param("/ussd/nosuch", id="ussd"),
    ],
)
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({}, 401, id="no-token"),
        pytest.param({"Authorization": "Bearer wrong"}, 401, id="wrong-token"),
        pytest.param(AUTH, 404, id="good-token"),
    ],
)
def test_unknown_route_names_are_only_revealed_to_a_token_holder(client, path, headers, status):
    resp = client.post(path, data={"x": "1"}, headers=headers)
    assert resp.status_code == status
    if status == 401:
        assert "nosuch" not in resp.get_data(as_text=True)
