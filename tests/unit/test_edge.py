"""The edge's pure checks (gateway.edge): what Python and the schema can hold, as tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway.edge import (
    MAX_JSON_DEPTH,
    check_sent_at,
    check_string,
    decode_text,
    json_depth_exceeds,
    loads_json,
    parse_part,
    row_id,
    text_codec,
)
from gateway.errors import InvalidPayload

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param(datetime(2026, 12, 2, 15, 0, tzinfo=timezone(timedelta(hours=7))), NOW, id="wib-to-utc"),
        pytest.param(datetime(2026, 12, 2, 8, 0), NOW, id="naive-is-utc"),
        pytest.param(datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 1, 1, tzinfo=UTC), id="earliest"),
        pytest.param(NOW + timedelta(days=3), NOW + timedelta(days=3), id="three-days-ahead"),
    ],
)
def test_plausible_send_times_come_back_in_utc(value, expected):
    result = check_sent_at(value, "timestamp", now=NOW)
    assert result == expected and (result is None or result.tzinfo is UTC)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(
            datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(hours=23, minutes=59))),
            id="y10000-utc",
        ),
        pytest.param(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=23, minutes=59))), id="y0-utc"),
        pytest.param(datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), id="before-2000"),
        pytest.param(NOW + timedelta(days=3, seconds=1), id="beyond-three-days"),
        pytest.param(datetime(9999, 12, 31), id="naive-y9999"),
    ],
)
def test_implausible_send_times_are_refused_naming_the_field(value):
    with pytest.raises(InvalidPayload) as exc:
        check_sent_at(value, "ts", now=NOW)
    assert exc.value.field == "ts"


@pytest.mark.parametrize(
    ("value", "max_chars", "ok"),
    [
        pytest.param("agg-123", 128, True, id="plain"),
        pytest.param("x" * 20, 20, True, id="at-the-limit"),
        pytest.param("Jalan é 你好", 20, True, id="unicode"),
        pytest.param("x" * 21, 20, False, id="one-too-long"),
        pytest.param("a\x00b", 20, False, id="nul"),
        pytest.param("a\r\nb", 20, False, id="crlf"),
        pytest.param("a\x7fb", 20, False, id="del"),
        pytest.param("a\x85b", 20, False, id="c1-next-line"),
    ],
)
def test_strings_are_checked_against_their_column(value, max_chars, ok):
    if ok:
        assert check_string(value, "to", max_chars) == value
    else:
        with pytest.raises(InvalidPayload, match="^to: "):
            check_string(value, "to", max_chars)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("42", 42, id="plain"),
        pytest.param(" 42 ", 42, id="padded"),
        pytest.param(str(2**31 - 1), 2**31 - 1, id="max"),
        pytest.param(str(2**31), None, id="int32-overflow"),
        pytest.param(str(2**63), None, id="int64-overflow"),
        pytest.param("9" * 5000, None, id="5000-digits"),
        pytest.param("0", None, id="zero"),
        pytest.param("\u00b2", None, id="superscript-two"),
        pytest.param("\u0664\u0662", None, id="arabic-indic-digits"),
        pytest.param("-1", None, id="negative"),
        pytest.param("", None, id="empty"),
    ],
)
def test_row_ids(raw, expected):
    assert row_id(raw) == expected


@pytest.mark.parametrize(
    ("charset", "codec"),
    [
        pytest.param("UTF-8", "utf-8", id="utf-8"),
        pytest.param("UTF-16BE", "utf-16-be", id="utf-16be"),
        pytest.param("ISO-8859-1", "iso8859-1", id="latin-1"),
        pytest.param("windows-1252", "cp1252", id="cp1252"),
    ],
)
def test_text_charsets_are_accepted(charset, codec):
    assert text_codec(charset) == codec


@pytest.mark.parametrize(
    "charset",
    ["uu", "bz2", "zlib", "base64", "hex", "rot13", "undefined", "idna", "X-9", "utf\x008", ""],
)
def test_charsets_that_are_not_text_encodings_are_refused(charset):
    with pytest.raises(InvalidPayload) as exc:
        text_codec(charset)
    assert exc.value.field == "charset"


def test_decode_text_replaces_invalid_bytes():
    assert decode_text(b"ok \xff", "utf-8") == "ok \ufffd"
    assert decode_text("é".encode("utf-16-be"), "UTF-16BE") == "é"


@pytest.mark.parametrize(
    ("body", "deep"),
    [
        pytest.param(b'{"a": [1, {"b": 2}]}', False, id="shallow"),
        pytest.param(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH, False, id="at-the-limit"),
        pytest.param(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), True, id="one-deeper"),
        pytest.param(b'{"a":' * 5000 + b"1" + b"}" * 5000, True, id="objects"),
        pytest.param(b'{"text": "' + b"[" * 5000 + b'"}', False, id="brackets-in-a-string"),
        pytest.param(b'{"t": "\\"' + b"[" * 100 + b'"}', False, id="escaped-quote-in-a-string"),
        pytest.param(b"[]" * 5000, False, id="many-but-flat"),
    ],
)
def test_json_depth(body, deep):
    assert json_depth_exceeds(body) is deep


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 5000 + b"]" * 5000, id="deep"),
        pytest.param(b"{", id="truncated"),
        pytest.param(b'{"a": "\xff"}', id="not-utf8"),
        pytest.param(b'{"text": "x\\ud800"}', id="lone-high-surrogate"),
        pytest.param(b'{"text": ["ok", {"k": "\\uDFFF"}]}', id="lone-low-surrogate-nested"),
        pytest.param(b'{"\\ud800": "key"}', id="lone-surrogate-in-a-key"),
    ],
)
def test_loads_json_refuses_naming_the_body(body):
    with pytest.raises(InvalidPayload) as exc:
        loads_json(body)
    assert exc.value.field == "body"


def test_loads_json_reads_a_normal_body():
    assert loads_json('{"text": "[[[ é"}'.encode()) == {"text": "[[[ é"}
    assert loads_json(b'{"text": "\\ud83d\\ude00 ok"}') == {"text": "\U0001f600 ok"}  # a pair is fine


def test_decode_text_never_returns_a_lone_surrogate():
    """utf-7 decodes "+2AA-" to U+D800, which no database driver can encode (a 500)."""
    assert decode_text(b"a+2AA-b", "utf-7") == "a\ufffdb"


# -- a long SMS's part (gateway.edge.parse_part) ------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "index", "total", "expected"),
    [
        pytest.param(None, None, None, None, id="not-a-part"),
        pytest.param("", " ", "", None, id="blank-is-absent"),
        pytest.param("7", "2", "3", ("7", 2, 3), id="form-strings"),
        pytest.param(" a1f ", 1, 255, ("a1f", 1, 255), id="json-ints-udh-max"),
        pytest.param("7", "1", "1", None, id="one-of-one-is-a-whole-message"),
        pytest.param("r" * 32, "2", "2", ("r" * 32, 2, 2), id="longest-ref"),
    ],
)
def test_a_valid_part_comes_back_as_ref_index_total(ref, index, total, expected):
    assert parse_part(ref, index, total) == expected


@pytest.mark.parametrize(
    ("ref", "index", "total", "field"),
    [
        pytest.param("7", "4", "3", "concat_part", id="index-beyond-total"),
        pytest.param("7", "0", "3", "concat_part", id="index-zero"),
        pytest.param("7", "-1", "3", "concat_part", id="index-negative"),
        pytest.param("7", "1.0", "3", "concat_part", id="index-not-whole"),
        pytest.param("7", "²", "3", "concat_part", id="index-superscript"),
        pytest.param("7", True, "3", "concat_part", id="index-json-true"),
        pytest.param("7", "1", "0", "concat_total", id="total-zero"),
        pytest.param("7", "2", "1", "concat_total", id="two-of-one"),
        pytest.param("7", "1", "256", "concat_total", id="total-beyond-udh"),
        pytest.param("7", "1", "9" * 30, "concat_total", id="total-huge"),
        pytest.param("r" * 33, "1", "2", "concat_ref", id="ref-too-long"),
        pytest.param("a\x00b", "1", "2", "concat_ref", id="ref-nul"),
        pytest.param(None, "1", "2", "concat_ref", id="ref-missing"),
        pytest.param("7", None, "2", "concat_part", id="index-missing"),
        pytest.param("7", "1", None, "concat_total", id="total-missing"),
    ],
)
def test_a_bad_part_is_refused_naming_the_field(ref, index, total, field):
    with pytest.raises(InvalidPayload) as exc:
        parse_part(ref, index, total)
    assert exc.value.field == field


def test_an_aggregator_names_its_own_part_fields():
    names = ("concat-ref", "concat-part", "concat-total")
    with pytest.raises(InvalidPayload) as exc:
        parse_part("7", "3", "2", names)
    assert exc.value.field == "concat-part"
