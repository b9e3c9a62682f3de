"""Edge validation: pure checks that refuse, with InvalidPayload (a 400 naming the field), what
Python or the schema cannot hold, before anything is stored (DESIGN "Bad input and outages").

A value the database refuses would otherwise come back as a 503 that aggregators retry for
ever (PostgreSQL) or be stored as is (SQLite); a value Python cannot read back (a year beyond
9999 after UTC conversion) would stop every later drain. So each check here answers the same on
both databases, and every route reads its input through these few functions.
"""

from __future__ import annotations

import codecs
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from gateway.errors import InvalidPayload

# The plausible window for a time an aggregator says a message was sent. Nothing reaching this
# gateway was sent before 2000 (SMS short codes for complaints came later); a few days ahead
# leaves room for an SMSC whose clock is wrong or in another zone without a stated offset,
# while years ahead (or offsets that push a date past year 9999 in UTC) can only be bad input.
EARLIEST_SENT_AT = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=3)

# Primary keys are SQLAlchemy `Integer`: 32-bit signed on PostgreSQL.
MAX_ROW_ID = 2**31 - 1

# No real payload nests more than a few levels; json.loads recurses per level (RecursionError
# near 1,000), so deeper bodies are refused before parsing.
MAX_JSON_DEPTH = 32

# C0 and C1 control characters: PostgreSQL refuses NUL in text, and the others are never part
# of an id or an address (a CR/LF in an id would forge a log line).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A lone UTF-16 surrogate is a Python str no database driver can encode (UnicodeEncodeError,
# a 500, on both): JSON's "\ud800" escape and the utf-7 codec both produce one.
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def check_sent_at(value: datetime | None, field: str, now: datetime | None = None) -> datetime | None:
    """`value` as an aware UTC datetime (naive ones are taken as UTC), or InvalidPayload naming
    `field` when it is outside [2000-01-01, now + 3 days] or cannot be expressed in UTC."""
    if value is None:
        return None
    now = now or datetime.now(UTC)
    try:
        utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        raise InvalidPayload(field, "is outside the years Python and the database can hold") from None
    if not EARLIEST_SENT_AT <= utc <= now + FUTURE_SLACK:
        raise InvalidPayload(field, "is not a plausible send time (before 2000 or days ahead)")
    return utc


def check_string(value: str, field: str, max_chars: int) -> str:
    """`value` unchanged, or InvalidPayload naming `field` when it is longer than its column
    (`max_chars`) or holds a control character."""
    if len(value) > max_chars:
        raise InvalidPayload(field, f"longer than {max_chars} characters")
    if _CONTROL.search(value):
        raise InvalidPayload(field, "must not contain control characters")
    return value


def printable(value: str) -> str:
    """`value` with each control character as a space: for diagnostic text an adapter composes
    from several of the aggregator's fields (a receipt's status with its error code), which is
    stored for people to read and not worth refusing a message over."""
    return _CONTROL.sub(" ", value)


def fits(value: str, max_chars: int) -> bool:
    """Whether `check_string` would take `value` (for values no caller can be told about,
    such as an aggregator's answer)."""
    return len(value) <= max_chars and not _CONTROL.search(value)


# A long SMS's parts (UDH concatenation): the 8-bit count field allows 255 parts; the
# reference is 8 or 16 bits in a UDH, a short string where an aggregator names it its own way.
MAX_PARTS = 255
MAX_PART_REF_CHARS = 32
PART_FIELDS = ("concat_ref", "concat_part", "concat_total")


def parse_part(
    ref: str | None,
    index: str | int | None,
    total: str | int | None,
    names: tuple[str, str, str] = PART_FIELDS,
) -> tuple[str, int, int] | None:
    """(ref, index, total) of the long SMS part an MO says it is, from an aggregator's three raw
    fields (`names`: what that aggregator calls them, for the 400). None when all three are
    absent, and for "part 1 of 1" (a whole message: some aggregators label every MO so).
    InvalidPayload naming the field for one given without the others, a non-number, or a value
    out of bounds (`check_part`)."""
    given = [v is not None and str(v).strip() != "" for v in (ref, index, total)]
    if not any(given):
        return None
    for present, name in zip(given, names, strict=True):
        if not present:
            raise InvalidPayload(name, f"is required with {' and '.join(n for n in names if n != name)}")
    part = (str(ref).strip(), _part_number(index, names[1]), _part_number(total, names[2]))
    if part[1:] == (1, 1):
        return None
    check_part(*part, names=names)
    return part


