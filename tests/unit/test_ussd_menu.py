"""The USSD menu machine: every screen's choices, back/home/next, effects and their results."""

from __future__ import annotations

import dataclasses

import pytest

from gateway.gsm7 import is_gsm7, septets
from gateway.models import REPORT_STATUS_LABELS
from gateway.parsers import damm_check_digit
from gateway.ussd import menu, screens
from gateway.ussd.menu import (
    Effect,
    EffectKind,
    Found,
    Result,
    ScreenName,
    State,
)

NO = "123456789" + damm_check_digit("123456789")
BAD_NO = NO[:-1] + str((int(NO[-1]) + 1) % 10)  # one mistyped digit
DRAFT = "Jl. Mawar 5*7 berlubang besar sejak seminggu"
LONG_FOLLOW_UP = " ".join(["Mohon kirim foto dan alamat lengkap lokasi jalan yang rusak"] * 6)
S = State()


def at(screen: str, **fields) -> State:
    return dataclasses.replace(S, screen=screen, **fields)


def assert_screen_ok(text: str) -> None:
    assert is_gsm7(text), text
    assert septets(text) <= 160, (septets(text), text)


# (state, input) -> (screen after, hint expected at the top or None, changed fields)
TRANSITIONS = [
    pytest.param(at(ScreenName.MAIN), "1", ScreenName.TEXT, None, {}, id="main-1-file"),
    pytest.param(at(ScreenName.MAIN), " 2 ", ScreenName.CHECK_NO, None, {}, id="main-2-check-spaces"),
    pytest.param(at(ScreenName.MAIN), "3", ScreenName.REPLY_NO, None, {}, id="main-3-reply"),
    pytest.param(at(ScreenName.MAIN), "4", ScreenName.HELP, None, {}, id="main-4-help"),
    pytest.param(at(ScreenName.MAIN), "5", ScreenName.MAIN, screens.INVALID, {}, id="main-invalid"),
    pytest.param(at(ScreenName.MAIN), "", ScreenName.MAIN, screens.INVALID, {}, id="main-empty"),
    pytest.param(at(ScreenName.MAIN), "0", ScreenName.MAIN, screens.INVALID, {}, id="main-back-is-invalid"),
    pytest.param(at(ScreenName.MAIN), "00", ScreenName.MAIN, None, {}, id="main-home"),
    pytest.param(
        at(ScreenName.TEXT), DRAFT, ScreenName.PRIVACY, None, {"draft": DRAFT}, id="text-keeps-star"
    ),
    pytest.param(
        at(ScreenName.TEXT),
        "  jalan   rusak\tparah ",
        ScreenName.PRIVACY,
        None,
        {"draft": "jalan rusak parah"},
        id="text-cleaned",
    ),
    pytest.param(at(ScreenName.TEXT), "rusak", ScreenName.TEXT, screens.TOO_SHORT, {}, id="text-too-short"),
    pytest.param(
        at(ScreenName.TEXT), "1234567890123", ScreenName.TEXT, screens.TOO_SHORT, {}, id="text-digits-only"
    ),
    pytest.param(
        at(ScreenName.TEXT), "rusak " * 200, ScreenName.TEXT, screens.TOO_LONG, {}, id="text-too-long"
    ),
    pytest.param(
        at(ScreenName.TEXT, privacy="ANONYMOUS"),
        DRAFT,
        ScreenName.CONFIRM,
        None,
        {"draft": DRAFT},
        id="text-edit-back-to-confirm",
    ),
    pytest.param(at(ScreenName.TEXT), "0", ScreenName.MAIN, None, {}, id="text-back"),
    pytest.param(
        at(ScreenName.TEXT, draft=DRAFT),
        "00",
        ScreenName.MAIN,
        None,
        {"draft": DRAFT},
        id="text-home-keeps-draft",
    ),
    pytest.param(
        at(ScreenName.PRIVACY, draft=DRAFT),
        "1",
        ScreenName.CONFIRM,
        None,
        {"privacy": "PUBLIC"},
        id="privacy-normal",
    ),
    pytest.param(
        at(ScreenName.PRIVACY, draft=DRAFT),
        "2",
        ScreenName.CONFIRM,
        None,
        {"privacy": "CONFIDENTIAL"},
        id="privacy-rahasia",
    ),
    pytest.param(
        at(ScreenName.PRIVACY, draft=DRAFT),
        "3",
        ScreenName.CONFIRM,
        None,
        {"privacy": "ANONYMOUS"},
        id="privacy-anonim",
    ),
    pytest.param(
        at(ScreenName.PRIVACY, draft=DRAFT),
        "4",
        ScreenName.PRIVACY,
        screens.INVALID,
        {},
        id="privacy-invalid",
    ),
    pytest.param(at(ScreenName.PRIVACY, draft=DRAFT), "0", ScreenName.TEXT, None, {}, id="privacy-back"),
    pytest.param(
        at(ScreenName.CONFIRM, draft=DRAFT, privacy="PUBLIC"),
        "2",
        ScreenName.TEXT,
        None,
        {},
        id="confirm-edit",
    ),
    pytest.param(
        at(ScreenName.CONFIRM, draft=DRAFT, privacy="PUBLIC"),
        "3",
        ScreenName.MAIN,
        screens.CANCELLED,
        {"draft": "", "privacy": ""},
        id="confirm-cancel-drops-draft",
    ),
    pytest.param(
        at(ScreenName.CONFIRM, draft=DRAFT, privacy="PUBLIC"),
        "0",
        ScreenName.PRIVACY,
        None,
        {},
        id="confirm-back",
    ),
    pytest.param(
        at(ScreenName.CONFIRM, draft=DRAFT, privacy="PUBLIC"),
        "9",
        ScreenName.CONFIRM,
        screens.INVALID,
        {},
        id="confirm-invalid",
    ),
    pytest.param(
        at(ScreenName.CHECK_NO), BAD_NO, ScreenName.CHECK_NO, screens.BAD_NUMBER, {}, id="check-typo"
    ),
    pytest.param(
        at(ScreenName.CHECK_NO), "12345", ScreenName.CHECK_NO, screens.BAD_NUMBER, {}, id="check-short"
    ),
    pytest.param(
        at(ScreenName.CHECK_NO), "abc", ScreenName.CHECK_NO, screens.BAD_NUMBER, {}, id="check-letters"
    ),
    pytest.param(at(ScreenName.CHECK_NO), "0", ScreenName.MAIN, None, {}, id="check-back"),
    pytest.param(
        at(ScreenName.REPLY_NO), BAD_NO, ScreenName.REPLY_NO, screens.BAD_NUMBER, {}, id="reply-no-typo"
    ),
    pytest.param(at(ScreenName.REPLY_NO), "0", ScreenName.MAIN, None, {}, id="reply-no-back"),
    pytest.param(
        at(ScreenName.FOLLOW_UP, tracking_no=NO, follow_up=LONG_FOLLOW_UP),
        "98",
        ScreenName.FOLLOW_UP,
        None,
        {"page": 1},
        id="follow-up-next",
    ),
    pytest.param(
        at(ScreenName.FOLLOW_UP, tracking_no=NO, follow_up="Kirim foto?"),
        "98",
        ScreenName.FOLLOW_UP,
        screens.INVALID,
        {},
        id="follow-up-next-on-last-page",
    ),
    pytest.param(
        at(ScreenName.FOLLOW_UP, tracking_no=NO, follow_up=LONG_FOLLOW_UP, page=2),
        "0",
        ScreenName.FOLLOW_UP,
        None,
        {"page": 1},
        id="follow-up-back-a-page",
    ),
    pytest.param(
        at(ScreenName.FOLLOW_UP, tracking_no=NO, follow_up=LONG_FOLLOW_UP),
        "0",
        ScreenName.REPLY_NO,
        None,
        {"tracking_no": "", "follow_up": ""},
        id="follow-up-back-to-number",
    ),
    pytest.param(
        at(ScreenName.FOLLOW_UP, tracking_no=NO, follow_up=LONG_FOLLOW_UP),
        "1",
        ScreenName.REPLY_TEXT,
        None,
        {},
        id="follow-up-answer",
    ),
    pytest.param(
        at(ScreenName.FOLLOW_UP, tracking_no=NO, follow_up="Kirim foto?"),
        "7",
        ScreenName.FOLLOW_UP,
        screens.INVALID,
        {},
        id="follow-up-invalid",
    ),
    pytest.param(
        at(ScreenName.REPLY_TEXT, tracking_no=NO),
        "",
        ScreenName.REPLY_TEXT,
        screens.EMPTY_REPLY,
        {},
        id="reply-empty",
    ),
    pytest.param(
        at(ScreenName.REPLY_TEXT, tracking_no=NO, follow_up="Foto?"),
        "0",
        ScreenName.FOLLOW_UP,
        None,
        {},
        id="reply-back-to-question",
    ),
    pytest.param(
        at(ScreenName.REPLY_TEXT, tracking_no=NO),
        "0",
        ScreenName.REPLY_NO,
        None,
        {"tracking_no": ""},
        id="reply-back-no-question",
    ),
    pytest.param(at(ScreenName.HELP), "0", ScreenName.MAIN, None, {}, id="help-back"),
    pytest.param(at(ScreenName.HELP), "1", ScreenName.HELP, screens.INVALID, {}, id="help-invalid"),
    pytest.param(
        at(ScreenName.RESUME, draft=DRAFT),
        "1",
        ScreenName.PRIVACY,
        None,
        {"draft": DRAFT},
        id="resume-continue",
    ),
    pytest.param(
        at(ScreenName.RESUME, draft=DRAFT, privacy="ANONYMOUS"),
        "1",
        ScreenName.CONFIRM,
        None,
        {},
        id="resume-to-confirm",
    ),
    pytest.param(
        at(ScreenName.RESUME, draft=DRAFT),
        "2",
        ScreenName.MAIN,
        screens.DRAFT_DELETED,
        {"draft": ""},
        id="resume-delete",
    ),
    pytest.param(
        at(ScreenName.RESUME, draft=DRAFT),
        "3",
        ScreenName.MAIN,
        None,
        {"draft": DRAFT},
        id="resume-main-keeps-draft",
    ),
    pytest.param(
        at(ScreenName.RESUME, draft=DRAFT), "x", ScreenName.RESUME, screens.INVALID, {}, id="resume-invalid"
    ),
    pytest.param(
        at(ScreenName.REPLY_TEXT, tracking_no=NO), "00", ScreenName.MAIN, None, {}, id="home-from-anywhere"
    ),
]


