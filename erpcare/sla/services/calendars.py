"""Business calendars: validation, editing, and the cached WorkingTime for arithmetic."""

from __future__ import annotations

import re
import threading
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, available_timezones

from django.db import transaction
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.audit.services import record
from erpcare.core.errors import ActionError
from erpcare.sla import holiday_sources
from erpcare.sla.models import BusinessCalendar, CalendarDay, WorkingPeriod
from erpcare.sla.services.permissions import require_sla_admin
from erpcare.sla.worktime import DAY_SECONDS, CalendarError, DayKinds, Period, WorkingTime

Kind = BusinessCalendar.Kind
WEEKDAYS = range(7)

# One WorkingTime per calendar and process, rebuilt when the calendar's updated_at moves
# (every edit below touches it). Built objects cache their days, so a warm evaluator does
# no calendar queries at all.
_cache: dict[int, tuple[datetime, WorkingTime]] = {}
_cache_lock = threading.Lock()


def working_time(calendar: BusinessCalendar) -> WorkingTime:
    with _cache_lock:
        hit = _cache.get(calendar.pk)
    if hit is not None and hit[0] == calendar.updated_at:
        return hit[1]
    built = build_working_time(
        calendar,
        list(calendar.periods.all()),
        {d.date: d.is_working for d in calendar.days.all()},
    )
    with _cache_lock:
        _cache[calendar.pk] = (calendar.updated_at, built)
    return built


def build_working_time(
    calendar: BusinessCalendar,
    periods: list[WorkingPeriod],
    overrides: dict[date, bool],
) -> WorkingTime:
    if calendar.kind == Kind.ALWAYS:
        return WorkingTime(tz=ZoneInfo(calendar.time_zone), always=True)
    weekly: list[list[Period]] = [[] for _ in WEEKDAYS]
    for period in periods:
        weekly[period.weekday].append(_period_seconds(period.starts, period.ends))
    for day in weekly:
        day.sort()
    country, subdivision = calendar.holiday_country, calendar.holiday_subdivision

    def special_days(year: int) -> DayKinds:
        holidays, workdays = holiday_sources.special_days(country, subdivision, year)
        extra_off = {d for d, working in overrides.items() if d.year == year and not working}
        extra_on = {d for d, working in overrides.items() if d.year == year and working}
        return (
            frozenset((holidays - extra_on) | extra_off),
            frozenset((workdays - extra_off) | extra_on),
        )

    makeup = weekly[calendar.makeup_weekday] or next((d for d in weekly if d), [])
    return WorkingTime(
        tz=ZoneInfo(calendar.time_zone),
        weekly=[tuple(d) for d in weekly],
        makeup_periods=tuple(makeup),
        special_days=special_days,
    )


def _period_seconds(starts: time, ends: time) -> Period:
    start = starts.hour * 3600 + starts.minute * 60
    end = ends.hour * 3600 + ends.minute * 60
    if end == 0:
        end = DAY_SECONDS  # "until 00:00" means until midnight
    return start, end


# ---------------------------------------------------------------------------
# Working hours as text: "09:00-12:00, 13:30-18:00"
# ---------------------------------------------------------------------------

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~]\s*(\d{1,2}):(\d{2})\s*$")


