"""The citizen-command grammar: turn what a feature-phone user texts to 1708 into one `Command`.

Which keywords exist is not decided here: each command registers its aliases and one of the
argument parsers below in gateway.commands (one module per command), and a `Grammar` built
from those registrations matches them. This module only knows how people type:

any case, extra spaces, a leading "REG ", a
literal "<spasi>", and any of `# . : , - * /` (or nothing, before digits) after a keyword.
A keyword-less text is a free-text report if it reads like a complaint, else the guide.
Pure and total: `Grammar.parse` never raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from gateway.gsm7 import clean_text
from gateway.models import Privacy
from gateway.parsers.tracking import MAX_LENGTH, MIN_LENGTH, is_valid_tracking_number


class CommandKind(StrEnum):
    """The built-in citizen commands' kinds, as stored in an MO's `command` (a registry may add
    more, see gateway.commands): what a keyword (or free text) asks for."""

    REPORT = "REPORT"
    CHECK = "CHECK"
    REPLY = "REPLY"
    HELP = "HELP"
    OPT_OUT = "STOP"
    OPT_IN = "START"


class Problem(StrEnum):
    """What is wrong with a command that named its kind (`Command.problem`; "" when none)."""

    MISSING_TEXT = "MISSING_TEXT"
    MISSING_NUMBER = "MISSING_NUMBER"
    BAD_NUMBER = "BAD_NUMBER"


# Privacy modifiers right after a report keyword: "LAPOR RAHASIA ...", "LAPOR#anonim#...".
PRIVACY_WORDS: dict[str, tuple[str, ...]] = {
    Privacy.CONFIDENTIAL: ("RAHASIA",),
    Privacy.ANONYMOUS: ("ANONIM", "ANONYMOUS"),
}
# Words people put before the number: "CEK NO. 1234567890", "BALAS nomor laporan 1234567890 ...".
NUMBER_LABELS = ("NO", "NOMOR", "NOMER", "NMR", "ID", "LAPORAN")

# Free-text rule: with no keyword, a message is a complaint when it has at least 3 words that
# contain letters and at least 15 letters in all. "ok", "tes", "halo", "selamat pagi pak" (14
# letters) get the guide; "jalan rusak parah" (3 words, 15 letters) is already a report. Digits
# and emoji do not count, so "123 456 789" or a row of smileys is not a complaint. Erring short
# is cheap: the guide teaches "LAPOR <isi>", while a greeting filed as a report costs an officer.
MIN_COMPLAINT_WORDS = 3
MIN_COMPLAINT_LETTERS = 15

# ASCII-only case folding: with full Unicode folding "RAHASİA" or a Kelvin-sign "CEK" would
# match too, which no phone produces and which only invites surprises.
_FLAGS = re.IGNORECASE | re.ASCII
_SEP = r"[\s#.:,*/\-]"
_SEPARATORS = " #.:,*/-"
# A keyword ends at a separator, a digit ("CEK1234567890") or the end of the message, so
# "CEKUNGAN", "Informasi", "Balasan" or "Aduh" are ordinary words, not keywords.
_WORD_END = rf"(?={_SEP}|[0-9]|$)"


def _alternation(words: tuple[str, ...]) -> str:
    # Longest first so "CEK STATUS" wins over "CEK" and "LAPORAN" over "LAPOR".
    ordered = sorted(words, key=len, reverse=True)
    return "|".join(f"{_SEP}*".join(re.escape(part) for part in word.split()) for word in ordered)


def _table_pattern(table: dict[str, tuple[str, ...]]) -> re.Pattern[str]:
    """A pattern whose `lastgroup` names the table key whose word matched as a whole word."""
    groups = "|".join(f"(?P<{key}>{_alternation(words)})" for key, words in table.items())
    return re.compile(f"(?:{groups}){_WORD_END}", _FLAGS)


_SPASI = re.compile(r"[<\[(]\s*spasi\s*[>\])]", re.IGNORECASE)
_REG_PREFIX = re.compile(rf"REG{_SEP}+", _FLAGS)
_ONLY_PUNCTUATION = re.compile(rf"(?:{_SEP}|[?!])*")
_LABELS = rf"(?:(?:{_alternation(NUMBER_LABELS)}){_SEP}*){{0,3}}"
# Digit groups joined by single separators ("1234 5678 90", "1234-5678-90"); the separator is
# never empty, so the pattern cannot backtrack catastrophically on long digit runs.
_CHECK_NUMBER = re.compile(rf"{_LABELS}(?P<digits>[0-9]+(?:(?:\s?[.\-]\s?|\s)[0-9]+)*)", _FLAGS)
_REPLY_NUMBER = re.compile(rf"{_LABELS}(?P<digits>[0-9]+)", _FLAGS)
_DIGIT_RUN = re.compile(r"[0-9]+")


_PRIVACY = _table_pattern(PRIVACY_WORDS)


@dataclass(frozen=True)
class Command:
    """One parsed citizen message. `problem` is "" when well formed."""

    kind: str  # a registered command's kind: REPORT | CHECK | REPLY | HELP | STOP | START | ...
    text: str = ""  # report body (REPORT) or reply body (REPLY), cleaned
    privacy: str = Privacy.PUBLIC  # REPORT only: PUBLIC | CONFIDENTIAL | ANONYMOUS
    tracking_no: str = ""  # CHECK/REPLY: the digits as typed (may be invalid)
    problem: str = ""  # "" | MISSING_TEXT | MISSING_NUMBER | BAD_NUMBER
    explicit: bool = True  # False for a REPORT filed from free text without a keyword


ArgumentParser = Callable[[str, str], Command]
"""(body, rest) -> Command: `body` is the whole normalised message (for the free-text
fallback), `rest` what follows the keyword, separators stripped."""


class Grammar:
    """Keyword aliases per command kind, each with its argument parser, compiled to one
    pattern. A multi-word alias matches with any separators between its words."""

    def __init__(self, table: Mapping[str, tuple[tuple[str, ...], ArgumentParser]]):
        self._parsers = {kind: parse for kind, (_, parse) in table.items()}
        self._keyword = _table_pattern({kind: aliases for kind, (aliases, _) in table.items()})

    def parse(self, text: str) -> Command:
        """Parse one inbound SMS body into a `Command`; never raises."""
        body = _strip_prefixes(normalise_message(text))
        match = self._keyword.match(body)
        if match is None:
            return _free_text(body)
        rest = _strip_separators(body[match.end() :])
        return self._parsers[match.lastgroup](body, rest)


def normalise_message(text: str) -> str:
    """The message on one line: "<spasi>" as a space, control characters removed, every run
    of whitespace (newlines included) collapsed to one space, ends stripped."""
    return " ".join(clean_text(_SPASI.sub(" ", text)).split())


def is_complaint(text: str) -> bool:
    """True when keyword-less `text` is long enough to be filed as a report (see the rule at
    MIN_COMPLAINT_WORDS)."""
    words = [word for word in text.split() if any(char.isalpha() for char in word)]
    letters = sum(char.isalpha() for char in text)
    return len(words) >= MIN_COMPLAINT_WORDS and letters >= MIN_COMPLAINT_LETTERS


def _strip_separators(text: str) -> str:
    return text.strip(_SEPARATORS)


def _strip_prefixes(text: str) -> str:
    # "REG LAPOR ..." is the habit from premium-SMS services; "#CEK ..." a stray key press.
    text = _strip_separators(text)
    match = _REG_PREFIX.match(text)
    return _strip_separators(text[match.end() :]) if match else text


def _free_text(body: str) -> Command:
    if is_complaint(body):
        return Command(CommandKind.REPORT, text=body, explicit=False)
    return Command(CommandKind.HELP)


def report_args(body: str, rest: str) -> Command:
    """LAPOR [RAHASIA|ANONIM] <text>: the report's privacy and text."""
    privacy = Privacy.PUBLIC
    match = _PRIVACY.match(rest)
    if match:
        privacy = Privacy(match.lastgroup)
        rest = _strip_separators(rest[match.end() :])
    return Command(
        CommandKind.REPORT, text=rest, privacy=privacy, problem="" if rest else Problem.MISSING_TEXT
    )


