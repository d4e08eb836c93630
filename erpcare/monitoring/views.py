"""Monitoring admin pages: integrations (with the one-time secret page and configuration
snippets), recent payloads, routing rules and the dry run, correlation rules, maintenance
windows, open alerts — and the alert panel on an incident's desk page.

The admin pages are for support managers and administrators; for anybody else they do not
exist (404). Views read forms and call ``admin_services``; an ActionError becomes the
form's error (or a message) and nothing changes. A secret travels to the browser only in
the one response that made it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from erpcare.core.crypto import mask
from erpcare.core.errors import ActionError
from erpcare.monitoring import admin_services as svc
from erpcare.monitoring.forms import (
    AlertFilterForm,
    CorrelationRuleForm,
    DryRunForm,
    IntegrationForm,
    MaintenanceWindowForm,
    RoutingRuleForm,
)
from erpcare.monitoring.models import (
    Alert,
    AlertPayload,
    AlertStatus,
    CorrelationRule,
    Integration,
    MaintenanceWindow,
    RoutingRule,
    SourceKind,
)
from erpcare.monitoring.permissions import can_manage_monitoring
from erpcare.tickets.views.common import (
    current_user,
    fetch_ticket,
    no_store,
    page_number,
    paginate,
    staff_view,
    view_for,
)

View = Callable[..., HttpResponseBase]
ZABBIX_MEDIA_TYPE = Path(__file__).parent / "sources" / "zabbix" / "media_type.yaml"
PANEL_LIMIT = 200


monitoring_admin_view = view_for(can_manage_monitoring)


# ---------------------------------------------------------------------------
# Integrations
# ---------------------------------------------------------------------------


@monitoring_admin_view
@require_GET
def integrations(request: HttpRequest) -> HttpResponse:
    context = {"rows": svc.integration_rows(), "health": svc.pipeline_health()}
    return render(request, "monitoring/integrations.html", context)


def _secret_page(request: HttpRequest, integration: Integration, secret: str) -> HttpResponse:
    """The one response that shows an integration's secret; nothing caches it."""
    context = {
        "integration": integration,
        "secret": secret,
        "endpoint": svc.endpoint_url(integration),
        "alertmanager": svc.alertmanager_snippet(integration, secret),
        "grafana": svc.grafana_snippet(integration, secret),
        "curl": svc.curl_example(integration, secret),
        "is_zabbix": integration.source == SourceKind.ZABBIX,
        "bearer": integration.auth_mode == "bearer",
    }
    return no_store(render(request, "monitoring/integration_secret.html", context))


def _integration_values(data: dict[str, Any]) -> dict[str, Any]:
    return {
        key: data[key]
        for key in (
            "name", "auth_mode", "organization", "erp_instance", "team", "on_resolve",
            "flap_window_minutes", "field_mapping",
        )
    }  # fmt: skip


@monitoring_admin_view
def integration_new(request: HttpRequest) -> HttpResponse:
    form = IntegrationForm(request.POST or None, initial={"flap_window_minutes": 30})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                integration, secret = svc.create_integration(
                    current_user(request),
                    source=form.cleaned_data["source"],
                    **_integration_values(form.cleaned_data),
                )
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                return _secret_page(request, integration, secret)
    return render(
        request,
        "monitoring/integration.html",
        {"form": form, "integration": None},
        status=status,
    )


@monitoring_admin_view
def integration_edit(request: HttpRequest, integration_id: int) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=integration_id)
    status = 200
    if request.method == "POST":
        form = IntegrationForm(request.POST, editing=True)
        status = 400
        if form.is_valid():
            try:
                svc.update_integration(
                    current_user(request), integration, **_integration_values(form.cleaned_data)
                )
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(request, _("“%(name)s” saved.") % {"name": integration.name})
                return redirect("monitoring:integration", integration_id=integration.pk)
    else:
        form = IntegrationForm(
            editing=True,
            initial={
                "name": integration.name,
                "auth_mode": integration.auth_mode,
                "organization": integration.organization_id,
                "erp_instance": integration.erp_instance_id,
                "team": integration.team_id,
                "on_resolve": integration.on_resolve,
                "flap_window_minutes": integration.flap_window_minutes,
                "field_mapping": svc.format_mapping(integration.field_mapping),
            },
        )
    payloads = list(
        AlertPayload.objects.filter(integration=integration).defer("body").order_by("-id")[:50]
    )
    context = {
        "form": form,
        "integration": integration,
        "endpoint": svc.endpoint_url(integration),
        "secret_hint": mask(integration.secret),
        "payloads": payloads,
    }
    return no_store(render(request, "monitoring/integration.html", context, status=status))


@monitoring_admin_view
@require_POST
def integration_rotate(request: HttpRequest, integration_id: int) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=integration_id)
    integration, secret = svc.rotate_secret(current_user(request), integration)
    return _secret_page(request, integration, secret)


