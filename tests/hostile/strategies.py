"""Hypothesis strategies for hostile values: control characters and NUL, any non-surrogate
unicode, huge and negative integers, strings just over each column size of gateway/models.py,
timestamps at the ends of the calendar with odd offsets, wrong JSON types, deep nesting and
odd charsets. Each field is sometimes normal, so most requests get past the first check."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

# Column sizes in gateway/models.py, and the edge limits (MAX_TEXT 1000, session id 56).
COLUMN_SIZES = (8, 10, 16, 20, 24, 32, 56, 58, 64, 80, 128, 255, 1000)
HUGE_INTS = (
    2**31 - 1,
    2**31,
    2**32,
    2**53 + 1,
    2**62 + 1,
    2**63 - 1,
    2**63,
    2**64,
    -1,
    -(2**31) - 1,
    -(2**63) - 1,
)
BOUNDARY_TIMESTAMPS = (
    "9999-12-31T23:59:59-23:59",
    "9999-12-31T23:59:59+23:59",
    "0001-01-01T00:00:00+23:59",
    "0001-01-01T00:00:00-23:59",
    "9999-12-31T23:59:59.999999Z",
    "0001-01-01",
    "1970-01-01T00:00:00Z",
    "2038-01-19T03:14:08Z",
    "2026-02-30T00:00:00Z",
    "2026-11-29T08:00:00+24:00",
    "2026-11-29T25:00:00Z",
)
ODD_CHARSETS = (
    "uu",
    "bz2",
    "zlib",
    "base64",
    "hex",
    "rot13",
    "quopri",
    "idna",
    "punycode",
    "utf-7",
    "UTF-16",
    "UTF-32",
    "utf_8_sig",
    "unicode_escape",
    "raw_unicode_escape",
    "8-BIT",
    "UCS-2",
    "cp037",
    "",
    "x\x00",
    "..",
    "utf-8\r\nX: 1",
)

no_surrogates = st.characters(blacklist_categories=("Cs",))
control = st.characters(min_codepoint=0, max_codepoint=0x1F) | st.sampled_from(
    "\x7f\x85\u2028\u2029\ufeff\ufffd"
)


def _long(n: int) -> st.SearchStrategy[str]:
    return st.sampled_from(("x", "9", "é", "\x00", "😀")).map(lambda c: c * n)


long_text = st.sampled_from(COLUMN_SIZES).flatmap(lambda n: _long(n + 1) | _long(n))
huge_int_text = st.sampled_from(HUGE_INTS).map(str) | st.sampled_from(
    ("1e309", "NaN", "-0", "0x10", " 1 ", "١٢٣")
)
hostile_text = st.one_of(
    st.text(no_surrogates, max_size=40),
    st.text(control | no_surrogates, min_size=1, max_size=20),
    long_text,
    huge_int_text,
)


# A lone surrogate: JSON carries one escaped ("\ud800") and utf-7 decodes "+2AA-" to one, and
# no database driver can encode it (a 500 on both until main's bc49767). Only JSON can send
# it: a form or query string must be encodable first.
lone_surrogate_text = st.builds(
    lambda head, lone, tail: head + lone + tail,
    st.text(no_surrogates, max_size=5),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.text(no_surrogates, max_size=5),
)
UTF7_SURROGATE = "LAPOR a+2AA-b"  # utf-7 for "LAPOR a\ud800b"


def _offset(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))


any_timestamp = st.one_of(
    st.sampled_from(BOUNDARY_TIMESTAMPS),
    st.builds(
        lambda dt, off: dt.replace(tzinfo=_offset(off)).isoformat(),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
        st.integers(-(24 * 60 - 1), 24 * 60 - 1),
    ),
)
charset = st.sampled_from(ODD_CHARSETS) | hostile_text


def json_value(strings=hostile_text) -> st.SearchStrategy:
    """Anything JSON can carry where a string is expected: numbers, huge ints, lists, objects."""
    scalars = st.one_of(
        strings,
        lone_surrogate_text,
        st.integers(-(2**70), 2**70),
        st.sampled_from(HUGE_INTS),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.none(),
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
        max_leaves=6,
    )


def deep_json(depth: int, kind: str = "object") -> bytes:
    """A JSON document nested `depth` deep (issue 12: 5,000 deep gave 500 RecursionError)."""
    if kind == "object":
        return ('{"a":' * depth + "1" + "}" * depth).encode()
    return ("[" * depth + "]" * depth).encode()


deep_body = st.builds(deep_json, st.sampled_from((100, 1000, 5000)), st.sampled_from(("object", "list")))

valid_msisdn = st.builds(
    lambda prefix, n, style: style.format(f"{prefix}{n}"),
    st.sampled_from(("812", "813", "821", "852", "857", "878", "896")),
    st.integers(10**6, 10**8 - 1),
    st.sampled_from(("0{}", "62{}", "+62{}")),
)


def sometimes(normal: st.SearchStrategy, hostile: st.SearchStrategy) -> st.SearchStrategy:
    """A field that is normal about three times in four, so most requests carry one or two
    hostile fields and get past the first check to the ones behind it."""
    return st.one_of(normal, normal, normal, hostile)


def body_json(obj) -> bytes:
    """JSON bytes as an aggregator would send them (NaN and Infinity allowed: Python's json
    reads them)."""
    return json.dumps(obj).encode()
