"""The OpenAPI document describes the API, checked by schemathesis: generated requests to
every operation (with a real admin token, against real data) never get a 5xx, and every
response matches the documented status codes, content type and schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.store.admin_helpers import bearer, no_quiet_hours
from tests.store.helpers import post_mo

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_openapi_document_lists_every_api_route(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    documented = {path for path in doc["paths"]}
    routes = {
        rule.rule.replace("<tracking_no>", "{tracking_no}")
        .replace("<int:outbound_id>", "{id}")
        .replace("<int:entry_id>", "{id}")
        for rule in client.application.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.rule != "/api/v1/openapi.json"
    }
    assert routes == documented


@pytest.mark.parametrize("backend", ["sqlite"], indirect=False)
def test_api_conforms_to_its_openapi_document(client, rt, run_jobs):
    no_quiet_hours(rt)
    rt.settings = rt.settings.replace(upstream_secret="s3cret")  # /events answers 401, not 404
    auth = bearer(rt, "admin")
    post_mo(client, "LAPOR lampu jalan mati di gang melati")
    post_mo(client, "LAPOR ANONIM pungutan liar di kantor desa")
    run_jobs()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", client.application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 13
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(headers=auth, checks=CHECKS)

        check()