@monitoring_admin_view
@require_POST
def integration_active(request: HttpRequest, integration_id: int) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=integration_id)
    active = request.POST.get("active") == "1"
    svc.set_integration_active(current_user(request), integration, active=active)
    if active:
        messages.success(
            request, _("“%(name)s” accepts alerts again.") % {"name": integration.name}
        )
    else:
        messages.success(request, _("“%(name)s” is deactivated.") % {"name": integration.name})
    return redirect("monitoring:integration", integration_id=integration.pk)


@monitoring_admin_view
@require_GET
def payload_detail(request: HttpRequest, integration_id: int, payload_id: int) -> HttpResponse:
    payload = get_object_or_404(
        AlertPayload.objects.select_related("integration"),
        pk=payload_id,
        integration_id=integration_id,
    )
    return no_store(render(request, "monitoring/payload.html", {"payload": payload}))


@monitoring_admin_view
@require_POST
def payload_reprocess(request: HttpRequest, integration_id: int, payload_id: int) -> HttpResponse:
    payload = get_object_or_404(AlertPayload, pk=payload_id, integration_id=integration_id)
    try:
        done = svc.reprocess_payload(current_user(request), payload)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("The payload was processed again: %(state)s.") % {"state": done.get_state_display()},
        )
    return redirect("monitoring:integration", integration_id=integration_id)


@monitoring_admin_view
@require_GET
def zabbix_media_type(request: HttpRequest) -> HttpResponseBase:
    if not ZABBIX_MEDIA_TYPE.is_file():
        raise Http404
    return FileResponse(
        ZABBIX_MEDIA_TYPE.open("rb"),
        as_attachment=True,
        filename="erpcare_zabbix_media_type.yaml",
        content_type="application/yaml",
    )


# ---------------------------------------------------------------------------
# Routing rules and the dry run
# ---------------------------------------------------------------------------


@monitoring_admin_view
@require_GET
def routing_rules(request: HttpRequest) -> HttpResponse:
    rows = RoutingRule.objects.select_related(
        "integration", "set_organization", "set_erp_instance", "set_team"
    ).order_by("position", "id")
    return render(request, "monitoring/routing_rules.html", {"rules": rows})


def _routing_initial(rule: RoutingRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "position": rule.position,
        "is_active": rule.is_active,
        "integration": rule.integration_id,
        "matchers": svc.format_matchers(rule.matchers),
        "set_organization": rule.set_organization_id,
        "set_erp_instance": rule.set_erp_instance_id,
        "instance_label": rule.instance_label,
        "set_module": rule.set_module,
        "set_priority": "" if rule.set_priority is None else str(rule.set_priority),
        "severity_map": svc.format_severity_map(rule.severity_map),
        "set_team": rule.set_team_id,
        "set_tier": "" if rule.set_tier is None else str(rule.set_tier),
        "month_end_days": rule.month_end_days,
        "month_end_modules": ", ".join(rule.month_end_modules or []),
        "stop": rule.stop,
    }


@monitoring_admin_view
def routing_rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    rule = get_object_or_404(RoutingRule, pk=rule_id) if rule_id is not None else None
    status = 200
    if request.method == "POST":
        form = RoutingRuleForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                saved = svc.save_routing_rule(current_user(request), rule, **form.cleaned_data)
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
                return redirect("monitoring:routing_rules")
    elif rule is not None:
        form = RoutingRuleForm(initial=_routing_initial(rule))
    else:
        form = RoutingRuleForm(initial={"position": 100, "is_active": True, "month_end_days": 0})
    return render(
        request, "monitoring/routing_rule.html", {"form": form, "rule": rule}, status=status
    )


@monitoring_admin_view
@require_POST
def routing_rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(RoutingRule, pk=rule_id)
    svc.delete_routing_rule(current_user(request), rule)
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("monitoring:routing_rules")


@monitoring_admin_view
def dry_run(request: HttpRequest) -> HttpResponse:
    form = DryRunForm(request.POST or None)
    result = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                result = svc.dry_run(
                    current_user(request),
                    form.cleaned_data["integration"],
                    form.cleaned_data["body"].encode("utf-8"),
                )
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                status = 400 if result.error else 200
    return render(
        request, "monitoring/dry_run.html", {"form": form, "result": result}, status=status
    )


# ---------------------------------------------------------------------------
# Correlation rules
# ---------------------------------------------------------------------------


@monitoring_admin_view
@require_GET
def correlation_rules(request: HttpRequest) -> HttpResponse:
    rows = CorrelationRule.objects.order_by("position", "id")
    return render(request, "monitoring/correlation_rules.html", {"rules": rows})


@monitoring_admin_view
def correlation_rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    rule = get_object_or_404(CorrelationRule, pk=rule_id) if rule_id is not None else None
    status = 200
    if request.method == "POST":
        form = CorrelationRuleForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                saved = svc.save_correlation_rule(current_user(request), rule, **form.cleaned_data)
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
                return redirect("monitoring:correlation_rules")
    elif rule is not None:
        form = CorrelationRuleForm(
            initial={
                "name": rule.name,
                "position": rule.position,
                "is_active": rule.is_active,
                "kind": rule.kind,
                "group_by": ", ".join(rule.group_by or []),
                "window_minutes": rule.window_minutes,
                "parent_matchers": svc.format_matchers(rule.parent_matchers),
                "child_matchers": svc.format_matchers(rule.child_matchers),
            }
        )
    else:
        form = CorrelationRuleForm(initial={"position": 100, "is_active": True})
    return render(
        request, "monitoring/correlation_rule.html", {"form": form, "rule": rule}, status=status
    )


