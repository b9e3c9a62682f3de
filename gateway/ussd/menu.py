"""The USSD menu as a pure state machine: (state, latest input) -> Outcome(new state, screen,
end flag, effect). No I/O: an effect that needs the database (file, check, open a report to
answer, record an answer) comes back as an `Effect`; the service performs it and hands the
`Result` to `resolve`, which picks the screen.

    main ── 1 ─▶ text ─▶ privacy ─▶ confirm ── 1 ─▶ FILE ─▶ END tracking number (+ SMS)
         ├─ 2 ─▶ number ─▶ CHECK ─▶ END status            (not found: number again, with hint)
         ├─ 3 ─▶ number ─▶ OPEN_REPLY ─▶ follow-up pages (98) ─▶ answer ─▶ REPLY ─▶ END
         └─ 4 ─▶ help
    `0` goes back one screen, `00` to the main menu; anything else re-shows the screen with a hint.

Each screen is one registration (`@screen`): its name, its text (`render`), the screens it
may move to (`goes_to`), and the step function under the decorator. tests/unit/test_ussd_menu.py
walks every registered screen's transitions; moving to an unregistered screen raises
`UnknownScreen`. A session saved by another deploy with a screen this one lacks is logged,
counted and restarted at the main menu (gateway.ussd.sessions).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from gateway.gsm7 import clean_text
from gateway.models import Privacy
from gateway.parsers import is_valid_tracking_number
from gateway.ussd import screens


class ScreenName(StrEnum):
    """The menu's screens, as saved in a session (`State.screen`, in Redis)."""

    MAIN = "MAIN"
    TEXT = "TEXT"
    PRIVACY = "PRIVACY"
    CONFIRM = "CONFIRM"
    CHECK_NO = "CHECK_NO"
    REPLY_NO = "REPLY_NO"
    FOLLOW_UP = "FOLLOW_UP"
    REPLY_TEXT = "REPLY_TEXT"
    HELP = "HELP"
    RESUME = "RESUME"


class EffectKind(StrEnum):
    """Work the menu asks the service for (`Effect.kind`)."""

    FILE = "FILE"
    CHECK = "CHECK"
    OPEN_REPLY = "OPEN_REPLY"
    REPLY = "REPLY"


class Found(StrEnum):
    """What the service reports back for an effect (`Result.outcome`)."""

    DONE = "DONE"
    NOT_FOUND = "NOT_FOUND"
    THROTTLED = "THROTTLED"
    FLOODED = "FLOODED"


BACK, HOME, NEXT = "0", "00", "98"
PRIVACY_CHOICES = {"1": Privacy.PUBLIC, "2": Privacy.CONFIDENTIAL, "3": Privacy.ANONYMOUS}
MIN_REPORT_CHARS, MAX_REPORT_CHARS = 10, 1000
MIN_REPLY_CHARS = 2
_NUMBER_SEPARATORS = re.compile(r"[\s.\-#*]")


@dataclass(frozen=True)
class State:
    """Where a session is. Serialised to Redis between steps (`as_dict`/`from_dict`)."""

    screen: str = ScreenName.MAIN
    short_code: str = "1708"
    draft: str = ""  # the report being written; kept (also outside the session) until sent
    privacy: str = ""  # chosen for the draft; "" until then
    tracking_no: str = ""  # the report being answered
    follow_up: str = ""  # the officer's question being read
    page: int = 0

    def as_dict(self) -> dict:
        """JSON-ready."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> State:
        """The inverse of as_dict; unknown keys (an older or newer deploy) are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        state = cls(**{k: v for k, v in data.items() if k in names})
        return state if is_screen(state.screen) else dataclasses.replace(state, screen=ScreenName.MAIN)


@dataclass(frozen=True)
class Effect:
    """Work for the service: FILE (text, privacy), CHECK / OPEN_REPLY (tracking_no),
    REPLY (tracking_no, text)."""

    kind: str
    tracking_no: str = ""
    text: str = ""
    privacy: str = ""


@dataclass(frozen=True)
class Result:
    """What the service found: DONE (filed / found / recorded), NOT_FOUND, THROTTLED (failed
    look-ups) or FLOODED (past the number's flood limit: nothing filed)."""

    outcome: str
    tracking_no: str = ""
    status: str = ""  # the report's status code (CHECK)
    updated: str = ""  # dd/mm/yyyy (CHECK)
    follow_up: str = ""  # the latest follow-up question, "" if none (OPEN_REPLY)


@dataclass(frozen=True)
class Outcome:
    """The next state and what to show. With an `effect`, `screen` is empty: call `resolve`."""

    state: State
    screen: str = ""
    end: bool = False
    effect: Effect | None = None


def start(short_code: str, draft: str = "", privacy: str = "") -> Outcome:
    """A new session: the main menu, or the offer to resume an unsent draft."""
    if draft:
        return show(State(screen=ScreenName.RESUME, short_code=short_code, draft=draft, privacy=privacy))
    return show(State(short_code=short_code))