@pytest.mark.parametrize(("state", "text", "screen", "hint", "changed"), TRANSITIONS)
def test_transition(state, text, screen, hint, changed):
    out = menu.step(state, text)
    assert out.effect is None and not out.end
    assert out.state.screen == screen
    for name, value in changed.items():
        assert getattr(out.state, name) == value, name
    expected = menu.render(out.state)
    assert out.screen == (f"{hint}\n{expected}" if hint else expected)
    assert_screen_ok(out.screen)


EFFECTS = [
    pytest.param(
        at(ScreenName.CONFIRM, draft=DRAFT, privacy="CONFIDENTIAL"),
        "1",
        Effect(EffectKind.FILE, text=DRAFT, privacy="CONFIDENTIAL"),
        id="confirm-files",
    ),
    pytest.param(at(ScreenName.CHECK_NO), NO, Effect(EffectKind.CHECK, tracking_no=NO), id="check-number"),
    pytest.param(
        at(ScreenName.CHECK_NO),
        f" {NO[:4]} {NO[4:]} ",
        Effect(EffectKind.CHECK, tracking_no=NO),
        id="check-number-spaced",
    ),
    pytest.param(at(ScreenName.REPLY_NO), NO, Effect(EffectKind.OPEN_REPLY, tracking_no=NO), id="open-reply"),
    pytest.param(
        at(ScreenName.REPLY_TEXT, tracking_no=NO),
        "sudah  diperbaiki*kemarin",
        Effect(EffectKind.REPLY, tracking_no=NO, text="sudah diperbaiki*kemarin"),
        id="reply-text",
    ),
]


