"""Public holidays in business calendars: mainland China with the make-up working days
(调休) of the State Council's notices for 2025 and 2026, Germany, and the sources.

The calendars are built the way the SLA engine builds them
(``services.calendars.build_working_time``) from unsaved model instances: no database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from erpcare.sla import holiday_sources
from erpcare.sla.models import BusinessCalendar, WorkingPeriod
from erpcare.sla.services.calendars import build_working_time
from erpcare.sla.worktime import ZERO, WorkingTime

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
Kind = BusinessCalendar.Kind

CHINA_HOURS = [(time(9), time(12)), (time(13, 30), time(18))]  # 7.5 h a day
CHINA_DAY = timedelta(hours=7, minutes=30)


def calendar(
    *,
    zone: str,
    country: str,
    hours: list[tuple[time, time]],
    weekdays: range = range(5),
    subdivision: str = "",
    makeup_weekday: int = 0,
    overrides: dict[date, bool] | None = None,
) -> WorkingTime:
    cal = BusinessCalendar(
        name="test",
        kind=Kind.BUSINESS,
        time_zone=zone,
        holiday_country=country,
        holiday_subdivision=subdivision,
        makeup_weekday=makeup_weekday,
    )
    periods = [
        WorkingPeriod(weekday=day, starts=starts, ends=ends)
        for day in weekdays
        for starts, ends in hours
    ]
    return build_working_time(cal, periods, overrides or {})


@pytest.fixture(scope="module")
def china() -> WorkingTime:
    return calendar(zone="Asia/Shanghai", country="CN", hours=CHINA_HOURS)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def worked(wt: WorkingTime, day: date) -> timedelta:
    return sum((b - a for a, b in wt.intervals_on(day)), ZERO)


def days(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


# ---------------------------------------------------------------------------
# China: the official schedules (国务院办公厅 notices for 2025 and 2026)
# ---------------------------------------------------------------------------

CN_OFF = {
    2025: [
        *days("2025-01-01", "2025-01-01"),  # New Year
        *days("2025-01-28", "2025-02-04"),  # Spring Festival
        *days("2025-04-04", "2025-04-06"),  # Qingming
        *days("2025-05-01", "2025-05-05"),  # Labour Day
        *days("2025-05-31", "2025-06-02"),  # Dragon Boat
        *days("2025-10-01", "2025-10-08"),  # National Day + Mid-Autumn
    ],
    2026: [
        *days("2026-01-01", "2026-01-03"),  # New Year
        *days("2026-02-15", "2026-02-23"),  # Spring Festival, nine days
        *days("2026-04-04", "2026-04-06"),  # Qingming
        *days("2026-05-01", "2026-05-05"),  # Labour Day
        *days("2026-06-19", "2026-06-21"),  # Dragon Boat
        *days("2026-09-25", "2026-09-27"),  # Mid-Autumn
        *days("2026-10-01", "2026-10-07"),  # National Day
    ],
}
CN_MAKEUP = {
    2025: [
        date(2025, 1, 26),  # Sunday, for the Spring Festival
        date(2025, 2, 8),  # Saturday, for the Spring Festival
        date(2025, 4, 27),  # Sunday, for Labour Day
        date(2025, 9, 28),  # Sunday, for National Day
        date(2025, 10, 11),  # Saturday, for National Day
    ],
    2026: [
        date(2026, 1, 4),  # Sunday, for New Year
        date(2026, 2, 14),  # Saturday, for the Spring Festival
        date(2026, 2, 28),  # Saturday, for the Spring Festival
        date(2026, 5, 9),  # Saturday, for Labour Day
        date(2026, 9, 20),  # Sunday, for National Day
        date(2026, 10, 10),  # Saturday, for National Day
    ],
}


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_china_source_is_the_official_schedule(year: int) -> None:
    holidays, workdays = holiday_sources.special_days("CN", "", year)
    assert holidays == frozenset(CN_OFF[year])
    assert workdays == frozenset(CN_MAKEUP[year])
    assert all(d.weekday() >= 5 for d in workdays)  # make-up days are weekend days
    assert holiday_sources.china_has_official_schedule(year)


@pytest.mark.parametrize("year", [2025, 2026])
def test_china_working_days_match_chinese_calendar_every_day_of_the_year(
    china: WorkingTime, year: int
) -> None:
    day = date(year, 1, 1)
    while day.year == year:
        expected = CHINA_DAY if chinese_calendar.is_workday(day) else ZERO
        assert worked(china, day) == expected, day
        day += timedelta(days=1)


@pytest.mark.parametrize("year", [2025, 2026])
def test_china_holidays_are_off_and_make_up_days_are_worked(china: WorkingTime, year: int) -> None:
    for day in CN_OFF[year]:
        assert china.day_kind(day) == "holiday"
        assert worked(china, day) == ZERO
        assert not china.is_working(sh(day.year, day.month, day.day, 10))
    for day in CN_MAKEUP[year]:
        assert china.day_kind(day) == "workday"
        assert worked(china, day) == CHINA_DAY
        assert china.is_working(sh(day.year, day.month, day.day, 10))
        assert not china.is_working(sh(day.year, day.month, day.day, 12, 30))  # lunch


def test_ordinary_weekends_stay_off(china: WorkingTime) -> None:
    assert china.day_kind(date(2026, 3, 7)) == ""
    assert worked(china, date(2026, 3, 7)) == ZERO  # Saturday
    assert worked(china, date(2026, 3, 8)) == ZERO  # Sunday
    assert worked(china, date(2026, 3, 9)) == CHINA_DAY  # Monday


def test_spring_festival_2025(china: WorkingTime) -> None:
    # Monday 27 January is the last working day before the festival
    assert china.between(sh(2025, 1, 27, 9), sh(2025, 2, 5, 9)) == CHINA_DAY
    # Friday 24 January 17:00 + 2 h: 1 h Friday, Sunday 26th is a make-up day
    assert china.add(sh(2025, 1, 24, 17), timedelta(hours=2)) == sh(2025, 1, 26, 10)
    # Monday 27th 17:00 + 2 h: 1 h Monday, then Wednesday 5 February
    assert china.add(sh(2025, 1, 27, 17), timedelta(hours=2)) == sh(2025, 2, 5, 10)
    # Friday 7 February 17:00 + 2 h: Saturday 8th is a make-up day
    assert china.add(sh(2025, 2, 7, 17), timedelta(hours=2)) == sh(2025, 2, 8, 10)


def test_national_day_2025(china: WorkingTime) -> None:
    # Friday 26 September 17:00 + 4 h: 1 h, then Sunday 28th (make-up) 09:00-12:00
    assert china.add(sh(2025, 9, 26, 17), timedelta(hours=4)) == sh(2025, 9, 28, 12)
    # Tuesday 30 September 16:00 + 8 h: 2 h, 1-8 October off, Thursday 9th 3 h + 3 h
    assert china.add(sh(2025, 9, 30, 16), timedelta(hours=8)) == sh(2025, 10, 9, 16, 30)
    # Friday 10 October 17:00 + 2 h: Saturday 11th is a make-up day
    assert china.add(sh(2025, 10, 10, 17), timedelta(hours=2)) == sh(2025, 10, 11, 10)
    # working time over the whole holiday week is the last day of September only
    assert china.between(sh(2025, 9, 30, 0), sh(2025, 10, 9, 0)) == CHINA_DAY
    # the same due time asked with a UTC instant
    opened = sh(2025, 9, 30, 16).astimezone(UTC)
    assert china.add(opened, timedelta(hours=8)) == datetime(2025, 10, 9, 8, 30, tzinfo=UTC)


def test_new_year_2026(china: WorkingTime) -> None:
    # Wednesday 31 December 2025 17:00 + 2 h: 1-3 January off, Sunday 4th worked
    assert china.add(sh(2025, 12, 31, 17), timedelta(hours=2)) == sh(2026, 1, 4, 10)


def test_spring_festival_2026(china: WorkingTime) -> None:
    # Friday 13 February 17:00 + 4 h: 1 h, then Saturday 14th (make-up) 09:00-12:00
    assert china.add(sh(2026, 2, 13, 17), timedelta(hours=4)) == sh(2026, 2, 14, 12)
    # Saturday 14th 17:00 + 8 h skips the whole festival (15th-23rd): Tuesday 24th
    due = china.add(sh(2026, 2, 14, 17), timedelta(hours=8))
    assert due == sh(2026, 2, 24, 17, 30)
    assert china.between(sh(2026, 2, 14, 18), sh(2026, 2, 24, 9)) == ZERO
    # Friday 27th 17:00 + 2 h: Saturday 28th is a make-up day
    assert china.add(sh(2026, 2, 27, 17), timedelta(hours=2)) == sh(2026, 2, 28, 10)


def test_labour_day_and_national_day_2026(china: WorkingTime) -> None:
    # Thursday 30 April 17:00 + 2 h: 1-5 May off, Wednesday 6th
    assert china.add(sh(2026, 4, 30, 17), timedelta(hours=2)) == sh(2026, 5, 6, 10)
    # Friday 8 May 17:00 + 2 h: Saturday 9th is a make-up day
    assert china.add(sh(2026, 5, 8, 17), timedelta(hours=2)) == sh(2026, 5, 9, 10)
    # Friday 18 September 17:00 + 2 h: Sunday 20th is a make-up day
    assert china.add(sh(2026, 9, 18, 17), timedelta(hours=2)) == sh(2026, 9, 20, 10)
    # Wednesday 30 September 17:00 + 2 h: 1-7 October off, Thursday 8th
    assert china.add(sh(2026, 9, 30, 17), timedelta(hours=2)) == sh(2026, 10, 8, 10)
    # Friday 9 October 17:00 + 2 h: Saturday 10th is a make-up day
    assert china.add(sh(2026, 10, 9, 17), timedelta(hours=2)) == sh(2026, 10, 10, 10)


def test_a_make_up_day_has_the_hours_of_the_chosen_weekday() -> None:
    hours = {0: [(time(9), time(12))], 4: [(time(14), time(16))]}
    cal = BusinessCalendar(kind=Kind.BUSINESS, time_zone="Asia/Shanghai", holiday_country="CN")
    periods = [
        WorkingPeriod(weekday=day, starts=a, ends=b)
        for day, ranges in hours.items()
        for a, b in ranges
    ]
    saturday = date(2026, 2, 14)
    cal.makeup_weekday = 4
    assert build_working_time(cal, periods, {}).periods_on(saturday) == ((14 * 3600, 16 * 3600),)
    cal.makeup_weekday = 0
    assert build_working_time(cal, periods, {}).periods_on(saturday) == ((9 * 3600, 12 * 3600),)
    cal.makeup_weekday = 6  # Sunday has no hours: the first weekday with hours is used
    assert build_working_time(cal, periods, {}).periods_on(saturday) == ((9 * 3600, 12 * 3600),)


def test_overrides_beat_the_source() -> None:
    wt = calendar(
        zone="Asia/Shanghai",
        country="CN",
        hours=CHINA_HOURS,
        overrides={
            date(2026, 2, 23): True,  # a holiday declared a working day
            date(2026, 2, 14): False,  # a make-up day declared off
            date(2026, 3, 2): False,  # an ordinary Monday declared off
            date(2026, 3, 7): True,  # an ordinary Saturday declared a working day
        },
    )
    assert wt.day_kind(date(2026, 2, 23)) == "workday"
    assert worked(wt, date(2026, 2, 23)) == CHINA_DAY
    assert wt.day_kind(date(2026, 2, 14)) == "holiday"
    assert worked(wt, date(2026, 2, 14)) == ZERO
    assert worked(wt, date(2026, 3, 2)) == ZERO
    assert worked(wt, date(2026, 3, 7)) == CHINA_DAY
    assert worked(wt, date(2026, 2, 22)) == ZERO  # the rest of the festival is untouched
    assert worked(wt, date(2026, 2, 28)) == CHINA_DAY


def test_years_without_an_official_china_schedule_fall_back_and_are_reported() -> None:
    # The State Council announces each year in the autumn before; a year far ahead is
    # never known, so its make-up days are missing and the admin is told.
    assert not holiday_sources.china_has_official_schedule(2099)
    assert holiday_sources.coverage_gaps("CN", range(2025, 2027)) == []
    assert 2099 in holiday_sources.coverage_gaps("CN", range(2025, 2100))
    assert holiday_sources.coverage_gaps("DE", range(2025, 2100)) == []
    holidays, workdays = holiday_sources.special_days("CN", "", 2099)
    assert date(2099, 10, 1) in holidays  # statutory days are still computed
    assert date(2099, 5, 1) in holidays
    assert workdays == frozenset()


def test_china_holiday_names_include_the_make_up_days() -> None:
    names = holiday_sources.names("CN", "", 2026)
    assert names[date(2026, 2, 14)] == "Make-up working day (调休)"
    assert names[date(2026, 2, 17)] == "Spring Festival"
    assert names[date(2026, 10, 1)] == "National Day"
    assert list(names) == sorted(names)
    assert set(names) == set(CN_OFF[2026]) | set(CN_MAKEUP[2026])


# ---------------------------------------------------------------------------
# Germany
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def germany() -> WorkingTime:
    return calendar(zone="Europe/Berlin", country="DE", hours=[(time(9), time(17))])


def berlin(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=BERLIN)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 1),  # New Year's Day
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),  # Labour Day
        date(2026, 5, 14),  # Ascension Day
        date(2026, 5, 25),  # Whit Monday
        date(2026, 12, 25),  # Christmas Day
    ],
)
def test_german_holidays_are_off(germany: WorkingTime, day: date) -> None:
    assert germany.day_kind(day) == "holiday"
    assert worked(germany, day) == ZERO


def test_german_ordinary_days(germany: WorkingTime) -> None:
    assert worked(germany, date(2026, 4, 7)) == timedelta(hours=8)
    assert worked(germany, date(2026, 1, 6)) == timedelta(hours=8)  # Epiphany: not national
    assert germany.day_kind(date(2026, 4, 7)) == ""


def test_easter_2026_in_berlin(germany: WorkingTime) -> None:
    # Thursday 2 April 16:00 + 2 h: 1 h, Good Friday and Easter Monday off, Tuesday 7th
    assert germany.add(berlin(2026, 4, 2, 16), timedelta(hours=2)) == berlin(2026, 4, 7, 10)
    # Thursday 24 December 16:00 + 2 h: 25th, 26th (Saturday), Sunday: Monday 28th
    assert germany.add(berlin(2026, 12, 24, 16), timedelta(hours=2)) == berlin(2026, 12, 28, 10)


def test_the_daylight_saving_weekend_in_a_german_office(germany: WorkingTime) -> None:
    opened = berlin(2026, 3, 27, 16)  # Friday, CET
    due = germany.add(opened, timedelta(hours=2))
    assert due == berlin(2026, 3, 30, 10)  # Monday, CEST
    assert due == datetime(2026, 3, 30, 8, tzinfo=UTC)


def test_a_german_region_adds_its_own_holidays() -> None:
    bavaria = calendar(
        zone="Europe/Berlin", country="DE", subdivision="BY", hours=[(time(9), time(17))]
    )
    assert worked(bavaria, date(2026, 1, 6)) == ZERO  # Epiphany
    assert worked(bavaria, date(2026, 6, 4)) == ZERO  # Corpus Christi
    assert worked(bavaria, date(2026, 4, 6)) == ZERO  # Easter Monday, national


def test_a_round_the_clock_business_calendar_in_berlin_has_23_and_25_hour_days() -> None:
    wt = calendar(zone="Europe/Berlin", country="", hours=[(time(0), time(0))], weekdays=range(7))
    assert worked(wt, date(2026, 3, 29)) == timedelta(hours=23)
    assert worked(wt, date(2026, 10, 25)) == timedelta(hours=25)
    assert worked(wt, date(2026, 6, 1)) == timedelta(hours=24)
    assert wt.between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == timedelta(hours=23)
    assert wt.between(berlin(2026, 10, 25), berlin(2026, 10, 26)) == timedelta(hours=25)
    # a week across the spring change has one hour less than 7 × 24
    assert wt.between(berlin(2026, 3, 26), berlin(2026, 4, 2)) == timedelta(hours=167)


def test_a_24x7_calendar_ignores_holidays_and_hours() -> None:
    cal = BusinessCalendar(kind=Kind.ALWAYS, time_zone="Asia/Shanghai", holiday_country="CN")
    wt = build_working_time(cal, [], {date(2026, 3, 2): False})
    assert wt.always
    assert wt.add(sh(2026, 2, 14, 17), timedelta(hours=8)) == sh(2026, 2, 15, 1)
    assert wt.is_working(sh(2026, 2, 17, 3))


# ---------------------------------------------------------------------------
# The sources
# ---------------------------------------------------------------------------


def test_no_country_means_no_special_days() -> None:
    assert holiday_sources.special_days("", "", 2026) == (frozenset(), frozenset())
    assert holiday_sources.names("", "", 2026) == {}


def test_other_countries_have_holidays_but_no_make_up_days() -> None:
    holidays, workdays = holiday_sources.special_days("DE", "", 2026)
    assert date(2026, 12, 25) in holidays
    assert date(2026, 10, 3) in holidays
    assert workdays == frozenset()
    assert all(d.year == 2026 for d in holidays)
    names = holiday_sources.names("DE", "", 2026)
    assert set(names) == set(holidays)
    assert list(names) == sorted(names)


def test_supported_countries_put_china_first() -> None:
    countries = holiday_sources.supported_countries()
    assert countries[0] == ("CN", "CN")
    codes = [code for code, _label in countries]
    assert len(codes) == len(set(codes))
    assert {"DE", "US", "JP", "SG"} <= set(codes)


@pytest.mark.parametrize(
    ("country", "subdivision"),
    [("", ""), ("CN", ""), ("DE", ""), ("DE", "BY"), ("US", "NY"), ("AU", "NSW")],
)
def test_validate_country_accepts(country: str, subdivision: str) -> None:
    assert holiday_sources.validate_country(country, subdivision) is None


@pytest.mark.parametrize(
    ("country", "subdivision", "message"),
    [
        ("XX", "", "unknown country code 'XX'"),
        ("ZZ", "", "unknown country code"),
        ("GERMANY", "", "unknown country code"),
        ("de", "", "unknown country code"),  # callers upper-case first
        ("DE", "XX", "unknown subdivision 'XX' of DE"),
        ("CN", "QQ", "unknown subdivision"),
        ("", "BY", "subdivision without a country"),
    ],
)
def test_validate_country_refuses(country: str, subdivision: str, message: str) -> None:
    problem = holiday_sources.validate_country(country, subdivision)
    assert problem is not None
    assert message in problem
