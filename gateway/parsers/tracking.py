"""Tracking numbers: keypad-friendly digits with a Damm check digit.

The Damm check digit catches every single mistyped digit and every swap of two adjacent
digits, so a citizen's typo gets a "check the number" reply instead of someone else's report.
Numbers are drawn at random (not sequential) so one number does not reveal its neighbours.
"""

from __future__ import annotations

import random
import re
import secrets

MIN_LENGTH, MAX_LENGTH = 8, 10
NEW_NUMBER_LENGTH = 10

# The standard totally anti-symmetric quasigroup of order 10 (Damm, 2004).
_DAMM_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

# ASCII only: str.isdigit() would accept "²" or Arabic-Indic digits.
_ASCII_DIGITS = re.compile(r"[0-9]*")
_TRACKING_NUMBER = re.compile(rf"[0-9]{{{MIN_LENGTH},{MAX_LENGTH}}}")


def damm_check_digit(digits: str) -> str:
    """The Damm check digit for a string of ASCII digits; raises ValueError for anything else.

    Appending it makes the whole string check to "0".
    """
    if not _ASCII_DIGITS.fullmatch(digits):
        raise ValueError(f"not a string of digits: {digits!r}")
    interim = 0
    for digit in digits:
        interim = _DAMM_TABLE[interim][int(digit)]
    return str(interim)


def is_valid_tracking_number(number: str) -> bool:
    """True for 8 to 10 ASCII digits whose Damm check passes."""
    return bool(_TRACKING_NUMBER.fullmatch(number)) and damm_check_digit(number) == "0"


def new_tracking_number(rng: random.Random | None = None) -> str:
    """A fresh 10-digit tracking number: a non-zero first digit (so it never loses a digit
    when someone treats it as an integer), 8 random digits, then the Damm check digit.

    Uses the operating system's CSPRNG unless a test passes its own seeded `rng`.
    """
    rng = secrets.SystemRandom() if rng is None else rng
    body = str(rng.randint(1, 9)) + "".join(str(rng.randrange(10)) for _ in range(NEW_NUMBER_LENGTH - 2))
    return body + damm_check_digit(body)
