"""Working days, quiet hours and the SLA clock's decisions, with an injected clock."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from config.settings import load_settings
from gateway.clock import parse_hhmm, parse_holidays, quiet_until, working_deadline
from gateway.services.sla import Rules, deadline_for

JKT = ZoneInfo("Asia/Jakarta")
INDEPENDENCE = date(2026, 8, 17)  # a Monday


def jkt(y, mo, d, h=10, mi=0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=JKT)


@pytest.mark.parametrize(
    ("start", "days", "holidays", "deadline"),
    [
        pytest.param(jkt(2026, 8, 3), 3, (), jkt(2026, 8, 7, 0), id="mon+3=end-of-thu"),
        pytest.param(jkt(2026, 8, 7), 3, (), jkt(2026, 8, 13, 0), id="fri+3-skips-weekend"),
        pytest.param(jkt(2026, 8, 8), 1, (), jkt(2026, 8, 11, 0), id="filed-saturday"),
        pytest.param(jkt(2026, 8, 14), 1, (INDEPENDENCE,), jkt(2026, 8, 19, 0), id="skips-holiday-monday"),
        pytest.param(jkt(2026, 8, 14), 1, (), jkt(2026, 8, 18, 0), id="same-without-holiday"),
        pytest.param(jkt(2026, 8, 3, 23, 59), 5, (), jkt(2026, 8, 11, 0), id="late-evening-same-day"),
        pytest.param(
            datetime(2026, 8, 3, 18, 0, tzinfo=ZoneInfo("UTC")),
            1,
            (),
            jkt(2026, 8, 6, 0),
            id="utc-is-next-day",
        ),
        pytest.param(jkt(2026, 8, 3), 10, (), jkt(2026, 8, 18, 0), id="ten-days-two-weekends"),
    ],
)
def test_working_deadline(start, days, holidays, deadline):
    assert working_deadline(start, days, JKT, frozenset(holidays)) == deadline


@pytest.mark.parametrize(
    ("now", "start", "end", "expected"),
    [
        pytest.param(jkt(2026, 8, 3, 22), "21:00", "06:00", jkt(2026, 8, 4, 6), id="late-evening"),
        pytest.param(jkt(2026, 8, 4, 3), "21:00", "06:00", jkt(2026, 8, 4, 6), id="small-hours"),
        pytest.param(jkt(2026, 8, 4, 21), "21:00", "06:00", jkt(2026, 8, 5, 6), id="starts-at-start"),
        pytest.param(jkt(2026, 8, 4, 6), "21:00", "06:00", None, id="ends-at-end"),
        pytest.param(jkt(2026, 8, 4, 20, 59), "21:00", "06:00", None, id="just-before"),
        pytest.param(jkt(2026, 8, 4, 13), "12:00", "14:00", jkt(2026, 8, 4, 14), id="daytime-window"),
        pytest.param(jkt(2026, 8, 4, 3), "00:00", "00:00", None, id="disabled"),
    ],
)
def test_quiet_until(now, start, end, expected):
    assert quiet_until(now, parse_hhmm(start), parse_hhmm(end), JKT) == expected


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        pytest.param("", True, id="empty"),
        pytest.param("2026-08-17, 2026-12-25", True, id="list"),
        pytest.param("2026-8-17", False, id="short"),
        pytest.param("2026-02-30", False, id="no-such-day"),
    ],
)
def test_parse_holidays(raw, ok):
    if ok:
        assert all(isinstance(d, date) for d in parse_holidays(raw))
    else:
        with pytest.raises(ValueError):
            parse_holidays(raw)


@pytest.mark.parametrize("raw", ["2100", "21", "x:00", "24:00", "21:0"])
def test_parse_hhmm_refuses(raw):
    with pytest.raises(ValueError):
        parse_hhmm(raw)


def test_parse_hhmm():
    assert parse_hhmm(" 06:30 ") == time(6, 30)


RULES = Rules(holidays=frozenset({INDEPENDENCE}))
FILED = jkt(2026, 8, 3)  # Monday
VERIFIED = jkt(2026, 8, 4)
FOLLOWED = jkt(2026, 8, 5)


@pytest.mark.parametrize(
    ("fields", "waiting_for", "due"),
    [
        pytest.param({"status": "RECEIVED"}, "VERIFICATION", jkt(2026, 8, 7, 0), id="new-report"),
        pytest.param(
            {"status": "VERIFIED", "verified_at": VERIFIED}, "FOLLOW_UP", jkt(2026, 8, 12, 0), id="verified"
        ),
        pytest.param(
            {"status": "IN_PROGRESS", "verified_at": VERIFIED, "last_follow_up_at": FOLLOWED},
            "CITIZEN_REPLY",
            jkt(2026, 8, 21, 0),  # 10 working days, skipping two weekends and 17 August
            id="followed-up",
        ),
        pytest.param(
            {
                "status": "IN_PROGRESS",
                "verified_at": VERIFIED,
                "last_follow_up_at": FOLLOWED,
                "last_citizen_reply_at": jkt(2026, 8, 6),
            },
            "FOLLOW_UP",
            jkt(2026, 8, 14, 0),
            id="citizen-answered",
        ),
        pytest.param(
            {
                "status": "IN_PROGRESS",
                "last_follow_up_at": FOLLOWED,
                "last_citizen_reply_at": jkt(2026, 8, 4),
            },
            "CITIZEN_REPLY",
            jkt(2026, 8, 21, 0),
            id="reply-before-follow-up-does-not-count",
        ),
        pytest.param({"status": "DONE", "last_follow_up_at": FOLLOWED}, None, None, id="done"),
        pytest.param({"status": "POSTPONED", "last_follow_up_at": FOLLOWED}, None, None, id="postponed"),
        pytest.param({"status": "ARCHIVED"}, None, None, id="archived"),
    ],
)
def test_clock_for(fields, waiting_for, due):
    args = {
        "created_at": FILED,
        "verified_at": None,
        "last_follow_up_at": None,
        "last_citizen_reply_at": None,
    }
    c = deadline_for(RULES, **(args | fields))
    if waiting_for is None:
        assert c is None
    else:
        assert (c.waiting_for, c.due_at) == (waiting_for, due)
        assert not c.overdue(due - timedelta(seconds=1))
        assert c.overdue(due) and not c.overdue(jkt(2026, 8, 3))


def test_naive_times_from_sqlite_are_utc():
    naive = datetime(2026, 8, 3, 3, 0)  # 10:00 in Jakarta
    c = deadline_for(RULES, status="RECEIVED", created_at=naive, verified_at=None, last_follow_up_at=None,
                  last_citizen_reply_at=None)  # fmt: skip
    assert c.due_at == jkt(2026, 8, 7, 0)


@pytest.mark.parametrize(
    ("extra", "start", "days", "due_local_day"),
    [
        # Fri 14 Aug 2026, 1 working day: Mon 17 Aug is Independence Day -> Tue 18 Aug.
        pytest.param("", jkt(2026, 8, 14), 1, date(2026, 8, 18), id="17-agustus"),
        # Thu 24 Dec 2026, 1 working day: Fri 25 Dec is Christmas -> Mon 28 Dec.
        pytest.param("", jkt(2026, 12, 24), 1, date(2026, 12, 28), id="natal"),
        # Tue 9 Mar 2027, 1 working day: Wed 10 and Thu 11 Mar are Idul Fitri -> Fri 12 Mar.
        pytest.param("", jkt(2027, 3, 9), 1, date(2027, 3, 12), id="idul-fitri-2027"),
        # Idul Fitri 2026 falls on Sat 21 / Sun 22 Mar; Thu 19 Mar is Nyepi: Wed 18 -> Fri 20.
        pytest.param("", jkt(2026, 3, 18), 1, date(2026, 3, 20), id="nyepi-before-idul-fitri-2026"),
        # The decreed cuti bersama around Idul Fitri 2026 (20, 23, 24 Mar) come on top.
        pytest.param(
            "2026-03-20,2026-03-23,2026-03-24",
            jkt(2026, 3, 18),
            1,
            date(2026, 3, 25),
            id="cuti-bersama-added",
        ),
        pytest.param("", jkt(2026, 9, 1), 1, date(2026, 9, 2), id="ordinary-tuesday"),
    ],
)
def test_the_sla_calendar_skips_indonesian_public_holidays(extra, start, days, due_local_day):
    """GATEWAY_HOLIDAYS unset still skips Indonesia's public holidays (from the `holidays`
    package); GATEWAY_HOLIDAYS adds the decreed collective leave on top."""
    settings = load_settings({"GATEWAY_INBOUND_TOKEN": "t", "GATEWAY_HOLIDAYS": extra}, dotenv_path=None)
    rules = Rules.from_settings(settings)
    due = working_deadline(start, days, rules.zone, rules.holidays)
    assert due == datetime.combine(due_local_day + timedelta(days=1), time(0), tzinfo=JKT)
