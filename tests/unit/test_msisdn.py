"""Phone numbers: every Indonesian format to one E.164, everything else refused; masking."""

from __future__ import annotations

import pytest

from gateway.errors import InvalidNumber
from gateway.msisdn import mask_msisdn, normalise_msisdn, redact_numbers


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        pytest.param("081234567890", "+6281234567890", id="local-0"),
        pytest.param("6281234567890", "+6281234567890", id="62-without-plus"),
        pytest.param("+6281234567890", "+6281234567890", id="e164"),
        pytest.param("+62 812-3456-7890", "+6281234567890", id="spaces-dashes"),
        pytest.param(" 0812 3456 7890 ", "+6281234567890", id="padded"),
        pytest.param("085712345678", "+6285712345678", id="indosat"),
        pytest.param("0215551234", "+62215551234", id="jakarta-fixed-line"),
        pytest.param("(0812) 3456.7890", "+6281234567890", id="parentheses-dots"),
        pytest.param("+62 (812) 3456-7890", "+6281234567890", id="e164-parentheses"),
    ],
)
def test_indonesian_formats_normalise_to_e164(raw, e164):
    assert normalise_msisdn(raw) == e164


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="empty"),
        pytest.param("not-a-number", id="letters"),
        pytest.param("1708", id="short-code"),
        pytest.param("+14155550100", id="foreign"),
        pytest.param("+6591234567", id="singapore"),
        pytest.param("08001234567", id="toll-free"),
        pytest.param("0812", id="too-short"),
        pytest.param("08123456789012345", id="too-long"),
        pytest.param("0812-FLOWERS", id="vanity-letters"),
        pytest.param("0812345678AB", id="trailing-letters"),
        pytest.param("0812345678ab", id="lowercase-letters"),
        pytest.param("0812\x0034567890", id="nul"),
        pytest.param("0812\n34567890", id="newline"),
        pytest.param("+62+81234567890", id="second-plus"),
        pytest.param(
            "\u0660\u0668\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660",
            id="arabic-indic-digits",
        ),
        pytest.param("tel:+6281234567890", id="uri"),
    ],
)
def test_other_numbers_are_refused(raw):
    with pytest.raises(InvalidNumber):
        normalise_msisdn(raw)


def test_repeated_numbers_get_the_same_answer_every_time():
    """Answers are cached: a refusal must still raise (with its reason), every time."""
    for _ in range(3):
        assert normalise_msisdn("0812-3456-7890") == "+6281234567890"
        with pytest.raises(InvalidNumber, match="region"):
            normalise_msisdn("+14155550100")
        with pytest.raises(InvalidNumber, match="subscriber"):
            normalise_msisdn("08001234567")
    assert normalise_msisdn("+6591234567", "SG") == "+6591234567"  # the region is part of the key
    with pytest.raises(InvalidNumber):
        normalise_msisdn("+6591234567", "ID")


def test_mask_keeps_prefix_and_last_digits_only():
    assert mask_msisdn("+6281234567890") == "+62812****890"
    assert "4567" not in mask_msisdn("+6281234567890")
    assert mask_msisdn("") == "****"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("invalid destination +6281234567890", "invalid destination +62812****890", id="e164"),
        pytest.param("rejected 6281234567890, try later", "rejected 628123****890, try later", id="no-plus"),
        pytest.param(
            "HTTP 500 at 2026-11-29 code 12345", "HTTP 500 at 2026-11-29 code 12345", id="no-numbers"
        ),
    ],
)
def test_numbers_in_third_party_text_are_masked(text, expected):
    assert redact_numbers(text) == expected
