"""Pure calendar arithmetic in the gateway's local time zone: working days (weekends and
public holidays skipped) and quiet hours for notices. No I/O, no wall clock: every function
takes `now` or a start time, so tests inject the clock."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@cache
def _country_holidays(country: str) -> Container[date]:
    # One calendar per process; it computes each year on first use (expand=True), lunar and
    # Islamic dates included, so no year needs listing by hand. Imported here: loading it
    # takes about half a second, which only the processes that count working days pay.
    import holidays

    return holidays.country_holidays(country)


@dataclass(frozen=True)
class HolidayCalendar:
    """The days the SLA clock does not count: the country's public holidays (the maintained
    `holidays` package: Idul Fitri, Nyepi, 17 Agustus, Natal, ...) plus `extra` days, the
    decreed collective leave (cuti bersama) from GATEWAY_HOLIDAYS."""

    extra: frozenset[date] = frozenset()
    country: str = "ID"

    def __contains__(self, day: object) -> bool:
        return day in self.extra or day in _country_holidays(self.country)


def parse_hhmm(raw: str) -> time:
    """`"21:00"` -> time(21, 0); ValueError for anything else."""
    hours, sep, minutes = raw.strip().partition(":")
    if not sep or not (hours.isdigit() and minutes.isdigit()) or len(minutes) != 2:
        raise ValueError(f"{raw!r} is not HH:MM")
    return time(int(hours), int(minutes))


def parse_holidays(raw: str) -> frozenset[date]:
    """A comma- or space-separated list of ISO dates (`2026-08-17,2026-12-25`)."""
    items = [item for item in raw.replace(",", " ").split() if item]
    days = set()
    for item in items:
        if len(item) != 10:
            raise ValueError(f"{item!r} is not YYYY-MM-DD")
        days.add(date.fromisoformat(item))
    return frozenset(days)


def parse_zone(name: str) -> ZoneInfo:
    """The IANA zone; ValueError if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a known time zone") from None


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of local calendar `day` in `zone`, in UTC (times are stored as UTC;
    SQLite compares them as text, so they must be UTC to compare right)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def is_working_day(day: date, holidays: Container[date]) -> bool:
    """Monday to Friday and not a public holiday."""
    return day.weekday() < 5 and day not in holidays


def working_deadline(start: datetime, days: int, zone: ZoneInfo, holidays: Container[date]) -> datetime:
    """The end of the `days`-th working day after `start`'s local date (the start day itself
    does not count), as an aware datetime in `zone`. Filed on Friday, 3 working days: due by
    the end of Wednesday, overdue from Thursday 00:00 local time."""
    day = start.astimezone(zone).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            counted += 1
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def quiet_until(now: datetime, start: time, end: time, zone: ZoneInfo) -> datetime | None:
    """When quiet hours (`start` to `end` local, wrapping midnight when start > end) end, if
    `now` is inside them; None when a notice may go out now. start == end: no quiet hours."""
    if start == end:
        return None
    local = now.astimezone(zone)
    t = local.time()
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    release_day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(release_day, end, tzinfo=zone)
