"""Reporting periods: whole local days, weeks or months in a time zone, as half-open UTC
ranges. A ticket created at 23:59:59 on 31 October in Shanghai (15:59:59 UTC) belongs to
October there, whatever the server's zone."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.utils.translation import gettext as _

from erpcare.core.errors import ActionError


class PeriodError(ActionError):
    pass


def zone(name: str | None = None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise PeriodError(_("Unknown time zone: %(zone)s") % {"zone": name}) from exc


@dataclass(frozen=True)
class Period:
    """``first`` to ``last`` (local dates, both included) in ``time_zone``."""

    first: date
    last: date
    time_zone: str

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise PeriodError(_("The period ends before it starts."))
        if (self.last - self.first).days > 3660:
            raise PeriodError(_("A period can cover at most ten years."))
        zone(self.time_zone)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zone(self.time_zone)

    @property
    def start(self) -> datetime:
        """The first instant of the period, in UTC."""
        return datetime.combine(self.first, time.min, self.tz).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period, in UTC (exclusive)."""
        return datetime.combine(self.last + timedelta(days=1), time.min, self.tz).astimezone(UTC)

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def clipped(self, now: datetime) -> datetime:
        """The period's end, or ``now`` when the period is still running."""
        return min(self.end, max(now, self.start))

    def previous(self) -> Period:
        """The period of the same length just before (a month before for a whole month)."""
        if self.first.day == 1 and (self.last + timedelta(days=1)).day == 1:
            last = self.first - timedelta(days=1)
            return Period(last.replace(day=1), last, self.time_zone)
        length = self.last - self.first + timedelta(days=1)
        return Period(self.first - length, self.first - timedelta(days=1), self.time_zone)

    @classmethod
    def month(cls, year: int, month: int, time_zone: str | None = None) -> Period:
        if not 1 <= month <= 12:
            raise PeriodError(_("A month is a number from 1 to 12."))
        first = date(year, month, 1)
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        return cls(first, nxt - timedelta(days=1), time_zone or settings.TIME_ZONE)

    @classmethod
    def parse_month(cls, text: str, time_zone: str | None = None) -> Period:
        """``2026-11`` → November 2026."""
        try:
            year, month = (int(part) for part in text.strip().split("-"))
        except ValueError as exc:
            raise PeriodError(
                _("Give the month as YYYY-MM, e.g. 2026-11 (got %(text)s).") % {"text": text}
            ) from exc
        return cls.month(year, month, time_zone)

    @classmethod
    def last_days(cls, days: int, today: date, time_zone: str | None = None) -> Period:
        if days < 1:
            raise PeriodError(_("A period has at least one day."))
        return cls(today - timedelta(days=days - 1), today, time_zone or settings.TIME_ZONE)
