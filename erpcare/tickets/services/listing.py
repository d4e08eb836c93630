"""Filtering and ordering ticket lists, shared by the API and the agent workspace."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, OrderBy, Q
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.core.errors import ActionError
from erpcare.customers.models import ErpModule
from erpcare.tickets.models import (
    OPEN_STATUSES,
    Category,
    SlaState,
    Status,
    Ticket,
    TicketQuerySet,
    TicketType,
)

ORDERINGS: dict[str, tuple[str | OrderBy, ...]] = {
    "-created": ("-id",),
    "created": ("id",),
    "-updated": ("-updated_at", "-id"),
    "updated": ("updated_at", "id"),
    "priority": ("priority", "-id"),
    "-priority": ("-priority", "-id"),
    # The nearest SLA due time first; tickets without a running clock last, on every database.
    "sla_due": (F("sla_due_at").asc(nulls_last=True), "id"),
}
# The SLA states a list can be narrowed to ("" — no SLA — is not a filter value).
SLA_FILTER_STATES = [state for state in SlaState.values if state]
NUMBER_RE = re.compile(r"^[A-Za-z]{3}-\d{4}-\d{6}$")


@dataclass
class TicketFilters:
    status: str | None = None
    priority: str | None = None
    customer: str | None = None
    module: str | None = None
    category: str | None = None
    type: str | None = None
    team: str | None = None
    tier: int | None = None
    assignee: str | None = None
    q: str | None = None
    sla: str | None = None
    # Local days (YYYY-MM-DD, ERPCARE_TIME_ZONE, both included) — the dashboards' drill-down.
    created_from: str | None = None
    created_to: str | None = None
    ordering: str = "-created"

    @classmethod
    def from_mapping(cls, data: Any) -> TicketFilters:
        names = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for name in names:
            value = data.get(name)
            if value not in (None, ""):
                values[name] = value
        if "tier" in values:
            try:
                values["tier"] = int(values["tier"])
            except (TypeError, ValueError):
                raise ActionError(_("tier must be 1, 2 or 3.")) from None
        return cls(**values)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _check(values: list[str], allowed: Any, label: str) -> list[str]:
    for value in values:
        if value not in allowed:
            raise ActionError(
                _("%(value)s is not a valid %(field)s.") % {"value": value, "field": label}
            )
    return values


def _day_start(text: str) -> datetime:
    """Midnight of a local day in the service's time zone, as an aware datetime."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ActionError(
            _("Give dates as YYYY-MM-DD (got %(text)s).") % {"text": text[:40]}
        ) from None
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return datetime.combine(day, time.min, zone)


def filter_tickets(user: User, filters: TicketFilters) -> TicketQuerySet:
    """The visible tickets matching ``filters``; unknown filter values are errors."""
    for item in fields(filters):
        value = getattr(filters, item.name)
        if isinstance(value, str) and "\x00" in value:
            raise ActionError(_("Filters cannot contain NUL characters."))
    queryset = Ticket.objects.visible_to(user)
    if filters.status:
        statuses: set[str] = set()
        for value in _split(filters.status):
            if value == "open":
                statuses |= set(OPEN_STATUSES)
            else:
                statuses.add(_check([value], Status.values, _("status"))[0])
        queryset = queryset.filter(status__in=sorted(statuses))
    if filters.priority:
        levels = []
        for value in _split(filters.priority):
            key = value.upper().removeprefix("P")
            if key not in {"0", "1", "2", "3"}:
                raise ActionError(
                    _("%(value)s is not a valid %(field)s.")
                    % {"value": value, "field": _("priority")}
                )
            levels.append(int(key))
        queryset = queryset.filter(priority__in=levels)
    if filters.customer:
        queryset = queryset.filter(organization__code__in=_split(filters.customer))
    if filters.module:
        queryset = queryset.filter(
            module__in=_check(_split(filters.module), ErpModule.values, _("ERP module"))
        )
    if filters.category:
        queryset = queryset.filter(
            category__in=_check(_split(filters.category), Category.values, _("category"))
        )
    if filters.type:
        queryset = queryset.filter(
            type__in=_check(_split(filters.type), TicketType.values, _("type"))
        )
    if filters.team:
        queryset = queryset.filter(team__code__in=_split(filters.team))
    if filters.tier is not None:
        if filters.tier not in (1, 2, 3):
            raise ActionError(_("tier must be 1, 2 or 3."))
        queryset = queryset.filter(tier=filters.tier)
    if filters.assignee:
        if filters.assignee == "me":
            queryset = queryset.filter(assignee_id=user.pk)
        elif filters.assignee == "none":
            queryset = queryset.filter(assignee__isnull=True)
        else:
            queryset = queryset.filter(assignee__email__iexact=filters.assignee)
    if filters.sla:
        queryset = queryset.filter(
            sla_state__in=_check(_split(filters.sla), SLA_FILTER_STATES, _("SLA state"))
        )
    if filters.created_from:
        queryset = queryset.filter(created_at__gte=_day_start(filters.created_from))
    if filters.created_to:
        queryset = queryset.filter(
            created_at__lt=_day_start(filters.created_to) + timedelta(days=1)
        )
    if filters.q:
        text = filters.q.strip()
        if NUMBER_RE.match(text):
            queryset = queryset.filter(number=text.upper())
        elif text:
            queryset = queryset.filter(Q(title__icontains=text) | Q(number__icontains=text))
    if filters.ordering not in ORDERINGS:
        raise ActionError(
            _("ordering must be one of: %(values)s") % {"values": ", ".join(ORDERINGS)}
        )
    return queryset.order_by(*ORDERINGS[filters.ordering])
