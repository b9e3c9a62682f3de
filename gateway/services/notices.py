"""Notices: the SMS a reporter gets when a handler (or the complaint system, or the SLA
clock) acts on a report. Composition is pure: Bahasa Indonesia, plain GSM-7, at most three
segments (the handler's free text is trimmed to fit), the tracking number as one run of
digits, and the reply command taught (`BALAS <no> <tanggapan>`). Queueing applies quiet
hours: a notice due in the night waits in the outbox until the morning."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from gateway import clock
from gateway.gsm7 import clean_text, segments, to_gsm7
from gateway.logconfig import correlation, mt_correlation
from gateway.models import (
    REPORT_STATUS_LABELS,
    OutboundKind,
    OutboundMessage,
    OutboundStatus,
    Report,
    as_utc,
    utcnow,
)
from gateway.runtime import Runtime
from gateway.services.outbox import queue_message

log = logging.getLogger("gateway.notices")

MAX_SEGMENTS = 3
ELLIPSIS = "..."


def fit(prefix: str, free: str, suffix: str, max_segments: int = MAX_SEGMENTS) -> str:
    """`prefix + free + suffix` in GSM-7 within `max_segments`, trimming only `free` (on a
    word boundary when one is near, with "...")."""
    free = to_gsm7(clean_text(free).replace("\n", " "))
    text = prefix + free + suffix
    if segments(text) <= max_segments:
        return text
    lo, hi = 0, len(free)
    while lo < hi:  # the longest cut of `free` that fits
        mid = (lo + hi + 1) // 2
        if segments(prefix + _cut(free, mid) + suffix) <= max_segments:
            lo = mid
        else:
            hi = mid - 1
    return prefix + _cut(free, lo) + suffix


def _cut(free: str, length: int) -> str:
    if length >= len(free):
        return free
    if length <= len(ELLIPSIS):
        return ""
    head = free[: length - len(ELLIPSIS)]
    space = head.rfind(" ")
    if space >= len(head) - 15 and space > 0:  # end on a whole word when it costs little
        head = head[:space]
    return head.rstrip() + ELLIPSIS


def _teach(tracking_no: str, short_code: str) -> str:
    return f" Tanggapi: ketik BALAS {tracking_no} isi tanggapan, kirim ke {short_code}."


def status_notice(tracking_no: str, status: str, note: str, short_code: str) -> str:
    """A status change: the new label, the handler's note, how to answer."""
    label = REPORT_STATUS_LABELS[status]
    prefix = f"LAPOR! Status laporan {tracking_no}: {label}."
    free = f" Catatan: {note}" if clean_text(note) else ""
    return fit(prefix, free, _teach(tracking_no, short_code))


def follow_up_notice(tracking_no: str, text: str, short_code: str) -> str:
    """A follow-up (tindak lanjut) by the agency."""
    return fit(f"LAPOR! Tindak lanjut laporan {tracking_no}: ", text, _teach(tracking_no, short_code))


def reply_notice(tracking_no: str, text: str, short_code: str) -> str:
    """A handler's message to the reporter."""
    return fit(f"LAPOR! Pesan petugas untuk laporan {tracking_no}: ", text, _teach(tracking_no, short_code))


def closing_notice(tracking_no: str, days: int, short_code: str) -> str:
    """The SLA clock closed the report: no reply from the reporter for `days` working days."""
    return (
        f"LAPOR! Laporan {tracking_no} Selesai: {days} hari kerja tanpa tanggapan Anda. "
        f"Belum tuntas? Ketik BALAS {tracking_no} isi tanggapan, kirim ke {short_code}."
    )


def send_time(rt: Runtime, now: datetime) -> datetime | None:
    """When a notice composed at `now` may go out: None for right away, else the end of the
    quiet hours."""
    settings = rt.settings
    return clock.quiet_until(
        now,
        clock.parse_hhmm(settings.quiet_hours_start),
        clock.parse_hhmm(settings.quiet_hours_end),
        clock.parse_zone(settings.timezone),
    )


def queue_notice(
    s: Session, rt: Runtime, report: Report, dedupe_key: str, text: str, now: datetime | None = None
) -> OutboundMessage:
    """Queue a notice to the reporter (inside the caller's transaction). Returns the row; the
    caller enqueues it after commit with `enqueue_delay(rt, out)`. To a reporter who opted
    out the row is SUPPRESSED (queue_message), and a send job for it does nothing."""
    later = send_time(rt, now or utcnow())
    fields = {"kind": OutboundKind.NOTICE, "report_id": report.id}
    if later is not None:
        fields["next_attempt_at"] = later.astimezone(UTC)  # stored as UTC on every backend
    return queue_message(s, rt, dedupe_key, report.msisdn, text, **fields)


def enqueue_delay(out: OutboundMessage) -> float:
    """Seconds from now (the wall clock the RQ scheduler uses) until the notice is due."""
    return max(0.0, (as_utc(out.next_attempt_at) - utcnow()) / timedelta(seconds=1))


def log_queued(out: OutboundMessage, why: str) -> None:
    """A notice's first lifecycle line, under its own correlation id (`mt-<id>`), which its
    send and delivery report lines carry too. `why`: ids and names only, never texts."""
    with correlation(mt_correlation(out.id, out.inbound_id)):
        if out.status == OutboundStatus.SUPPRESSED:
            log.info("notice stored as MT %d (%s), SUPPRESSED: the reporter opted out", out.id, why)
        else:
            log.info("notice queued as MT %d (%s), due in %.0fs", out.id, why, enqueue_delay(out))