@pytest.mark.parametrize(("state", "text", "effect"), EFFECTS)
def test_effects(state, text, effect):
    out = menu.step(state, text)
    assert out.effect == effect
    assert out.screen == "" and not out.end


RESOLVED = [
    pytest.param(
        at(ScreenName.CONFIRM, draft=DRAFT, privacy="ANONYMOUS"),
        Effect(EffectKind.FILE, text=DRAFT, privacy="ANONYMOUS"),
        Result(Found.DONE, tracking_no=NO),
        True,
        None,
        (NO, "anonim", "SMS"),
        id="filed",
    ),
    pytest.param(
        at(ScreenName.CHECK_NO),
        Effect(EffectKind.CHECK, tracking_no=NO),
        Result(Found.DONE, NO, "IN_PROGRESS", "29/11/2026"),
        True,
        None,
        (NO, "Ditindaklanjuti", "29/11/2026", f"BALAS {NO}"),
        id="checked",
    ),
    pytest.param(
        at(ScreenName.CHECK_NO),
        Effect(EffectKind.CHECK, tracking_no=NO),
        Result(Found.NOT_FOUND),
        False,
        ScreenName.CHECK_NO,
        (f"Laporan {NO} tidak ada",),
        id="check-not-found-asks-again",
    ),
    pytest.param(
        at(ScreenName.CHECK_NO),
        Effect(EffectKind.CHECK, tracking_no=NO),
        Result(Found.THROTTLED),
        True,
        None,
        ("Coba lagi 1 jam",),
        id="check-throttled",
    ),
    pytest.param(
        at(ScreenName.CONFIRM, draft=DRAFT, privacy="ANONYMOUS"),
        Effect(EffectKind.FILE, text=DRAFT, privacy="ANONYMOUS"),
        Result(Found.FLOODED),
        True,
        ScreenName.CONFIRM,
        ("Terlalu banyak laporan", "belum terkirim", "draf disimpan", "Coba lagi"),
        id="file-flooded-ends-keeping-the-draft",
    ),
    pytest.param(
        at(ScreenName.REPLY_NO),
        Effect(EffectKind.OPEN_REPLY, tracking_no=NO),
        Result(Found.DONE, NO, follow_up="Kirim foto lokasi?"),
        False,
        ScreenName.FOLLOW_UP,
        ("(1/1)", "Kirim foto lokasi?", "1 Jawab"),
        id="open-reply-shows-question",
    ),
    pytest.param(
        at(ScreenName.REPLY_NO),
        Effect(EffectKind.OPEN_REPLY, tracking_no=NO),
        Result(Found.DONE, NO),
        False,
        ScreenName.REPLY_TEXT,
        (f"laporan {NO}",),
        id="open-reply-no-question",
    ),
    pytest.param(
        at(ScreenName.REPLY_NO),
        Effect(EffectKind.OPEN_REPLY, tracking_no=NO),
        Result(Found.NOT_FOUND),
        False,
        ScreenName.REPLY_NO,
        ("tidak ada untuk HP ini",),
        id="open-reply-not-found",
    ),
    pytest.param(
        at(ScreenName.REPLY_TEXT, tracking_no=NO),
        Effect(EffectKind.REPLY, tracking_no=NO, text="ok sudah"),
        Result(Found.DONE, NO),
        True,
        None,
        (NO, "diterima", f"CEK {NO}"),
        id="reply-recorded",
    ),
]


