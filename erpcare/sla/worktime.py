"""Business-time arithmetic: pure Python, no database, exact to the microsecond.

A :class:`WorkingTime` knows when a calendar is "open": weekly working periods in a
time zone, minus holidays, plus make-up working days (调休). Every instant going in or
out is an aware datetime; results do not depend on the time zone of the argument, only
on the instant. Working periods are local wall-clock times, converted to UTC per day, so
a day on which daylight saving starts or ends is exactly one hour shorter or longer.

The two operations the SLA engine needs are inverse of each other::

    between(start, add(start, d)) == d
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# How far add() looks ahead before declaring the calendar has no working time. Ten years
# covers any real target; a calendar that needs more is misconfigured.
MAX_SEARCH_DAYS = 3660
DAY_SECONDS = 86_400
ZERO = timedelta(0)

Period = tuple[int, int]  # seconds from local midnight: [start, end), end may be 86_400
DayKinds = tuple[frozenset[date], frozenset[date]]  # (holidays, make-up working days)


class CalendarError(ValueError):
    """The calendar cannot answer (no working time in reach, bad period)."""


def no_special_days(year: int) -> DayKinds:
    return frozenset(), frozenset()


@dataclass
class WorkingTime:
    """When a calendar counts time.

    ``weekly[0]`` are Monday's periods … ``weekly[6]`` Sunday's. ``makeup_periods`` are
    the periods of a make-up working day (a weekend day worked instead of a holiday).
    ``special_days(year)`` answers (holidays, make-up days) for one year; it is asked
    once per year and per instance. ``always`` means 24×7: every instant counts.
    """

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    weekly: Sequence[Sequence[Period]] = ((),) * 7
    makeup_periods: Sequence[Period] = ()
    special_days: Callable[[int], DayKinds] = no_special_days
    always: bool = False
    _days: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _years: dict[int, DayKinds] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise CalendarError("weekly needs 7 entries, Monday first")
        for periods in (*self.weekly, self.makeup_periods):
            _check_periods(periods)
        if not self.always and not any(self.weekly):
            raise CalendarError("a business calendar needs working time on at least one weekday")

    # -- what a day looks like ---------------------------------------------------------

    def day_kind(self, day: date) -> str:
        """ "holiday", "workday" (make-up working day), or "" for an ordinary day."""
        holidays, workdays = self._year(day.year)
        if day in workdays:
            return "workday"
        if day in holidays:
            return "holiday"
        return ""

    def periods_on(self, day: date) -> Sequence[Period]:
        if self.always:
            return ((0, DAY_SECONDS),)
        kind = self.day_kind(day)
        if kind == "holiday":
            return ()
        if kind == "workday" and not self.weekly[day.weekday()]:
            return self.makeup_periods
        return self.weekly[day.weekday()]

    def intervals_on(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working intervals of a local date, as UTC instants, in order."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        midnight = datetime.combine(day, time(0))
        mapped = []
        for start, end in self.periods_on(day):
            a = _local_to_utc(midnight + timedelta(seconds=start), self.tz)
            b = _local_to_utc(midnight + timedelta(seconds=end), self.tz)
            if b > a:  # e.g. 02:00-03:00 on the day the clocks skip that hour has no length
                mapped.append((a, b))
        # A boundary in the spring gap maps forward by the gap, possibly onto another
        # period: 00:00-02:45 and 03:00-24:00 in Berlin overlap by 45 minutes that day.
        # Sort and merge, so the intervals are ordered and disjoint and no instant counts
        # twice.
        intervals: list[tuple[datetime, datetime]] = []
        for a, b in sorted(mapped):
            if intervals and a < intervals[-1][1]:
                intervals[-1] = (intervals[-1][0], max(intervals[-1][1], b))
            else:
                intervals.append((a, b))
        result = tuple(intervals)
        if len(self._days) > 20_000:  # bound memory in long-lived workers
            self._days.clear()
        self._days[day] = result
        return result

    def is_working(self, instant: datetime) -> bool:
        instant = _utc(instant)
        if self.always:
            return True
        day = instant.astimezone(self.tz).date()
        return any(a <= instant < b for a, b in self.intervals_on(day))

    # -- arithmetic ------------------------------------------------------------------

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant when ``duration`` of working time has passed since ``start``.

        The result always lies in working time (an interval's end counts as inside).
        ``add(start, 0)`` is the first working instant at or after ``start``.
        """
        if duration < ZERO:
            raise CalendarError("duration must not be negative")
        start = _utc(start)
        if self.always:
            return start + duration
        remaining = duration
        day = start.astimezone(self.tz).date()
        for _ in range(MAX_SEARCH_DAYS):
            for a, b in self.intervals_on(day):
                if b <= start:
                    continue
                begin = max(a, start)
                available = b - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += timedelta(days=1)
        raise CalendarError("no working time within ten years")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end``; negative when ``end`` is earlier."""
        start, end = _utc(start), _utc(end)
        if end < start:
            return -self.between(end, start)
        if self.always:
            return end - start
        total = ZERO
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            for a, b in self.intervals_on(day):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def next_working_instant(self, instant: datetime) -> datetime:
        return self.add(instant, ZERO)

    # -- internals ---------------------------------------------------------------------

    def _year(self, year: int) -> DayKinds:
        kinds = self._years.get(year)
        if kinds is None:
            kinds = self.special_days(year)
            self._years[year] = kinds
        return kinds


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise CalendarError("naive datetime: pass an aware instant")
    return instant.astimezone(UTC)


def _local_to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    # fold=0: an ambiguous wall time (autumn) is its first occurrence; a wall time in the
    # spring gap maps forward by the gap, so a period starting at 02:30 on that day starts
    # at 03:30. Both are what a person at a desk in that zone experiences.
    return local.replace(tzinfo=tz).astimezone(UTC)


def _check_periods(periods: Sequence[Period]) -> None:
    previous_end = -1
    for start, end in sorted(periods):
        if not (0 <= start < end <= DAY_SECONDS):
            raise CalendarError(f"bad working period {start}–{end}")
        if start < previous_end:
            raise CalendarError("working periods of one day overlap")
        previous_end = end
