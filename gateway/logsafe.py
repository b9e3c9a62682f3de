"""Log lines that data cannot forge: control characters in a log message (an MO id with CR/LF,
a text with ESC sequences) are escaped as `\\n`, `\\x1b`, ... so one record stays one line.

`install_log_safety()` is the one switch, called by every process entry through
gateway.logconfig.configure_logging (the app factory, the RQ worker class, the cron module).
It wraps the process's log-record factory, so every record of every logger (ours, RQ's,
gunicorn's) is rendered and escaped once, whichever handler later prints it. `EscapeControls`
is the same rewrite as a `logging.Filter`; gateway.logconfig names it on its handler too.
"""

from __future__ import annotations

import logging
import re

# C0 (with TAB, LF, CR), DEL, C1, and the Unicode line/paragraph separators some viewers split on.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def escape_controls(text: str) -> str:
    """`text` with every control character written as a visible escape (`\\r`, `\\x00`, ...)."""
    return _CONTROL.sub(_escape_one, text)


def make_safe(record: logging.LogRecord) -> logging.LogRecord:
    """Render the record's message with its arguments, escaped, in place (idempotent)."""
    if getattr(record, "_logsafe", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a bad format string must not break the caller; keep what it passed
        message = f"{record.msg!r} % {record.args!r}"
    record.msg, record.args = escape_controls(message), None
    record._logsafe = True
    return record


class EscapeControls(logging.Filter):
    """A handler filter that escapes control characters in each record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        make_safe(record)
        return True


_installed_factory = None


def install_log_safety() -> None:
    """Escape control characters in every log record this process creates (idempotent)."""
    global _installed_factory
    current = logging.getLogRecordFactory()
    if current is _installed_factory:
        return

    def safe_factory(*args, **kwargs) -> logging.LogRecord:
        return make_safe(current(*args, **kwargs))

    _installed_factory = safe_factory
    logging.setLogRecordFactory(safe_factory)
