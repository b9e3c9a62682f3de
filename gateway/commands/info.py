"""INFO / BANTUAN / HELP / ? / MENU / TOLONG, sent alone: the one-SMS guide. Also the answer
to a text too short to be a complaint."""

from __future__ import annotations

from gateway.commands.base import CitizenCommand, Turn
from gateway.parsers.commands import Command, CommandKind, alone


def answer(turn: Turn, command: Command) -> str:
    """The guide."""
    return help_text(turn.short_code)


def help_text(short_code: str) -> str:
    """The one-SMS guide to the commands. The privacy modes as LAPOR! defines them: RAHASIA
    keeps the report from the public, ANONIM hides the reporter's identity."""
    return (
        f"LAPOR! {short_code}: LAPOR isi laporan. Cek: CEK nomor. Tanggapi: BALAS nomor isi. "
        "LAPOR RAHASIA isi: tidak dipublikasikan. LAPOR ANONIM isi: identitas disembunyikan."
    )


COMMAND = CitizenCommand(
    kind=CommandKind.HELP,
    aliases=("INFO", "BANTUAN", "HELP", "?", "MENU", "TOLONG"),
    parse=alone(CommandKind.HELP),
    answer=answer,
)