@pytest.mark.parametrize(("state", "effect", "result", "end", "screen", "shows"), RESOLVED)
def test_resolve(state, effect, result, end, screen, shows):
    out = menu.resolve(state, effect, result)
    assert out.end is end
    if screen is not None:
        assert out.state.screen == screen
    for words in shows:
        assert words in out.screen
    assert_screen_ok(out.screen)


def test_a_flooded_filing_keeps_the_draft_to_resume():
    state = at(ScreenName.CONFIRM, draft=DRAFT, privacy="ANONYMOUS")
    out = menu.resolve(state, Effect(EffectKind.FILE, text=DRAFT, privacy="ANONYMOUS"), Result(Found.FLOODED))
    assert out.state == state and out.end


def test_filing_clears_the_draft():
    out = menu.resolve(
        at(ScreenName.CONFIRM, draft=DRAFT, privacy="PUBLIC"),
        Effect(EffectKind.FILE, text=DRAFT),
        Result(Found.DONE, NO),
    )
    assert out.state.draft == "" and out.state.privacy == ""


@pytest.mark.parametrize(
    ("draft", "screen"),
    [
        pytest.param("", ScreenName.MAIN, id="no-draft-main-menu"),
        pytest.param(DRAFT, ScreenName.RESUME, id="draft-offers-resume"),
    ],
)
def test_start(draft, screen):
    out = menu.start("1708", draft=draft)
    assert out.state.screen == screen and not out.end and out.effect is None
    assert ("Laporan belum terkirim" in out.screen) is bool(draft)


def test_whole_filing_walk_keeps_star_in_text():
    state = menu.start("1708").state
    for text in ("1", DRAFT, "2"):
        state = menu.step(state, text).state
    out = menu.step(state, "1")
    assert out.effect == Effect(EffectKind.FILE, text=DRAFT, privacy="CONFIDENTIAL")


