"""The OpenAPI 3 document of the admin API, built from the same constants the handlers use.
tests/store/test_openapi.py runs schemathesis against it (no 5xx, responses match)."""

from __future__ import annotations

from gateway.edge import MAX_ROW_ID
from gateway.models import OUTBOUND_ORDER, REPORT_STATUS_LABELS
from gateway.services.quarantine import KINDS, STATES

OUTBOUND_STATES = tuple(OUTBOUND_ORDER)
_NULL_TIME = {"type": ["string", "null"], "format": "date-time"}
_TIME = {"type": "string", "format": "date-time"}
_TRACKING = {"name": "tracking_no", "in": "path", "required": True, "schema": {"type": "string"}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    reasons = {
        400: "invalid request (the field is named)",
        401: "missing or bad credentials",
        403: "the token's role may not do this",
        404: "not found",
        409: "conflict",
        503: "database unavailable; retry",
    }
    return {str(c): _json(_ref("Error"), reasons[c]) for c in codes}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_PAGING = [
    _query("page", {"type": "integer", "minimum": 1, "maximum": 100000}, "page number, from 1"),
    _query("per_page", {"type": "integer", "minimum": 1, "maximum": 200}, "items per page (default 50)"),
]

_SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error", "reason"],
        "properties": {
            "error": {"type": "string"},
            "reason": {"type": "string"},
            "field": {"type": "string"},
        },
    },
    "Sla": {
        "type": ["object", "null"],
        "required": ["waiting_for", "due_at"],
        "properties": {
            "waiting_for": {"type": "string", "enum": ["VERIFICATION", "FOLLOW_UP", "CITIZEN_REPLY"]},
            "due_at": _TIME,
        },
    },
    "Report": {
        "type": "object",
        "required": ["tracking_no", "status", "status_label", "channel", "privacy", "reporter", "text"],
        "properties": {
            "tracking_no": {"type": "string", "pattern": "^[0-9]+$"},
            "status": {"type": "string", "enum": list(REPORT_STATUS_LABELS)},
            "status_label": {"type": "string"},
            "channel": {"type": "string"},
            "privacy": {"type": "string", "enum": ["PUBLIC", "CONFIDENTIAL", "ANONYMOUS"]},
            "reporter": {
                "type": ["string", "null"],
                "description": "masked (+62812****789); null for anonymous reports",
            },
            "text": {"type": "string"},
            "created_at": _TIME,
            "updated_at": _TIME,
            "verified_at": _NULL_TIME,
            "last_follow_up_at": _NULL_TIME,
            "last_citizen_reply_at": _NULL_TIME,
            "closed_at": _NULL_TIME,
            "sla": _ref("Sla"),
            "overdue_since": _TIME,
        },
    },
    "Outbound": {
        "type": "object",
        "required": ["id", "kind", "to", "text", "state", "attempts"],
        "properties": {
            "id": {"type": "integer"},
            "at": _TIME,
            "kind": {"type": "string"},
            "to": {
                "type": ["string", "null"],
                "description": "masked; null for anonymous reports and for SMS tied to no report",
            },
            "text": {"type": "string"},
            "state": {"type": "string", "enum": list(OUTBOUND_STATES)},
            "attempts": {"type": "integer"},
            "next_attempt_at": _NULL_TIME,
            "last_error": {"type": ["string", "null"]},
            "accepted_at": _NULL_TIME,
            "delivered_at": _NULL_TIME,
            "segments": {"type": ["integer", "null"], "description": "SMS segments it takes"},
            "encoding": {"type": ["string", "null"], "enum": ["GSM-7", "UCS-2", None]},
            "tracking_no": {"type": ["string", "null"]},
        },
    },
    "TimelineItem": {
        "type": "object",
        "required": ["type", "at"],
        "properties": {
            "type": {"type": "string", "enum": ["event", "inbound_sms", "outbound_sms"]},
            "at": _TIME,
            "kind": {"type": "string", "description": "event: CREATED, STATUS, FOLLOW_UP, ..."},
            "text": {"type": "string"},
        },
    },
    "ReportDetail": {
        "allOf": [
            _ref("Report"),
            {
                "type": "object",
                "required": ["timeline", "reporter_opted_out", "spent"],
                "properties": {
                    "timeline": {"type": "array", "items": _ref("TimelineItem")},
                    "reporter_opted_out": {
                        "type": "boolean",
                        "description": "the reporter sent BERHENTI: notices are SUPPRESSED, not sent",
                    },
                    "spent": _ref("Spent"),
                },
            },
        ]
    },
    "ActionResult": {
        "type": "object",
        "required": ["event_id", "kind", "notice"],
        "properties": {
            "event_id": {"type": "integer"},
            "kind": {"type": "string"},
            "notice": {
                "type": "object",
                "required": ["id", "text", "state", "send_after"],
                "properties": {
                    "id": {"type": "integer"},
                    "text": {"type": "string"},
                    "state": {"type": "string"},
                    "send_after": _TIME,
                },
            },
        },
    },
    "TextBody": {
        "type": "object",
        "required": ["text"],
        "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 1000}},
    },
    "StatusBody": {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"type": "string", "enum": list(REPORT_STATUS_LABELS)},
            "note": {"type": "string", "maxLength": 1000},
        },
    },
    "UpstreamEvent": {
        "type": "object",
        "required": ["id", "type", "tracking_no"],
        "properties": {
            "id": {"type": "string", "minLength": 1, "maxLength": 128},
            "type": {"type": "string", "enum": ["status_changed", "follow_up"]},
            "tracking_no": {"type": "string"},
            "status": {"type": "string", "enum": list(REPORT_STATUS_LABELS)},
            "note": {"type": "string"},
            "text": {"type": "string"},
            "actor": {"type": "string"},
        },
    },
}


