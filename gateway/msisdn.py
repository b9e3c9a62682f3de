"""Phone numbers: parse what aggregators send into E.164, and mask them for logs and admins."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from gateway.errors import InvalidNumber

# A citizen texting 1708 has a mobile number; fixed-line numbers can also send SMS in
# Indonesia (FWA / CDMA-era ranges), so those are accepted. Premium, toll-free and
# shared-cost numbers cannot be a citizen.
ACCEPTED_TYPES = {
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


# What a phone number may be written with: ASCII digits, a leading "+", and the separators
# people and aggregators put between digit groups. phonenumbers would also read letters as
# keypad digits (0812-FLOWERS), storing a number the sender never had.
_DIALLABLE = re.compile(r"\+?[0-9 ().\-]+")


def normalise_msisdn(raw: str, region: str = "ID") -> str:
    """Return `raw` as E.164 (`+62812...`); raise InvalidNumber if it is not a valid
    subscriber number of `region`. Accepts `0812...`, `62812...`, `+62812...`, with spaces,
    dashes, dots or parentheses; letters and control characters are refused."""
    e164, problem = _normalise(raw or "", region)
    if problem:
        raise InvalidNumber(problem)
    return e164


# Parsing and validating with phonenumbers costs about 25 us a number; citizens text again and
# again (CEK, BALAS, a reporter's follow-ups), so the answers for recent numbers are kept.
# Refusals are cached as their reason: lru_cache would not keep an exception.
@lru_cache(maxsize=4096)
def _normalise(raw: str, region: str) -> tuple[str, str]:
    """(E.164, "") or ("", why it is refused)."""
    digits = raw.strip()
    if not digits:
        return "", "empty number"
    if not _DIALLABLE.fullmatch(digits):
        return "", "not a phone number (only digits, a leading + and separators)"
    # Aggregators often drop the "+" of an international number: "62812..." is E.164 without it.
    candidate = "+" + digits if digits.startswith("62") and digits[2:3] != "0" else digits
    try:
        number = phonenumbers.parse(candidate, region)
    except NumberParseException as exc:
        return "", f"not a phone number ({exc.error_type})"
    if phonenumbers.region_code_for_number(number) != region:
        return "", f"not a number of region {region}"
    if not phonenumbers.is_valid_number(number):
        return "", "not a valid number"
    if phonenumbers.number_type(number) not in ACCEPTED_TYPES:
        return "", "not a subscriber number"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), ""


def mask_msisdn(e164: str) -> str:
    """`+6281234567890` -> `+62812****890`: enough to tell numbers apart, not to dial one."""
    if not e164 or len(e164) < 8:
        return "****"
    return f"{e164[:6]}****{e164[-3:]}"


_NUMBER_LIKE = re.compile(r"\+?\d{8,15}")


def redact_numbers(text: str) -> str:
    """Mask anything that looks like a phone number in free text from a third party (an
    aggregator's error message often echoes the destination) before it is logged or stored."""
    return _NUMBER_LIKE.sub(lambda m: mask_msisdn(m.group()), text)
