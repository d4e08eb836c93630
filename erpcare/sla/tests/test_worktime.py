"""Business-time arithmetic (erpcare.sla.worktime): properties over random calendars, a
minute-by-minute oracle, daylight saving time, and the refusals.

The properties are the contract the SLA clocks rely on:

* ``between(start, add(start, d)) == d`` exactly, to the microsecond;
* ``add(start, d)`` lies in working time and grows with ``d``;
* ``between`` is additive and antisymmetric, and never more than the elapsed time;
* the time zone an instant is written in does not matter, only the instant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from erpcare.sla import holiday_sources
from erpcare.sla.worktime import DAY_SECONDS, ZERO, CalendarError, DayKinds, Period, WorkingTime

H = 3600
ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"]
OTHER_ZONES = [
    UTC,
    ZoneInfo("America/Los_Angeles"),
    ZoneInfo("Asia/Kolkata"),
    ZoneInfo("Australia/Lord_Howe"),
    timezone(timedelta(hours=-3, minutes=-30)),
]
BERLIN = ZoneInfo("Europe/Berlin")
US = timedelta(microseconds=1)

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------


def _transitions(zone: str) -> list[datetime]:
    """The instants at which ``zone`` changes its UTC offset, 2024–2027."""
    tz = ZoneInfo(zone)
    found = []
    t = datetime(2024, 1, 1, tzinfo=UTC)
    while t < datetime(2028, 1, 1, tzinfo=UTC):
        nxt = t + timedelta(days=1)
        if t.astimezone(tz).utcoffset() != nxt.astimezone(tz).utcoffset():
            lo, hi = t, nxt
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(tz).utcoffset() == lo.astimezone(tz).utcoffset():
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
        t = nxt
    return found


TRANSITIONS = {zone: _transitions(zone) for zone in ZONES}


def test_the_dst_zones_change_offset_twice_a_year() -> None:
    # The strategies below lean on these to land near the interesting days.
    assert len(TRANSITIONS["Europe/Berlin"]) == 8
    assert len(TRANSITIONS["America/New_York"]) == 8
    assert len(TRANSITIONS["Australia/Lord_Howe"]) == 8
    assert TRANSITIONS["Asia/Shanghai"] == TRANSITIONS["UTC"] == []


@st.composite
def day_periods(draw: st.DrawFn, step_minutes: Sequence[int] = (1, 15, 30, 60)) -> list[Period]:
    """Sorted, disjoint periods of one day (possibly touching, possibly none).

    Boundaries are often put between 01:00 and 04:00, where the test zones change their
    clocks, so that periods starting or ending in a skipped or repeated stretch occur.
    """
    step = draw(st.sampled_from(step_minutes)) * 60
    anywhere = st.integers(0, DAY_SECONDS // step)
    at_night = st.integers(H // step, 4 * H // step)
    marks = draw(st.lists(st.one_of(anywhere, at_night), unique=True, max_size=6))
    marks = sorted(m * step for m in marks)
    if len(marks) % 2:
        marks.pop()
    return [(marks[i], marks[i + 1]) for i in range(0, len(marks), 2)]


@st.composite
def special_days_sources(draw: st.DrawFn) -> Callable[[int], DayKinds]:
    mode = draw(st.sampled_from(["none", "random", "CN", "DE"]))
    if mode == "none":
        return lambda year: (frozenset(), frozenset())
    if mode in ("CN", "DE"):
        return lambda year: holiday_sources.special_days(mode, "", year)
    dates = st.dates(date(2024, 1, 1), date(2028, 6, 30))
    off = draw(st.frozensets(dates, max_size=40))
    on = draw(st.frozensets(dates, max_size=10))

    def special_days(year: int) -> DayKinds:
        return (
            frozenset(d for d in off if d.year == year),
            frozenset(d for d in on if d.year == year),
        )

    return special_days


@st.composite
def calendars(draw: st.DrawFn, step_minutes: Sequence[int] = (1, 15, 30, 60)) -> WorkingTime:
    weekly = [draw(day_periods(step_minutes)) for _ in range(7)]
    assume(any(weekly))
    makeup = draw(st.sampled_from([d for d in weekly if d]))
    return WorkingTime(
        tz=ZoneInfo(draw(st.sampled_from(ZONES))),
        weekly=[tuple(d) for d in weekly],
        makeup_periods=tuple(makeup),
        special_days=draw(special_days_sources()),
    )


def instants(wt: WorkingTime) -> st.SearchStrategy[datetime]:
    """Aware instants 2024–2027: anywhere, near a DST change, or on a local quarter-hour."""
    anywhere = st.datetimes(datetime(2024, 1, 1), datetime(2027, 12, 31)).map(
        lambda d: d.replace(tzinfo=UTC)
    )
    strategies = [anywhere]
    changes = TRANSITIONS[str(wt.tz)]
    if changes:
        offsets = st.timedeltas(-timedelta(days=3), timedelta(days=3))
        strategies.append(st.builds(lambda t, o: t + o, st.sampled_from(changes), offsets))
    on_the_clock = st.builds(
        lambda d, q: datetime.combine(d, time(0)).replace(tzinfo=wt.tz) + timedelta(minutes=15 * q),
        st.dates(date(2024, 1, 1), date(2027, 12, 31)),
        st.integers(0, 95),
    )
    strategies.append(on_the_clock)
    return st.one_of(*strategies)


def weekly_total(wt: WorkingTime) -> timedelta:
    return timedelta(seconds=sum(b - a for day in wt.weekly for a, b in day))


def durations(wt: WorkingTime) -> st.SearchStrategy[timedelta]:
    """0 to ~30 days of working time, to the microsecond (capped at 20 weeks' worth so a
    sparse random calendar does not run into the ten-year search limit)."""
    cap = min(timedelta(days=30), weekly_total(wt) * 20)
    return st.one_of(
        st.just(ZERO),
        st.timedeltas(ZERO, cap),
        st.integers(0, cap // timedelta(minutes=15)).map(lambda n: n * timedelta(minutes=15)),
    )


def inside_some_interval(wt: WorkingTime, instant: datetime) -> bool:
    """``instant`` in some [a, b], end inclusive (an interval's end is where a due time
    that uses it up exactly lands)."""
    local_day = instant.astimezone(wt.tz).date()
    for day in (local_day - timedelta(days=1), local_day):
        if any(a <= instant <= b for a, b in wt.intervals_on(day)):
            return True
    return False


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@PROPERTY
@given(st.data())
def test_add_and_between_are_inverse(data: st.DataObject) -> None:
    wt = data.draw(calendars())
    start = data.draw(instants(wt))
    d = data.draw(durations(wt))
    due = wt.add(start, d)
    assert due.tzinfo is not None
    assert due >= start
    assert wt.between(start, due) == d
    if d > ZERO:
        assert inside_some_interval(wt, due)
    else:  # add(start, 0) is the first working instant at or after start
        assert wt.is_working(due)
        assert wt.next_working_instant(start) == due
        assert wt.between(start, due) == ZERO


@PROPERTY
@given(st.data())
def test_add_is_monotonic_in_the_duration(data: st.DataObject) -> None:
    wt = data.draw(calendars())
    start = data.draw(instants(wt))
    d1, d2 = sorted([data.draw(durations(wt)), data.draw(durations(wt))])
    first, second = wt.add(start, d1), wt.add(start, d2)
    assert first <= second
    assert wt.between(first, second) == d2 - d1
    # a microsecond more working time is a later instant
    assert wt.add(start, d1 + US) > first


@PROPERTY
@given(st.data())
def test_between_is_additive_antisymmetric_and_bounded_by_elapsed_time(
    data: st.DataObject,
) -> None:
    wt = data.draw(calendars())
    # near each other (a few days) most of the time, so the sums are not all zero
    a = data.draw(instants(wt))
    b = a + data.draw(st.timedeltas(-timedelta(days=9), timedelta(days=9)))
    c = a + data.draw(st.timedeltas(-timedelta(days=9), timedelta(days=9)))
    a, b, c = sorted([a, b, c])
    ab, bc, ac = wt.between(a, b), wt.between(b, c), wt.between(a, c)
    assert ab + bc == ac
    assert wt.between(b, a) == -ab
    assert wt.between(c, a) == -ac
    assert ZERO <= ab <= b - a
    assert ZERO <= ac <= c - a
    assert wt.between(a, a) == ZERO


@settings(PROPERTY, max_examples=150)
@given(st.data())
def test_the_intervals_of_a_day_are_ordered_disjoint_and_inside_the_day(
    data: st.DataObject,
) -> None:
    # boundaries on 5 or 15 minutes, in the zones that change their clocks (on Sundays,
    # so every day gets the same hours), on the days they do
    dst_zones = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]
    periods = data.draw(day_periods(step_minutes=(5, 15)))
    assume(periods)
    wt = WorkingTime(tz=ZoneInfo(data.draw(st.sampled_from(dst_zones))), weekly=(periods,) * 7)
    changes = [t.astimezone(wt.tz).date() for t in TRANSITIONS[str(wt.tz)]]
    others = data.draw(st.lists(st.dates(date(2024, 1, 1), date(2027, 12, 31)), max_size=3))
    for day in changes + others:
        intervals = wt.intervals_on(day)
        midnight = datetime.combine(day, time(0), tzinfo=wt.tz)
        next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=wt.tz)
        assert all(a < b for a, b in intervals)
        assert all(b1 <= a2 for (_, b1), (a2, _) in pairwise(intervals))
        if intervals:
            assert midnight <= intervals[0][0]
            assert intervals[-1][1] <= next_midnight
        # so a due time walks forward through the day as the duration grows
        total = wt.between(midnight, next_midnight)
        assert total == sum((b - a for a, b in intervals), ZERO)
        steps = [total * k // 7 for k in range(8)]
        dues = [wt.add(midnight, step) for step in steps]
        assert dues == sorted(dues)
        assert all(due <= next_midnight for due in dues[:-1] if total)


@PROPERTY
@given(st.data())
def test_is_working_agrees_with_between(data: st.DataObject) -> None:
    wt = data.draw(calendars())
    instant = data.draw(instants(wt))
    assert wt.is_working(instant) == (wt.between(instant, instant + US) == US)


@PROPERTY
@given(st.data())
def test_the_time_zone_of_the_argument_does_not_matter(data: st.DataObject) -> None:
    wt = data.draw(calendars())
    start = data.draw(instants(wt))
    end = start + data.draw(st.timedeltas(ZERO, timedelta(days=20)))
    d = data.draw(durations(wt))
    other = data.draw(st.sampled_from(OTHER_ZONES))
    shown_start, shown_end = start.astimezone(other), end.astimezone(other)
    assert wt.add(shown_start, d) == wt.add(start, d)
    assert wt.between(shown_start, shown_end) == wt.between(start, end)
    assert wt.between(shown_start, end) == wt.between(start, shown_end)
    assert wt.is_working(shown_start) == wt.is_working(start)
    # and a fresh instance (cold day cache) agrees with a warm one
    fresh = WorkingTime(
        tz=wt.tz,
        weekly=wt.weekly,
        makeup_periods=wt.makeup_periods,
        special_days=wt.special_days,
    )
    assert fresh.between(shown_end, shown_start) == wt.between(end, start)


@PROPERTY
@given(st.data())
def test_a_pause_is_excluded_exactly(data: st.DataObject) -> None:
    wt = data.draw(calendars())
    start = data.draw(instants(wt))
    p, q, t = sorted(start + data.draw(st.timedeltas(ZERO, timedelta(days=15))) for _ in range(3))
    assert wt.between(start, t) - wt.between(p, q) == wt.between(start, p) + wt.between(q, t)

    # The clocks move a due time by the pause's working time when the pause began before
    # it; the unpaused working time from start to the new due time is the target.
    d = data.draw(durations(wt))
    due = wt.add(start, d)
    if due > p:
        paused = wt.between(p, q)
        moved = wt.add(start, d + paused)
        if d > ZERO:
            assert moved > q
        assert wt.between(start, moved) - paused == d
        assert wt.between(start, p) + wt.between(q, moved) == d


@PROPERTY
@given(
    zone=st.sampled_from(ZONES),
    start=st.datetimes(datetime(2024, 1, 1), datetime(2027, 12, 31)),
    other=st.datetimes(datetime(2024, 1, 1), datetime(2027, 12, 31)),
    d=st.timedeltas(ZERO, timedelta(days=30)),
)
def test_24x7_is_plain_datetime_arithmetic(
    zone: str, start: datetime, other: datetime, d: timedelta
) -> None:
    wt = WorkingTime(
        tz=ZoneInfo(zone),
        always=True,
        special_days=lambda year: holiday_sources.special_days("CN", "", year),
    )
    instant, other = start.replace(tzinfo=UTC), other.replace(tzinfo=UTC)
    local = instant.astimezone(ZoneInfo(zone))  # instant arithmetic, not wall-clock
    assert wt.add(local, d) == instant + d
    assert wt.between(local, other) == other - instant
    assert wt.is_working(local)
    assert wt.intervals_on(local.date())  # holidays do not apply to 24×7


# ---------------------------------------------------------------------------
# An independent oracle: count minutes by reading the wall clock
# ---------------------------------------------------------------------------


def oracle_minutes(wt: WorkingTime, start: datetime, end: datetime) -> int:
    """Minutes in [start, end) whose local wall time is inside a working period.

    Holidays and make-up days are read from the source directly, not through the
    engine. Agrees with the engine when period boundaries are on the hour (none of the
    test zones has a gap or a repeated stretch that starts or ends between hours).
    """
    count = 0
    minute = start
    while minute < end:
        local = minute.astimezone(wt.tz)
        holidays, workdays = wt.special_days(local.year)
        day = local.date()
        if day in workdays:
            periods = wt.weekly[day.weekday()] or wt.makeup_periods
        elif day in holidays:
            periods = ()
        else:
            periods = wt.weekly[day.weekday()]
        seconds = local.hour * H + local.minute * 60
        count += any(a <= seconds < b for a, b in periods)
        minute += timedelta(minutes=1)
    return count


@settings(PROPERTY, max_examples=60)
@given(st.data())
def test_between_matches_a_minute_by_minute_wall_clock(data: st.DataObject) -> None:
    wt = data.draw(calendars(step_minutes=(60,)))
    start = data.draw(instants(wt)).replace(second=0, microsecond=0)
    end = start + timedelta(minutes=data.draw(st.integers(0, 2 * 24 * 60)))
    minutes = oracle_minutes(wt, start, end)
    assert wt.between(start, end) == timedelta(minutes=minutes)
    if minutes:
        assert wt.add(start, timedelta(minutes=minutes)) <= end


# ---------------------------------------------------------------------------
# Daylight saving time, concretely
# ---------------------------------------------------------------------------


def day_length(wt: WorkingTime, day: date) -> timedelta:
    return sum((b - a for a, b in wt.intervals_on(day)), ZERO)


ROUND_THE_CLOCK = (((0, DAY_SECONDS),),) * 7


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("Europe/Berlin", date(2026, 3, 29), 23),
        ("Europe/Berlin", date(2026, 10, 25), 25),
        ("Europe/Berlin", date(2026, 10, 26), 24),
        ("America/New_York", date(2026, 3, 8), 23),
        ("America/New_York", date(2026, 11, 1), 25),
        ("Australia/Lord_Howe", date(2026, 4, 5), 24.5),
        ("Australia/Lord_Howe", date(2026, 10, 4), 23.5),
        ("Asia/Shanghai", date(2026, 3, 29), 24),
    ],
)
def test_a_whole_day_of_working_time_follows_the_clock_change(
    zone: str, day: date, hours: float
) -> None:
    wt = WorkingTime(tz=ZoneInfo(zone), weekly=ROUND_THE_CLOCK)
    assert day_length(wt, day) == timedelta(hours=hours)
    midnight = datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))
    assert wt.between(midnight, next_midnight) == timedelta(hours=hours)
    assert wt.add(midnight, timedelta(hours=hours)) == next_midnight


def test_berlin_office_hours_across_the_spring_change() -> None:
    office = (((9 * H, 17 * H),),) * 5 + ((), ())
    wt = WorkingTime(tz=BERLIN, weekly=office)
    opened = datetime(2026, 3, 27, 16, tzinfo=BERLIN)  # Friday, CET (UTC+1)
    assert opened == datetime(2026, 3, 27, 15, tzinfo=UTC)
    due = wt.add(opened, timedelta(hours=2))
    assert due == datetime(2026, 3, 30, 10, tzinfo=BERLIN)  # Monday, CEST
    assert due == datetime(2026, 3, 30, 8, tzinfo=UTC)
    assert wt.between(opened, due) == timedelta(hours=2)
    # the weekend (and the lost hour in it) is not working time
    assert wt.between(datetime(2026, 3, 27, 17, tzinfo=BERLIN), due) == timedelta(hours=1)


def test_berlin_office_hours_across_the_autumn_change() -> None:
    office = (((9 * H, 17 * H),),) * 5 + ((), ())
    wt = WorkingTime(tz=BERLIN, weekly=office)
    opened = datetime(2026, 10, 23, 16, tzinfo=BERLIN)  # Friday, CEST
    due = wt.add(opened, timedelta(hours=2))
    assert due == datetime(2026, 10, 26, 10, tzinfo=BERLIN)  # Monday, CET
    assert due == datetime(2026, 10, 26, 9, tzinfo=UTC)


def test_round_the_clock_calendar_at_the_gap_and_the_repeated_hour() -> None:
    wt = WorkingTime(tz=BERLIN, weekly=ROUND_THE_CLOCK)
    before_gap = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 CET
    assert wt.add(before_gap, timedelta(hours=1)) == datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN)
    first_pass = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    second_pass = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    assert first_pass.astimezone(BERLIN).time() == second_pass.astimezone(BERLIN).time()
    assert wt.between(first_pass, second_pass) == timedelta(hours=1)
    assert wt.is_working(first_pass)
    assert wt.is_working(second_pass)


def test_a_period_inside_the_skipped_hour_has_no_working_time() -> None:
    # 02:00-03:00 does not exist in Berlin on 2026-03-29
    weekly = ((), (), (), (), (), (), ((2 * H, 3 * H),))
    wt = WorkingTime(tz=BERLIN, weekly=weekly)
    assert wt.intervals_on(date(2026, 3, 29)) == ()
    assert day_length(wt, date(2026, 4, 5)) == timedelta(hours=1)
    assert wt.add(datetime(2026, 3, 28, tzinfo=BERLIN), ZERO) == datetime(
        2026, 4, 5, 2, tzinfo=BERLIN
    )


@pytest.mark.parametrize(
    "periods",
    [
        ((0, 2 * H + 45 * 60), (3 * H, DAY_SECONDS)),  # a break that ends after the gap
        ((2 * H + 10 * 60, 2 * H + 20 * 60), (3 * H, 4 * H)),  # a period inside the gap
        ((H, 2 * H + 30 * 60), (2 * H + 30 * 60, 5 * H)),  # periods touching in the gap
    ],
)
def test_periods_with_a_boundary_in_the_spring_gap_never_count_time_twice(
    periods: tuple[Period, ...],
) -> None:
    # Regression: a boundary in the gap maps forward by the gap (02:45 -> 03:45 CEST)
    # and used to overlap the next period, so the day had more working time than hours,
    # and add() went backwards as the duration grew.
    wt = WorkingTime(tz=BERLIN, weekly=(periods,) * 7)
    day = date(2026, 3, 29)
    intervals = wt.intervals_on(day)
    assert all(a < b for a, b in intervals)
    assert all(b1 <= a2 for (_, b1), (a2, _) in pairwise(intervals))
    midnight = datetime.combine(day, time(0), tzinfo=BERLIN)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=BERLIN)
    assert wt.between(midnight, next_midnight) <= next_midnight - midnight
    previous = midnight
    for minutes in range(0, 24 * 60, 5):
        due = wt.add(midnight, timedelta(minutes=minutes))
        assert due >= previous
        assert wt.between(midnight, due) == timedelta(minutes=minutes)
        previous = due


def test_unsorted_periods_are_still_walked_in_order() -> None:
    periods = ((13 * H + 30 * 60, 18 * H), (9 * H, 12 * H))
    wt = WorkingTime(tz=ZoneInfo("Asia/Shanghai"), weekly=(periods,) * 7)
    sh = ZoneInfo("Asia/Shanghai")
    assert wt.add(datetime(2026, 3, 2, 8, tzinfo=sh), timedelta(hours=1)) == datetime(
        2026, 3, 2, 10, tzinfo=sh
    )


# ---------------------------------------------------------------------------
# Special days, concretely (without Django: the source is a plain function)
# ---------------------------------------------------------------------------


def test_holidays_and_make_up_days() -> None:
    sh = ZoneInfo("Asia/Shanghai")
    monday_hours = ((9 * H, 12 * H), (13 * H, 17 * H))
    weekly = (monday_hours,) + (((9 * H, 17 * H),),) * 4 + ((), ())
    wt = WorkingTime(
        tz=sh,
        weekly=weekly,
        makeup_periods=monday_hours,
        special_days=lambda year: (
            frozenset({date(2026, 3, 3), date(2026, 3, 8)}),
            frozenset({date(2026, 3, 7), date(2026, 3, 8)}),  # the 8th: both, works
        ),
    )
    assert wt.day_kind(date(2026, 3, 3)) == "holiday"
    assert wt.day_kind(date(2026, 3, 7)) == "workday"
    assert wt.day_kind(date(2026, 3, 8)) == "workday"
    assert wt.day_kind(date(2026, 3, 4)) == ""
    assert wt.periods_on(date(2026, 3, 3)) == ()
    assert wt.periods_on(date(2026, 3, 7)) == monday_hours  # Saturday, worked
    assert wt.periods_on(date(2026, 3, 14)) == ()  # an ordinary Saturday
    assert not wt.is_working(datetime(2026, 3, 3, 10, tzinfo=sh))
    assert wt.is_working(datetime(2026, 3, 7, 10, tzinfo=sh))
    assert not wt.is_working(datetime(2026, 3, 7, 12, 30, tzinfo=sh))
    # Monday 16:00 + 2 h: 1 h Monday, Tuesday off, 1 h Wednesday
    assert wt.add(datetime(2026, 3, 2, 16, tzinfo=sh), timedelta(hours=2)) == datetime(
        2026, 3, 4, 10, tzinfo=sh
    )


def test_a_make_up_weekday_keeps_its_own_hours() -> None:
    weekly = (((9 * H, 10 * H),),) + (((9 * H, 17 * H),),) * 4 + ((), ())
    wt = WorkingTime(
        weekly=weekly,
        makeup_periods=((8 * H, 9 * H),),
        special_days=lambda year: (frozenset(), frozenset({date(2026, 3, 4)})),
    )
    assert wt.periods_on(date(2026, 3, 4)) == ((9 * H, 17 * H),)


def test_special_days_are_asked_once_per_year() -> None:
    asked: list[int] = []

    def special_days(year: int) -> DayKinds:
        asked.append(year)
        return frozenset(), frozenset()

    wt = WorkingTime(weekly=(((9 * H, 17 * H),),) * 7, special_days=special_days)
    wt.between(datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    wt.add(datetime(2025, 12, 1, tzinfo=UTC), timedelta(days=10))
    assert asked == [2025, 2026]


# ---------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------

OFFICE = WorkingTime(weekly=((((9 * H, 17 * H),),) * 5) + ((), ()))
ALWAYS = WorkingTime(always=True)
NAIVE = datetime(2026, 3, 2, 10)
AWARE = datetime(2026, 3, 2, 10, tzinfo=UTC)


@pytest.mark.parametrize("wt", [OFFICE, ALWAYS], ids=["business", "24x7"])
def test_naive_datetimes_are_refused(wt: WorkingTime) -> None:
    with pytest.raises(CalendarError, match="naive"):
        wt.add(NAIVE, timedelta(hours=1))
    with pytest.raises(CalendarError, match="naive"):
        wt.between(NAIVE, AWARE)
    with pytest.raises(CalendarError, match="naive"):
        wt.between(AWARE, NAIVE)
    with pytest.raises(CalendarError, match="naive"):
        wt.is_working(NAIVE)
    with pytest.raises(CalendarError, match="naive"):
        wt.next_working_instant(NAIVE)


@pytest.mark.parametrize("wt", [OFFICE, ALWAYS], ids=["business", "24x7"])
def test_a_negative_duration_is_refused(wt: WorkingTime) -> None:
    with pytest.raises(CalendarError, match="negative"):
        wt.add(AWARE, -US)


def test_calendar_error_is_a_value_error() -> None:
    assert issubclass(CalendarError, ValueError)


def test_a_business_calendar_needs_working_time() -> None:
    with pytest.raises(CalendarError, match="at least one weekday"):
        WorkingTime(weekly=((),) * 7)
    # only make-up hours is not enough either
    with pytest.raises(CalendarError):
        WorkingTime(weekly=((),) * 7, makeup_periods=((9 * H, 17 * H),))
    WorkingTime(always=True)  # 24×7 needs no weekly hours


def test_weekly_needs_seven_days() -> None:
    with pytest.raises(CalendarError, match="7 entries"):
        WorkingTime(weekly=(((9 * H, 17 * H),),) * 6)


@pytest.mark.parametrize(
    "periods",
    [
        ((9 * H, 12 * H), (11 * H, 13 * H)),  # overlapping
        ((11 * H, 13 * H), (9 * H, 12 * H)),  # overlapping, given out of order
        ((9 * H, 17 * H), (10 * H, 11 * H)),  # one inside the other
        ((12 * H, 9 * H),),  # inverted
        ((9 * H, 9 * H),),  # empty
        ((-60, H),),  # before midnight
        ((23 * H, DAY_SECONDS + 1),),  # after the next midnight
    ],
)
def test_bad_periods_are_refused(periods: tuple[Period, ...]) -> None:
    with pytest.raises(CalendarError):
        WorkingTime(weekly=(periods,) + (((9 * H, 17 * H),),) * 6)
    with pytest.raises(CalendarError):
        WorkingTime(weekly=(((9 * H, 17 * H),),) * 7, makeup_periods=periods)


def test_touching_periods_and_a_whole_day_are_fine() -> None:
    WorkingTime(weekly=(((0, 12 * H), (12 * H, DAY_SECONDS)),) * 7)
    WorkingTime(weekly=(((0, DAY_SECONDS),),) * 7)


def test_a_calendar_whose_days_are_all_holidays_cannot_give_a_due_time() -> None:
    def every_day(year: int) -> DayKinds:
        first = date(year, 1, 1)
        days = (first + timedelta(days=n) for n in range(366))
        return frozenset(d for d in days if d.year == year), frozenset()

    wt = WorkingTime(weekly=(((9 * H, 17 * H),),) * 7, special_days=every_day)
    with pytest.raises(CalendarError, match="no working time"):
        wt.add(AWARE, timedelta(hours=1))
    with pytest.raises(CalendarError):
        wt.add(AWARE, ZERO)
    assert wt.between(AWARE, AWARE + timedelta(days=30)) == ZERO
    assert not wt.is_working(AWARE)
