"""GSM 03.38 text helpers: which characters fit the 7-bit alphabet, how many segments a text
costs, and how to turn what phones and admins type into plain GSM-7.

Replies must stay GSM-7: one curly quote or em dash switches the whole SMS to UCS-2 and
cuts a segment from 160 to 70 characters. Everything here is pure.
"""

from __future__ import annotations

import re
import unicodedata

# The default alphabet in code-point order (0x00-0x7F). 0x1B is the escape to the extension
# table, not a character a user can type, so it is left out of the set.
_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_BASIC: frozenset[str] = frozenset(_BASIC_TABLE) - {"\x1b"}
# Each extension character is sent as ESC + code, so it costs two septets.
GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")
_GSM7 = GSM7_BASIC | GSM7_EXTENSION

GSM7, UCS2 = "GSM-7", "UCS-2"  # the encodings an MT is sent (and billed) in
GSM7_SINGLE, GSM7_PART = 160, 153  # a concatenated part loses 7 septets to its header
UCS2_SINGLE, UCS2_PART = 70, 67  # in UTF-16 code units

# What phones (autocorrect) and admins (word processors) produce that GSM-7 lacks, mapped to
# the look-alike a reader expects. Accented letters are handled generically by NFKD below.
_TRANSLITERATIONS: dict[str, str] = {
    **dict.fromkeys("‘’‚‛′`´", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
    **dict.fromkeys("•·∙", "-"),
    **dict.fromkeys("\t\u00a0\u2007\u202f\u2009\u200a\u2002\u2003\u3000", " "),
    "…": "...",
}

# The control characters clean_text drops: Unicode's Cc (all of them below U+00A0) except the
# whitespace ones, LF and tabs among them, which become spaces rather than vanishing so two
# words separated by a tab do not run together. A translate table: one C pass over the text
# instead of a Python call per character (every MO goes through it in the receiver).
_DROP_CONTROLS = dict.fromkeys(
    code for code in range(0xA0) if unicodedata.category(chr(code)) == "Cc" and not chr(code).isspace()
)
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_SPACES_AROUND_NEWLINE = re.compile(r" ?\n ?")


def is_gsm7(text: str) -> bool:
    """True when every character of `text` is in the GSM-7 basic or extension table."""
    return all(char in _GSM7 for char in text)


def septets(text: str) -> int:
    """Number of 7-bit septets `text` takes; extension characters count 2.

    Raises ValueError for text that is not GSM-7 (it would be sent as UCS-2).
    """
    if not is_gsm7(text):
        raise ValueError("text is not GSM-7; convert it with to_gsm7() or count it as UCS-2")
    return sum(_gsm7_widths(text))


def segments(text: str) -> int:
    """Number of SMS segments `text` needs: GSM-7 when it fits the alphabet, else UCS-2.

    An empty text still costs one segment. Concatenated parts never split an escape pair or
    a UTF-16 surrogate pair, as real encoders do, so the count matches what operators bill.
    """
    if is_gsm7(text):
        return _pack(_gsm7_widths(text), GSM7_SINGLE, GSM7_PART)
    return _pack(_utf16_widths(text), UCS2_SINGLE, UCS2_PART)


def split_segments(text: str) -> list[str]:
    """`text` cut where a phone's concatenated SMS parts begin (what `segments` counts): one
    piece when it fits a single SMS, else parts of 153 septets (GSM-7) or 67 UTF-16 units
    (UCS-2), never splitting an escape pair or a surrogate pair."""
    gsm = is_gsm7(text)
    widths = _gsm7_widths(text) if gsm else _utf16_widths(text)
    single, part = (GSM7_SINGLE, GSM7_PART) if gsm else (UCS2_SINGLE, UCS2_PART)
    if sum(widths) <= single:
        return [text]
    pieces, start, used = [], 0, 0
    for i, width in enumerate(widths):
        if used + width > part:
            pieces.append(text[start:i])
            start, used = i, 0
        used += width
    pieces.append(text[start:])
    return pieces


def unfit_chars(text: str) -> list[str]:
    """The distinct characters of `text` outside GSM-7, in order: each alone sends the whole
    SMS as UCS-2 (70 characters a segment instead of 160)."""
    return list(dict.fromkeys(char for char in text if char not in _GSM7))


def encoding(text: str) -> str:
    """The alphabet `text` is sent in: "GSM-7" when every character fits it, else "UCS-2"
    (the same choice `segments` counts with)."""
    return GSM7 if is_gsm7(text) else UCS2


def to_gsm7(text: str) -> str:
    """Transliterate `text` into GSM-7: typographic quotes, dashes, ellipsis, odd spaces and
    accented letters become their plain look-alikes; invisible marks are dropped; anything
    still unrepresentable (emoji, other scripts) becomes "?"."""
    return "".join(_char_to_gsm7(char) for char in text)


def drop_controls(text: str) -> str:
    """Normalise line ends to LF and drop control characters (except whitespace), keeping the
    spacing: a part of a long SMS, whose spaces at its ends matter once the parts are joined."""
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_DROP_CONTROLS)


def clean_text(text: str) -> str:
    """Normalise line ends to LF, drop control characters (except LF), collapse runs of
    horizontal whitespace to one space and strip the ends."""
    text = _HORIZONTAL_SPACE.sub(" ", drop_controls(text))
    return _SPACES_AROUND_NEWLINE.sub("\n", text).strip()


def _gsm7_widths(text: str) -> list[int]:
    return [2 if char in GSM7_EXTENSION else 1 for char in text]


def _utf16_widths(text: str) -> list[int]:
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _pack(widths: list[int], single: int, part: int) -> int:
    """Segments for units of the given widths: one if they fit `single`, else greedy parts of
    `part` units where a unit never straddles two parts."""
    if sum(widths) <= single:
        return 1
    parts, used = 1, 0
    for width in widths:
        if used + width > part:
            parts, used = parts + 1, 0
        used += width
    return parts


def _char_to_gsm7(char: str) -> str:
    if char in _GSM7:
        return char
    if char in _TRANSLITERATIONS:
        return _TRANSLITERATIONS[char]
    if unicodedata.category(char) in ("Cf", "Mn"):
        return ""  # zero-width joiners, variation selectors, stray combining marks: invisible
    # NFKD splits "á" into "a" + accent and folds compatibility forms ("ﬁ", full-width "Ａ").
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if base and is_gsm7(base):
        return base
    return "?"


# The extension table (3GPP TS 23.038, 6.2.1.1): the code that follows ESC (0x1B) -> the character.
GSM7_EXTENSION_CODES: dict[int, str] = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}
_ESC = 0x1B


def decode_septets(raw: bytes) -> str:
    """GSM 03.38 text carried one septet per octet (unpacked, as SMPP's `short_message` carries
    the default alphabet, data_coding 0): ESC + code is an extension character (an unknown code
    reads as its basic character, as TS 23.038 asks of receivers); an octet above 0x7F is no
    septet and becomes U+FFFD; a trailing ESC is dropped."""
    out, escaped = [], False
    for octet in raw:
        if octet > 0x7F:
            out.append("\ufffd")
            escaped = False
        elif escaped:
            # ESC ESC would open another extension table: TS 23.038 says to show a space.
            out.append(GSM7_EXTENSION_CODES.get(octet) or (" " if octet == _ESC else _BASIC_TABLE[octet]))
            escaped = False
        elif octet == _ESC:
            escaped = True
        else:
            out.append(_BASIC_TABLE[octet])
    return "".join(out)
