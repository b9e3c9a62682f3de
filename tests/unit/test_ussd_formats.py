"""The USSD wire formats over recorded requests (tests/fixtures/africastalking/,
tests/fixtures/ussd_generic/): parsing, the bad fields they name, reading the latest input,
and the answers they render."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from gateway.errors import InvalidPayload
from gateway.ussd.africastalking import latest_input
from gateway.ussd.base import UssdReply, UssdRequest
from gateway.ussd.formats import REGISTRY
from tests.support.recorded import load, wire

AT, GENERIC = REGISTRY["africastalking"], REGISTRY["generic"]
AT_SID, GEN_SID = "ATUid_0c6e5b1f6a2d4e0f9b7d", "gen-20261129-0001"
OWNER = "+6281234567890"


def test_registry_names_match_modules():
    assert {name: fmt.name for name, fmt in REGISTRY.items()} == {n: n for n in REGISTRY}


@pytest.mark.parametrize(
    ("fmt", "folder", "name", "expected"),
    [
        pytest.param(
            AT, "africastalking", "dial", UssdRequest(AT_SID, OWNER, "", "*384*1708#", "51010"), id="at-dial"
        ),
        pytest.param(
            AT,
            "africastalking",
            "choice_file",
            UssdRequest(AT_SID, OWNER, "1", "*384*1708#", "51010"),
            id="at-choice",
        ),
        pytest.param(
            AT,
            "africastalking",
            "free_text_with_star",
            UssdRequest(AT_SID, OWNER, "1*Jl. Mawar 5*7 berlubang besar", "*384*1708#", "51010"),
            id="at-free-text-with-star",
        ),
        pytest.param(
            AT,
            "africastalking",
            "local_number_no_network",
            UssdRequest(AT_SID, OWNER, "2", "*384*1708#", ""),
            id="at-local-number-no-network-code",
        ),
        pytest.param(
            GENERIC, "ussd_generic", "dial", UssdRequest(GEN_SID, OWNER, "", "*1708#"), id="generic-dial"
        ),
        pytest.param(
            GENERIC, "ussd_generic", "choice", UssdRequest(GEN_SID, OWNER, "1"), id="generic-choice"
        ),
        pytest.param(
            GENERIC,
            "ussd_generic",
            "free_text_with_star",
            UssdRequest(GEN_SID, OWNER, "Jl. Mawar 5*7 berlubang besar"),
            id="generic-free-text-with-star",
        ),
        pytest.param(
            GENERIC, "ussd_generic", "plus62", UssdRequest(GEN_SID, OWNER, "2"), id="generic-plus62"
        ),
    ],
)
def test_recorded_steps(fmt, folder, name, expected):
    assert fmt.parse(wire(load(folder, name))) == expected


@pytest.mark.parametrize(
    ("fmt", "folder", "name", "field"),
    [
        pytest.param(AT, "africastalking", "missing_session", "sessionId", id="at-missing-session"),
        pytest.param(AT, "africastalking", "missing_phone", "phoneNumber", id="at-missing-phone"),
        pytest.param(AT, "africastalking", "missing_text", "text", id="at-missing-text"),
        pytest.param(AT, "africastalking", "bad_phone", "phoneNumber", id="at-foreign-number"),
        pytest.param(GENERIC, "ussd_generic", "missing_msisdn", "msisdn", id="generic-missing-msisdn"),
        pytest.param(GENERIC, "ussd_generic", "missing_input", "input", id="generic-missing-input"),
        pytest.param(GENERIC, "ussd_generic", "missing_session", "session_id", id="generic-missing-session"),
        pytest.param(GENERIC, "ussd_generic", "input_not_string", "input", id="generic-input-not-string"),
        pytest.param(GENERIC, "ussd_generic", "form_not_json", "body", id="generic-form-not-json"),
    ],
)
def test_recorded_bad_payloads_name_the_field(fmt, folder, name, field):
    with pytest.raises(InvalidPayload) as err:
        fmt.parse(wire(load(folder, name)))
    assert err.value.field == field


@pytest.mark.parametrize(
    ("fmt", "folder", "fixture", "field", "body"),
    [
        pytest.param(
            GENERIC,
            "ussd_generic",
            "choice",
            "session_id",
            lambda sid: json.dumps({"session_id": sid, "msisdn": "081234567890", "input": "1"}),
            id="generic",
        ),
        pytest.param(
            AT,
            "africastalking",
            "dial",
            "sessionId",
            lambda sid: urlencode(
                {"sessionId": sid, "serviceCode": "*384*1708#", "phoneNumber": OWNER, "text": ""}
            ),
            id="at",
        ),
    ],
)
@pytest.mark.parametrize(
    "session_id",
    [
        pytest.param("x" * 57, id="too-long"),
        pytest.param("ATUid_" + "7c1f" * 500, id="far-too-long"),
        pytest.param("has space", id="space"),
        pytest.param("semi;colon", id="punctuation"),
        pytest.param("nul\x00", id="nul"),
        pytest.param("caf\u00e9", id="non-ascii"),
        pytest.param("   ", id="blank"),
    ],
)
def test_bad_session_ids(fmt, folder, fixture, field, body, session_id):
    """One validator serves every format: the same limits whatever the field is called."""
    fx = load(folder, fixture)
    fx["body"] = body(session_id)
    with pytest.raises(InvalidPayload) as err:
        fmt.parse(wire(fx))
    assert err.value.field == field


@pytest.mark.parametrize(
    ("fmt", "field", "body"),
    [
        pytest.param(
            GENERIC,
            "session_id",
            lambda sid: json.dumps({"session_id": sid, "msisdn": OWNER, "input": ""}),
            id="generic",
        ),
        pytest.param(
            AT,
            "sessionId",
            lambda sid: urlencode(
                {"sessionId": sid, "serviceCode": "*1708#", "phoneNumber": OWNER, "text": ""}
            ),
            id="at",
        ),
    ],
)
def test_the_longest_session_id_is_taken(fmt, field, body):
    fx = load("ussd_generic" if fmt is GENERIC else "africastalking", "dial")
    fx["body"] = body("A-z0.9_:" * 7)
    assert fmt.parse(wire(fx)).session_id == "A-z0.9_:" * 7


@pytest.mark.parametrize(
    ("text", "previous", "latest"),
    [
        pytest.param("", None, "", id="dial"),
        pytest.param("1", None, "1", id="unknown-session-with-text"),
        pytest.param("1", "", "1", id="first-choice"),
        pytest.param("1*Jl. Mawar 5*7", "1", "Jl. Mawar 5*7", id="free-text-with-star"),
        pytest.param("1*Jl. Mawar 5*7*2", "1*Jl. Mawar 5*7", "2", id="after-free-text-with-star"),
        pytest.param("1*a*b*0*00", "1*a*b*0", "00", id="home"),
        pytest.param("1*", "1", "", id="empty-input"),
        pytest.param("1*2", "1*2", None, id="retry-of-same-step"),
        pytest.param("9*8*7", "1*2", "7", id="diverged-takes-last-part"),
        pytest.param("**", "*", "", id="stars-only"),
    ],
)
def test_africastalking_latest_input(text, previous, latest):
    assert latest_input(text, previous) == latest


def test_generic_latest_input_is_the_input():
    step = UssdRequest(GEN_SID, OWNER, "Jl. Mawar 5*7")
    assert GENERIC.latest_input(step, "anything") == "Jl. Mawar 5*7"
    assert GENERIC.history(step) == ""
    assert AT.history(UssdRequest(AT_SID, OWNER, "1*x")) == "1*x"


@pytest.mark.parametrize(
    ("fmt", "reply", "body", "content_type"),
    [
        pytest.param(
            AT, UssdReply("Menu\n1 A"), "CON Menu\n1 A", "text/plain; charset=utf-8", id="at-continue"
        ),
        pytest.param(
            AT, UssdReply("Selesai", end=True), "END Selesai", "text/plain; charset=utf-8", id="at-end"
        ),
        pytest.param(
            GENERIC,
            UssdReply("Menu\n1 A"),
            {"session_id": "s-1", "text": "Menu\n1 A", "action": "continue"},
            "application/json",
            id="generic-continue",
        ),
        pytest.param(
            GENERIC,
            UssdReply("Selesai", end=True),
            {"session_id": "s-1", "text": "Selesai", "action": "end"},
            "application/json",
            id="generic-end",
        ),
    ],
)
def test_render(fmt, reply, body, content_type):
    ack = fmt.render("s-1", reply)
    assert ack.status == 200 and ack.content_type == content_type
    assert (json.loads(ack.body) if isinstance(body, dict) else ack.body) == body
