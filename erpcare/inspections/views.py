"""Inspections pages: the overview of every ERP instance's latest rating, an instance's
assigned checks, data sources (with "test connection"), runs and report, the packs
(import, export, apply), the report mail subscriptions with their mailings' PDFs, and the
diagnosis panel on a desk ticket.

Readers (L2/L3, managers, admins, auditors) see the pages for the ERP instances they can
see; for anybody else, and for instances they cannot see, the pages do not exist (404).
Changing settings is for managers and administrators; running checks now for L2/L3 and
managers. Views read forms and call ``admin_services`` or the inspections services; an
ActionError becomes the form's error (or a message) and nothing changes. A data source's
password never travels back to the browser.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.core.files.storage import default_storage
from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from erpcare.accounts.models import User
from erpcare.core.errors import ActionError, NotFound
from erpcare.customers.models import ErpInstance
from erpcare.customers.services import visible_erp_instances, visible_organizations
from erpcare.inspections import admin_services as svc
from erpcare.inspections.forms import (
    ApplyPackForm,
    AssignmentForm,
    DataSourceForm,
    OverviewFilterForm,
    PackImportForm,
    ReportPeriodForm,
    SubscriptionForm,
)
from erpcare.inspections.models import (
    CheckPack,
    CheckResult,
    DataSource,
    InspectionRun,
    InstanceCheck,
    ReportSubscription,
    ResultStatus,
    RunStatus,
    Trigger,
)
from erpcare.inspections.permissions import (
    can_configure_inspections,
    can_read_inspections,
    can_run_inspections,
)
from erpcare.tickets.models.choices import Status
from erpcare.tickets.views.common import (
    current_user,
    fetch_ticket,
    no_store,
    page_number,
    paginate,
    render_htmx,
    view_for,
)

read_view = view_for(can_read_inspections)
configure_view = view_for(can_configure_inspections)
run_view = view_for(can_run_inspections)

FAILING = (ResultStatus.WARN, ResultStatus.CRITICAL, ResultStatus.ERROR, ResultStatus.TIMEOUT)
# A run has one result per assigned check; this bounds a page even for a huge pack.
MAX_RESULTS_SHOWN = 1000
POLL_SECONDS = 2
MAILINGS_SHOWN = 50


def _instance(request: HttpRequest, instance_id: int) -> ErpInstance:
    try:
        return svc.instance_for(current_user(request), instance_id)
    except NotFound:
        raise Http404 from None


def _source(request: HttpRequest, instance: ErpInstance, source_id: int) -> DataSource:
    return get_object_or_404(
        DataSource.objects.select_related("erp_instance__organization"),
        pk=source_id,
        erp_instance=instance,
    )


def _runs_of(user: User) -> QuerySet[InspectionRun]:
    return InspectionRun.objects.filter(erp_instance__in=visible_erp_instances(user))


# ---------------------------------------------------------------------------
# Overview
# ---------------------------------------------------------------------------


def overview_rows(instances: QuerySet[ErpInstance]) -> QuerySet[ErpInstance]:
    """Each instance with its latest finished run and its assigned checks' numbers, in
    one query (subqueries and aggregates, no query per row)."""
    latest = InspectionRun.objects.filter(
        erp_instance=OuterRef("pk"), status=RunStatus.DONE
    ).order_by("-created_at", "-id")
    active = Q(
        instance_checks__is_active=True,
        instance_checks__data_source__is_active=True,
        instance_checks__check_ref__is_active=True,
    )
    return (
        instances.select_related("organization")
        .annotate(
            latest_run_id=Subquery(latest.values("pk")[:1]),
            latest_rating=Subquery(latest.values("rating")[:1]),
            latest_run_at=Subquery(latest.values("finished_at")[:1]),
            checks_count=Count("instance_checks", filter=active),
            failing_count=Count(
                "instance_checks", filter=active & Q(instance_checks__last_status__in=FAILING)
            ),
            next_run_at=Min("instance_checks__next_run_at", filter=active),
        )
        .order_by("organization__name", "name", "id")
    )


@read_view
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    form = OverviewFilterForm(request.GET or None, organizations=visible_organizations(user))
    instances = visible_erp_instances(user)
    if form.is_valid() and form.cleaned_data.get("customer"):
        instances = instances.filter(organization=form.cleaned_data["customer"])
    page = paginate(overview_rows(instances), page_number(request))
    query = request.GET.copy()
    query.pop("page", None)
    status = 400 if form.is_bound and not form.is_valid() else 200
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "inspections/overview.html", context, status=status)


# ---------------------------------------------------------------------------
# An instance: its assigned checks
# ---------------------------------------------------------------------------


def _instance_context(instance: ErpInstance, active: str) -> dict[str, Any]:
    latest = (
        InspectionRun.objects.filter(erp_instance=instance)
        .order_by("-created_at", "-id")
        .only("id", "status", "rating", "created_at", "finished_at")
        .first()
    )
    return {"instance": instance, "active": active, "latest_run": latest}


@read_view
@require_GET
def instance_checks(request: HttpRequest, instance_id: int) -> HttpResponse:
    instance = _instance(request, instance_id)
    rows = list(
        InstanceCheck.objects.filter(erp_instance=instance)
        .select_related("check_ref__pack", "data_source")
        .order_by("check_ref__layer", "check_ref__code", "id")[:MAX_RESULTS_SHOWN]
    )
    context = _instance_context(instance, "checks")
    context["assignments"] = rows
    return render(request, "inspections/instance_checks.html", context)


@configure_view
def assignment_edit(request: HttpRequest, instance_id: int, assignment_id: int) -> HttpResponse:
    instance = _instance(request, instance_id)
    assignment = get_object_or_404(
        InstanceCheck.objects.select_related("check_ref__pack", "data_source", "erp_instance"),
        pk=assignment_id,
        erp_instance=instance,
    )
    status = 200
    if request.method == "POST":
        form = AssignmentForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                svc.update_assignment(
                    current_user(request),
                    assignment,
                    is_active=form.cleaned_data["is_active"],
                    schedule=form.cleaned_data["schedule"],
                )
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(
                    request, _("“%(name)s” saved.") % {"name": assignment.check_ref.name}
                )
                return redirect("inspections:instance", instance_id=instance.pk)
    else:
        form = AssignmentForm(
            initial={"is_active": assignment.is_active, "schedule": assignment.schedule}
        )
    context = _instance_context(instance, "checks")
    context.update({"form": form, "assignment": assignment})
    return render(request, "inspections/assignment.html", context, status=status)


# ---------------------------------------------------------------------------
# Data sources
# ---------------------------------------------------------------------------


@read_view
@require_GET
def sources(request: HttpRequest, instance_id: int) -> HttpResponse:
    instance = _instance(request, instance_id)
    rows = list(
        DataSource.objects.filter(erp_instance=instance)
        .annotate(checks_count=Count("assignments", filter=Q(assignments__is_active=True)))
        .defer("password")
        .order_by("name", "id")
    )
    context = _instance_context(instance, "sources")
    context["sources"] = rows
    return no_store(render(request, "inspections/sources.html", context))


def _source_page(
    request: HttpRequest,
    instance: ErpInstance,
    source: DataSource | None,
    form: DataSourceForm,
    status: int = 200,
) -> HttpResponse:
    context = _instance_context(instance, "sources")
    context.update({"form": form, "source": source})
    return no_store(render(request, "inspections/source.html", context, status=status))


@configure_view
def source_new(request: HttpRequest, instance_id: int) -> HttpResponse:
    instance = _instance(request, instance_id)
    form = DataSourceForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                source = svc.create_source(
                    current_user(request),
                    instance,
                    form.values(),
                    password=form.cleaned_data.get("password") or "",
                )
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(request, _("“%(name)s” saved.") % {"name": source.name})
                return redirect("inspections:source", instance_id=instance.pk, source_id=source.pk)
    return _source_page(request, instance, None, form, status)


@configure_view
def source_edit(request: HttpRequest, instance_id: int, source_id: int) -> HttpResponse:
    instance = _instance(request, instance_id)
    source = _source(request, instance, source_id)
    has_password = bool(source.password)
    status = 200
    if request.method == "POST":
        form = DataSourceForm(request.POST, editing=True, has_password=has_password)
        status = 400
        if form.is_valid():
            try:
                source = svc.update_source(
                    current_user(request),
                    source,
                    form.values(),
                    password=form.cleaned_data.get("password") or "",
                    clear_password=bool(form.cleaned_data.get("clear_password")),
                )
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(request, _("“%(name)s” saved.") % {"name": source.name})
                return redirect("inspections:source", instance_id=instance.pk, source_id=source.pk)
    else:
        form = DataSourceForm(
            initial=DataSourceForm.initial_for(source), editing=True, has_password=has_password
        )
    return _source_page(request, instance, source, form, status)


@configure_view
@require_POST
def source_test(request: HttpRequest, instance_id: int, source_id: int) -> HttpResponse:
    instance = _instance(request, instance_id)
    source = _source(request, instance, source_id)
    ok, message = svc.try_connection(current_user(request), source)
    if ok:
        messages.success(request, _("Connected: %(answer)s") % {"answer": message})
    else:
        messages.error(request, _("The connection failed: %(error)s") % {"error": message})
    return redirect("inspections:source", instance_id=instance.pk, source_id=source.pk)


@configure_view
@require_POST
def source_active(request: HttpRequest, instance_id: int, source_id: int) -> HttpResponse:
    instance = _instance(request, instance_id)
    source = _source(request, instance, source_id)
    active = request.POST.get("active") == "1"
    svc.set_source_active(current_user(request), source, active=active)
    if active:
        messages.success(request, _("“%(name)s” is active again.") % {"name": source.name})
    else:
        messages.success(
            request,
            _("“%(name)s” is deactivated: its checks do not run.") % {"name": source.name},
        )
    return redirect("inspections:source", instance_id=instance.pk, source_id=source.pk)


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------


@read_view
@require_GET
def runs(request: HttpRequest, instance_id: int) -> HttpResponse:
    instance = _instance(request, instance_id)
    rows = (
        InspectionRun.objects.filter(erp_instance=instance)
        .select_related("requested_by", "ticket")
        .annotate(
            results_count=Count("results"),
            failing_count=Count("results", filter=Q(results__status__in=FAILING)),
        )
        .order_by("-created_at", "-id")
    )
    context = _instance_context(instance, "runs")
    context["page"] = paginate(rows, page_number(request))
    return render(request, "inspections/runs.html", context)


@run_view
@require_POST
def run_now(request: HttpRequest, instance_id: int) -> HttpResponse:
    from erpcare.inspections.services.diagnosis import queue_run

    instance = _instance(request, instance_id)
    try:
        run = queue_run(current_user(request), instance)
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect("inspections:instance", instance_id=instance.pk)
    messages.success(request, _("The checks are queued; this page follows the run."))
    return redirect("inspections:run", run_id=run.pk)


def run_results(run: InspectionRun) -> list[CheckResult]:
    return list(
        run.results.select_related(
            "instance_check__check_ref__kb_article", "instance_check__data_source"
        ).order_by("instance_check__check_ref__layer", "instance_check__check_ref__code", "id")[
            :MAX_RESULTS_SHOWN
        ]
    )


@read_view
@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(
        _runs_of(current_user(request)).select_related(
            "erp_instance__organization", "requested_by", "ticket"
        ),
        pk=run_id,
    )
    results = run_results(run) if run.status in (RunStatus.DONE, RunStatus.RUNNING) else []
    pending = run.status in (RunStatus.QUEUED, RunStatus.RUNNING)
    duration = (
        (run.finished_at - run.started_at).total_seconds()
        if run.finished_at and run.started_at
        else None
    )
    context = {
        "instance": run.erp_instance,
        "active": "runs",
        "run": run,
        "results": results,
        "failing": sum(1 for r in results if r.status != ResultStatus.OK),
        "pending": pending,
        "duration": duration,
        "poll_seconds": POLL_SECONDS,
    }
    return render_htmx(request, "inspections/run.html", "inspections/_run_body.html", context)


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def _report_period(request: HttpRequest, instance: ErpInstance) -> tuple[Any, dict[str, Any]]:
    form = ReportPeriodForm(request.GET)
    context = _instance_context(instance, "report")
    context["form"] = form
    return form, context


@read_view
@require_GET
def report(request: HttpRequest, instance_id: int) -> HttpResponse:
    from erpcare.inspections.services.report import report_context

    instance = _instance(request, instance_id)
    form, context = _report_period(request, instance)
    if not form.is_valid():
        return render(request, "inspections/report.html", context, status=400)
    context.update(report_context(instance, form.cleaned_data["start"], form.cleaned_data["end"]))
    return render(request, "inspections/report.html", context)


@read_view
@require_GET
def report_pdf(request: HttpRequest, instance_id: int) -> HttpResponse:
    """The same report as a PDF download, in the reader's language and time zone."""
    from erpcare.core.pdf import PDF_CONTENT_TYPE, PdfUnavailable
    from erpcare.inspections.services import report as reports

    instance = _instance(request, instance_id)
    form, context = _report_period(request, instance)
    if not form.is_valid():
        return render(request, "inspections/report.html", context, status=400)
    start_day, end_day = form.cleaned_data["start"], form.cleaned_data["end"]
    try:
        pdf = reports.report_pdf(
            instance, start_day, end_day, language=translation.get_language() or "en"
        )
    except PdfUnavailable as exc:
        messages.error(request, exc.message)
        return render(request, "inspections/report.html", context, status=exc.status_code)
    response = HttpResponse(pdf, content_type=PDF_CONTENT_TYPE)
    filename = reports.report_filename(instance, start_day, end_day)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------------------
