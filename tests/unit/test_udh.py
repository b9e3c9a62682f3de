"""The UDH reader shared by adapters that get a part's raw octets, and GSM 03.38 septets."""

from __future__ import annotations

import pytest

from gateway.aggregators.udh import Udh, bare_concat_header, parse_udh
from gateway.gsm7 import GSM7_EXTENSION, GSM7_EXTENSION_CODES, decode_septets


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(bytes.fromhex("0500032a0301") + b"hi", Udh(6, "42", 1, 3, True), id="8bit-ref"),
        pytest.param(bytes.fromhex("060804012a0302") + b"hi", Udh(7, "w298", 2, 3, True), id="16bit-ref"),
        pytest.param(
            bytes.fromhex("0b0504158200000003ff0201") + b"x",
            Udh(12, "255", 1, 2, False),
            id="port-and-concat",
        ),
        pytest.param(bytes.fromhex("0605040b8423f0") + b"x", Udh(7), id="ports-only"),
        pytest.param(bytes.fromhex("0500032a03"), None, id="header-longer-than-data"),
        pytest.param(bytes.fromhex("050004"), None, id="ie-runs-past-header"),
        pytest.param(b"LAPOR", None, id="text-not-a-header"),
        pytest.param(b"", None, id="empty"),
    ],
)
def test_parse_udh(raw, expected):
    assert parse_udh(raw) == expected


@pytest.mark.parametrize(
    ("raw", "found"),
    [
        pytest.param(bytes.fromhex("0500032a0301") + b"hi", True, id="8bit"),
        pytest.param(bytes.fromhex("0500032a0301"), False, id="no-text-after"),
        pytest.param(bytes.fromhex("0500032a0104") + b"hi", False, id="index-beyond-total"),
        pytest.param(bytes.fromhex("0500032a0101") + b"hi", False, id="one-part"),
        pytest.param(bytes.fromhex("0b0504158200000003ff0201") + b"x", False, id="other-ie-too"),
        pytest.param("LAPOR jalan".encode("utf-16-be"), False, id="ucs2-text"),
    ],
)
def test_bare_concat_header_only_takes_a_lone_concat_ie(raw, found):
    assert (bare_concat_header(raw) is not None) == found


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        pytest.param(b"\x05v\x05nement", "événement", id="courier-recorded"),
        pytest.param(b"LAPOR \x00 \x02 \x11", "LAPOR @ $ _", id="basic-table-differs-from-ascii"),
        pytest.param(b"\x1be \x1b( \x1b)\x1b<\x1b>", "€ { }[]", id="extension"),
        pytest.param(b"a\x1b\x1bb", "a b", id="esc-esc-is-a-space"),
        pytest.param(b"a\x1b", "a", id="trailing-esc"),
        pytest.param(b"a\xffb", "a\ufffdb", id="not-a-septet"),
    ],
)
def test_decode_septets(raw, text):
    assert decode_septets(raw) == text


def test_the_extension_codes_are_the_extension_table():
    assert set(GSM7_EXTENSION_CODES.values()) == GSM7_EXTENSION
