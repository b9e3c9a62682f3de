"""Citizen-language parsing: the command grammar (keywords, separators, the free-text rule)
and tracking numbers. Pure, no I/O. Which commands exist is registered in gateway.commands."""

from gateway.parsers.commands import (
    Command,
    CommandKind,
    Grammar,
    Problem,
    is_complaint,
    normalise_message,
)
from gateway.parsers.tracking import damm_check_digit, is_valid_tracking_number, new_tracking_number

__all__ = [
    "Command",
    "CommandKind",
    "Grammar",
    "Problem",
    "damm_check_digit",
    "is_complaint",
    "is_valid_tracking_number",
    "new_tracking_number",
    "normalise_message",
]
