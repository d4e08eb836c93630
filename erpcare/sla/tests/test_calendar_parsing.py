"""A day's working hours as text ("09:00-12:00, 13:30-18:00"), and the calendar built from
the parsed periods (``services.calendars``). No database: unsaved model instances."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from erpcare.core.errors import ActionError
from erpcare.sla.models import BusinessCalendar, WorkingPeriod
from erpcare.sla.services.calendars import build_working_time, format_hours, parse_hours
from erpcare.sla.worktime import DAY_SECONDS, CalendarError

Kind = BusinessCalendar.Kind
H = 3600


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00-12:00, 13:30-18:00", [(time(9), time(12)), (time(13, 30), time(18))]),
        ("09:00-12:00,13:30-18:00", [(time(9), time(12)), (time(13, 30), time(18))]),
        ("09:00-12:00; 13:30-18:00", [(time(9), time(12)), (time(13, 30), time(18))]),
        ("09:00-12:00，13:30-18:00", [(time(9), time(12)), (time(13, 30), time(18))]),  # ，
        ("13:30-18:00, 09:00-12:00", [(time(9), time(12)), (time(13, 30), time(18))]),
        ("00:00-24:00", [(time(0), time(0))]),  # the whole day: 00:00 ends at midnight
        ("18:00-24:00", [(time(18), time(0))]),
        ("18:00-00:00", [(time(18), time(0))]),
        ("08:00–22:00", [(time(8), time(22))]),  # en dash
        ("08:00~22:00", [(time(8), time(22))]),
        ("  08:00 - 22:00  ", [(time(8), time(22))]),
        ("9:00-12:00", [(time(9), time(12))]),  # one-digit hour
        ("09:00-12:00, 12:00-13:00", [(time(9), time(12)), (time(12), time(13))]),  # touching
        ("09:00-12:00,", [(time(9), time(12))]),  # a trailing separator
        ("09:00-12:00,,13:00-14:00", [(time(9), time(12)), (time(13), time(14))]),
        ("23:59-24:00", [(time(23, 59), time(0))]),
        ("", []),  # no working time that day
        ("   ", []),
    ],
)
def test_parse_hours_accepts(text: str, expected: list[tuple[time, time]]) -> None:
    assert parse_hours(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9-12", "not a time range"),
        ("09-12", "not a time range"),
        ("0900-1200", "not a time range"),
        ("09:00", "not a time range"),
        ("09:00-12:00-13:00", "not a time range"),
        ("9am-5pm", "not a time range"),
        ("09:00 12:00", "not a time range"),
        ("09:00-12:00 13:00-14:00", "not a time range"),  # a separator is needed
        ("12:00-09:00", "must end after it starts"),
        ("09:00-09:00", "must end after it starts"),
        ("09:00-12:00,11:00-13:00", "must not overlap"),
        ("11:00-13:00, 09:00-12:00", "must not overlap"),
        ("08:00-18:00, 12:00-13:00", "must not overlap"),
        ("25:00-26:00", "not a valid time"),
        ("24:00-24:00", "not a valid time"),
        ("09:60-12:00", "not a valid time"),
        ("09:00-12:75", "not a valid time"),
        ("09:00-24:30", "not a valid time"),
        ("09:00-25:00", "not a valid time"),
        # A full-width semicolon is not a separator (the full-width comma is): the text is
        # refused with the offending part named, rather than guessed at.
        ("09:00-12:00；", "not a time range"),
        ("09:00-12:00；13:30-18:00", "not a time range"),
    ],
)
def test_parse_hours_refuses(text: str, message: str) -> None:
    with pytest.raises(ActionError, match=message):
        parse_hours(text)


def test_the_refusal_names_the_offending_part() -> None:
    with pytest.raises(ActionError) as caught:
        parse_hours("08:30-11:45, 13-18")
    assert "“13-18”" in caught.value.message
    assert "08:30-11:45" not in caught.value.message


@pytest.mark.parametrize(
    "text",
    ["09:00-12:00, 13:30-18:00", "00:00-24:00", "08:00-22:00", "18:00-24:00", ""],
)
def test_format_hours_round_trips(text: str) -> None:
    periods = [WorkingPeriod(weekday=2, starts=a, ends=b) for a, b in parse_hours(text)]
    formatted = format_hours(periods, 2)
    assert formatted == text
    assert parse_hours(formatted) == parse_hours(text)
    assert format_hours(periods, 3) == ""


# ---------------------------------------------------------------------------
# From parsed hours to the engine
# ---------------------------------------------------------------------------


def build(
    hours: dict[int, str], *, zone: str = "UTC", kind: str = Kind.BUSINESS
) -> tuple[BusinessCalendar, list[WorkingPeriod]]:
    cal = BusinessCalendar(name="test", kind=kind, time_zone=zone)
    periods = [
        WorkingPeriod(weekday=day, starts=a, ends=b)
        for day, text in hours.items()
        for a, b in parse_hours(text)
    ]
    return cal, periods


def test_parsed_hours_become_seconds_from_midnight() -> None:
    cal, periods = build({0: "13:30-18:00, 09:00-12:00", 4: "18:00-24:00", 6: "00:00-24:00"})
    wt = build_working_time(cal, periods, {})
    assert wt.weekly[0] == ((9 * H, 12 * H), (13 * H + 30 * 60, 18 * H))
    assert wt.weekly[4] == ((18 * H, DAY_SECONDS),)
    assert wt.weekly[6] == ((0, DAY_SECONDS),)
    assert wt.weekly[1] == ()
    assert wt.makeup_periods == wt.weekly[0]  # makeup_weekday defaults to Monday


def test_periods_given_out_of_order_are_sorted() -> None:
    cal = BusinessCalendar(kind=Kind.BUSINESS, time_zone="Asia/Shanghai")
    periods = [
        WorkingPeriod(weekday=0, starts=time(13, 30), ends=time(18)),
        WorkingPeriod(weekday=0, starts=time(9), ends=time(12)),
    ]
    wt = build_working_time(cal, periods, {})
    sh = ZoneInfo("Asia/Shanghai")
    monday = datetime(2026, 3, 2, 8, tzinfo=sh)
    assert wt.add(monday, timedelta(hours=4)) == datetime(2026, 3, 2, 14, 30, tzinfo=sh)


def test_a_business_calendar_without_hours_is_refused() -> None:
    cal, periods = build({})
    with pytest.raises(CalendarError):
        build_working_time(cal, periods, {})


def test_overlapping_stored_periods_are_refused() -> None:
    # parse_hours never produces them, but rows can be written another way
    cal = BusinessCalendar(kind=Kind.BUSINESS, time_zone="UTC")
    periods = [
        WorkingPeriod(weekday=0, starts=time(9), ends=time(12)),
        WorkingPeriod(weekday=0, starts=time(11), ends=time(13)),
    ]
    with pytest.raises(CalendarError, match="overlap"):
        build_working_time(cal, periods, {})


def test_inverted_stored_periods_are_refused() -> None:
    cal = BusinessCalendar(kind=Kind.BUSINESS, time_zone="UTC")
    periods = [WorkingPeriod(weekday=0, starts=time(12), ends=time(9))]
    with pytest.raises(CalendarError, match="bad working period"):
        build_working_time(cal, periods, {})


def test_a_24x7_calendar_needs_no_hours() -> None:
    cal, periods = build({}, kind=Kind.ALWAYS, zone="Europe/Berlin")
    wt = build_working_time(cal, periods, {})
    start = datetime(2026, 3, 28, 12, tzinfo=UTC)
    assert wt.add(start, timedelta(days=2)) == start + timedelta(days=2)


def test_the_calendar_time_zone_is_used() -> None:
    cal, periods = build(dict.fromkeys(range(5), "09:00-17:00"), zone="America/New_York")
    wt = build_working_time(cal, periods, {})
    ny = ZoneInfo("America/New_York")
    # Monday 2026-03-02 09:00 in New York is 14:00 UTC (EST, UTC-5)
    assert wt.add(datetime(2026, 3, 2, 13, tzinfo=UTC), timedelta(0)) == datetime(
        2026, 3, 2, 9, tzinfo=ny
    )
    # after the change to EDT (2026-03-08) 09:00 is 13:00 UTC
    assert wt.add(datetime(2026, 3, 9, 12, tzinfo=UTC), timedelta(0)) == datetime(
        2026, 3, 9, 13, tzinfo=UTC
    )
