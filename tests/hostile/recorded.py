"""Hostile requests derived from an aggregator's recorded payloads (tests/fixtures/<name>/): each
request is one recorded request with one to three of its fields set to a hostile value, dropped,
emptied or given twice. Values are kept as the octets the aggregator sent (a Jasmin `content`
or a Dartmedia `message` carries raw SMS octets, a UDH included), so a mutation changes one
field and leaves the others exactly as recorded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from hypothesis import strategies as st

from tests.conftest import INBOUND_TOKEN
from tests.hostile.strategies import BOUNDARY_TIMESTAMPS, deep_body, hostile_text, json_value

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
QUERY, FORM, JSON = "query", "form", "json"
# Names any route may give in a 400 whatever its format: the body as a whole, its charset.
META_FIELDS = frozenset({"body", "charset"})


@dataclass(frozen=True)
class Recorded:
    """One recorded callback: where it went, in which format, and its fields (query or form
    pairs with values as octets, or the JSON object)."""

    name: str
    method: str
    path: str
    kind: str
    pairs: tuple[tuple[str, bytes], ...] = ()
    obj: Any = None


def _kind(method: str, headers: dict) -> str:
    if method == "GET":
        return QUERY
    return JSON if "json" in headers.get("Content-Type", "") else FORM


def _pairs(raw: str) -> tuple[tuple[str, bytes], ...]:
    """`a=b&c=%00` as (name, octets) pairs, the token left out (every request gets its own)."""
    pairs = parse_qsl(raw, keep_blank_values=True, encoding="latin-1")
    return tuple((k, v.encode("latin-1")) for k, v in pairs if k != "token")


def load(aggregator: str, route: str, kind: str, strict: bool = True) -> list[Recorded]:
    """The recorded requests of `aggregator` to /sms/<aggregator>/<route> in format `kind`
    (`strict`: at least one)."""
    found = []
    for path in sorted((FIXTURES / aggregator).glob("*.json")):
        data = json.loads(path.read_text())
        if data.get("path") != f"/sms/{aggregator}/{route}":
            continue
        method = data["method"]
        if _kind(method, data.get("headers", {})) != kind:
            continue
        source = data.get("query_string", "") if kind == QUERY else data.get("body", "")
        if kind == JSON:
            found.append(Recorded(path.stem, method, data["path"], kind, obj=json.loads(source)))
        else:
            found.append(Recorded(path.stem, method, data["path"], kind, pairs=_pairs(source)))
    assert found or not strict, f"no recorded {kind} request to /sms/{aggregator}/{route}"
    return found


def _paths(obj: Any, prefix: str = "") -> list[str]:
    """Every key of a JSON object, nested ones as `payload.status.state`."""
    out = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            out.append(prefix + key)
            out += _paths(value, prefix + key + ".")
    return out


def field_names(recorded: list[Recorded]) -> frozenset[str]:
    """The fields a 400 from this route may name: those its recorded requests carry."""
    names = set(META_FIELDS)
    for r in recorded:
        names |= {k for k, _ in r.pairs} | set(_paths(r.obj))
    return frozenset(names)


# -- values ---------------------------------------------------------------------------------

raw_octets = st.binary(max_size=40)  # sent %-escaped as they are: not always UTF-8
form_value = st.one_of(hostile_text, raw_octets, st.sampled_from(("", " ", "\x00", "null", "[]")))


def udh(iei: int, ref: int, total: int, index: int) -> bytes:
    """A concatenation UDH: 8-bit (IE 0x00) or 16-bit (IE 0x08) reference."""
    if iei == 0x08:
        return bytes((6, 0x08, 4, ref >> 8 & 0xFF, ref & 0xFF, total, index))
    return bytes((5, 0x00, 3, ref & 0xFF, total, index))


udh_octets = st.one_of(
    st.builds(
        lambda head, text: head + text,
        st.builds(
            udh,
            st.sampled_from((0x00, 0x08)),
            st.integers(0, 65535),
            st.integers(0, 255),
            st.integers(0, 255),
        ),
        st.binary(max_size=20) | st.just(b"LAPOR bagian"),
    ),
    # headers that lie: a UDHL past the end, an IE running past its header, only a header
    st.sampled_from(
        (b"\x05\x00\x03", b"\xff\x00\x03\x01\x02\x01x", b"\x05\x00\x09\x01\x02\x01x", b"\x02\x00\x00")
    ),
    st.binary(min_size=1, max_size=12),
)
small_numbers = st.sampled_from(
    ("0", "1", "2", "3", "255", "256", "999", "1000", "-1", "+1", " 2", "1e3", "٣", "0x1")
)


def compact_times(fmt: str) -> st.SearchStrategy[str]:
    """Timestamps in an aggregator's own strptime format at the ends of the calendar."""
    from datetime import datetime

    ends = (datetime(1, 1, 1), datetime(1999, 12, 31, 23, 59, 59), datetime(9999, 12, 31, 23, 59, 59))
    return st.sampled_from(
        [d.strftime(fmt) for d in ends] + ["00000000000000", "20261301250000"]
    ) | st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
        lambda d: d.strftime(fmt)
    )