def test_state_round_trips_and_survives_unknown_keys():
    state = at(ScreenName.FOLLOW_UP, tracking_no=NO, follow_up="x", page=1, draft=DRAFT, privacy="PUBLIC")
    assert State.from_dict(state.as_dict()) == state
    assert State.from_dict({**state.as_dict(), "future": 1}) == state
    assert State.from_dict({"screen": "GONE"}).screen == ScreenName.MAIN


def test_follow_up_pages_cover_the_whole_text_in_order():
    out = menu.resolve(
        at(ScreenName.REPLY_NO),
        Effect(EffectKind.OPEN_REPLY, tracking_no=NO),
        Result(Found.DONE, NO, follow_up=LONG_FOLLOW_UP),
    )
    seen, state = [], out.state
    for _ in range(20):
        body = menu.render(state)
        assert_screen_ok(body)
        seen.append(body.split("\n")[1])
        nxt = menu.step(state, "98")
        if nxt.state.page == state.page:
            assert "98 Lanjut" not in body
            break
        assert "98 Lanjut" in body
        state = nxt.state
    assert " ".join(seen) == LONG_FOLLOW_UP
    assert len(seen) > 2


# Every screen, with the longest values and each hint the machine can put above it, fits one
# GSM-7 screen. (Which hint goes where is pinned by TRANSITIONS and RESOLVED above.)
_NOT_FOUND = screens.NOT_FOUND.format(no="9" * 10)
HINTS_FOR = {
    ScreenName.MAIN: [screens.INVALID, screens.CANCELLED, screens.DRAFT_DELETED],
    ScreenName.TEXT: [screens.TOO_SHORT, screens.TOO_LONG],
    ScreenName.PRIVACY: [screens.INVALID],
    ScreenName.CONFIRM: [screens.INVALID],
    ScreenName.CHECK_NO: [screens.BAD_NUMBER, _NOT_FOUND],
    ScreenName.REPLY_NO: [screens.BAD_NUMBER, _NOT_FOUND],
    ScreenName.FOLLOW_UP: [screens.INVALID],
    ScreenName.REPLY_TEXT: [screens.EMPTY_REPLY, screens.TOO_LONG],
    ScreenName.HELP: [screens.INVALID],
    ScreenName.RESUME: [screens.INVALID],
}
LONGEST_STATES = [
    at(ScreenName.MAIN, short_code="17089"),
    at(ScreenName.TEXT),
    at(ScreenName.PRIVACY),
    *[at(ScreenName.CONFIRM, draft="W" * 500, privacy=p) for p in ("PUBLIC", "CONFIDENTIAL", "ANONYMOUS")],
    at(ScreenName.CHECK_NO),
    at(ScreenName.REPLY_NO),
    at(ScreenName.FOLLOW_UP, follow_up="W" * 2000, page=9),
    at(ScreenName.FOLLOW_UP, follow_up="€" * 2000, page=3),
    at(ScreenName.REPLY_TEXT, tracking_no="9" * 10),
    at(ScreenName.HELP, short_code="17089"),
    at(ScreenName.RESUME, draft="“kutip” — " * 40),
]
CASES = [
    pytest.param(state, hint, id=f"{state.screen}-{i}-{hint[:12] or 'plain'}")
    for i, state in enumerate(LONGEST_STATES)
    for hint in ["", *HINTS_FOR[state.screen]]
]


def test_every_screen_is_covered():
    assert set(HINTS_FOR) == set(menu.SCREENS) == {s.screen for s in LONGEST_STATES}


@pytest.mark.parametrize(("state", "hint"), CASES)
def test_every_screen_fits_with_its_hints(state, hint):
    assert_screen_ok(screens.with_hint(hint, menu.render(state)))


@pytest.mark.parametrize(
    "text",
    [
        *[screens.filed("9" * 10, p, "17089") for p in ("PUBLIC", "CONFIDENTIAL", "ANONYMOUS")],
        *[screens.status("9" * 10, s, "29/11/2026", "17089") for s in REPORT_STATUS_LABELS],
        screens.throttled(),
        screens.flooded(),
        screens.reply_recorded("9" * 10, "17089"),
        screens.unavailable("17089"),
    ],
)
def test_end_screens_fit(text):
    assert_screen_ok(text)