_COUNT = {"type": "integer", "minimum": 0}
_SCHEMAS["Spent"] = {
    "type": "object",
    "description": "MTs the aggregator accepted (ACCEPTED or any later state) and their segments",
    "required": ["mts", "segments"],
    "properties": {"mts": _COUNT, "segments": _COUNT},
}
_SCHEMAS["SpentByKind"] = {
    "type": "object",
    "required": ["mts", "segments", "by_kind"],
    "properties": {
        "mts": _COUNT,
        "segments": _COUNT,
        "by_kind": {"type": "object", "additionalProperties": _ref("Spent")},
    },
}
_SCHEMAS["SegmentStats"] = {
    "type": "object",
    "required": ["timezone", "since", "until", "days", "total"],
    "properties": {
        "timezone": {"type": "string"},
        "since": {"type": "string", "format": "date"},
        "until": {"type": "string", "format": "date"},
        "days": {
            "type": "array",
            "items": {
                "allOf": [
                    _ref("SpentByKind"),
                    {"type": "object", "required": ["day"], "properties": {"day": {"type": "string"}}},
                ]
            },
        },
        "total": _ref("SpentByKind"),
    },
}
_DATE = {"type": "string", "format": "date"}
_STATS = {
    "get": {
        "summary": "SMS sent and segments spent per local day, by kind",
        "description": "Counts MTs the aggregator accepted, by the local day (GATEWAY_TIMEZONE) it "
        "accepted them; QUEUED, SUPPRESSED and never-accepted FAILED ones cost nothing.",
        "parameters": [
            _query("since", _DATE, "first local day (default: 6 days before until)"),
            _query("until", _DATE, "last local day (default: today); at most 366 days in all"),
        ],
        "responses": {"200": _json(_ref("SegmentStats"), "per day"), **_errors(400, 401, 503)},
    }
}


_SCHEMAS["Quarantined"] = {
    "type": "object",
    "required": ["id", "kind", "ref", "state", "failures", "error_type", "reason"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": list(KINDS)},
        "ref": {
            "type": "string",
            "description": "the work's id: MO/MT/DLR/webhook row id, report id, USSD session",
        },
        "state": {"type": "string", "enum": list(STATES)},
        "failures": {"type": "integer"},
        "error_type": {"type": "string"},
        "reason": {
            "type": "string",
            "description": "the exception type (and a constraint name), never row values",
        },
        "first_failed_at": _TIME,
        "last_failed_at": _TIME,
        "quarantined_at": _NULL_TIME,
    },
}
_ROW_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID},
}


def _quarantine_action(summary: str) -> dict:
    return {
        "post": {
            "summary": summary,
            "parameters": [_ROW_ID],
            "responses": {
                "200": _json(_ref("Quarantined"), "done"),
                **_errors(401, 403, 404, 503),
            },
        }
    }


def _page_of(item: str) -> dict:
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total"],
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
    }


def _action(summary: str, body: str) -> dict:
    return {
        "post": {
            "summary": summary,
            "parameters": [_TRACKING],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(body)}}},
            "responses": {
                "201": _json(_ref("ActionResult"), "recorded; the notice SMS is queued"),
                **_errors(400, 401, 403, 404, 503),
            },
        }
    }


