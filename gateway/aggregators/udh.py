"""The User Data Header at the start of a long SMS part (3GPP TS 23.040, 9.2.3.24), for
aggregators that hand over a part's raw octets with its header still on (Jasmin for 16-bit
references, Dartmedia when `udhl` is set). Pure: bytes in, values out.

    05 00 03 2A 03 01  <text>      UDHL=5, IE 0x00 (8-bit reference 0x2A), 3 parts, part 1
    06 08 04 01 2A 03 02  <text>   UDHL=6, IE 0x08 (16-bit reference 0x012A), 3 parts, part 2
"""

from __future__ import annotations

from dataclasses import dataclass

CONCAT_8BIT_REF = 0x00  # IE data: ref (1 octet), total, index
CONCAT_16BIT_REF = 0x08  # IE data: ref (2 octets), total, index


@dataclass(frozen=True)
class Udh:
    """A parsed header: its length in octets (the UDHL octet included) and, when it holds a
    concatenation IE, the part it names (`ref` as decimal text, 16-bit ones prefixed so they
    never meet an 8-bit reference of the same number)."""

    length: int
    ref: str | None = None
    index: int | None = None
    total: int | None = None
    only_concat: bool = False  # the header is nothing but one concatenation IE


def parse_udh(raw: bytes) -> Udh | None:
    """The header `raw` starts with, or None when its first octets are not a well-formed one
    (UDHL larger than what follows, an IE running past the header, nothing after it)."""
    if len(raw) < 2:
        return None
    end = 1 + raw[0]
    if raw[0] < 2 or end > len(raw):
        return None
    pos, ies = 1, []
    while pos < end:
        if pos + 2 > end or pos + 2 + raw[pos + 1] > end:
            return None
        ies.append((raw[pos], raw[pos + 2 : pos + 2 + raw[pos + 1]]))
        pos += 2 + raw[pos + 1]
    for iei, data in ies:
        if iei == CONCAT_8BIT_REF and len(data) == 3:
            return Udh(end, str(data[0]), data[2], data[1], len(ies) == 1)
        if iei == CONCAT_16BIT_REF and len(data) == 4:
            return Udh(end, f"w{int.from_bytes(data[:2], 'big')}", data[3], data[2], len(ies) == 1)
    return Udh(end)


def bare_concat_header(raw: bytes) -> Udh | None:
    """The header of `raw` when it is exactly one concatenation IE naming a plausible part
    (2..255 parts, index within them) and text follows it. For aggregators that pass the header
    on without saying a header is there: other octets at the start are taken for text."""
    udh = parse_udh(raw)
    if udh is None or not udh.only_concat or len(raw) <= udh.length:
        return None
    if not (udh.total and 2 <= udh.total and udh.index and 1 <= udh.index <= udh.total):
        return None
    return udh
