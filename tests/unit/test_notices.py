"""Notice texts: GSM-7, at most three segments whatever the handler typed, the tracking
number as one run of digits, and the BALAS command taught."""

from __future__ import annotations

import re

import pytest

from gateway.gsm7 import is_gsm7, segments
from gateway.models import REPORT_STATUS_LABELS
from gateway.services import notices

NO = "9876543210"
LONG = "Perbaikan jalan sudah dijadwalkan oleh Dinas PU bersama kecamatan dan desa setempat. " * 12
CURLY = "“Sudah” dicek — petugas datang ’besok’… ✅ 🚧 {ok} [ya] €100"


def _check(text: str, max_segments: int = 3) -> None:
    assert is_gsm7(text)
    assert segments(text) <= max_segments
    assert f"BALAS {NO} " in text
    assert NO in re.findall(r"\d+", text)  # never broken up


@pytest.mark.parametrize(
    "free",
    [
        pytest.param("Tim sudah survei.", id="short"),
        pytest.param(LONG, id="too-long"),
        pytest.param(CURLY, id="typographic-and-emoji"),
        pytest.param("€" * 600, id="extension-chars-count-double"),
        pytest.param("kata" * 300, id="no-spaces"),
        pytest.param("baris satu\nbaris dua\r\n\tbaris tiga", id="newlines"),
        pytest.param("", id="empty"),
    ],
)
@pytest.mark.parametrize(
    "compose",
    [
        pytest.param(lambda free: notices.follow_up_notice(NO, free, "1708"), id="follow-up"),
        pytest.param(lambda free: notices.reply_notice(NO, free, "1708"), id="reply"),
        pytest.param(lambda free: notices.status_notice(NO, "IN_PROGRESS", free, "1708"), id="status"),
    ],
)
def test_notices_fit_three_segments_and_teach_balas(compose, free):
    text = compose(free)
    _check(text)
    if free == "Tim sudah survei.":
        assert free in text


def test_long_text_is_trimmed_with_an_ellipsis_on_a_word():
    text = notices.follow_up_notice(NO, LONG, "1708")
    assert "... Tanggapi: ketik BALAS" in text
    assert segments(text) == 3
    body = text.split(": ", 1)[1].split("...")[0]
    assert LONG.startswith(body) and LONG[len(body)] == " "  # cut at a word boundary


def test_typographic_characters_become_gsm7_lookalikes():
    text = notices.reply_notice(NO, CURLY, "1708")
    assert "\"Sudah\" dicek - petugas datang 'besok'..." in text


@pytest.mark.parametrize("status", list(REPORT_STATUS_LABELS))
def test_status_notice_names_the_label(status):
    text = notices.status_notice(NO, status, "", "1708")
    _check(text, max_segments=1)
    assert REPORT_STATUS_LABELS[status] in text and "Catatan" not in text


def test_closing_notice_is_one_segment():
    text = notices.closing_notice(NO, 10, "1708")
    _check(text, max_segments=1)
    assert "10 hari kerja" in text and "Selesai" in text


@pytest.mark.parametrize(
    ("prefix", "free", "suffix", "expected"),
    [
        pytest.param("a", "b", "c", "abc", id="fits"),
        pytest.param("x" * 150, "12345678901234567890", "", "x" * 150 + "1234567...", id="cut-with-ellipsis"),
        pytest.param(
            "x" * 140, "satu dua tiga empat lima", "", "x" * 140 + "satu dua tiga...", id="on-a-word"
        ),
        pytest.param("x" * 158, "abcdef", "", "x" * 158, id="no-room-drops-it"),
        pytest.param("x" * 150, "€€€€€€", "", "x" * 150 + "€€...", id="extension-counts-two"),
    ],
)
def test_fit_one_segment(prefix, free, suffix, expected):
    got = notices.fit(prefix, free, suffix, max_segments=1)
    assert got == expected and segments(got) == 1
