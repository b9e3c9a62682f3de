"""MULAI / START: notices to this number again."""

from __future__ import annotations

from gateway.commands.base import CitizenCommand, Turn
from gateway.parsers.commands import Command, CommandKind, unless_complaint
from gateway.services import optout


def answer(turn: Turn, command: Command) -> str:
    """Lift the opt-out and confirm it."""
    optout.opt_in(turn.s, turn.msg.msisdn)
    return opted_in(turn.short_code)


def opted_in(short_code: str) -> str:
    """Notices resume; how to stop them again."""
    return (
        "Pemberitahuan LAPOR! untuk laporan Anda aktif lagi. "
        f"Untuk berhenti ketik BERHENTI kirim ke {short_code}. Bantuan: ketik INFO."
    )


COMMAND = CitizenCommand(
    kind=CommandKind.OPT_IN,
    aliases=("MULAI", "START"),
    parse=unless_complaint(CommandKind.OPT_IN),
    answer=answer,
)