@pytest.mark.parametrize(
    ("text", "width", "pages"),
    [
        pytest.param("", 10, [""], id="empty"),
        pytest.param("satu dua tiga", 20, ["satu dua tiga"], id="fits"),
        pytest.param("satu dua tiga", 8, ["satu dua", "tiga"], id="between-words"),
        pytest.param("abcdefghij", 4, ["abcd", "efgh", "ij"], id="long-word-cut"),
        pytest.param("a €€€ b", 4, ["a", "€€", "€ b"], id="extension-chars-count-two"),
        pytest.param("“tanya” — ya", 20, ['"tanya" - ya'], id="made-gsm7"),
    ],
)
def test_paginate(text, width, pages):
    assert screens.paginate(text, width) == pages


@pytest.mark.parametrize(
    ("text", "limit", "out"),
    [
        pytest.param("pendek", 10, "pendek", id="fits"),
        pytest.param("jalan rusak parah", 10, "jalan r...", id="cut"),
        pytest.param("baris\nbaru  dua", 20, "baris baru dua", id="one-line"),
        pytest.param("€€€€€€", 9, "€€€...", id="extension-chars"),
    ],
)
def test_shorten(text, limit, out):
    assert screens.shorten(text, limit) == out


# Every screen in the states it can be in, and inputs that reach each branch of its step.
WALK_STATES = [
    *LONGEST_STATES,
    at(ScreenName.TEXT, privacy="PUBLIC"),
    at(ScreenName.CONFIRM, draft=DRAFT),
    at(ScreenName.FOLLOW_UP, tracking_no=NO, follow_up=LONG_FOLLOW_UP, page=0),
    at(ScreenName.FOLLOW_UP, tracking_no=NO, follow_up=LONG_FOLLOW_UP, page=1),
    at(ScreenName.REPLY_TEXT, tracking_no=NO, follow_up="Mohon foto."),
    at(ScreenName.RESUME, draft=DRAFT, privacy="ANONYMOUS"),
]
WALK_INPUTS = ["", " ", "0", "00", "1", "2", "3", "4", "5", "98", "x", "ok", DRAFT, "W" * 1001, NO, BAD_NO]
WALK_RESULTS = [
    Result(Found.DONE, NO, status="RECEIVED", updated="01/12/2026", follow_up="Mohon foto."),
    Result(Found.DONE, NO, status="DONE", updated="01/12/2026"),  # no follow-up to read (OPEN_REPLY)
    Result(Found.NOT_FOUND),
    Result(Found.THROTTLED),
    Result(Found.FLOODED),
]


def _moves(state: State, text: str) -> list[menu.Outcome]:
    out = menu.step(state, text)
    if out.effect is None:
        return [out]
    return [menu.resolve(out.state, out.effect, result) for result in WALK_RESULTS]


@pytest.mark.parametrize("name", list(menu.SCREENS))
def test_every_registered_screen_declares_only_registered_targets(name):
    unknown = set(menu.SCREENS[name].goes_to) - set(menu.SCREENS)
    assert not unknown, f"{name} goes to unregistered screens {unknown}"


@pytest.mark.parametrize("state", [pytest.param(s, id=f"{s.screen}-{i}") for i, s in enumerate(WALK_STATES)])
def test_every_screen_moves_only_where_it_declares(state):
    """Walk each screen's transitions: every move lands on a registered screen its
    registration lists (staying put and `00` aside); a screen missing from the registry or
    from `goes_to` fails here, not in a citizen's session."""
    allowed = {state.screen, ScreenName.MAIN, *menu.SCREENS[state.screen].goes_to}
    for text in WALK_INPUTS:
        for out in _moves(state, text):
            assert menu.is_screen(out.state.screen)
            assert out.end or out.state.screen in allowed, (state.screen, text, out.state.screen)
            assert out.screen


def test_every_declared_transition_is_taken_by_some_input():
    """The declarations are not padded: each listed target is reached by the walk."""
    reached = {
        (state.screen, out.state.screen)
        for state in WALK_STATES
        for text in WALK_INPUTS
        for out in _moves(state, text)
        if not out.end
    }
    declared = {(name, target) for name, s in menu.SCREENS.items() for target in s.goes_to}
    assert declared <= reached, declared - reached


@pytest.mark.parametrize(
    "move",
    [
        pytest.param(lambda: menu.go(S, "NOWHERE"), id="go-to-unregistered"),
        pytest.param(lambda: menu.step(at("NOWHERE"), "1"), id="step-from-unregistered"),
        pytest.param(lambda: menu.render(at("NOWHERE")), id="render-unregistered"),
    ],
)
def test_an_unregistered_screen_is_an_error_not_a_reset(move):
    with pytest.raises(menu.UnknownScreen):
        move()
