"""Backups pages under /desk/backups/: the overview of every plan's health, a plan with
its points and restore tests, a point with its restore tests, the plan form, "back up
now", "test restore now", restore for real, and the retention preview and prune.

Readers (L2/L3, managers, admins, auditors) see the plans of the ERP instances they can
see (ERPCare's own database: administrators); for anybody else, and for plans they
cannot see, the pages do not exist (404). Backing up and restore-testing now is for
L2/L3, managers and administrators; changing plans, pruning and restoring for real for
managers and administrators. Views read forms and call ``admin_services``; an
ActionError becomes the form's error (or a message) and nothing changes. The scratch
server password and the S3 secret key never travel back to the browser.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from erpcare.backups import admin_services as svc
from erpcare.backups.forms import PlanForm, RestoreForm
from erpcare.backups.models import BackupKind, BackupPlan, BackupPoint, PointStatus, RestoreTest
from erpcare.backups.permissions import (
    can_configure_backups,
    can_manage_own_database,
    can_read_backups,
    can_run_backups,
)
from erpcare.backups.services.health import plan_health
from erpcare.core.errors import ActionError, NotFound
from erpcare.customers.services import visible_erp_instances, visible_organizations
from erpcare.inspections.forms import OverviewFilterForm
from erpcare.tickets.views.common import current_user, no_store, page_number, paginate, view_for

read_view = view_for(can_read_backups)
configure_view = view_for(can_configure_backups)
run_view = view_for(can_run_backups)

TESTS_SHOWN = 20


def _plan(request: HttpRequest, plan_id: int) -> BackupPlan:
    try:
        return svc.plan_for(current_user(request), plan_id)
    except NotFound:
        raise Http404 from None


def _point(request: HttpRequest, point_id: int) -> BackupPoint:
    try:
        return svc.point_for(current_user(request), point_id)
    except NotFound:
        raise Http404 from None


# ---------------------------------------------------------------------------
# Overview
# ---------------------------------------------------------------------------


@read_view
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Every plan the reader can see with its health (``?customer=<code>`` for one
    customer's plans)."""
    user = current_user(request)
    form = OverviewFilterForm(request.GET or None, organizations=visible_organizations(user))
    plans = svc.plans_for(user)
    if form.is_valid() and form.cleaned_data.get("customer"):
        plans = plans.filter(erp_instance__organization=form.cleaned_data["customer"])
    plans = plans.select_related("erp_instance__organization").order_by(
        "erp_instance__organization__name", "erp_instance__name", "name", "id"
    )
    page = paginate(plans, page_number(request))
    page["rows"] = [plan_health(plan) for plan in page["rows"]]
    query = request.GET.copy()
    query.pop("page", None)
    status = 400 if form.is_bound and not form.is_valid() else 200
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "backups/overview.html", context, status=status)


# ---------------------------------------------------------------------------
# A plan and a point
# ---------------------------------------------------------------------------


def _tests_of(tests: Any) -> list[RestoreTest]:
    return list(
        tests.select_related("point", "requested_by").order_by("-started_at", "-id")[:TESTS_SHOWN]
    )


@read_view
@require_GET
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan(request, plan_id)
    points = plan.points.order_by("-started_at", "-id")
    context = {
        "plan": plan,
        "health": plan_health(plan),
        "page": paginate(points, page_number(request)),
        "tests": _tests_of(RestoreTest.objects.filter(point__plan=plan)),
        "tests_shown": TESTS_SHOWN,
        "restorable": plan.kind != BackupKind.EXTERNAL,
    }
    return no_store(render(request, "backups/plan.html", context))


def _point_page(
    request: HttpRequest, point: BackupPoint, form: RestoreForm | None, status: int = 200
) -> HttpResponse:
    plan = point.plan
    context = {
        "plan": plan,
        "point": point,
        "tests": _tests_of(point.restores.all()),
        "tests_shown": TESTS_SHOWN,
        "restorable": plan.kind != BackupKind.EXTERNAL and point.status == PointStatus.OK,
        "real_restore": plan.kind in (BackupKind.POSTGRESQL, BackupKind.SQLITE),
        "form": form,
    }
    return no_store(render(request, "backups/point.html", context, status=status))


@read_view
@require_GET
def point_detail(request: HttpRequest, point_id: int) -> HttpResponse:
    point = _point(request, point_id)
    form = RestoreForm() if can_configure_backups(current_user(request)) else None
    return _point_page(request, point, form)


# ---------------------------------------------------------------------------
# The plan form
# ---------------------------------------------------------------------------


def _plan_form(request: HttpRequest, data: Any = None, plan: BackupPlan | None = None) -> PlanForm:
    user = current_user(request)
    return PlanForm(
        data,
        initial=PlanForm.initial_for(plan) if plan is not None else None,
        instances=visible_erp_instances(user),
        sources=svc.sources_for(user),
        own_database=can_manage_own_database(user),
        editing=plan is not None,
        has_password=bool(plan is not None and plan.scratch_password),
        has_s3_secret=bool(plan is not None and plan.s3_secret_key),
    )


