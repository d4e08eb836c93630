"""Dashboards: the service (manager) dashboard, an agent's own, operations, and a
customer's in the portal. A page is a frame of filters and empty widgets; each widget
loads itself through htmx (and refreshes every minute) from ``widget``, which reads the
rollups or a few indexed live queries (``dashboards``). Anybody not allowed gets 404."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from erpcare.audit.services import record
from erpcare.core.errors import ActionError
from erpcare.core.exports import check_format, table_response
from erpcare.reports import dashboards, kpis
from erpcare.reports.forms import DashboardFilterForm
from erpcare.reports.permissions import (
    can_see_agent_dashboard,
    can_see_customer_dashboard,
    can_see_operations_dashboard,
    can_see_service_dashboard,
)
from erpcare.reports.rollups import local_today
from erpcare.tickets.views.common import current_user, render_htmx, view_for

service_view = view_for(can_see_service_dashboard)
agent_view = view_for(can_see_agent_dashboard)
operations_view = view_for(can_see_operations_dashboard)
customer_view = view_for(can_see_customer_dashboard)

WIDGETS = ("tiles", "trend", "sla", "modules", "customers", "breaches")
REFRESH_SECONDS = 60
LABELS = {
    "tiles": _("Headline figures"),
    "trend": _("New, resolved and open tickets per day"),
    "sla": _("SLA met per day"),
    "modules": _("Top ERP modules"),
    "customers": _("Customers"),
    "breaches": _("SLA breached or at risk now"),
}


def _form(request: HttpRequest) -> DashboardFilterForm:
    data = request.GET if request.GET else None
    return DashboardFilterForm(data, user=current_user(request), today=local_today())


@service_view
@require_GET
def service(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    status = 400 if form.is_bound and not form.is_valid() else 200
    query = request.GET.urlencode()
    context = {
        "form": form,
        "widgets": WIDGETS,
        "query": query,
        "refresh": REFRESH_SECONDS,
        "time_zone": settings.TIME_ZONE,
    }
    return render(request, "reports/dashboards/service.html", context, status=status)


@service_view
@require_GET
def widget(request: HttpRequest, name: str) -> HttpResponse:
    if name not in WIDGETS:
        raise Http404
    form = _form(request)
    if form.is_bound and not form.is_valid():
        return render(request, "reports/dashboards/_invalid.html", {"form": form}, status=400)
    selection = form.selection()
    context: dict[str, object] = {"name": name, "selection": selection, "label": LABELS[name]}
    if name == "tiles":
        context["tiles"] = dashboards.tiles(selection)
    elif name == "trend":
        context["chart"] = dashboards.trend_chart(selection)
    elif name == "sla":
        context["chart"] = dashboards.sla_chart(selection)
    elif name == "modules":
        context["chart"] = dashboards.modules_chart(selection)
    elif name == "customers":
        context["rows"] = dashboards.customers_table(selection)
    else:
        context["tickets"] = dashboards.breaches(current_user(request), selection)
    return render(request, f"reports/dashboards/_{name}.html", context)


@service_view
@require_GET
def export(request: HttpRequest) -> HttpResponseBase:
    """The dashboard's figures as a table (one row per customer, then the total) in CSV or
    Excel, for the same filters; one audit entry."""
    form = _form(request)
    if form.is_bound and not form.is_valid():
        return render(request, "reports/dashboards/_invalid.html", {"form": form}, status=400)
    selection = form.selection()
    try:
        fmt = check_format(request.GET.get("format"))
    except ActionError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    header, rows = dashboards.kpi_table(selection)
    record(
        actor=current_user(request),
        action="reports.exported",
        target=None,
        data={"format": fmt, "filters": request.GET.dict(), "rows": len(rows)},
    )
    name = f"kpis-{selection.filters.first:%Y%m%d}-{selection.filters.last:%Y%m%d}"
    return table_response(fmt, name, header, rows, sheet=str(_("KPIs")))


@service_view
@require_GET
def glossary(request: HttpRequest) -> HttpResponse:
    """Every KPI's name and definition, as computed (``reports.kpis.DEFINITIONS``)."""
    context = {"definitions": kpis.DEFINITIONS, "time_zone": settings.TIME_ZONE}
    return render(request, "reports/dashboards/glossary.html", context)


@agent_view
@require_GET
def agent(request: HttpRequest) -> HttpResponse:
    summary = dashboards.agent_summary(current_user(request))
    context = {"summary": summary, "refresh": REFRESH_SECONDS}
    return render_htmx(
        request, "reports/dashboards/agent.html", "reports/dashboards/_agent.html", context
    )


@operations_view
@require_GET
def operations(request: HttpRequest) -> HttpResponse:
    summary = dashboards.operations_summary(current_user(request))
    context = {"summary": summary, "refresh": REFRESH_SECONDS}
    return render(request, "reports/dashboards/operations.html", context)


@customer_view
@require_GET
def customer(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    assert user.organization is not None  # checked by can_see_customer_dashboard
    summary = dashboards.customer_summary(user.organization)
    return render(request, "reports/dashboards/customer.html", {"summary": summary})
