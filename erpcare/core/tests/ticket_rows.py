"""Tickets written straight into the table (``bulk_create``) for the metrics and export
tests: thousands in a second, with exactly the columns a test names. Not the ticket
actions: these tests read tickets, they do not test how tickets come to be."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from erpcare.core import clock
from erpcare.customers.models import Organization
from erpcare.tickets.models import Ticket

_numbers = itertools.count(1)


def add_tickets(
    organization: Organization, count: int = 1, *, created_at: datetime | None = None, **fields: Any
) -> list[Ticket]:
    """``count`` tickets of ``organization`` with ``fields`` (status, priority, title …)."""
    now = created_at or clock.now()
    rows = []
    for _ in range(count):
        n = next(_numbers)
        values: dict[str, Any] = {
            "number": f"INC-2026-{n:06d}",
            "title": f"Ticket {n}",
            "organization": organization,
            "created_at": now,
            "updated_at": now,
            **fields,
        }
        if "{n}" in str(values["title"]):
            values["title"] = str(values["title"]).replace("{n}", str(n))
        rows.append(Ticket(**values))
    return Ticket.objects.bulk_create(rows, batch_size=1000)
