"""Who sees which survey responses: one scoping rule, like ``Ticket.objects.visible_to``.

Customers see their own organization's responses; managers, admins and auditors all;
agents the responses about tickets they can see, and the NPS answers of customers they
serve. Inactive and anonymous users see nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from erpcare.accounts.models import User
from erpcare.customers.services import visible_organizations
from erpcare.surveys.models import Response
from erpcare.tickets.models import Ticket


def visible_responses(user: Any) -> QuerySet[Response]:
    rows = Response.objects.all()
    if not isinstance(user, User) or not user.is_authenticated or not user.is_active:
        return rows.none()
    if user.is_customer:
        if user.organization_id is None:
            return rows.none()
        return rows.filter(organization_id=user.organization_id)
    if user.sees_all_tickets:
        return rows
    if not user.is_staff:
        return rows.none()
    tickets = Ticket.objects.visible_to(user).values("pk")
    return rows.filter(
        Q(ticket__in=tickets)
        | Q(ticket__isnull=True, organization__in=visible_organizations(user).values("pk"))
    )


def filter_responses(
    rows: QuerySet[Response],
    *,
    start: Any = None,
    end: Any = None,
    organization_id: int | None = None,
    kind: str | None = None,
    score: int | None = None,
    low: bool = False,
) -> QuerySet[Response]:
    """Narrow a scoped queryset: ``[start, end)`` on ``created_at`` (aware datetimes),
    one customer, one kind, one score, or only low ratings (CSAT 1–2, NPS 0–6)."""
    if start is not None:
        rows = rows.filter(created_at__gte=start)
    if end is not None:
        rows = rows.filter(created_at__lt=end)
    if organization_id is not None:
        rows = rows.filter(organization_id=organization_id)
    if kind:
        rows = rows.filter(kind=kind)
    if score is not None:
        rows = rows.filter(score=score)
    if low:
        rows = rows.filter(Q(kind="csat", score__lte=2) | Q(kind="nps", score__lte=6))
    return rows