def parse_hours(text: str) -> list[tuple[time, time]]:
    """Parse one day's hours; an empty text means no working time that day."""
    result: list[tuple[time, time]] = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;，]", text or ""))):
        match = _RANGE.match(part)
        if not match:
            raise ActionError(
                _("“%(text)s” is not a time range like 09:00-12:00.") % {"text": part}
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise ActionError(_("“%(text)s” is not a valid time.") % {"text": part})
        starts, ends = time(h1, m1), time(0 if h2 == 24 else h2, m2)
        result.append((starts, ends))
    seconds = sorted(_period_seconds(a, b) for a, b in result)
    previous_end = -1
    for start, end in seconds:
        if end <= start:
            raise ActionError(_("A working period must end after it starts."))
        if start < previous_end:
            raise ActionError(_("Working periods of one day must not overlap."))
        previous_end = end
    return sorted(result)


def format_hours(periods: list[WorkingPeriod], weekday: int) -> str:
    return ", ".join(
        f"{p.starts:%H:%M}-{'24:00' if p.ends == time(0) else format(p.ends, '%H:%M')}"
        for p in periods
        if p.weekday == weekday
    )


# ---------------------------------------------------------------------------
# Editing
# ---------------------------------------------------------------------------


def _validate(
    *,
    name: str,
    kind: str,
    time_zone: str,
    holiday_country: str,
    holiday_subdivision: str,
    makeup_weekday: int,
    hours: dict[int, list[tuple[time, time]]],
    exclude_pk: int | None = None,
) -> str:
    name = (name or "").strip()
    if not name:
        raise ActionError(_("Name is required."))
    if len(name) > 120:
        raise ActionError(_("Name is too long (at most 120 characters)."))
    same_name = BusinessCalendar.objects.filter(name=name)
    if exclude_pk is not None:
        same_name = same_name.exclude(pk=exclude_pk)
    if same_name.exists():
        raise ActionError(_("A calendar with this name exists already."))
    if kind not in Kind.values:
        raise ActionError(_("Unknown calendar kind."))
    if time_zone not in available_timezones():
        raise ActionError(_("Unknown time zone: %(zone)s.") % {"zone": time_zone})
    problem = holiday_sources.validate_country(holiday_country, holiday_subdivision)
    if problem:
        raise ActionError(_("Public holidays: %(problem)s.") % {"problem": problem})
    if makeup_weekday not in WEEKDAYS:
        raise ActionError(_("The make-up day weekday must be 0 (Monday) to 6 (Sunday)."))
    if set(hours) - set(WEEKDAYS):
        raise ActionError(_("Weekdays are 0 (Monday) to 6 (Sunday)."))
    if kind == Kind.BUSINESS and not any(hours.values()):
        raise ActionError(_("A working-hours calendar needs working time on at least one day."))
    return name


@transaction.atomic
def save_calendar(
    actor: User,
    calendar: BusinessCalendar | None = None,
    *,
    name: str,
    kind: str = Kind.BUSINESS,
    time_zone: str = "Asia/Shanghai",
    holiday_country: str = "",
    holiday_subdivision: str = "",
    makeup_weekday: int = 0,
    hours: dict[int, list[tuple[time, time]]] | None = None,
) -> BusinessCalendar:
    """Create (``calendar`` None) or replace a calendar and its weekly hours."""
    require_sla_admin(actor)
    hours = hours or {}
    holiday_country = (holiday_country or "").strip().upper()
    holiday_subdivision = (holiday_subdivision or "").strip().upper()
    name = _validate(
        name=name,
        kind=kind,
        time_zone=time_zone,
        holiday_country=holiday_country,
        holiday_subdivision=holiday_subdivision,
        makeup_weekday=makeup_weekday,
        hours=hours,
        exclude_pk=calendar.pk if calendar else None,
    )
    created = calendar is None
    calendar = calendar or BusinessCalendar()
    calendar.name, calendar.kind, calendar.time_zone = name, kind, time_zone
    calendar.holiday_country, calendar.holiday_subdivision = holiday_country, holiday_subdivision
    calendar.makeup_weekday = makeup_weekday
    calendar.save()
    calendar.periods.all().delete()
    WorkingPeriod.objects.bulk_create(
        WorkingPeriod(calendar=calendar, weekday=day, starts=a, ends=b)
        for day, ranges in sorted(hours.items())
        for a, b in ranges
    )
    try:  # the engine's own checks are the final word on a usable calendar
        build_working_time(calendar, list(calendar.periods.all()), {})
    except CalendarError as error:
        raise ActionError(str(error)) from error
    record(
        actor=actor,
        action="sla.calendar_created" if created else "sla.calendar_changed",
        target=calendar,
        data={"name": name, "kind": kind, "time_zone": time_zone, "country": holiday_country},
    )
    return calendar


@transaction.atomic
def set_calendar_day(
    actor: User, calendar: BusinessCalendar, *, day: date, is_working: bool, name: str = ""
) -> CalendarDay:
    """Declare a date a holiday or a working day, overriding the public-holiday source."""
    require_sla_admin(actor)
    name = (name or "").strip()
    if len(name) > 120:
        raise ActionError(_("Name is too long (at most 120 characters)."))
    entry, _created = CalendarDay.objects.update_or_create(
        calendar=calendar, date=day, defaults={"is_working": is_working, "name": name}
    )
    calendar.save(update_fields=["updated_at"])
    record(
        actor=actor,
        action="sla.calendar_day_set",
        target=calendar,
        data={"date": day.isoformat(), "working": is_working, "name": name},
    )
    return entry


@transaction.atomic
def remove_calendar_day(actor: User, calendar: BusinessCalendar, *, day: date) -> None:
    require_sla_admin(actor)
    deleted, _rows = CalendarDay.objects.filter(calendar=calendar, date=day).delete()
    if not deleted:
        raise ActionError(_("There is no override on this date."))
    calendar.save(update_fields=["updated_at"])
    record(
        actor=actor,
        action="sla.calendar_day_removed",
        target=calendar,
        data={"date": day.isoformat()},
    )


def year_overview(calendar: BusinessCalendar, year: int) -> list[tuple[date, str, str]]:
    """(date, "holiday" | "workday", name) for a year: source days plus overrides."""
    names = holiday_sources.names(calendar.holiday_country, calendar.holiday_subdivision, year)
    wt = working_time(calendar)
    days = sorted(set(names) | {d.date for d in calendar.days.filter(date__year=year)})
    overrides = {d.date: d.name for d in calendar.days.filter(date__year=year)}
    result = []
    for day in days:
        kind = wt.day_kind(day)
        if kind:
            result.append((day, kind, overrides.get(day) or names.get(day, "")))
    return result
