"""LAPOR [RAHASIA|ANONIM] <text>: a new report. Also what a keyword-less complaint becomes."""

from __future__ import annotations

from gateway.commands.base import CitizenCommand, Turn
from gateway.models import Channel, Privacy
from gateway.parsers.commands import Command, CommandKind, report_args
from gateway.services import citizen

PRIVACY_NOTES = {Privacy.PUBLIC: "", Privacy.CONFIDENTIAL: " (rahasia)", Privacy.ANONYMOUS: " (anonim)"}


def answer(turn: Turn, command: Command) -> str:
    """File the report (once, however often the MO is handled) and give its number."""
    if command.problem:
        return report_missing_text()
    msg = turn.msg
    report = citizen.file(
        turn.s,
        turn.rt,
        msisdn=msg.msisdn,
        text=command.text,
        privacy=command.privacy,
        source_key=f"sms:{msg.id}",
        channel=Channel.SMS,
        inbound_id=msg.id,
        fresh=turn.fresh,
    )
    msg.report = report
    return report_filed(report.tracking_no, report.privacy, turn.short_code)


def report_filed(tracking_no: str, privacy: str, short_code: str) -> str:
    """The answer to a new report (SMS or USSD): its tracking number and how to check it."""
    return (
        f"Laporan{PRIVACY_NOTES[privacy]} diterima. No. laporan: {tracking_no}. "
        f"Simpan nomor ini. Cek status: ketik CEK {tracking_no} kirim ke {short_code}."
    )


def report_missing_text() -> str:
    """LAPOR with nothing after it."""
    return (
        "Isi laporan kosong. Ketik LAPOR spasi isi laporan, contoh: LAPOR jalan rusak di Desa Maju. "
        "Cek status: CEK nomor."
    )


COMMAND = CitizenCommand(
    kind=CommandKind.REPORT,
    aliases=("LAPOR", "LAPORAN", "LPR", "ADUAN", "ADU", "ADUKAN"),
    parse=report_args,
    answer=answer,
    files=True,
)