# Packs
# ---------------------------------------------------------------------------


@read_view
@require_GET
def packs(request: HttpRequest) -> HttpResponse:
    rows = CheckPack.objects.annotate(
        checks_count=Count("checks", filter=Q(checks__is_active=True))
    ).order_by("name", "id")
    return render(request, "inspections/packs.html", {"packs": rows})


def _apply_form(request: HttpRequest, data: Any = None) -> ApplyPackForm:
    sources = (
        DataSource.objects.filter(
            is_active=True, erp_instance__in=visible_erp_instances(current_user(request))
        )
        .select_related("erp_instance__organization")
        .defer("password")
        .order_by("erp_instance__organization__name", "erp_instance__name", "name")
    )
    return ApplyPackForm(data, sources=sources)


def _pack_page(
    request: HttpRequest, pack: CheckPack, form: ApplyPackForm | None, status: int = 200
) -> HttpResponse:
    checks = list(
        pack.checks.select_related("kb_article").order_by("-is_active", "layer", "code")[
            :MAX_RESULTS_SHOWN
        ]
    )
    context = {"pack": pack, "checks": checks, "form": form}
    return render(request, "inspections/pack.html", context, status=status)


@read_view
@require_GET
def pack_detail(request: HttpRequest, code: str) -> HttpResponse:
    pack = get_object_or_404(CheckPack, code=code)
    form = _apply_form(request) if can_configure_inspections(current_user(request)) else None
    return _pack_page(request, pack, form)