def show(state: State, hint: str = "") -> Outcome:
    """Stay on `state.screen` (optionally with a hint line above it)."""
    return Outcome(state, screens.with_hint(hint, render(state)))


def go(state: State, target: str, hint: str = "", **changes) -> Outcome:
    """Move to the registered screen `target` (UnknownScreen if there is none)."""
    _registered(target)
    return show(dataclasses.replace(state, screen=target, **changes), hint)


class UnknownScreen(KeyError):
    """A move to, or a step from, a screen nobody registered: a bug, not a citizen's doing."""


Step = Callable[[State, str, str], Outcome]
"""(state, text as typed, text stripped) -> Outcome."""


@dataclass(frozen=True)
class Screen:
    """One registered state of the menu: its text and the screens its step (and, for the
    effect it asks for, `resolve`) may move to. Staying put and `00` (the main menu) are
    always allowed and need not be listed."""

    name: str
    render: Callable[[State], str]
    step: Step
    goes_to: tuple[str, ...]


SCREENS: dict[str, Screen] = {}


def screen(name: str, render: Callable[[State], str], goes_to: tuple[str, ...]) -> Callable[[Step], Step]:
    """Register the decorated step function as screen `name`."""

    def register(step_fn: Step) -> Step:
        if name in SCREENS:
            raise ValueError(f"USSD screen {name} is already registered")
        SCREENS[name] = Screen(name, render, step_fn, goes_to)
        return step_fn

    return register


def is_screen(name: str) -> bool:
    """True when `name` is a registered screen."""
    return name in SCREENS


def _registered(name: str) -> Screen:
    found = SCREENS.get(name)
    if found is None:
        raise UnknownScreen(name)
    return found


def render(state: State) -> str:
    """The screen for a state."""
    return _registered(state.screen).render(state)


def step(state: State, text: str) -> Outcome:
    """Apply the citizen's latest input to the session."""
    choice = text.strip()
    if choice == HOME:
        return go(state, ScreenName.MAIN)
    return _registered(state.screen).step(state, text, choice)


@screen(
    ScreenName.MAIN,
    lambda state: screens.main_menu(state.short_code),
    goes_to=(ScreenName.TEXT, ScreenName.CHECK_NO, ScreenName.REPLY_NO, ScreenName.HELP),
)
def _main(state: State, text: str, choice: str) -> Outcome:
    targets = {"1": ScreenName.TEXT, "2": ScreenName.CHECK_NO, "3": ScreenName.REPLY_NO, "4": ScreenName.HELP}
    if choice in targets:
        return go(state, targets[choice])
    return show(state, screens.INVALID)


@screen(
    ScreenName.TEXT,
    lambda state: screens.ask_text(),
    goes_to=(ScreenName.MAIN, ScreenName.PRIVACY, ScreenName.CONFIRM),
)
def _text(state: State, text: str, choice: str) -> Outcome:
    if choice == BACK:
        return go(state, ScreenName.MAIN)
    draft = clean_text(text)
    if len(draft) < MIN_REPORT_CHARS or not any(c.isalpha() for c in draft):
        return show(state, screens.TOO_SHORT)
    if len(draft) > MAX_REPORT_CHARS:
        return show(state, screens.TOO_LONG)
    # After "2 Ubah isi" the privacy was already chosen: straight back to the confirm screen.
    return go(state, ScreenName.CONFIRM if state.privacy else ScreenName.PRIVACY, draft=draft)


@screen(
    ScreenName.PRIVACY, lambda state: screens.ask_privacy(), goes_to=(ScreenName.TEXT, ScreenName.CONFIRM)
)
def _privacy(state: State, text: str, choice: str) -> Outcome:
    if choice == BACK:
        return go(state, ScreenName.TEXT)
    if choice in PRIVACY_CHOICES:
        return go(state, ScreenName.CONFIRM, privacy=PRIVACY_CHOICES[choice])
    return show(state, screens.INVALID)


@screen(
    ScreenName.CONFIRM,
    lambda state: screens.confirm(state.draft, state.privacy or Privacy.PUBLIC),
    goes_to=(ScreenName.TEXT, ScreenName.MAIN, ScreenName.PRIVACY),
)
def _confirm(state: State, text: str, choice: str) -> Outcome:
    if choice == "1":
        return Outcome(
            state, effect=Effect(EffectKind.FILE, text=state.draft, privacy=state.privacy or Privacy.PUBLIC)
        )
    if choice == "2":
        return go(state, ScreenName.TEXT)
    if choice == "3":
        return go(state, ScreenName.MAIN, screens.CANCELLED, draft="", privacy="")
    if choice == BACK:
        return go(state, ScreenName.PRIVACY)
    return show(state, screens.INVALID)


