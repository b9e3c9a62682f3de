"""Reading query arguments and form text the same way in the JSON API and the console: a bad
value is InvalidPayload naming the field (a 400), never a 5xx."""

from __future__ import annotations

import re
from datetime import date

from flask import request

from gateway.errors import InvalidPayload
from gateway.gsm7 import clean_text

MAX_TEXT = 1000
EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2999, 12, 31)
# What a tracking number in a URL may be before it is looked up (anything else: 404).
TRACKING_NO = re.compile(r"^[0-9]{8,10}$")


def int_arg(name: str, default: int, lo: int, hi: int) -> int:
    """Query argument `name` as an integer from `lo` to `hi`, `default` when absent."""
    raw = request.args.get(name)
    if raw is None:
        return default
    # The length first: int() of thousands of digits is slow, and refused past 4,300 digits.
    if len(raw) > len(str(hi)) or not raw.isascii() or not raw.isdigit() or not lo <= int(raw) <= hi:
        raise InvalidPayload(name, f"must be an integer from {lo} to {hi}")
    return int(raw)


def choice_arg(name: str, choices) -> str | None:
    """Query argument `name` as one of `choices` (any case), None when absent or empty."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw.upper() not in choices:
        raise InvalidPayload(name, f"must be one of {', '.join(choices)}")
    return raw.upper()


def date_arg(name: str) -> date | None:
    """Query argument `name` as a date YYYY-MM-DD within the bounds, None when absent."""
    raw = request.args.get(name)
    if not raw:
        return None
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
        raise InvalidPayload(name, "must be a date YYYY-MM-DD")
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise InvalidPayload(name, "must be a date YYYY-MM-DD") from None
    # Bounded so the local day's start and end convert to UTC (year 1 or 9999 overflow).
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise InvalidPayload(name, f"must be from {EARLIEST_DATE} to {LATEST_DATE}")
    return value


def clean_arg(value: str, field: str, required: bool) -> str:
    """Free text from a handler, bounded and cleaned (gsm7.clean_text); `field` names it."""
    if "\x00" in value or len(value) > MAX_TEXT:
        raise InvalidPayload(field, f"must be text of at most {MAX_TEXT} characters")
    value = clean_text(value)
    if required and not value:
        raise InvalidPayload(field, "must not be empty")
    return value
