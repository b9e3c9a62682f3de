"""BERHENTI / STOP / UNREG: no more notices to this number (answers to its own texts still come)."""

from __future__ import annotations

from gateway.commands.base import CitizenCommand, Turn
from gateway.parsers.commands import Command, CommandKind, unless_complaint
from gateway.services import optout


def answer(turn: Turn, command: Command) -> str:
    """Record the opt-out and confirm it."""
    optout.opt_out(turn.s, turn.msg.msisdn, inbound_id=turn.msg.id)
    return opted_out(turn.short_code)


def opted_out(short_code: str) -> str:
    """Notices stop; answers to the citizen's own texts still come; how to undo it."""
    return (
        "Anda tidak akan menerima pemberitahuan LAPOR! lagi. Balasan atas SMS Anda tetap dikirim. "
        f"Untuk menerima lagi ketik MULAI kirim ke {short_code}."
    )


COMMAND = CitizenCommand(
    kind=CommandKind.OPT_OUT,
    aliases=("BERHENTI", "STOP", "UNREG"),
    parse=unless_complaint(CommandKind.OPT_OUT),
    answer=answer,
)
