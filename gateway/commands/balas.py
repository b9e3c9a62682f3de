"""BALAS <no> <text>: the reporter's answer to a follow-up, added to the report."""

from __future__ import annotations

from gateway.commands.base import CitizenCommand, Turn
from gateway.commands.lookup import own_report
from gateway.parsers.commands import Command, CommandKind, Problem, reply_args
from gateway.services import citizen


def answer(turn: Turn, command: Command) -> str:
    """Record the answer on the sender's own report, or say what is missing."""
    if command.problem == Problem.MISSING_NUMBER:
        return missing_number()
    report, refusal = own_report(turn, command)
    if report is None:
        return refusal
    if command.problem == Problem.MISSING_TEXT:
        return reply_missing_text(report.tracking_no)
    msg = turn.msg
    citizen.answer_follow_up(
        turn.s, turn.rt, report, command.text, source_key=f"sms:{msg.id}", inbound_id=msg.id
    )
    return reply_recorded(report.tracking_no)


def missing_number() -> str:
    """BALAS without a number."""
    return (
        "Nomor laporan belum ada. Ketik BALAS nomor-laporan isi tanggapan, "
        "contoh: BALAS 1234567890 sudah diperbaiki."
    )


def reply_missing_text(tracking_no: str) -> str:
    """BALAS with a number but nothing to say."""
    return f"Tanggapan kosong. Ketik BALAS {tracking_no} isi tanggapan Anda."


def reply_recorded(tracking_no: str) -> str:
    """The reporter's BALAS was added to the report."""
    return (
        f"Tanggapan untuk laporan {tracking_no} diterima dan diteruskan ke petugas. "
        f"Cek status: ketik CEK {tracking_no}."
    )


COMMAND = CitizenCommand(
    kind=CommandKind.REPLY,
    aliases=("BALAS", "BLS", "JAWAB", "TANGGAPAN", "TANGGAPI"),
    parse=reply_args,
    answer=answer,
    files=True,
)