def openapi_document() -> dict:
    """The whole document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "LAPOR! 1708 gateway admin API",
            "version": "1",
            "description": "Complaint handlers' API: find reports, read timelines, change statuses, "
            "post follow-ups and replies (each sends the reporter a notice SMS), see and requeue "
            "outbound SMS. Reporters' numbers are always masked.",
        },
        "components": {
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer", "description": "flask token create"},
                "signature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Lapor-Signature",
                    "description": "sha256=HMAC-SHA256(secret, X-Lapor-Timestamp + '.' + body)",
                },
            },
            "schemas": _SCHEMAS,
        },
        "security": [{"token": []}],
        "paths": {
            "/api/v1/reports": {
                "get": {
                    "summary": "List and search reports",
                    "parameters": [
                        _query("status", {"type": "string", "enum": list(REPORT_STATUS_LABELS)}, "status"),
                        _query("channel", {"type": "string", "enum": ["SMS", "USSD"]}, "channel"),
                        _query(
                            "since",
                            {"type": "string", "format": "date"},
                            "filed on or after (local, year 2000-2999)",
                        ),
                        _query(
                            "until",
                            {"type": "string", "format": "date"},
                            "filed on or before (local, year 2000-2999)",
                        ),
                        _query("q", {"type": "string", "maxLength": 200}, "text or tracking number"),
                        *_PAGING,
                    ],
                    "responses": {"200": _json(_page_of("Report"), "a page"), **_errors(400, 401, 503)},
                }
            },
            "/api/v1/reports/overdue": {
                "get": {
                    "summary": "Open reports past their SLA deadline",
                    "parameters": [_query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "max")],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["items"],
                                "properties": {"items": {"type": "array", "items": _ref("Report")}},
                            },
                            "overdue reports",
                        ),
                        **_errors(400, 401, 503),
                    },
                }
            },
            "/api/v1/reports/{tracking_no}": {
                "get": {
                    "summary": "One report with its timeline",
                    "parameters": [_TRACKING],
                    "responses": {"200": _json(_ref("ReportDetail"), "the report"), **_errors(401, 404, 503)},
                }
            },
            "/api/v1/reports/{tracking_no}/status": _action("Change the status", "StatusBody"),
            "/api/v1/reports/{tracking_no}/follow-ups": _action("Post a follow-up", "TextBody"),
            "/api/v1/reports/{tracking_no}/replies": _action("SMS the reporter", "TextBody"),
            "/api/v1/outbound": {
                "get": {
                    "summary": "Outbound SMS by state",
                    "parameters": [
                        _query(
                            "status",
                            {"type": "string", "enum": list(OUTBOUND_STATES)},
                            "state (SUPPRESSED: notices not sent, the reporter opted out)",
                        ),
                        *_PAGING,
                    ],
                    "responses": {"200": _json(_page_of("Outbound"), "a page"), **_errors(400, 401, 503)},
                }
            },
            "/api/v1/stats/segments": _STATS,
            "/api/v1/outbound/{id}/requeue": {
                "post": {
                    "summary": "Requeue a FAILED SMS",
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID},
                        }
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["id", "state"],
                                "properties": {"id": {"type": "integer"}, "state": {"type": "string"}},
                            },
                            "requeued",
                        ),
                        **_errors(401, 403, 404, 409, 503),
                    },
                }
            },
            "/api/v1/quarantine": {
                "get": {
                    "summary": "Work set aside because it kept failing (MOs, sends, DLRs, webhooks...)",
                    "parameters": [
                        _query("state", {"type": "string", "enum": list(STATES)}, "default QUARANTINED"),
                        _query("kind", {"type": "string", "enum": list(KINDS)}, "kind of work"),
                        _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "max"),
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["items", "counts"],
                                "properties": {
                                    "items": {"type": "array", "items": _ref("Quarantined")},
                                    "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                                },
                            },
                            "entries, and QUARANTINED counts per kind",
                        ),
                        **_errors(400, 401, 503),
                    },
                }
            },
            "/api/v1/quarantine/{id}/retry": _quarantine_action("Put quarantined work back with fresh tries"),
            "/api/v1/quarantine/{id}/drop": _quarantine_action(
                "Give up on quarantined work (kept as DROPPED)"
            ),
            "/api/v1/events": {
                "post": {
                    "summary": "An event from the complaint system (signed, see README)",
                    "security": [{"signature": []}],
                    "parameters": [
                        {
                            "name": "X-Lapor-Timestamp",
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("UpstreamEvent")}},
                    },
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["status"],
                                "properties": {"status": {"type": "string"}},
                            },
                            "applied",
                        ),
                        **_errors(400, 401, 404, 409, 503),
                    },
                }
            },
        },
    }