@screen(ScreenName.CHECK_NO, lambda state: screens.ask_number("check"), goes_to=(ScreenName.MAIN,))
@screen(
    ScreenName.REPLY_NO,
    lambda state: screens.ask_number("reply"),
    goes_to=(ScreenName.MAIN, ScreenName.FOLLOW_UP, ScreenName.REPLY_TEXT),
)
def _number(state: State, text: str, choice: str) -> Outcome:
    if choice == BACK:
        return go(state, ScreenName.MAIN)
    number = _NUMBER_SEPARATORS.sub("", choice)
    if not is_valid_tracking_number(number):
        return show(state, screens.BAD_NUMBER)
    kind = EffectKind.CHECK if state.screen == ScreenName.CHECK_NO else EffectKind.OPEN_REPLY
    return Outcome(state, effect=Effect(kind, tracking_no=number))


def _render_follow_up(state: State) -> str:
    pages = screens.paginate(state.follow_up)
    page = min(state.page, len(pages) - 1)
    return screens.follow_up_page(pages[page], page, len(pages))


@screen(ScreenName.FOLLOW_UP, _render_follow_up, goes_to=(ScreenName.REPLY_TEXT, ScreenName.REPLY_NO))
def _follow_up(state: State, text: str, choice: str) -> Outcome:
    pages = len(screens.paginate(state.follow_up))
    if choice == "1":
        return go(state, ScreenName.REPLY_TEXT)
    if choice == NEXT and state.page + 1 < pages:
        return go(state, ScreenName.FOLLOW_UP, page=state.page + 1)
    if choice == BACK:
        if state.page > 0:
            return go(state, ScreenName.FOLLOW_UP, page=state.page - 1)
        return go(state, ScreenName.REPLY_NO, tracking_no="", follow_up="", page=0)
    return show(state, screens.INVALID)


@screen(
    ScreenName.REPLY_TEXT,
    lambda state: screens.ask_reply(state.tracking_no),
    goes_to=(ScreenName.FOLLOW_UP, ScreenName.REPLY_NO),
)
def _reply_text(state: State, text: str, choice: str) -> Outcome:
    if choice == BACK:
        if state.follow_up:
            return go(state, ScreenName.FOLLOW_UP, page=0)
        return go(state, ScreenName.REPLY_NO, tracking_no="")
    answer = clean_text(text)
    if len(answer) < MIN_REPLY_CHARS:
        return show(state, screens.EMPTY_REPLY)
    if len(answer) > MAX_REPORT_CHARS:
        return show(state, screens.TOO_LONG)
    return Outcome(state, effect=Effect(EffectKind.REPLY, tracking_no=state.tracking_no, text=answer))


@screen(ScreenName.HELP, lambda state: screens.help_screen(state.short_code), goes_to=(ScreenName.MAIN,))
def _help(state: State, text: str, choice: str) -> Outcome:
    if choice == BACK:
        return go(state, ScreenName.MAIN)
    return show(state, screens.INVALID)


@screen(
    ScreenName.RESUME,
    lambda state: screens.resume(state.draft),
    goes_to=(ScreenName.PRIVACY, ScreenName.CONFIRM, ScreenName.MAIN),
)
def _resume(state: State, text: str, choice: str) -> Outcome:
    if choice == "1":
        return go(state, ScreenName.CONFIRM if state.privacy else ScreenName.PRIVACY)
    if choice == "2":
        return go(state, ScreenName.MAIN, screens.DRAFT_DELETED, draft="", privacy="")
    if choice in ("3", BACK):
        return go(state, ScreenName.MAIN)
    return show(state, screens.INVALID)


def resolve(state: State, effect: Effect, result: Result) -> Outcome:
    """The screen after the service performed `effect` with `result`."""
    sc = state.short_code
    if result.outcome == Found.THROTTLED:
        return Outcome(state, screens.throttled(), end=True)
    if result.outcome == Found.FLOODED:
        return Outcome(state, screens.flooded(), end=True)  # the draft stays, to resume later
    if result.outcome == Found.NOT_FOUND:
        return show(state, screens.NOT_FOUND.format(no=effect.tracking_no))
    if effect.kind == EffectKind.FILE:
        done = dataclasses.replace(state, draft="", privacy="")
        return Outcome(
            done, screens.filed(result.tracking_no, effect.privacy or Privacy.PUBLIC, sc), end=True
        )
    if effect.kind == EffectKind.CHECK:
        return Outcome(state, screens.status(result.tracking_no, result.status, result.updated, sc), end=True)
    if effect.kind == EffectKind.OPEN_REPLY:
        found = dataclasses.replace(state, tracking_no=result.tracking_no, follow_up=result.follow_up, page=0)
        return go(found, ScreenName.FOLLOW_UP if result.follow_up else ScreenName.REPLY_TEXT)
    return Outcome(state, screens.reply_recorded(result.tracking_no, sc), end=True)
