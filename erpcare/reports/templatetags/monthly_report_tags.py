"""Filters for the monthly service report: a ratio or a duration, or "—" when there was
nothing to measure (never a zero), and the reason a KPI is not available."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template

from erpcare.reports.kpis import NotAvailable

register = template.Library()


@register.filter
def ratio_percent(ratio: Any) -> str:
    """``Ratio``/``Availability`` → "97.5 %"; "—" when nothing was counted."""
    percent = getattr(ratio, "percent", None)
    return "—" if percent is None else f"{percent:g} %"


@register.filter
def share_percent(value: float | None) -> str:
    """A share from 0 to 1 → "80 %"; "—" for None."""
    return "—" if value is None else f"{round(value * 100, 1):g} %"


@register.filter
def hours_text(value: timedelta | None) -> str:
    """A duration in hours with one decimal ("6.5 h"), minutes below an hour ("10 min")."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 3600:
        return f"{round(seconds / 60):d} min"
    return f"{seconds / 3600:.1f} h"


@register.filter
def not_available(value: Any) -> str:
    """The reason when ``value`` is ``kpis.NotAvailable``, else ""."""
    return str(value.reason) if isinstance(value, NotAvailable) else ""
