"""The admin API's requests and responses, declared once as pydantic models.

gateway/web/admin.py validates every query string and JSON body with the request models
(`read_query`, `read_body`), and gateway/web/openapi.py generates the OpenAPI document from
the same models, so the document cannot drift from what the handlers accept. The field types
below carry both halves: the parser that turns the raw value into a Python one (or refuses it
with the reason the 400 answer names) and the JSON Schema that describes exactly what that
parser accepts. Response models describe what gateway.services.admin returns; schemathesis
checks the answers against them (tests/store/test_openapi.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError

from gateway.errors import InvalidPayload
from gateway.gsm7 import clean_text
from gateway.models import PRIVACY_LEVELS, Channel, OutboundStatus, ReportStatus, values
from gateway.services import quarantine
from gateway.services.sla import Waiting

CHANNELS = values(Channel)
OUTBOUND_STATES = values(OutboundStatus)
REPORT_STATUSES = values(ReportStatus)
MAX_PER_PAGE = 200
MAX_TEXT = 1000
EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2999, 12, 31)
_DATE_SHAPE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


@dataclass(frozen=True)
class IfMissing:
    """Field metadata: the 400 reason when a required field is absent (default "is required")."""

    reason: str


def _refuse(reason: str) -> PydanticCustomError:
    # The reason is the whole message: no `{...}` placeholders to format.
    return PydanticCustomError("invalid", reason.replace("{", "(").replace("}", ")"))


def _int_type(lo: int, hi: int) -> Any:
    """A query integer from `lo` to `hi`: ASCII digits only, length checked before int() (int()
    of thousands of digits is slow, and refused past 4,300)."""
    reason = f"must be an integer from {lo} to {hi}"

    def parse(raw: object) -> int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        if not isinstance(raw, str) or len(raw) > len(str(hi)) or not raw.isascii() or not raw.isdigit():
            raise _refuse(reason)
        if not lo <= int(raw) <= hi:
            raise _refuse(reason)
        return int(raw)

    return Annotated[
        int, PlainValidator(parse), WithJsonSchema({"type": "integer", "minimum": lo, "maximum": hi})
    ]


def _choice_type(choices: tuple[str, ...]) -> Any:
    """A query filter: one of `choices` in any case, or empty for no filter (None)."""
    reason = f"must be one of {', '.join(choices)}"

    def parse(raw: object) -> str | None:
        if raw is None or raw == "":
            return None
        if not isinstance(raw, str) or raw.upper() not in choices:
            raise _refuse(reason)
        return raw.upper()

    # Described as sent: the upper-case values, or empty. (Lower case is accepted too, for
    # people typing URLs; a JSON Schema enum cannot say "any case", and generators would only
    # find that the server is more lenient than documented.)
    schema = {"type": "string", "enum": [*choices, ""]}
    return Annotated[str | None, PlainValidator(parse), WithJsonSchema(schema)]


def _parse_date(raw: object) -> date | None:
    if raw is None or raw == "":
        return None
    reason = "must be a date YYYY-MM-DD"
    if not isinstance(raw, str) or not re.fullmatch(_DATE_SHAPE, raw, re.ASCII):
        raise _refuse(reason)
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise _refuse(reason) from None
    # Bounded so the local day's start and end convert to UTC (year 1 or 9999 overflow).
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise _refuse(f"must be from {EARLIEST_DATE} to {LATEST_DATE}")
    return value


LocalDate = Annotated[
    date | None,
    PlainValidator(_parse_date),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date", "pattern": _DATE_SHAPE},
                {"type": "string", "maxLength": 0},
            ]
        }
    ),
]
"""A local calendar day YYYY-MM-DD from 2000 to 2999; empty means no bound."""


def _text_type(required: bool, nullable: bool = False) -> Any:
    """Free text from a handler: a string of at most MAX_TEXT characters without NUL, cleaned of
    control characters; `required` ones must not be blank. Optional ones may be null ("")."""

    def parse(raw: object) -> str:
        if raw is None and nullable:
            return ""
        if not isinstance(raw, str):
            raise _refuse("must be a string")
        if "\x00" in raw or len(raw) > MAX_TEXT:
            raise _refuse(f"must be text of at most {MAX_TEXT} characters")
        value = clean_text(raw)
        if required and not value:
            raise _refuse("must not be empty")
        return value

    schema: dict = {"type": "string", "maxLength": MAX_TEXT}
    if required:
        schema["minLength"] = 1
    if nullable:
        schema["type"] = ["string", "null"]
    return Annotated[str, PlainValidator(parse), WithJsonSchema(schema)]


def _status_type() -> Any:
    reason = f"must be one of {', '.join(REPORT_STATUSES)}"

    def parse(raw: object) -> str:
        if not isinstance(raw, str) or raw not in REPORT_STATUSES:
            raise _refuse(reason)
        return raw

    schema = WithJsonSchema({"type": "string", "enum": list(REPORT_STATUSES)})
    return Annotated[str, PlainValidator(parse), schema, IfMissing(reason)]


# -- reading requests -----------------------------------------------------------------------


class Request(BaseModel):
    """A request model: fields are validated in declaration order, and the first one refused
    is the field the 400 answer names."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def read(model: type[Request], data: dict) -> Any:
    """`data` validated by `model`; InvalidPayload (400) naming the first bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        field = str(error["loc"][0]) if error["loc"] else "body"
        reason = _missing_reason(model, field) if error["type"] == "missing" else error["msg"]
        raise InvalidPayload(field, reason) from None


def _missing_reason(model: type[Request], field: str) -> str:
    info = model.model_fields.get(field)
    marks = [m for m in (info.metadata if info else ()) if isinstance(m, IfMissing)]
    return marks[0].reason if marks else "is required"


# -- query strings --------------------------------------------------------------------------

Page = Annotated[_int_type(1, 100000), Field(description="page number, from 1")]
PerPage = Annotated[_int_type(1, MAX_PER_PAGE), Field(description="items per page (default 50)")]
Limit = Annotated[_int_type(1, 500), Field(description="at most this many")]


class ReportsQuery(Request):
    """GET /reports."""

    page: Page = 1
    per_page: PerPage = 50
    status: Annotated[_choice_type(REPORT_STATUSES), Field(description="status")] = None
    channel: Annotated[_choice_type(CHANNELS), Field(description="channel")] = None
    since: Annotated[LocalDate, Field(description="filed on or after (local, year 2000-2999)")] = None
    until: Annotated[LocalDate, Field(description="filed on or before (local, year 2000-2999)")] = None
    q: Annotated[_text_type(required=False), Field(description="text or tracking number")] = ""


class OverdueQuery(Request):
    """GET /reports/overdue."""

    limit: Limit = 100


class OutboundQuery(Request):
    """GET /outbound."""

    page: Page = 1
    per_page: PerPage = 50
    status: Annotated[
        _choice_type(OUTBOUND_STATES),
        Field(description="state (SUPPRESSED: notices not sent, the reporter opted out)"),
    ] = None


class SegmentsQuery(Request):
    """GET /stats/segments."""

    since: Annotated[LocalDate, Field(description="first local day (default: 6 days before until)")] = None
    until: Annotated[
        LocalDate, Field(description="last local day (default: today); at most 366 days in all")
    ] = None


class QuarantineQuery(Request):
    """GET /quarantine."""

    state: Annotated[_choice_type(quarantine.STATES), Field(description="default QUARANTINED")] = None
    kind: Annotated[_choice_type(quarantine.KINDS), Field(description="kind of work")] = None
    limit: Limit = 100


# -- JSON bodies ----------------------------------------------------------------------------


class StatusBody(Request):
    """POST /reports/<no>/status."""

    status: _status_type()
    note: _text_type(required=False, nullable=True) = ""


class TextBody(Request):
    """POST /reports/<no>/follow-ups and /replies."""

    text: _text_type(required=True)


class UpstreamEvent(Request):
    """POST /events (validated with its signature by gateway.services.upstream)."""

    id: Annotated[str, Field(min_length=1, max_length=128)]
    type: Literal["status_changed", "follow_up"]
    tracking_no: str
    status: Literal[REPORT_STATUSES] | None = None  # type: ignore[valid-type]
    note: str | None = None
    text: str | None = None
    actor: str | None = None


# -- responses ------------------------------------------------------------------------------


class Response(BaseModel):
    """A response model: documentation of what the service layer returns."""


Time = datetime
Count = Annotated[int, Field(ge=0)]


class Error(Response):
    error: str
    reason: str
    field: str = None


class Sla(Response):
    waiting_for: Literal[values(Waiting)]  # type: ignore[valid-type]
    due_at: Time


class Report(Response):
    tracking_no: Annotated[str, Field(pattern="^[0-9]+$")]
    status: Literal[REPORT_STATUSES]  # type: ignore[valid-type]
    status_label: str
    channel: str
    privacy: Literal[tuple(PRIVACY_LEVELS)]  # type: ignore[valid-type]
    reporter: Annotated[str | None, Field(description="masked (+62812****789); null for anonymous reports")]
    text: str
    created_at: Time = None
    updated_at: Time = None
    verified_at: Time | None = None
    last_follow_up_at: Time | None = None
    last_citizen_reply_at: Time | None = None
    closed_at: Time | None = None
    sla: Sla | None = None
    overdue_since: Time = None


class Spent(Response):
    """MTs the aggregator accepted (ACCEPTED or any later state) and their segments."""

    mts: Count
    segments: Count


class TimelineItem(Response):
    type: Literal["event", "inbound_sms", "outbound_sms"]
    at: Time
    kind: Annotated[str, Field(description="event: CREATED, STATUS, FOLLOW_UP, ...")] = None
    text: str = None


class ReportDetail(Report):
    timeline: list[TimelineItem]
    reporter_opted_out: Annotated[
        bool, Field(description="the reporter sent BERHENTI: notices are SUPPRESSED, not sent")
    ]
    spent: Spent


class Outbound(Response):
    id: int
    at: Time = None
    kind: str
    to: Annotated[
        str | None, Field(description="masked; null for anonymous reports and for SMS tied to no report")
    ]
    text: str
    state: Literal[OUTBOUND_STATES]  # type: ignore[valid-type]
    attempts: int
    next_attempt_at: Time | None = None
    last_error: str | None = None
    accepted_at: Time | None = None
    delivered_at: Time | None = None
    segments: Annotated[int | None, Field(description="SMS segments it takes")] = None
    encoding: Literal["GSM-7", "UCS-2"] | None = None
    tracking_no: str | None = None


class Notice(Response):
    id: int
    text: str
    state: str
    send_after: Time


class ActionResult(Response):
    event_id: int
    kind: str
    notice: Notice


class SpentByKind(Spent):
    by_kind: dict[str, Spent]


class DaySpent(SpentByKind):
    day: str


class SegmentStats(Response):
    timezone: str
    since: date
    until: date
    days: list[DaySpent]
    total: SpentByKind


class Quarantined(Response):
    id: int
    kind: Literal[quarantine.KINDS]  # type: ignore[valid-type]
    ref: Annotated[str, Field(description="the work's id: MO/MT/DLR/webhook row id, report id, USSD session")]
    state: Literal[quarantine.STATES]  # type: ignore[valid-type]
    failures: int
    error_type: str
    reason: Annotated[str, Field(description="the exception type (and a constraint name), never row values")]
    first_failed_at: Time = None
    last_failed_at: Time = None
    quarantined_at: Time | None = None


class ReportPage(Response):
    items: list[Report]
    page: int
    per_page: int
    total: int


class OutboundPage(Response):
    items: list[Outbound]
    page: int
    per_page: int
    total: int


class OverdueList(Response):
    items: list[Report]


class QuarantineList(Response):
    items: list[Quarantined]
    counts: Annotated[dict[str, int], Field(description="QUARANTINED entries per kind")]


class Requeued(Response):
    id: int
    state: str


class EventApplied(Response):
    status: str
