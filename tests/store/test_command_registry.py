"""A citizen command is one registration (gateway.commands): a throwaway JADWAL, registered
here and nowhere else, is parsed, answered and replied to through the real pipeline, on both
databases; the registry refuses a keyword two commands would compete for."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.commands import REGISTRY, CitizenCommand, Registry, Turn, lapor, parse_command
from gateway.gsm7 import is_gsm7, septets
from gateway.models import InboundMessage
from gateway.parsers import Command, CommandKind
from gateway.parsers.commands import alone
from tests.store.helpers import last_reply_text, post_mo

SCHEDULE = "SCHEDULE"


def schedule_reply(short_code: str) -> str:
    return (
        f"Layanan LAPOR! {short_code} buka 24 jam. Petugas membalas Senin-Jumat 08.00-16.00. "
        "Bantuan: ketik INFO."
    )


def _answer(turn: Turn, command: Command) -> str:
    return schedule_reply(turn.short_code)


JADWAL = CitizenCommand(kind=SCHEDULE, aliases=("JADWAL", "JAM BUKA"), parse=alone(SCHEDULE), answer=_answer)


@pytest.fixture
def jadwal():
    REGISTRY.add(JADWAL)
    yield JADWAL
    REGISTRY.remove(SCHEDULE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("JADWAL", Command(SCHEDULE), id="alone"),
        pytest.param(" reg jadwal ! ", Command(SCHEDULE), id="reg-prefix-lower"),
        pytest.param("jam#buka", Command(SCHEDULE), id="two-words-separator"),
        pytest.param("JADWALNYA", Command(CommandKind.HELP), id="not-a-whole-word"),
        pytest.param(
            "Jadwal posyandu di desa kami tidak pernah jelas",
            Command(
                CommandKind.REPORT, text="Jadwal posyandu di desa kami tidak pernah jelas", explicit=False
            ),
            id="complaint-opening-with-it",
        ),
    ],
)
def test_a_registered_command_is_parsed(jadwal, text, expected):
    assert parse_command(text) == expected


def test_a_removed_command_is_gone():
    REGISTRY.add(JADWAL)
    REGISTRY.remove(SCHEDULE)
    assert parse_command("JADWAL") == Command(CommandKind.HELP)
    assert SCHEDULE not in REGISTRY.kinds


def test_a_registered_command_is_answered_through_the_pipeline(client, rt, run_jobs, fake_aggregator, jadwal):
    assert post_mo(client, "Jadwal").status_code == 202
    run_jobs()
    reply = last_reply_text(fake_aggregator)
    assert reply == schedule_reply("1708")
    assert is_gsm7(reply) and septets(reply) <= 160
    with rt.sessions() as s:
        assert s.scalar(select(InboundMessage.command)) == SCHEDULE


@pytest.mark.parametrize(
    "clash",
    [
        pytest.param(CitizenCommand("OTHER", ("lapor",), alone("OTHER"), _answer), id="alias-any-case"),
        pytest.param(
            CitizenCommand("OTHER", ("CEK  status",), alone("OTHER"), _answer), id="multi-word-alias"
        ),
        pytest.param(
            CitizenCommand(CommandKind.REPORT, ("LAPOR2",), alone(CommandKind.REPORT), _answer), id="kind"
        ),
    ],
)
def test_the_registry_refuses_a_taken_keyword_or_kind(clash):
    registry = Registry([lapor.COMMAND, CitizenCommand("CHECK", ("CEK STATUS",), alone("CHECK"), _answer)])
    with pytest.raises(ValueError):
        registry.add(clash)
    assert registry.kinds == (CommandKind.REPORT, "CHECK")
