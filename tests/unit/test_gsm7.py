"""GSM-7 alphabet, segment counting, transliteration and text cleaning."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway import gsm7
from gateway.gsm7 import GSM7_BASIC, GSM7_EXTENSION, clean_text, encoding, is_gsm7, segments, septets, to_gsm7

NOT_GSM = "ā"  # a-macron: a letter phones send that forces UCS-2
EMOJI = "😀"  # outside the BMP: two UTF-16 code units


def test_alphabet_sizes():
    # 128 basic positions minus the escape to the extension table; 10 extension characters.
    assert len(GSM7_BASIC) == 127
    assert "\x1b" not in GSM7_BASIC
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", True, id="empty"),
        pytest.param("Ketik CEK 1234567890 untuk status.", True, id="plain-reply"),
        pytest.param("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", True, id="basic-specials"),
        pytest.param("^{}\\[~]|€", True, id="extension"),
        pytest.param("baris1\nbaris2\r", True, id="newline-and-cr"),
        pytest.param("“kutip”", False, id="curly-quotes"),
        pytest.param("a – b", False, id="en-dash"),
        pytest.param("tunggu…", False, id="ellipsis"),
        pytest.param("a\u00a0b", False, id="nbsp"),
        pytest.param("a\tb", False, id="tab"),
        pytest.param("ç", False, id="lowercase-c-cedilla"),
        pytest.param("á", False, id="a-acute"),
        pytest.param(EMOJI, False, id="emoji"),
        pytest.param("`", False, id="backtick"),
        pytest.param("\x1b", False, id="bare-escape"),
    ],
)
def test_is_gsm7(text, expected):
    assert is_gsm7(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", "GSM-7", id="empty"),
        pytest.param("Ketik CEK 1234567890", "GSM-7", id="plain"),
        pytest.param("^{}€", "GSM-7", id="extension-is-still-gsm7"),
        pytest.param("“kutip”", "UCS-2", id="curly-quotes"),
        pytest.param(EMOJI, "UCS-2", id="emoji"),
    ],
)
def test_encoding_is_the_alphabet_segments_counts_in(text, expected):
    assert encoding(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", 0, id="empty"),
        pytest.param("CEK", 3, id="ascii"),
        pytest.param("€", 2, id="euro-is-extension"),
        pytest.param("[1]", 5, id="brackets-are-extension"),
        pytest.param("é\n", 2, id="basic-non-ascii"),
    ],
)
def test_septets(text, expected):
    assert septets(text) == expected


def test_septets_refuses_ucs2_text():
    with pytest.raises(ValueError):
        septets("“halo”")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", 1, id="empty-still-one"),
        pytest.param("a" * 160, 1, id="gsm-160-single"),
        pytest.param("a" * 161, 2, id="gsm-161-two"),
        pytest.param("a" * 306, 2, id="gsm-306-two-full-parts"),
        pytest.param("a" * 307, 3, id="gsm-307-three"),
        pytest.param("a" * 459, 3, id="gsm-459-three-full-parts"),
        pytest.param("€" * 80, 1, id="gsm-80-extension-is-160"),
        pytest.param("€" * 81, 2, id="gsm-81-extension-is-162"),
        pytest.param("a" * 159 + "€", 2, id="gsm-extension-pushes-over-160"),
        pytest.param("a" * 152 + "€" + "a" * 152, 3, id="gsm-escape-pair-never-split"),
        pytest.param(NOT_GSM * 70, 1, id="ucs2-70-single"),
        pytest.param(NOT_GSM * 71, 2, id="ucs2-71-two"),
        pytest.param(NOT_GSM * 134, 2, id="ucs2-134-two"),
        pytest.param(NOT_GSM * 135, 3, id="ucs2-135-three"),
        pytest.param("a" * 159 + NOT_GSM, 3, id="one-ucs2-char-turns-160-into-three"),
        pytest.param(EMOJI * 35, 1, id="ucs2-35-emoji-are-70-units"),
        pytest.param(EMOJI * 36, 2, id="ucs2-36-emoji-are-72-units"),
        pytest.param("a" * 66 + EMOJI + "a" * 66, 3, id="ucs2-surrogate-pair-never-split"),
    ],
)
def test_segments(text, expected):
    assert segments(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Laporan Anda diterima.", "Laporan Anda diterima.", id="plain-unchanged"),
        pytest.param("‘satu’ “dua” „tiga‟ «empat»", '\'satu\' "dua" "tiga" "empat"', id="quotes"),
        pytest.param("a – b — c ‐ d − e", "a - b - c - d - e", id="dashes"),
        pytest.param("tunggu…", "tunggu...", id="ellipsis"),
        pytest.param("a\u00a0b\u202fc\u3000d", "a b c d", id="odd-spaces"),
        pytest.param("• satu\n· dua", "- satu\n- dua", id="bullets"),
        pytest.param("a\tb", "a b", id="tab"),
        pytest.param("José Ibáñez", "José Ibañez", id="accents-kept-when-gsm"),
        pytest.param("ç ő ā ł̄ ê", "c o a ? e", id="accents-stripped-when-not-gsm"),
        pytest.param("ÇÉÄÖÑÜäöñüàèéùìò", "ÇÉÄÖÑÜäöñüàèéùìò", id="gsm-accents-untouched"),
        pytest.param("ﬁle Ａ１ ²", "file A1 2", id="compatibility-forms"),
        pytest.param("ok 👍", "ok ?", id="emoji"),
        pytest.param("❤️", "?", id="emoji-variation-selector-dropped"),
        pytest.param("a\u200bb\ufeffc", "abc", id="zero-width-dropped"),
        pytest.param("雅加达", "???", id="cjk"),
        pytest.param("`kode´", "'kode'", id="backtick-acute"),
        pytest.param("€ [x]", "€ [x]", id="extension-kept"),
    ],
)
def test_to_gsm7(text, expected):
    assert to_gsm7(text) == expected
    assert is_gsm7(to_gsm7(text))


@given(st.text())
def test_to_gsm7_always_yields_gsm7_and_is_idempotent(text):
    converted = to_gsm7(text)
    assert is_gsm7(converted)
    assert to_gsm7(converted) == converted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("  halo  ", "halo", id="strip-ends"),
        pytest.param("a    b", "a b", id="collapse-spaces"),
        pytest.param("a\t\tb", "a b", id="tabs-are-spaces"),
        pytest.param("a\r\nb\rc", "a\nb\nc", id="crlf-and-cr"),
        pytest.param("a \n b", "a\nb", id="spaces-around-newline"),
        pytest.param("a\x00b\x07c\x1bd\x7fe", "abcde", id="control-chars-removed"),
        pytest.param("a\u0085b", "a b", id="next-line-is-space"),
        pytest.param("\n\nhalo\n\n", "halo", id="outer-newlines"),
        pytest.param("baris\n\nbaru", "baris\n\nbaru", id="inner-blank-line-kept"),
        pytest.param("a\u00a0\u00a0b", "a b", id="nbsp-collapsed"),
        pytest.param("😀  ok", "😀 ok", id="emoji-kept"),
        pytest.param("", "", id="empty"),
    ],
)
def test_clean_text(text, expected):
    assert clean_text(text) == expected


def test_clean_text_drops_every_control_character_and_spaces_the_whitespace_ones():
    # Every code point, not a sample: the drop table is built from the first 160 only.
    controls = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cc"]
    assert len(controls) == 65
    for char in controls:
        expected = "a\nb" if char in "\n\r" else "a b" if char.isspace() else "ab"
        assert clean_text(f"a{char}b") == expected, hex(ord(char))


@given(st.text())
def test_clean_text_leaves_no_controls_and_no_double_spaces(text):
    cleaned = clean_text(text)
    assert "\r" not in cleaned and "  " not in cleaned
    assert all(char == "\n" or unicodedata.category(char) != "Cc" for char in cleaned)
    assert cleaned == cleaned.strip()
    assert clean_text(cleaned) == cleaned


@pytest.mark.parametrize(
    "text, lengths",
    [
        pytest.param("", [0], id="empty-one-piece"),
        pytest.param("a" * 160, [160], id="gsm7-single-full"),
        pytest.param("a" * 161, [153, 8], id="gsm7-two-parts"),
        pytest.param("a" * 306, [153, 153], id="gsm7-two-full-parts"),
        pytest.param("a" * 152 + "€" + "b" * 10, [152, 11], id="escape-pair-not-split"),
        pytest.param("’" * 70, [70], id="ucs2-single-full"),
        pytest.param("’" * 71, [67, 4], id="ucs2-two-parts"),
        pytest.param("’" * 66 + EMOJI + "x" * 10, [66, 11], id="surrogate-pair-not-split"),
    ],
)
def test_split_segments_cuts_where_the_parts_begin(text, lengths):
    pieces = gsm7.split_segments(text)
    assert [len(p) for p in pieces] == lengths
    assert "".join(pieces) == text
    assert len(pieces) == gsm7.segments(text)


@pytest.mark.parametrize(
    "text, unfit",
    [
        pytest.param("Jalan rusak di RT 05", [], id="plain"),
        pytest.param("Terima kasih ‘Pak’ – segera", ["‘", "’", "–"], id="quotes-and-dash-once-each"),
        pytest.param("a€b{}", [], id="extension-fits"),
        pytest.param(f"ok {EMOJI}{EMOJI}", [EMOJI], id="emoji"),
    ],
)
def test_unfit_chars_names_what_forces_ucs2(text, unfit):
    assert gsm7.unfit_chars(text) == unfit
    assert gsm7.encoding(text) == ("GSM-7" if not unfit else "UCS-2")
