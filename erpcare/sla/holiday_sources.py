"""Public-holiday sources for business calendars.

Mainland China ("CN") comes from ``chinese-calendar``, the maintained list of the State
Council's yearly schedule: statutory holidays *and* the make-up working days (调休) on
weekends. Every other country (and mainland China for years that library does not know
yet) comes from ``holidays``, which computes statutory holidays but cannot know
make-up days before they are announced — such years are reported by
:func:`coverage_gaps` so the admin can add the days as overrides.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays as holidays_lib
from chinese_calendar import constants as cn_constants

from erpcare.sla.worktime import DayKinds

CHINA = "CN"


@lru_cache(maxsize=1)
def _china_years() -> frozenset[int]:
    return frozenset(day.year for day in cn_constants.holidays)


def china_has_official_schedule(year: int) -> bool:
    return year in _china_years()


@lru_cache(maxsize=512)
def special_days(country: str, subdivision: str, year: int) -> DayKinds:
    """(holidays, make-up working days) of ``country`` in ``year``."""
    if not country:
        return frozenset(), frozenset()
    if country == CHINA and china_has_official_schedule(year):
        holidays = frozenset(d for d in cn_constants.holidays if d.year == year)
        workdays = frozenset(d for d in cn_constants.workdays if d.year == year)
        return holidays, workdays
    table = holidays_lib.country_holidays(country, subdiv=subdivision or None, years=year)
    return frozenset(table.keys()), frozenset()


def names(country: str, subdivision: str, year: int) -> dict[date, str]:
    """Holiday names for display (English; the admin page shows them as data)."""
    if not country:
        return {}
    if country == CHINA and china_has_official_schedule(year):
        result = {d: str(cn_constants.holidays[d]) for d in cn_constants.holidays if d.year == year}
        result.update(
            {d: "Make-up working day (调休)" for d in cn_constants.workdays if d.year == year}
        )
        return dict(sorted(result.items()))
    table = holidays_lib.country_holidays(country, subdiv=subdivision or None, years=year)
    return dict(sorted(table.items()))


def coverage_gaps(country: str, years: range) -> list[int]:
    """Years whose make-up working days are unknown (China only: announced each autumn)."""
    if country != CHINA:
        return []
    return [year for year in years if not china_has_official_schedule(year)]


def supported_countries() -> list[tuple[str, str]]:
    """(code, code) pairs of every country the holiday library knows, China first."""
    codes = sorted(holidays_lib.list_supported_countries())
    return [(CHINA, CHINA), *((code, code) for code in codes if code != CHINA)]


def validate_country(country: str, subdivision: str) -> str | None:
    """An error message, or None when the pair is usable."""
    if not country:
        return None if not subdivision else "subdivision without a country"
    supported = holidays_lib.list_supported_countries()
    if country not in supported:
        return f"unknown country code {country!r}"
    if subdivision and subdivision not in supported[country]:
        return f"unknown subdivision {subdivision!r} of {country}"
    return None
