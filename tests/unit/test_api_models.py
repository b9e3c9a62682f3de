"""The admin API's request models give the 400 reasons the hand-written checks gave (field and
words), and accept what those accepted (any-case filters, empty values as "no filter")."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.errors import InvalidPayload
from gateway.web.api_models import QuarantineQuery, ReportsQuery, StatusBody, TextBody, read

STATUSES = "must be one of RECEIVED, VERIFIED, IN_PROGRESS, DONE, POSTPONED, OUT_OF_SCOPE, ARCHIVED"


@pytest.mark.parametrize(
    ("model", "data", "field", "reason"),
    [
        pytest.param(StatusBody, {}, "status", STATUSES, id="status-missing"),
        pytest.param(StatusBody, {"status": "done"}, "status", STATUSES, id="status-lower-case"),
        pytest.param(StatusBody, {"status": "DONE", "note": 5}, "note", "must be a string", id="note-number"),
        pytest.param(TextBody, {}, "text", "is required", id="text-missing"),
        pytest.param(TextBody, {"text": None}, "text", "must be a string", id="text-null"),
        pytest.param(TextBody, {"text": " \t "}, "text", "must not be empty", id="text-blank"),
        pytest.param(
            TextBody, {"text": "x" * 1001}, "text", "must be text of at most 1000 characters", id="text-long"
        ),
        pytest.param(
            TextBody, {"text": "a\x00b"}, "text", "must be text of at most 1000 characters", id="text-nul"
        ),
        pytest.param(ReportsQuery, {"page": "0"}, "page", "must be an integer from 1 to 100000", id="page-0"),
        pytest.param(
            ReportsQuery, {"page": "+1"}, "page", "must be an integer from 1 to 100000", id="page-plus"
        ),
        pytest.param(
            ReportsQuery, {"page": "١"}, "page", "must be an integer from 1 to 100000", id="page-arabic"
        ),
        pytest.param(
            ReportsQuery, {"per_page": "9" * 5000}, "per_page", "must be an integer from 1 to 200", id="huge"
        ),
        pytest.param(
            ReportsQuery, {"since": "2026-02-30"}, "since", "must be a date YYYY-MM-DD", id="feb-30"
        ),
        pytest.param(
            ReportsQuery, {"until": "20260801"}, "until", "must be a date YYYY-MM-DD", id="basic-iso"
        ),
        pytest.param(
            ReportsQuery, {"since": "1999-12-31"}, "since", "must be from 2000-01-01 to 2999-12-31", id="old"
        ),
        pytest.param(
            ReportsQuery,
            {"q": "x", "status": "OPEN", "page": "x"},
            "page",
            "must be an integer from 1 to 100000",
            id="first-field-in-the-old-order",
        ),
        pytest.param(
            QuarantineQuery,
            {"kind": "SMS"},
            "kind",
            "must be one of MO, MT, DLR, WEBHOOK, USSD, SLA, PARTS",
            id="quarantine-kind",
        ),
    ],
)
def test_refused_with_the_field_and_reason(model, data, field, reason):
    with pytest.raises(InvalidPayload) as caught:
        read(model, data)
    assert (caught.value.field, caught.value.reason) == (field, reason)


def test_filters_take_any_case_and_empty_means_none():
    query = read(
        ReportsQuery, {"status": "received", "channel": "", "since": "", "until": "2026-08-04", "q": ""}
    )
    assert (query.status, query.channel, query.since, query.until, query.q) == (
        "RECEIVED",
        None,
        None,
        date(2026, 8, 4),
        "",
    )
    assert (query.page, query.per_page) == (1, 50)


def test_a_null_note_is_no_note_and_text_is_cleaned():
    assert read(StatusBody, {"status": "DONE", "note": None}).note == ""
    assert (
        read(TextBody, {"text": "  Sudah\x07 disurvei  ", "extra": 1}).text
        == read(TextBody, {"text": "Sudah disurvei"}).text
    )