any_times = st.sampled_from(BOUNDARY_TIMESTAMPS)


@st.composite
def mutated_pairs(draw, recorded: list[Recorded], special: dict[str, st.SearchStrategy]):
    """A recorded request's pairs with one to three fields set, dropped, emptied or doubled."""
    pairs = list(draw(st.sampled_from(recorded)).pairs)
    for _ in range(draw(st.integers(1, 3))):
        keys = [k for k, _ in pairs] or ["text"]
        key = draw(st.sampled_from(keys) | st.sampled_from(tuple(special) or ("x",)))
        op = draw(st.sampled_from(("set", "set", "set", "drop", "empty", "twice")))
        value = draw(special.get(key, form_value))
        if op == "drop":
            pairs = [(k, v) for k, v in pairs if k != key]
        elif op == "twice":  # duplicated param: frameworks differ on first or last
            pairs.append((key, value))
        else:
            value = "" if op == "empty" else value
            pairs = [(k, v) for k, v in pairs if k != key] + [(key, value)]
    return pairs


def _set_path(obj: Any, path: str, value: Any, drop: bool) -> Any:
    head, _, rest = path.partition(".")
    if not isinstance(obj, dict):
        return obj
    copy = dict(obj)
    if rest and isinstance(copy.get(head), dict):
        copy[head] = _set_path(copy[head], rest, value, drop)
    elif drop:
        copy.pop(head, None)
    else:
        copy[head] = value
    return copy


@st.composite
def mutated_json(draw, recorded: list[Recorded], special: dict[str, st.SearchStrategy]):
    """A recorded JSON body with one to three keys (nested ones too) set to any JSON value
    (wrong types, huge numbers, lone surrogates, nesting), dropped, or given twice."""
    obj = draw(st.sampled_from(recorded)).obj
    duplicate = None
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(obj) or ["x"]) | st.sampled_from(tuple(special) or ("x",)))
        op = draw(st.sampled_from(("set", "set", "set", "drop", "twice")))
        value = draw(special.get(path, json_value()))
        if op == "twice" and "." not in path:
            duplicate = (path, value)
        else:
            obj = _set_path(obj, path, value, drop=op == "drop")
    body = json.dumps(obj).encode()
    if duplicate is not None and body.endswith(b"}") and body != b"{}":
        body = (
            body[:-1]
            + b", "
            + json.dumps(duplicate[0]).encode()
            + b": "
            + json.dumps(duplicate[1]).encode()
            + b"}"
        )
    return body


def request_kwargs(kind: str, fields) -> dict:
    """The test client's arguments for one hostile request in format `kind`."""
    token = [("token", INBOUND_TOKEN)]
    if kind == QUERY:
        return {"query_string": urlencode(token + list(fields))}
    if kind == FORM:
        return {
            "query_string": urlencode(token),
            "data": urlencode(list(fields)).encode(),
            "content_type": "application/x-www-form-urlencoded",
        }
    return {"query_string": urlencode(token), "data": fields, "content_type": "application/json"}


def strategy(recorded: list[Recorded], special: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    """Hostile variants of the recorded requests (JSON also: nesting 5,000 deep, non-JSON)."""
    if recorded[0].kind == JSON:
        return st.one_of(
            mutated_json(recorded, special),
            mutated_json(recorded, special),
            deep_body,
            st.binary(max_size=40),
        )
    return mutated_pairs(recorded, special)


def json_body(obj: Any) -> bytes:
    """A recorded JSON object as a request body."""
    return json.dumps(obj).encode()
