"""A ticket list as a CSV or XLSX file: the desk queue, the portal list and the API.

The rows are the caller's ``filter_tickets`` queryset (so ``Ticket.objects.visible_to``
scopes every export), read as plain values in chunks while the file is written. Only
ticket columns are exported — never comments, so never an internal note; customers also
do not get the internal routing columns (team, assignee, tier), which the portal does not
show either. Each export writes one audit entry ``tickets.exported`` with the filters,
the format and the row count (counted before the file is written).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.db.models import QuerySet
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.audit.services import record
from erpcare.core import clock, exports
from erpcare.customers.models import ErpModule
from erpcare.tickets.models import (
    PRIORITY_SHORT,
    Category,
    Channel,
    SlaState,
    Status,
    Ticket,
    TicketType,
)
from erpcare.tickets.services.listing import TicketFilters

CHUNK_SIZE = 2000
STAFF_ONLY = frozenset({"team__name", "assignee__display_name", "tier"})


def _columns() -> list[tuple[str, str]]:
    """(field, column title) in file order, titles in the active language."""
    return [
        ("number", _("Number")),
        ("title", _("Title")),
        ("type", _("Type")),
        ("priority", _("Priority")),
        ("status", _("Status")),
        ("organization__name", _("Customer")),
        ("erp_instance__name", _("ERP instance")),
        ("module", _("ERP module")),
        ("category", _("Category")),
        ("channel", _("Channel")),
        ("team__name", _("Team")),
        ("assignee__display_name", _("Assignee")),
        ("tier", _("Support tier")),
        ("created_at", _("Created")),
        ("first_response_at", _("First response")),
        ("resolved_at", _("Resolved")),
        ("closed_at", _("Closed")),
        ("sla_state", _("SLA")),
        ("reopen_count", _("Reopened")),
    ]


def _labels(choices: Any) -> dict[Any, str]:
    # Resolved now, in the caller's language: a streamed body is written later.
    return {value: str(label) for value, label in choices}


def _rows(queryset: QuerySet[Ticket], fields: list[str]) -> Any:
    labels: dict[str, dict[Any, str]] = {
        "type": _labels(TicketType.choices),
        "priority": dict(PRIORITY_SHORT),
        "status": _labels(Status.choices),
        "module": _labels(ErpModule.choices),
        "category": _labels(Category.choices),
        "channel": _labels(Channel.choices),
        "sla_state": {**_labels(SlaState.choices), "": ""},
    }
    mapped = [(i, labels[name]) for i, name in enumerate(fields) if name in labels]
    for values in queryset.values_list(*fields).iterator(chunk_size=CHUNK_SIZE):
        row = list(values)
        for i, names in mapped:
            row[i] = names.get(row[i], row[i])
        yield row


def export_tickets(
    user: User,
    queryset: QuerySet[Ticket],
    filters: TicketFilters,
    fmt: str,
    *,
    extra: dict[str, Any] | None = None,
) -> HttpResponseBase:
    """The file of ``queryset`` (already scoped and filtered by ``filter_tickets`` for
    ``user``) in format ``fmt`` (``csv`` or ``xlsx``; anything else is a 400)."""
    fmt = exports.check_format(fmt)
    columns = _columns()
    if user.is_customer:
        columns = [(name, title) for name, title in columns if name not in STAFF_ONLY]
    fields = [name for name, _title in columns]
    count = queryset.count()
    used = {key: value for key, value in asdict(filters).items() if value not in (None, "")}
    record(
        actor=user,
        action="tickets.exported",
        data={"format": fmt, "filters": used, "rows": count, **(extra or {})},
    )
    stamp = timezone.localtime(clock.now()).strftime("%Y%m%d-%H%M")
    return exports.table_response(
        fmt,
        f"tickets-{stamp}",
        [title for _name, title in columns],
        _rows(queryset, fields),
        sheet=_("Tickets"),
    )
