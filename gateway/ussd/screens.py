"""Every USSD screen the citizen reads, composed by pure functions.

Rules: Bahasa Indonesia, GSM-7, at most 160 septets with any hint it can carry in front (operators
allow 182; 160 leaves room for the `CON `/`END ` prefix and for handsets that cut early),
numbered options, and `0`/`00` shown wherever they work. `tests/unit/test_ussd_screens.py`
checks each one with the longest values it can carry.
"""

from __future__ import annotations

from gateway.gsm7 import septets, to_gsm7
from gateway.models import REPORT_STATUS_LABELS, Privacy

SCREEN_LIMIT = 160
NAV = "0 Kembali 00 Menu"
PRIVACY_NOTES = {Privacy.PUBLIC: "", Privacy.CONFIDENTIAL: " rahasia", Privacy.ANONYMOUS: " anonim"}

# Hints shown above a screen that is shown again. The longest one sets every screen's budget.
INVALID = "Pilihan salah."
TOO_SHORT = "Isi terlalu pendek."
TOO_LONG = "Isi terlalu panjang."
EMPTY_REPLY = "Tanggapan kosong."
BAD_NUMBER = "Nomor salah ketik."
CANCELLED = "Laporan dibatalkan."
DRAFT_DELETED = "Draf dihapus."
NOT_FOUND = "Laporan {no} tidak ada untuk HP ini."
PREVIEW = 50  # septets of the draft shown on the confirm and resume screens
PAGE_WIDTH = 90  # septets of follow-up text per page


def with_hint(hint: str, body: str) -> str:
    """`body` with an optional one-line hint above it."""
    return f"{hint}\n{body}" if hint else body


def main_menu(short_code: str) -> str:
    """The first screen."""
    return f"LAPOR! {short_code}\n1 Buat laporan\n2 Cek status laporan\n3 Balas tindak lanjut\n4 Bantuan"


def ask_text() -> str:
    """Free text of a new report."""
    return f"Tulis isi laporan: apa masalahnya, di mana, sejak kapan.\n{NAV}"


def ask_privacy() -> str:
    """Normal, confidential or anonymous."""
    return (
        "Jenis laporan:\n1 Biasa\n2 Rahasia (tidak dipublikasikan)\n"
        f"3 Anonim (identitas pelapor disembunyikan)\n{NAV}"
    )


def confirm(draft: str, privacy: str) -> str:
    """The draft's start and the choice to send it."""
    return (
        f'Kirim laporan{PRIVACY_NOTES[privacy]}?\n"{shorten(draft, PREVIEW)}"\n'
        "1 Kirim\n2 Ubah isi\n3 Batal\n0 Kembali"
    )


def filed(tracking_no: str, privacy: str, short_code: str) -> str:
    """END: the tracking number; an SMS with it follows."""
    return (
        f"Laporan{PRIVACY_NOTES[privacy]} terkirim. No. laporan: {tracking_no}. "
        f"SMS konfirmasi menyusul. Cek status: menu 2 atau SMS CEK {tracking_no} ke {short_code}."
    )


def ask_number(purpose: str) -> str:
    """A tracking number, for CEK (`check`) or BALAS (`reply`)."""
    title = "Cek status" if purpose == "check" else "Balas tindak lanjut"
    return f"{title}. Ketik nomor laporan (10 angka):\n{NAV}"


def status(tracking_no: str, status_code: str, updated: str, short_code: str) -> str:
    """END: the report's status, for its reporter only."""
    return (
        f"Laporan {tracking_no}: {REPORT_STATUS_LABELS[status_code]} (per {updated}). "
        f"Menanggapi: menu 3 atau SMS BALAS {tracking_no} isi ke {short_code}."
    )


def throttled() -> str:
    """END: too many failed look-ups from this number."""
    return "Terlalu banyak percobaan nomor laporan yang salah. Coba lagi 1 jam lagi."


def flooded() -> str:
    """END: this number filed or texted past the flood limit (GATEWAY_FLOOD_LIMIT per
    GATEWAY_FLOOD_WINDOW, shared with SMS); the draft is kept for dialling again later."""
    return (
        "Terlalu banyak laporan dari HP ini dalam waktu singkat. Laporan belum terkirim, "
        "draf disimpan. Coba lagi beberapa menit lagi."
    )


def follow_up_page(page_text: str, page: int, pages: int) -> str:
    """One page of the officer's follow-up question."""
    more = " 98 Lanjut" if page + 1 < pages else ""
    return f"Pesan petugas ({page + 1}/{pages}):\n{page_text}\n1 Jawab{more} 0 Kembali"


def ask_reply(tracking_no: str) -> str:
    """Free text of the reporter's answer."""
    return f"Tulis tanggapan untuk laporan {tracking_no}:\n{NAV}"


def reply_recorded(tracking_no: str, short_code: str) -> str:
    """END: the answer was added to the report."""
    return (
        f"Tanggapan untuk laporan {tracking_no} diterima dan diteruskan ke petugas. "
        f"Cek status: menu 2 atau SMS CEK {tracking_no} ke {short_code}."
    )


def help_screen(short_code: str) -> str:
    """How the menu and the SMS commands work."""
    return (
        f"LAPOR! {short_code} gratis. Lapor: menu 1/SMS LAPOR isi. Cek: menu 2. "
        f"Rahasia: tidak dipublikasikan. Anonim: identitas disembunyikan.\n{NAV}"
    )


def resume(draft: str) -> str:
    """A new session finds an unsent draft of this number."""
    return f'Laporan belum terkirim:\n"{shorten(draft, PREVIEW)}"\n1 Lanjutkan\n2 Hapus\n3 Menu utama'


def unavailable(short_code: str) -> str:
    """END: the gateway could not do what was asked (database or Redis down)."""
    return (
        "Maaf, layanan sedang gangguan dan permintaan Anda belum diproses. "
        f"Coba lagi nanti atau SMS LAPOR isi laporan ke {short_code}."
    )


def shorten(text: str, limit: int) -> str:
    """`text` as GSM-7 on one line, cut to `limit` septets with "..." when it is longer."""
    plain = " ".join(to_gsm7(text).split())
    if septets(plain) <= limit:
        return plain
    out = ""
    for char in plain:
        if septets(out + char) > limit - 3:
            break
        out += char
    return out.rstrip() + "..."


def paginate(text: str, width: int = PAGE_WIDTH) -> list[str]:
    """`text` as GSM-7 pages of at most `width` septets, broken between words (a word longer
    than a page, such as a URL, is cut). Always at least one page."""
    words = []
    for word in " ".join(to_gsm7(text).split()).split(" "):
        while septets(word) > width:
            cut = width
            while septets(word[:cut]) > width:
                cut -= 1
            words.append(word[:cut])
            word = word[cut:]
        words.append(word)
    pages, line = [], ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if septets(candidate) <= width:
            line = candidate
        else:
            pages.append(line)
            line = word
    pages.append(line)
    return [p for p in pages if p] or [""]
