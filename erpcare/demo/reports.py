"""The demo's measurements: its history rolled up for the dashboards, and last month's
service report drafted for every customer, as the worker would have done."""

from __future__ import annotations

from datetime import datetime

from erpcare.reports.monthly_service import draft_due_reports
from erpcare.reports.rollups import local_today, roll_up_range
from erpcare.tickets.models import Ticket


def seed_reports(organization_ids: list[int], now: datetime) -> dict[str, int]:
    first = (
        Ticket.objects.filter(organization_id__in=organization_ids)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    rows = 0
    if first is not None:
        rows = roll_up_range(local_today(first), local_today(now), now=now)
    drafts = draft_due_reports(now)
    return {"rollup_rows": rows, "reports_drafted": drafts["drafted"]}
