"""Inspection helpers for templates: ``{% load inspection_tags %}``, then
``{% if user|can_read_inspections %}``, ``{{ run.rating|rating_badge }}``,
``{{ result.status|status_badge }}``, ``{% with table=result.findings|finding_table %}``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from django import template

from erpcare.accounts.models import User
from erpcare.inspections import permissions

register = template.Library()

# Shown rows of one result's findings; the result says how many there were in all.
FINDING_ROWS = 50

RATING_BADGES = {
    "green": "text-bg-success",
    "yellow": "text-bg-warning",
    "red": "text-bg-danger",
    "grey": "text-bg-secondary",
    "": "text-bg-secondary",
}
STATUS_BADGES = {
    "ok": "text-bg-success",
    "warn": "text-bg-warning",
    "critical": "text-bg-danger",
    "error": "text-bg-dark",
    "timeout": "text-bg-dark",
    "queued": "text-bg-secondary",
    "running": "text-bg-info",
    "done": "text-bg-light border",
    "failed": "text-bg-danger",
    "high": "text-bg-warning",
    "warning": "text-bg-info",
    "info": "text-bg-light border",
}


def _user(value: Any) -> User | None:
    return value if isinstance(value, User) and value.is_authenticated else None


@register.filter
def can_read_inspections(user: Any) -> bool:
    found = _user(user)
    return found is not None and permissions.can_read_inspections(found)


@register.filter
def can_run_inspections(user: Any) -> bool:
    found = _user(user)
    return found is not None and permissions.can_run_inspections(found)


@register.filter
def can_configure_inspections(user: Any) -> bool:
    found = _user(user)
    return found is not None and permissions.can_configure_inspections(found)


@register.filter
def rating_badge(value: str | None) -> str:
    return RATING_BADGES.get(value or "", "text-bg-secondary")


@register.filter
def status_badge(value: str | None) -> str:
    return STATUS_BADGES.get(value or "", "text-bg-secondary")


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, Mapping | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@register.filter
def finding_table(findings: Sequence[Any] | None) -> dict[str, Any]:
    """A result's findings as a table: the columns of every row (in first-seen order),
    at most FINDING_ROWS rows of text cells."""
    rows = [row for row in (findings or []) if isinstance(row, Mapping)]
    columns: list[str] = []
    for row in rows[:FINDING_ROWS]:
        for key in row:
            if str(key) not in columns:
                columns.append(str(key))
    cells = [[_cell(row.get(column)) for column in columns] for row in rows[:FINDING_ROWS]]
    return {"columns": columns, "rows": cells, "shown": len(cells)}


@register.filter
def number(value: float | None) -> str:
    """A check's value without a float's noise: 12, 12.5, 0.001."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}" if abs(value) < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")


@register.filter
def status_label(value: str | None) -> str:
    """A result status's translated name (for statuses held as plain strings)."""
    from erpcare.inspections.models import ResultStatus

    try:
        return str(ResultStatus(value or "").label)
    except ValueError:
        return "—"


@register.filter
def rating_label(value: str | None) -> str:
    from erpcare.inspections.models import Rating

    try:
        return str(Rating(value or "").label)
    except ValueError:
        return str(Rating.GREY.label)
