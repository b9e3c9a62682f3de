"""Citizen-language parsing: the command grammar (keywords, separators, the free-text rule)
and tracking numbers. Pure, no I/O. Which commands exist is registered in gateway.commands."""

from gateway.parsers.commands import (
    ANONYMOUS,
    BAD_NUMBER,
    CHECK,
    CONFIDENTIAL,
    HELP,
    MISSING_NUMBER,
    MISSING_TEXT,
    OPT_IN,
    OPT_OUT,
    PUBLIC,
    REPLY,
    REPORT,
    Command,
    Grammar,
    is_complaint,
    normalise_message,
)
from gateway.parsers.tracking import damm_check_digit, is_valid_tracking_number, new_tracking_number

__all__ = [
    "ANONYMOUS",
    "BAD_NUMBER",
    "CHECK",
    "CONFIDENTIAL",
    "HELP",
    "MISSING_NUMBER",
    "MISSING_TEXT",
    "OPT_IN",
    "OPT_OUT",
    "PUBLIC",
    "REPLY",
    "REPORT",
    "Command",
    "Grammar",
    "damm_check_digit",
    "is_complaint",
    "is_valid_tracking_number",
    "new_tracking_number",
    "normalise_message",
]