def check_args(body: str, rest: str) -> Command:
    """CEK <no>: the tracking number, digit groups joined (see `_pick_number`)."""
    match = _CHECK_NUMBER.match(rest)
    if match is None:
        return _missing_number(CommandKind.CHECK, body, rest)
    number = _pick_number(_DIGIT_RUN.findall(match.group("digits")))
    valid = is_valid_tracking_number(number)
    # "Status 3 jembatan di desa kami putus ..." opens with a keyword and a small number but
    # is a complaint; a number of tracking length is kept as a (possibly mistyped) look-up.
    if not valid and len(number) < MIN_LENGTH and is_complaint(rest[match.end() :]):
        return _free_text(body)
    return Command(CommandKind.CHECK, tracking_no=number, problem="" if valid else Problem.BAD_NUMBER)


def _pick_number(groups: list[str]) -> str:
    """Join digit groups typed with spaces or dashes ("1234 5678 90").

    Takes the longest run of leading groups that fits 10 digits when it is valid (so "CEK
    <no> <other no>" finds the first); otherwise everything joined, so the reply echoes what
    was typed. A shorter prefix is never tried: one in ten would pass the check by chance and
    turn a mistyped number into someone else's.
    """
    joined = "".join(groups)
    fitting = ""
    for group in groups:
        if len(fitting) + len(group) > MAX_LENGTH:
            break
        fitting += group
    return fitting if is_valid_tracking_number(fitting) else joined


def reply_args(body: str, rest: str) -> Command:
    """BALAS <no> <text>: the tracking number (one run of digits) and the answer."""
    match = _REPLY_NUMBER.match(rest)
    if match is None:
        return _missing_number(CommandKind.REPLY, body, rest)
    number = match.group("digits")
    text = _strip_separators(rest[match.end() :])
    if not is_valid_tracking_number(number):
        problem = Problem.BAD_NUMBER
    else:
        problem = "" if text else Problem.MISSING_TEXT
    return Command(CommandKind.REPLY, text=text, tracking_no=number, problem=problem)


def _missing_number(kind: str, body: str, rest: str) -> Command:
    # "Status jalan desa kami rusak parah ..." is a complaint that happens to open with a
    # keyword; only a short remainder ("CEK", "BALAS sudah") is a look-up missing its number.
    if is_complaint(rest):
        return _free_text(body)
    return Command(kind, text=rest if kind == CommandKind.REPLY else "", problem=Problem.MISSING_NUMBER)


def alone(kind: str) -> ArgumentParser:
    """The parser of a keyword that means something only when sent alone (punctuation aside):
    "TOLONG" alone asks for the guide; "Tolong, jalan di desa kami ..." is a complaint."""

    def parse(body: str, rest: str) -> Command:
        if _ONLY_PUNCTUATION.fullmatch(rest):
            return Command(kind)
        return _free_text(body)

    return parse


def unless_complaint(kind: str) -> ArgumentParser:
    """The parser of a keyword that may carry a few short words: "STOP", "UNREG LAPOR",
    "berhenti kirim sms" switch notices; "Stop pungli di kantor desa kami" or "Mulai kemarin
    lampu jalan mati" are complaints that open with the word."""

    def parse(body: str, rest: str) -> Command:
        if is_complaint(rest):
            return _free_text(body)
        return Command(kind)

    return parse
