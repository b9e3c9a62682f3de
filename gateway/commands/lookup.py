"""What CEK and BALAS share: both name a report that only its reporter may see, by a
tracking number that may be mistyped. Not a command itself."""

from __future__ import annotations

from gateway.commands.base import Turn
from gateway.models import Report
from gateway.parsers.commands import Command, Problem
from gateway.parsers.tracking import is_valid_tracking_number
from gateway.services import citizen
from gateway.services.citizen import Lookup


def own_report(turn: Turn, command: Command) -> tuple[Report | None, str]:
    """The sender's report named by `command` (also set on the MO), or None and the reply
    that says why not: a typo caught by the check digit, too many failed look-ups, or the
    neutral not-found (the same for someone else's report, so numbers cannot be probed)."""
    if command.problem == Problem.BAD_NUMBER or not is_valid_tracking_number(command.tracking_no):
        return None, bad_number(command.tracking_no)
    found, report = citizen.look_up(
        turn.s, turn.rt, command.tracking_no, turn.msg.msisdn, f"mo:{turn.msg.id}"
    )
    if found == Lookup.THROTTLED:
        return None, throttled()
    if report is None:
        return None, not_found(command.tracking_no)
    turn.msg.report = report
    return report, ""


def not_found(tracking_no: str) -> str:
    """The neutral answer for a number that does not exist or is not the sender's: the same
    words either way, so a tracking number cannot be probed."""
    return (
        f"Laporan {tracking_no} tidak ditemukan untuk nomor HP Anda. "
        "Periksa nomornya dan kirim dari HP yang dipakai melapor. Bantuan: ketik INFO."
    )


def bad_number(typed: str) -> str:
    """A number of the wrong length or with a failing check digit: a typo, caught before lookup."""
    shown = typed[:12] or "-"
    return (
        f"Nomor laporan {shown} salah ketik. Periksa lagi 10 angka nomor laporan Anda, lalu ketik CEK nomor."
    )


def throttled() -> str:
    """Too many failed look-ups from one number."""
    return "Terlalu banyak percobaan nomor laporan yang salah. Coba lagi 1 jam lagi. Bantuan: ketik INFO."
