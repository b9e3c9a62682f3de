"""Schemathesis negative data against the admin API's OpenAPI document, on both databases:
requests that break the documented schema (wrong types, out-of-range numbers, missing
required fields) must get a 4xx, never a 5xx. Counted in the hostile table per operation."""

from __future__ import annotations

import json

import schemathesis
from hypothesis import given
from schemathesis.core import NotSet
from schemathesis.generation import GenerationMode

from tests.hostile.conftest import budget
from tests.store.admin_helpers import bearer, no_quiet_hours
from tests.store.helpers import file_report


def test_negative_data_never_gets_a_5xx(client, rt, run_jobs, fake_aggregator, hostile):
    no_quiet_hours(rt)
    rt.settings = rt.settings.replace(upstream_secret="s3cret")  # /events answers 401, not 404
    file_report(client, rt, run_jobs, fake_aggregator)
    auth = bearer(rt, "admin")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", client.application)
    route = hostile("schemathesis negative /api/v1/*")
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        @budget(0.15)
        def check(case):
            kwargs = {"headers": auth, "query_string": case.query or None}
            if not isinstance(case.body, NotSet) and case.body is not None:
                body = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
                kwargs.update(data=body, content_type="application/json")
            route.request(case.method.upper(), case.formatted_path, **kwargs)

        check()
    route.finish()
