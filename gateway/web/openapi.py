"""The OpenAPI 3 document of the admin API, generated: each route declares its operation once
(`@operation`: summary, query and body models, response model, error codes), the same
declaration validates the request (gateway/web/api_models.py), and `openapi_document` reads
the paths from Flask's URL map. tests/store/test_openapi.py runs schemathesis against it,
negative data included, on both databases."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, request
from pydantic.json_schema import models_json_schema

from gateway.edge import MAX_ROW_ID, loads_json
from gateway.errors import InvalidPayload
from gateway.web.api_models import Error, Request, Response, read

ERROR_REASONS = {
    400: "invalid request (the field is named)",
    401: "missing or bad credentials",
    403: "the token's role may not do this",
    404: "not found",
    409: "conflict",
    503: "database unavailable; retry",
}
_PATH_VARIABLE = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>\w+)>")
_REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Operation:
    """One route's contract: what it reads, what it answers."""

    summary: str
    response: type[Response]
    status: int = 200
    errors: tuple[int, ...] = (401, 503)
    query: type[Request] | None = None
    body: type[Request] | None = None
    body_schema: type[Request] | None = None  # documented, validated elsewhere (signed bodies)
    description: str = ""
    signed: bool = False  # authenticated by an HMAC signature header, not a bearer token


OPERATIONS: dict[str, Operation] = {}
"""By view function name (the endpoint in the admin blueprint)."""


def operation(summary: str, response: type[Response], **details) -> Callable:
    """Declare the decorated view's contract. With a `query` or `body` model, the view gets
    the validated model as its `query=` or `body=` argument (400 naming the field otherwise)."""
    op = Operation(summary, response, **details)

    def wrap(view: Callable) -> Callable:
        OPERATIONS[view.__name__] = op

        @functools.wraps(view)
        def inner(*args, **kwargs):
            if op.query is not None:
                kwargs["query"] = read(op.query, request.args.to_dict(flat=True))
            if op.body is not None:
                kwargs["body"] = read(op.body, json_object())
            return view(*args, **kwargs)

        return inner

    return wrap


def json_object() -> dict:
    """The request's JSON body, which must be an object."""
    data = loads_json(request.get_data(cache=True)) if request.is_json else None
    if not isinstance(data, dict):
        raise InvalidPayload("body", "must be a JSON object")
    return data


# -- the document ---------------------------------------------------------------------------


def openapi_document(app: Flask, blueprint: str = "admin_api") -> dict:
    """The whole document, for the routes of `blueprint` that declare an operation."""
    models = {
        m for op in OPERATIONS.values() for m in (op.response, op.query, op.body, op.body_schema) if m
    } | {Error}
    _, schemas = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)], ref_template=_REF
    )
    components = _tidy(schemas.get("$defs", {}))
    paths: dict[str, dict] = {}
    for rule in app.url_map.iter_rules():
        name = rule.endpoint.removeprefix(f"{blueprint}.")
        if name == rule.endpoint or name not in OPERATIONS:
            continue
        path, variables = _path(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op = OPERATIONS[name]
            paths.setdefault(path, {})[method.lower()] = _operation(op, variables, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "LAPOR! 1708 gateway admin API",
            "version": "1",
            "description": "Complaint handlers' API: find reports, read timelines, change statuses, "
            "post follow-ups and replies (each sends the reporter a notice SMS), see and requeue "
            "outbound SMS. Reporters' numbers are always masked.",
        },
        "components": {"securitySchemes": _SECURITY_SCHEMES, "schemas": components},
        "security": [{"token": []}],
        "paths": paths,
    }


_SECURITY_SCHEMES = {
    "token": {"type": "http", "scheme": "bearer", "description": "flask token create"},
    "signature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Lapor-Signature",
        "description": "sha256=HMAC-SHA256(secret, X-Lapor-Timestamp + '.' + body)",
    },
}


def _path(rule: str) -> tuple[str, list[dict]]:
    """Flask's `/x/<int:id>` as OpenAPI's `/x/{id}`, with the path parameters."""
    variables = []
    for match in _PATH_VARIABLE.finditer(rule):
        if match["converter"] == "int":
            schema = {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}
        else:
            schema = {"type": "string"}
        variables.append({"name": match["name"], "in": "path", "required": True, "schema": schema})
    return _PATH_VARIABLE.sub(lambda m: "{" + m["name"] + "}", rule), variables


def _operation(op: Operation, variables: list[dict], components: dict) -> dict:
    doc: dict = {"summary": op.summary, "parameters": [*variables, *_query_parameters(op.query, components)]}
    if op.description:
        doc["description"] = op.description
    if op.signed:
        doc["security"] = [{"signature": []}]
        doc["parameters"].append(
            {"name": "X-Lapor-Timestamp", "in": "header", "required": True, "schema": {"type": "string"}}
        )
    body = op.body or op.body_schema
    if body is not None:
        doc["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    doc["responses"] = {
        str(op.status): _json(_ref(op.response), op.response.__doc__ or op.summary),
        **{str(code): _json(_ref(Error), ERROR_REASONS[code]) for code in op.errors},
    }
    return doc


def _query_parameters(model: type[Request] | None, components: dict) -> list[dict]:
    if model is None:
        return []
    schema = components[model.__name__]
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", "")
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        params.append(param | ({"description": description} if description else {}))
    return params


def _ref(model: type) -> dict:
    return {"$ref": _REF.format(model=model.__name__)}


def _json(schema: dict, description: str) -> dict:
    return {"description": description.strip(), "content": {"application/json": {"schema": schema}}}


def _tidy(node):
    """Drop pydantic's generated titles and `default: null` (a property that may be absent
    is simply not required)."""
    if isinstance(node, dict):
        return {
            k: _tidy(v)
            for k, v in node.items()
            if not (k == "title" and isinstance(v, str)) and not (k == "default" and v is None)
        }
    if isinstance(node, list):
        return [_tidy(v) for v in node]
    return node
