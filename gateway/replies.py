"""Every SMS the gateway writes to a citizen, composed by pure functions.

Rules (DESIGN.md "Citizen commands"): Bahasa Indonesia, plain GSM-7, one segment (160
characters) each, and every reply teaches the next step. Tracking numbers are always one
unbroken run of digits. `tests/unit/test_replies.py` checks every reply against these rules
with the longest values they can carry.
"""

from __future__ import annotations

from gateway.models import REPORT_STATUS_LABELS

PRIVACY_NOTES = {"PUBLIC": "", "CONFIDENTIAL": " (rahasia)", "ANONYMOUS": " (anonim)"}


def help_text(short_code: str) -> str:
    """The one-SMS guide to the commands. The privacy modes as LAPOR! defines them: RAHASIA
    keeps the report from the public, ANONIM hides the reporter's identity."""
    return (
        f"LAPOR! {short_code}: LAPOR isi laporan. Cek: CEK nomor. Tanggapi: BALAS nomor isi. "
        "LAPOR RAHASIA isi: tidak dipublikasikan. LAPOR ANONIM isi: identitas disembunyikan."
    )


def report_filed(tracking_no: str, privacy: str, short_code: str) -> str:
    """The answer to a new report: its tracking number and how to check it."""
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


def status_for_owner(tracking_no: str, status: str, updated: str) -> str:
    """CEK by the reporter: the status label and what to do next."""
    label = REPORT_STATUS_LABELS[status]
    return (
        f"Laporan {tracking_no}: {label} (per {updated}). "
        f"Untuk menanggapi ketik BALAS {tracking_no} isi tanggapan."
    )


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


def missing_number(command: str) -> str:
    """CEK or BALAS without a number."""
    if command == "REPLY":
        return (
            "Nomor laporan belum ada. Ketik BALAS nomor-laporan isi tanggapan, "
            "contoh: BALAS 1234567890 sudah diperbaiki."
        )
    return "Nomor laporan belum ada. Ketik CEK spasi nomor laporan, contoh: CEK 1234567890."


def reply_missing_text(tracking_no: str) -> str:
    """BALAS with a number but nothing to say."""
    return f"Tanggapan kosong. Ketik BALAS {tracking_no} isi tanggapan Anda."


def reply_recorded(tracking_no: str) -> str:
    """The reporter's BALAS was added to the report."""
    return (
        f"Tanggapan untuk laporan {tracking_no} diterima dan diteruskan ke petugas. "
        f"Cek status: ketik CEK {tracking_no}."
    )


def throttled() -> str:
    """Too many failed look-ups from one number."""
    return "Terlalu banyak percobaan nomor laporan yang salah. Coba lagi 1 jam lagi. Bantuan: ketik INFO."


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


def opted_out(short_code: str) -> str:
    """BERHENTI/STOP/UNREG: notices stop; answers to the citizen's own texts still come; how to undo it."""
    return (
        "Anda tidak akan menerima pemberitahuan LAPOR! lagi. Balasan atas SMS Anda tetap dikirim. "
        f"Untuk menerima lagi ketik MULAI kirim ke {short_code}."
    )


def opted_in(short_code: str) -> str:
    """MULAI/START: notices resume; how to stop them again."""
    return (
        "Pemberitahuan LAPOR! untuk laporan Anda aktif lagi. "
        f"Untuk berhenti ketik BERHENTI kirim ke {short_code}. Bantuan: ketik INFO."
    )