def _plan_form_page(
    request: HttpRequest, plan: BackupPlan | None, form: PlanForm, status: int = 200
) -> HttpResponse:
    context = {"plan": plan, "form": form}
    return no_store(render(request, "backups/plan_form.html", context, status=status))


@configure_view
def plan_new(request: HttpRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = _plan_form(request, request.POST if posted else None)
    status = 200
    if posted:
        status = 400
        if form.is_valid():
            try:
                plan = svc.create_plan(
                    current_user(request),
                    form.values(),
                    scratch_password=form.cleaned_data.get("scratch_password") or "",
                    s3_secret_key=form.cleaned_data.get("s3_secret_key") or "",
                )
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(request, _("“%(name)s” saved.") % {"name": plan.name})
                return redirect("backups:plan", plan_id=plan.pk)
    return _plan_form_page(request, None, form, status)


@configure_view
def plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan(request, plan_id)
    posted = request.method == "POST"
    form = _plan_form(request, request.POST if posted else None, plan)
    status = 200
    if posted:
        status = 400
        if form.is_valid():
            try:
                plan = svc.update_plan(
                    current_user(request),
                    plan,
                    form.values(),
                    scratch_password=form.cleaned_data.get("scratch_password") or "",
                    clear_scratch_password=bool(form.cleaned_data.get("clear_scratch_password")),
                    s3_secret_key=form.cleaned_data.get("s3_secret_key") or "",
                    clear_s3_secret_key=bool(form.cleaned_data.get("clear_s3_secret_key")),
                )
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(request, _("“%(name)s” saved.") % {"name": plan.name})
                return redirect("backups:plan", plan_id=plan.pk)
    return _plan_form_page(request, plan, form, status)


@configure_view
@require_POST
def plan_delete(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan(request, plan_id)
    svc.delete_plan(current_user(request), plan)
    messages.success(
        request,
        _("“%(name)s” is deleted; its backup files stay in %(directory)s.")
        % {"name": plan.name, "directory": plan.directory},
    )
    return redirect("backups:overview")


# ---------------------------------------------------------------------------
# Now: a backup, a restore test, a restore for real
# ---------------------------------------------------------------------------


@run_view
@require_POST
def backup_now(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan(request, plan_id)
    try:
        svc.queue_backup(current_user(request), plan)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The backup is queued; a worker makes it. Reload to see the new point.")
        )
    return redirect("backups:plan", plan_id=plan.pk)


@run_view
@require_POST
def restore_test_now(request: HttpRequest, point_id: int) -> HttpResponse:
    point = _point(request, point_id)
    try:
        svc.queue_restore_test(current_user(request), point)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("The restore test is queued; a worker runs it. Reload to see its result."),
        )
    return redirect("backups:point", point_id=point.pk)


@configure_view
@require_POST
def restore_for_real(request: HttpRequest, point_id: int) -> HttpResponse:
    point = _point(request, point_id)
    form = RestoreForm(request.POST)
    if not form.is_valid():
        return _point_page(request, point, form, status=400)
    try:
        svc.queue_restore_for_real(
            current_user(request),
            point,
            form.cleaned_data["target"],
            confirm=form.cleaned_data["confirm"],
        )
    except ActionError as exc:
        form.add_error(None, exc.message)
        return _point_page(request, point, form, status=exc.status_code)
    messages.success(
        request,
        _("The restore into %(target)s is queued; a worker runs it and records the outcome here.")
        % {"target": form.cleaned_data["target"].strip()},
    )
    return redirect("backups:point", point_id=point.pk)


# ---------------------------------------------------------------------------
# Retention
# ---------------------------------------------------------------------------


@read_view
def prune(request: HttpRequest, plan_id: int) -> HttpResponse:
    """GET: what the retention would remove now, with the reasons; POST: remove it."""
    user = current_user(request)
    plan = _plan(request, plan_id)
    if request.method == "POST":
        if not can_configure_backups(user):
            raise Http404
        try:
            outcome = svc.prune_now(user, plan)
        except ActionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("%(n)d backup point(s) removed by the retention policy.")
                % {"n": len(outcome.removed)},
            )
        return redirect("backups:plan", plan_id=plan.pk)
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    outcome = svc.prune_preview(user, plan)
    by_id = {p.pk: p for p in outcome.removed}
    rows = [(by_id[int(d.point.id)], d) for d in outcome.plan.delete if int(d.point.id) in by_id]
    context = {
        "plan": plan,
        "rows": rows,
        "kept": len(outcome.plan.keep),
        "can_prune": can_configure_backups(user) and plan.kind != BackupKind.EXTERNAL,
    }
    return no_store(render(request, "backups/prune.html", context))
