"""Change pages under /desk/changes/ (read only in this step): the list with filters, a
change with its plans, approvals, warnings and timeline, and the calendar (month or week)
with freeze periods. Staff and auditors only; customers get 404 like every desk page.
Actions go through the API until the desk forms come."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from erpcare.changes.models import Change, ChangeState, FreezePeriod
from erpcare.changes.services import workflow
from erpcare.changes.services.calendar import calendar, day_range
from erpcare.core.errors import NotFound
from erpcare.customers.models import ErpInstance, Organization
from erpcare.customers.services import visible_organizations
from erpcare.tickets.views.common import current_user, page_number, paginate, staff_view


@staff_view
@require_GET
def change_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    changes = Change.objects.visible_to(user)
    state = request.GET.get("state", "")
    customer = request.GET.get("customer", "")
    error = ""
    if state:
        if state in ChangeState.values:
            changes = changes.filter(state=state)
        else:
            error = _("Unknown state “%(state)s”.") % {"state": state}
    if customer:
        changes = changes.filter(erp_instances__organization__code=customer)
    changes = (
        changes.distinct()
        .select_related("owner")
        .prefetch_related("erp_instances__organization")
        .order_by("-created_at", "-id")
    )
    context = {
        "page": paginate(changes, page_number(request)),
        "states": ChangeState.choices,
        "state": state,
        "customer": customer,
        "customers": visible_organizations(user).order_by("name"),
        "error": error,
    }
    return render(request, "changes/list.html", context, status=400 if error else 200)


@staff_view
@require_GET
def change_detail(request: HttpRequest, ref: str) -> HttpResponse:
    try:
        change = workflow.get_change_for(current_user(request), ref)
    except NotFound:
        raise Http404 from None
    retrospective = change.started_at is not None and change.type == "emergency"
    context = {
        "change": change,
        "instances": change.erp_instances.select_related("organization").order_by("name"),
        "approvals": change.approvals.select_related("approver").order_by("at", "id"),
        "events": change.events.select_related("actor").order_by("at", "id"),
        "needed": workflow.approvals_needed(change),
        "given": workflow.approvals_given(change, retrospective=retrospective),
        "patches": change.patch_records.select_related("erp_instance").order_by("-applied_at"),
    }
    return render(request, "changes/detail.html", context)


@dataclass
class Day:
    day: date
    in_range: bool
    changes: list[Change] = field(default_factory=list)
    freezes: list[FreezePeriod] = field(default_factory=list)


def _overlaps(start: datetime | None, end: datetime | None, lo: datetime, hi: datetime) -> bool:
    return start is not None and end is not None and start < hi and end > lo


@staff_view
@require_GET
def calendar_view(request: HttpRequest) -> HttpResponse:
    """``?view=month|week&date=YYYY-MM-DD&customer=<code>&instance=<id>``: days are the
    service's local days; a month view runs Monday to Sunday around the month."""
    user = current_user(request)
    mode = request.GET.get("view", "month")
    raw_date = request.GET.get("date", "")
    errors: list[str] = []
    if mode not in ("month", "week"):
        errors.append(_("The view is “month” or “week”."))
        mode = "month"
    today = timezone.localdate(timezone.now(), timezone.get_default_timezone())
    try:
        anchor = date.fromisoformat(raw_date) if raw_date else today
    except ValueError:
        errors.append(_("“%(date)s” is not a date (YYYY-MM-DD).") % {"date": raw_date})
        anchor = today
    organization: Organization | None = None
    instance: ErpInstance | None = None
    visible = visible_organizations(user)
    if request.GET.get("instance"):
        try:
            instance = ErpInstance.objects.select_related("organization").get(
                pk=int(request.GET["instance"]), organization__in=visible
            )
        except (ValueError, ErpInstance.DoesNotExist):
            errors.append(_("No such ERP instance."))
    elif request.GET.get("customer"):
        organization = visible.filter(code=request.GET["customer"]).first()
        if organization is None:
            errors.append(_("No such customer."))
    if mode == "month":
        first_of_month = anchor.replace(day=1)
        next_month = (first_of_month + timedelta(days=32)).replace(day=1)
        first = first_of_month - timedelta(days=first_of_month.weekday())
        last_of_month = next_month - timedelta(days=1)
        last = last_of_month + timedelta(days=6 - last_of_month.weekday())
        previous = (first_of_month - timedelta(days=1)).replace(day=1)
        following = next_month
        in_range = lambda d: d.month == anchor.month  # noqa: E731
    else:
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
        previous, following = first - timedelta(days=7), first + timedelta(days=7)
        in_range = lambda d: True  # noqa: E731
    data = calendar(user, first, last, organization=organization, instance=instance)
    days: list[Day] = []
    current = first
    while current <= last:
        lo, hi = day_range(current, current)
        days.append(
            Day(
                day=current,
                in_range=in_range(current),
                changes=[
                    c for c in data.changes if _overlaps(c.planned_start, c.planned_end, lo, hi)
                ],
                freezes=[f for f in data.freezes if _overlaps(f.starts_at, f.ends_at, lo, hi)],
            )
        )
        current += timedelta(days=1)
    weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
    query = {k: v for k, v in request.GET.items() if k in ("customer", "instance") and v}
    context: dict[str, Any] = {
        "mode": mode,
        "anchor": anchor,
        "weeks": weeks,
        "data": data,
        "previous": previous,
        "following": following,
        "today": today,
        "errors": errors,
        "organization": organization,
        "instance": instance,
        "customers": visible.order_by("name"),
        "filter_query": "&".join(f"{k}={v}" for k, v in query.items()),
    }
    return render(request, "changes/calendar.html", context, status=400 if errors else 200)
