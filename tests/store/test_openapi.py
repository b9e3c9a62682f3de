"""The OpenAPI document describes the API, checked by schemathesis on both databases:
generated requests to every operation (with a real admin token, against real data), valid and
invalid, never get a 5xx; every response matches the documented status codes, content type and
schema; and every request that breaks the document (a wrong type, an out-of-range number, a
string too long, a missing field) is refused with a 4xx, so the document is no looser or
stricter than what the handlers accept."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test

from tests.store.admin_helpers import bearer, no_quiet_hours
from tests.store.helpers import post_mo

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def test_openapi_document_lists_every_api_route(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    documented = {path for path in doc["paths"]}
    routes = {
        re.sub(r"<(?:int:)?(\w+)>", r"{\1}", rule.rule)
        for rule in client.application.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.rule != "/api/v1/openapi.json"
    }
    assert routes == documented


@pytest.fixture
def api_schema(client, rt, run_jobs):
    """The served document, with real data behind it and every request carrying a real admin
    token (a token's absence or breakage is tests/store/test_admin_api's matter, so
    schemathesis neither generates nor breaks the Authorization header)."""
    no_quiet_hours(rt)
    rt.settings = rt.settings.replace(upstream_secret="s3cret")  # /events answers 401, not 404
    post_mo(client, "LAPOR lampu jalan mati di gang melati")
    post_mo(client, "LAPOR ANONIM pungutan liar di kantor desa")
    run_jobs()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", client.application)
    schema.config.update(headers=bearer(rt, "admin"))
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], with_security_parameters=False
    )
    return schema


def test_api_conforms_to_its_openapi_document(api_schema):
    """Examples, boundary values (schemathesis's coverage phase: a string one past its
    maxLength, a number one past its maximum, each enum value and one outside it, a missing
    required field) and random requests, valid and invalid, for every operation."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 13
    for operation in operations:
        run = create_test(
            operation=operation,
            test_func=_call_and_validate,
            config=HypothesisTestConfig(
                project=api_schema.config,
                modes=list(HypothesisTestMode),
                settings=settings(
                    max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
                ),
            ),
        )
        run()


def _call_and_validate(case):
    case.call_and_validate(checks=CHECKS)
