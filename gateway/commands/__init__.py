"""The citizen commands: one module per command (keyword aliases, argument parser, handler
and reply text together), and the registry that lists them. Adding a command is one module
and one line here, like an aggregator (README "Citizen commands": adding one).

    lapor     LAPOR [RAHASIA|ANONIM] <text>   new report (LAPORAN, LPR, ADUAN, ADU, ADUKAN)
    cek       CEK <no>                        report status (CEK STATUS, STATUS, STS, CK)
    balas     BALAS <no> <text>               reporter's answer (BLS, JAWAB, TANGGAPAN, TANGGAPI)
    info      INFO | BANTUAN | HELP | ? | MENU | TOLONG, alone: the guide
    berhenti  BERHENTI | STOP | UNREG         no more notices to this number
    mulai     MULAI | START                   notices again
    (none)    anything else: a free-text report if it reads like a complaint, else the guide
"""

from __future__ import annotations

from gateway.commands import balas, berhenti, cek, info, lapor, mulai
from gateway.commands.base import CitizenCommand, Registry, Turn
from gateway.parsers.commands import Command, CommandKind

REGISTRY = Registry(
    [
        lapor.COMMAND,
        cek.COMMAND,
        balas.COMMAND,
        info.COMMAND,
        berhenti.COMMAND,
        mulai.COMMAND,
    ]
)


def parse_command(text: str) -> Command:
    """Parse one inbound SMS body against the registered commands; pure, never raises."""
    return REGISTRY.parse(text)


__all__ = ["REGISTRY", "CitizenCommand", "CommandKind", "Registry", "Turn", "parse_command"]
