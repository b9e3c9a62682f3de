"""Every standard reply: GSM-7, one segment with the longest values it can carry, and it
teaches the next step."""

from __future__ import annotations

import re

import pytest

from gateway import replies
from gateway.commands import balas, berhenti, cek, info, lapor, lookup, mulai
from gateway.gsm7 import is_gsm7, septets
from gateway.models import PRIVACY_LEVELS, REPORT_STATUS_LABELS
from gateway.ussd import screens

NO = "9999999999"
LONGEST = [
    pytest.param(info.help_text("17089"), ("LAPOR", "CEK", "BALAS"), id="help"),
    *[
        pytest.param(lapor.report_filed(NO, p, "17089"), (f"CEK {NO}",), id=f"filed-{p}")
        for p in PRIVACY_LEVELS
    ],
    pytest.param(lapor.report_missing_text(), ("LAPOR",), id="missing-text"),
    *[
        pytest.param(cek.status_for_owner(NO, s, "29/11/2026"), (f"BALAS {NO}",), id=f"status-{s}")
        for s in REPORT_STATUS_LABELS
    ],
    pytest.param(lookup.not_found(NO), ("INFO",), id="not-found"),
    pytest.param(lookup.bad_number("123456789012345"), ("CEK",), id="bad-number"),
    pytest.param(cek.missing_number(), ("CEK",), id="missing-number-cek"),
    pytest.param(balas.missing_number(), ("BALAS",), id="missing-number-balas"),
    pytest.param(balas.reply_missing_text(NO), (f"BALAS {NO}",), id="reply-missing-text"),
    pytest.param(balas.reply_recorded(NO), (f"CEK {NO}",), id="reply-recorded"),
    pytest.param(lookup.throttled(), ("INFO",), id="throttled"),
    pytest.param(berhenti.opted_out("17089"), ("MULAI", "17089"), id="opted-out"),
    pytest.param(mulai.opted_in("17089"), ("BERHENTI", "17089"), id="opted-in"),
    pytest.param(replies.flood_warning(), ("LAPOR",), id="flood-warning"),
]


@pytest.mark.parametrize(("text", "teaches"), LONGEST)
def test_reply_is_one_gsm7_segment_that_teaches_the_next_step(text, teaches):
    assert is_gsm7(text), text
    assert septets(text) <= 160, (septets(text), text)
    for step in teaches:
        assert step in text


def test_status_reply_uses_the_citizen_label():
    assert "Ditindaklanjuti" in cek.status_for_owner(NO, "IN_PROGRESS", "01/12/2026")


def _clause_after(text: str, word: str) -> str:
    """The words after `word` up to the end of its sentence or line, lower-cased."""
    start = text.index(word) + len(word)
    return re.split(r"[.\n]", text[start:], maxsplit=1)[0].lower()


@pytest.mark.parametrize(
    ("text", "confidential", "anonymous"),
    [
        pytest.param(info.help_text("17089"), "RAHASIA", "ANONIM", id="sms-help"),
        pytest.param(screens.help_screen("17089"), "Rahasia", "Anonim", id="ussd-help"),
        pytest.param(screens.ask_privacy(), "Rahasia", "Anonim", id="ussd-privacy-choice"),
    ],
)
def test_each_privacy_mode_says_what_it_really_does(text, confidential, anonymous):
    """LAPOR!'s own meanings: *rahasia* keeps the report from the public, *anonim* hides the
    reporter's identity (from the agency handling it). "Identitas dirahasiakan: LAPOR RAHASIA"
    promised the wrong protection."""
    assert "tidak dipublikasikan" in _clause_after(text, confidential)
    assert "identitas" not in _clause_after(text, confidential)
    anonymous_clause = _clause_after(text, anonymous)
    assert "identitas" in anonymous_clause and "disembunyikan" in anonymous_clause