@monitoring_admin_view
@require_POST
def correlation_rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(CorrelationRule, pk=rule_id)
    svc.delete_correlation_rule(current_user(request), rule)
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("monitoring:correlation_rules")


# ---------------------------------------------------------------------------
# Maintenance windows
# ---------------------------------------------------------------------------


@monitoring_admin_view
@require_GET
def windows(request: HttpRequest) -> HttpResponse:
    rows = (
        MaintenanceWindow.objects.select_related("organization")
        .prefetch_related("erp_instances")
        .order_by("-starts_at", "id")
    )
    page = paginate(rows, page_number(request))
    return render(request, "monitoring/windows.html", {"page": page, "now": timezone.now()})


@monitoring_admin_view
def window_edit(request: HttpRequest, window_id: int | None = None) -> HttpResponse:
    window = get_object_or_404(MaintenanceWindow, pk=window_id) if window_id is not None else None
    status = 200
    if request.method == "POST":
        form = MaintenanceWindowForm(request.POST)
        status = 400
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["erp_instances"] = list(data["erp_instances"])
            data["duration_minutes"] = data.get("duration_minutes") or 0
            try:
                saved = svc.save_maintenance_window(current_user(request), window, **data)
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(request, _("“%(name)s” saved.") % {"name": saved.name})
                return redirect("monitoring:windows")
    elif window is not None:
        form = MaintenanceWindowForm(
            initial={
                "name": window.name,
                "organization": window.organization_id,
                "erp_instances": [i.pk for i in window.erp_instances.all()],
                "starts_at": timezone.localtime(window.starts_at).strftime("%Y-%m-%dT%H:%M"),
                "ends_at": timezone.localtime(window.ends_at).strftime("%Y-%m-%dT%H:%M"),
                "cron": window.cron,
                "duration_minutes": window.duration_minutes,
                "time_zone": window.time_zone,
                "reason": window.reason,
                "is_active": window.is_active,
            }
        )
    else:
        form = MaintenanceWindowForm(
            initial={"is_active": True, "time_zone": timezone.get_current_timezone_name()}
        )
    return render(
        request, "monitoring/window.html", {"form": form, "window": window}, status=status
    )


@monitoring_admin_view
@require_POST
def window_end(request: HttpRequest, window_id: int) -> HttpResponse:
    window = get_object_or_404(MaintenanceWindow, pk=window_id)
    try:
        svc.end_maintenance_window(current_user(request), window)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("“%(name)s” is ended.") % {"name": window.name})
    return redirect("monitoring:windows")


# ---------------------------------------------------------------------------
# Alerts
# ---------------------------------------------------------------------------


def _filtered_alerts(form: AlertFilterForm) -> QuerySet[Alert]:
    rows = Alert.objects.select_related("integration", "organization", "erp_instance", "incident")
    data = form.cleaned_data if form.is_valid() else {}
    status = data.get("status")
    if status:
        rows = rows.filter(status=status)
    else:
        rows = rows.exclude(status=AlertStatus.RESOLVED)
    if data.get("organization"):
        rows = rows.filter(organization=data["organization"])
    if data.get("integration"):
        rows = rows.filter(integration=data["integration"])
    return rows.defer("description", "annotations", "integration__secret").order_by(
        "-last_seen_at", "-id"
    )


@monitoring_admin_view
@require_GET
def alerts(request: HttpRequest) -> HttpResponse:
    form = AlertFilterForm(request.GET or None)
    page = paginate(_filtered_alerts(form), page_number(request))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "monitoring/alerts.html", {"form": form, "page": page, "query": query.urlencode()}
    )


# ---------------------------------------------------------------------------
# The incident's alerts on the desk ticket page
# ---------------------------------------------------------------------------


@staff_view
@require_GET
def ticket_alerts(request: HttpRequest, number: str) -> HttpResponse:
    """The alerts of an incident, for staff who can see the ticket (the ticket's own
    scoping: 404 for a ticket they cannot see). Polled by the panel every 15 s."""
    ticket = fetch_ticket(request, number)
    rows = list(
        Alert.objects.filter(incident=ticket)
        .defer("description", "annotations")
        .order_by("status", "-last_seen_at", "-id")[: PANEL_LIMIT + 1]
    )
    context = {
        "ticket": ticket,
        "alerts": rows[:PANEL_LIMIT],
        "more": len(rows) > PANEL_LIMIT,
        "firing": sum(1 for a in rows if a.status != AlertStatus.RESOLVED),
    }
    response = render(request, "monitoring/_ticket_alerts_body.html", context)
    response["Cache-Control"] = "no-store"
    return response
