"""The SMS the gateway writes to a citizen outside any command's answer (a command's reply
text lives in its module in gateway.commands).

Rules (DESIGN.md "Citizen commands"): Bahasa Indonesia, plain GSM-7, one segment (160
characters) each, and every reply teaches the next step. Tracking numbers are always one
unbroken run of digits. `tests/unit/test_replies.py` checks every reply, these and the
commands', against these rules with the longest values they can carry.
"""

from __future__ import annotations


def flood_warning() -> str:
    """Sent once when a number passes the flood limit; after it, silence until it calms down."""
    return (
        "Anda mengirim terlalu banyak SMS. Pesan berikutnya tidak kami proses selama beberapa menit. "
        "Satu laporan cukup: LAPOR isi laporan."
    )


def ussd_draft_not_sent(short_code: str, hours: int) -> str:
    """A USSD session ended before its report was sent: how to finish it (the draft is kept
    `hours` hours for the menu to resume)."""
    return (
        f"Laporan Anda lewat menu USSD belum terkirim. Kirim lewat SMS: LAPOR isi laporan ke {short_code}, "
        f"atau buka lagi menu USSD dalam {hours} jam untuk melanjutkan."
    )