def check_part(ref: str, index: int, total: int, names: tuple[str, str, str] = PART_FIELDS) -> None:
    """InvalidPayload naming the field unless total is 2..MAX_PARTS, index 1..total and the
    reference 1..MAX_PART_REF_CHARS printable characters."""
    ref_name, index_name, total_name = names
    if not ref.strip():
        raise InvalidPayload(ref_name, "must not be empty")
    check_string(ref, ref_name, MAX_PART_REF_CHARS)
    if not 2 <= total <= MAX_PARTS:
        raise InvalidPayload(total_name, f"must be 2 to {MAX_PARTS}")
    if not 1 <= index <= total:
        raise InvalidPayload(index_name, f"must be 1 to {total_name} ({total})")


def _part_number(raw: str | int, name: str) -> int:
    """A part count or index: ASCII digits (or an int from JSON), at most three of them."""
    if isinstance(raw, bool):  # JSON true/false: not a number, though Python says int
        raise InvalidPayload(name, "must be a whole number")
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 3:
        raise InvalidPayload(name, f"must be a whole number 1 to {MAX_PARTS}")
    return int(text)


def without_lone_surrogates(text: str) -> str:
    """`text` with each lone surrogate (no database driver can encode one) as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def row_id(raw: str) -> int | None:
    """The row id `raw` names (ASCII digits, 1..MAX_ROW_ID), or None when no row can have it.
    (`str.isdigit` alone accepts "²", which int() refuses.)"""
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(MAX_ROW_ID)):
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ROW_ID else None


def text_codec(charset: str, field: str = "charset") -> str:
    """The Python codec name for a text charset; InvalidPayload naming `field` for an unknown
    name or a codec that is not a text encoding (`uu`, `bz2`, `rot13`, ...)."""
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        raise InvalidPayload(field, f"unknown charset {charset[:40]!r}") from None
    # "undefined" always raises, "idna" refuses errors="replace": neither decodes a message.
    if not info._is_text_encoding or info.name in ("undefined", "idna"):
        raise InvalidPayload(field, f"{charset[:40]!r} is not a text encoding")
    return info.name


def decode_text(raw: bytes, charset: str, field: str = "charset") -> str:
    """`raw` decoded with a text charset, invalid bytes becoming U+FFFD."""
    codec = text_codec(charset, field)
    try:
        return without_lone_surrogates(raw.decode(codec, errors="replace"))
    except UnicodeError:  # a codec that ignores errors= (none left after text_codec; be safe)
        raise InvalidPayload(field, f"cannot decode with {charset[:40]!r}") from None


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `body` nests arrays/objects deeper than `limit` (brackets inside strings do not
    count). Cheap: bodies with fewer brackets than the limit are not scanned at all."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def loads_json(body: bytes, field: str = "body") -> Any:
    """Parse a JSON request body; InvalidPayload naming `field` for bad UTF-8, bad JSON,
    nesting deeper than MAX_JSON_DEPTH or a lone surrogate escape ("\ud800" unpaired: not
    Unicode, and no database can store it). The one JSON reader of every route."""
    if json_depth_exceeds(body):
        raise InvalidPayload(field, f"nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidPayload(field, "is not valid UTF-8 JSON") from None
    # Only bodies with a surrogate escape are walked (a pair is fine: json joins it).
    if _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(value):
        raise InvalidPayload(field, "holds an unpaired surrogate (\\ud800-\\udfff): not Unicode text")
    return value


def _has_lone_surrogate(value: Any) -> bool:
    """Whether any string in a parsed JSON value (at most MAX_JSON_DEPTH deep) holds one."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    return False


# Raw (not %-escaped) bytes in a query or form body, escaped before unquoting.
_NON_ASCII = re.compile(rb"[\x80-\xff]")


def decode_urlencoded(raw: bytes, charset: str = "utf-8") -> dict[str, str]:
    """Decode `a=b&c=d` in `charset`, percent-escaped bytes and raw ones alike (some
    aggregators post raw UTF-8 without %-encoding it); invalid bytes become U+FFFD so a parser
    can name the field. (Werkzeug would leave invalid sequences percent-encoded,
    indistinguishable from text.)"""
    codec = text_codec(charset)
    # Escape the raw bytes too, so unquoting turns both forms into the same bytes, decoded once.
    escaped = _NON_ASCII.sub(lambda m: b"%%%02X" % m.group()[0], raw).decode("ascii")
    pairs = parse_qsl(escaped, keep_blank_values=True, encoding=codec, errors="replace")
    # A charset such as utf-7 can decode to a lone surrogate: replaced, as invalid bytes are.
    return {without_lone_surrogates(k): without_lone_surrogates(v) for k, v in pairs}