@configure_view
@require_POST
def pack_apply(request: HttpRequest, code: str) -> HttpResponse:
    from erpcare.inspections.services.assign import apply_pack

    pack = get_object_or_404(CheckPack, code=code)
    form = _apply_form(request, request.POST)
    if not form.is_valid():
        return _pack_page(request, pack, form, status=400)
    source = form.cleaned_data["source"]
    try:
        count = apply_pack(current_user(request), pack, source)
    except ActionError as exc:
        form.add_error(None, exc.message)
        return _pack_page(request, pack, form, status=exc.status_code)
    messages.success(
        request,
        _("%(n)d checks of “%(pack)s” are assigned to %(instance)s.")
        % {"n": count, "pack": pack.name, "instance": source.erp_instance.name},
    )
    return redirect("inspections:instance", instance_id=source.erp_instance_id)


@read_view
@require_GET
def pack_export(request: HttpRequest, code: str) -> HttpResponse:
    from erpcare.inspections.packs.loader import export_pack

    pack = get_object_or_404(CheckPack, code=code)
    response = HttpResponse(export_pack(pack), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{pack.code}.yaml"'
    return response


@configure_view
def pack_import(request: HttpRequest) -> HttpResponse:
    form = PackImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                pack = svc.import_pack_text(
                    current_user(request),
                    form.cleaned_data["yaml"],
                    origin=form.cleaned_data.get("origin") or "",
                )
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(
                    request,
                    _("“%(name)s” version %(version)s imported.")
                    % {"name": pack.name, "version": pack.version},
                )
                return redirect("inspections:pack", code=pack.code)
    return render(request, "inspections/pack_import.html", {"form": form}, status=status)


# ---------------------------------------------------------------------------
# Report mail: subscriptions, their mailings and the PDFs
# ---------------------------------------------------------------------------


def _subscription(request: HttpRequest, subscription_id: int) -> ReportSubscription:
    try:
        return svc.subscription_for(current_user(request), subscription_id)
    except NotFound:
        raise Http404 from None


def _subscription_form(
    request: HttpRequest, data: Any = None, subscription: ReportSubscription | None = None
) -> SubscriptionForm:
    user = current_user(request)
    return SubscriptionForm(
        data,
        initial=SubscriptionForm.initial_for(subscription) if subscription else None,
        organizations=visible_organizations(user),
        instances=visible_erp_instances(user),
        editing=subscription is not None,
    )


@read_view
@require_GET
def mail(request: HttpRequest) -> HttpResponse:
    """Every subscription of the customers the reader can see, the form to add one
    (configurers), and the latest mailings with their PDFs."""
    user = current_user(request)
    subscriptions = list(
        svc.subscriptions_for(user)
        .select_related("organization", "erp_instance")
        .order_by("organization__name", "frequency", "id")
    )
    mailings = list(
        svc.mailings_for(user)
        .select_related("subscription__organization", "subscription__erp_instance", "created_by")
        .order_by("-created_at", "-id")[:MAILINGS_SHOWN]
    )
    context = {
        "active": "mail",
        "subscriptions": subscriptions,
        "mailings": mailings,
        "mailings_shown": MAILINGS_SHOWN,
        "form": _subscription_form(request) if can_configure_inspections(user) else None,
    }
    return no_store(render(request, "inspections/mail.html", context))


def _subscription_page(
    request: HttpRequest,
    subscription: ReportSubscription | None,
    form: SubscriptionForm,
    status: int = 200,
) -> HttpResponse:
    context = {"active": "mail", "subscription": subscription, "form": form}
    return no_store(render(request, "inspections/subscription.html", context, status=status))


@configure_view
def subscription_new(request: HttpRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = _subscription_form(request, request.POST if posted else None)
    status = 200
    if posted:
        status = 400
        if form.is_valid():
            try:
                subscription = svc.create_subscription(current_user(request), form.values())
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(
                    request,
                    _("Report subscription for %(customer)s added: %(frequency)s.")
                    % {
                        "customer": subscription.organization.name,
                        "frequency": subscription.get_frequency_display(),
                    },
                )
                return redirect("inspections:mail")
    return _subscription_page(request, None, form, status)


@configure_view
def subscription_edit(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = _subscription(request, subscription_id)
    posted = request.method == "POST"
    form = _subscription_form(request, request.POST if posted else None, subscription)
    status = 200
    if posted:
        status = 400
        if form.is_valid():
            try:
                svc.update_subscription(current_user(request), subscription, form.values())
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(
                    request,
                    _("The report subscription of %(customer)s is saved.")
                    % {"customer": subscription.organization.name},
                )
                return redirect("inspections:mail")
    return _subscription_page(request, subscription, form, status)


@configure_view
@require_POST
def subscription_delete(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = _subscription(request, subscription_id)
    svc.delete_subscription(current_user(request), subscription)
    messages.success(
        request,
        _("The report subscription of %(customer)s is deleted.")
        % {"customer": subscription.organization.name},
    )
    return redirect("inspections:mail")


@configure_view
@require_POST
def subscription_send(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = _subscription(request, subscription_id)
    try:
        sent = svc.send_now(current_user(request), subscription)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("The report for %(start)s – %(end)s is queued for %(recipients)s.")
            % {
                "start": f"{sent.period_start:%Y-%m-%d}",
                "end": f"{sent.period_end:%Y-%m-%d}",
                "recipients": ", ".join(sent.recipients),
            },
        )
    return redirect("inspections:mail")


@read_view
@require_GET
def mailing_file(request: HttpRequest, mailing_id: int, index: int) -> FileResponse:
    """One PDF of a mailing, as it was sent; 404 for a customer the reader cannot see,
    an index out of range or a file no longer stored."""
    from erpcare.core.pdf import PDF_CONTENT_TYPE

    mailing = get_object_or_404(svc.mailings_for(current_user(request)), pk=mailing_id)
    files = mailing.files if isinstance(mailing.files, list) else []
    if index >= len(files) or not isinstance(files[index], dict):
        raise Http404
    item = files[index]
    name = item.get("storage_name")
    if not isinstance(name, str) or not name:
        raise Http404
    try:
        handle = default_storage.open(name, "rb")
    except (OSError, SuspiciousOperation):
        raise Http404 from None
    filename = item.get("filename")
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=filename if isinstance(filename, str) and filename else "report.pdf",
        content_type=PDF_CONTENT_TYPE,
    )
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------------------
# The diagnosis panel on a desk ticket
# ---------------------------------------------------------------------------


def _diagnosis_context(request: HttpRequest, number: str) -> dict[str, Any]:
    from erpcare.inspections.services.diagnosis import active_assignments

    ticket = fetch_ticket(request, number)
    user = current_user(request)
    instance = ticket.erp_instance
    visible = instance is not None and visible_erp_instances(user).filter(pk=instance.pk).exists()
    latest = None
    has_checks = False
    if instance is not None and visible:
        latest = (
            InspectionRun.objects.filter(ticket=ticket, trigger=Trigger.TICKET)
            .order_by("-created_at", "-id")
            .first()
        )
        has_checks = bool(active_assignments(instance))
    return {
        "ticket": ticket,
        "instance": instance if visible else None,
        "latest": latest,
        "can_run": has_checks and can_run_inspections(user) and ticket.status != Status.CLOSED,
        "has_checks": has_checks,
        "pending": latest is not None and latest.status in (RunStatus.QUEUED, RunStatus.RUNNING),
        "poll_seconds": POLL_SECONDS,
    }


@read_view
@require_GET
def ticket_diagnosis(request: HttpRequest, number: str) -> HttpResponse:
    """The panel's body, loaded after the ticket page (the ticket's own scoping: 404 for a
    ticket the reader cannot see); it polls itself while a diagnosis is pending."""
    context = _diagnosis_context(request, number)
    return no_store(render(request, "inspections/_ticket_diagnosis_body.html", context))


@run_view
@require_POST
def ticket_diagnose(request: HttpRequest, number: str) -> HttpResponse:
    from erpcare.inspections.services.diagnosis import diagnose

    ticket = fetch_ticket(request, number)
    error = ""
    try:
        diagnose(current_user(request), ticket)
    except ActionError as exc:
        error = exc.message
    if not getattr(request, "htmx", False):
        # Without htmx (no script): a message on the ticket page instead of the panel.
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("Diagnosis queued; its result is noted on the ticket."))
        return redirect("desk:ticket", number=ticket.number)
    context = _diagnosis_context(request, number)
    context["error"] = error
    status = 400 if error else 200
    return no_store(
        render(request, "inspections/_ticket_diagnosis_body.html", context, status=status)
    )
