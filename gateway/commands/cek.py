"""CEK <no>: a report's status, told only to its reporter."""

from __future__ import annotations

from gateway.commands.base import CitizenCommand, Turn
from gateway.commands.lookup import own_report
from gateway.models import REPORT_STATUS_LABELS
from gateway.parsers.commands import Command, CommandKind, Problem, check_args
from gateway.services import citizen


def answer(turn: Turn, command: Command) -> str:
    """The status of the sender's own report, or why it cannot be told."""
    if command.problem == Problem.MISSING_NUMBER:
        return missing_number()
    report, refusal = own_report(turn, command)
    if report is None:
        return refusal
    return status_for_owner(report.tracking_no, report.status, citizen.status_day(report))


def status_for_owner(tracking_no: str, status: str, updated: str) -> str:
    """CEK by the reporter: the status label and what to do next."""
    label = REPORT_STATUS_LABELS[status]
    return (
        f"Laporan {tracking_no}: {label} (per {updated}). "
        f"Untuk menanggapi ketik BALAS {tracking_no} isi tanggapan."
    )


def missing_number() -> str:
    """CEK without a number."""
    return "Nomor laporan belum ada. Ketik CEK spasi nomor laporan, contoh: CEK 1234567890."


COMMAND = CitizenCommand(
    kind=CommandKind.CHECK,
    aliases=("CEK", "CEK STATUS", "STATUS", "STS", "CK"),
    parse=check_args,
    answer=answer,
)
