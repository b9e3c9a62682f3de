"""Citizen-language parsing: keywords (LAPOR, CEK, BALAS, INFO, BERHENTI, MULAI) and tracking
numbers. Pure, no I/O."""

from gateway.parsers.commands import (
    ANONYMOUS,
    BAD_NUMBER,
    CHECK,
    CONFIDENTIAL,
    HELP,
    KEYWORDS,
    KINDS,
    MISSING_NUMBER,
    MISSING_TEXT,
    OPT_IN,
    OPT_OUT,
    PUBLIC,
    REPLY,
    REPORT,
    Command,
    is_complaint,
    normalise_message,
    parse_command,
)
from gateway.parsers.tracking import damm_check_digit, is_valid_tracking_number, new_tracking_number

__all__ = [
    "ANONYMOUS",
    "BAD_NUMBER",
    "CHECK",
    "CONFIDENTIAL",
    "HELP",
    "KEYWORDS",
    "KINDS",
    "MISSING_NUMBER",
    "MISSING_TEXT",
    "OPT_IN",
    "OPT_OUT",
    "PUBLIC",
    "REPLY",
    "REPORT",
    "Command",
    "damm_check_digit",
    "is_complaint",
    "is_valid_tracking_number",
    "new_tracking_number",
    "normalise_message",
    "parse_command",
]
