"""Change pages under /desk/changes/: the list with filters, a
change with its plans, approvals, warnings, timeline and workflow buttons, a new change,
the risk questionnaire, the edit and reschedule forms, the calendar (month or week) with
freeze periods, and the freeze period and standard change template pages (managers and
administrators write, the services refuse others with 403). Staff and
auditors see them (auditors without buttons); customers get 404 like every desk page. Each
button posts to one URL and calls one workflow service; an ActionError re-renders the page
with its message and status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from erpcare.accounts.models import User
from erpcare.changes.forms import (
    AssessmentForm,
    ChangeEditForm,
    ChangeForm,
    FreezeForm,
    RescheduleForm,
    TemplateForm,
)
from erpcare.changes.models import (
    FINISHED_STATES,
    Change,
    ChangeState,
    ChangeTemplate,
    ChangeType,
    FreezePeriod,
)
from erpcare.changes.services import admin, workflow
from erpcare.changes.services.calendar import calendar, day_range
from erpcare.core import clock
from erpcare.core.errors import ActionError, NotFound
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


def _change(request: HttpRequest, ref: str) -> Change:
    try:
        return workflow.get_change_for(current_user(request), ref)
    except NotFound:
        raise Http404 from None


def actions_for(user: User, change: Change) -> list[str]:
    """The workflow buttons the detail page offers (the services decide for real)."""
    if not user.is_support_staff:
        return []
    state, kind = change.state, change.type
    found: list[str] = []
    if state == ChangeState.DRAFT:
        found += ["schedule"] if kind == ChangeType.STANDARD else ["submit"]
        found += ["start"] if kind == ChangeType.EMERGENCY else []
    elif state == ChangeState.ASSESSMENT:
        found += ["request_approval"] + (["start"] if kind == ChangeType.EMERGENCY else [])
    elif state == ChangeState.APPROVAL:
        found += ["approve", "reject", "schedule"]
    elif state == ChangeState.SCHEDULED:
        found += ["start"]
    elif state == ChangeState.IN_PROGRESS:
        found += ["complete", "roll_back", "fail"]
    elif state in FINISHED_STATES:
        if kind == ChangeType.EMERGENCY and not workflow.is_approved(change):
            found += ["approve"]
        found += ["review"]
    if state in (
        ChangeState.DRAFT,
        ChangeState.ASSESSMENT,
        ChangeState.APPROVAL,
        ChangeState.SCHEDULED,
    ):
        found += ["cancel"]
    return found


ACTION_LABELS = {
    "submit": _lazy("Submit for assessment"),
    "request_approval": _lazy("Request approval"),
    "approve": _lazy("Approve"),
    "reject": _lazy("Reject"),
    "schedule": _lazy("Schedule"),
    "start": _lazy("Start"),
    "complete": _lazy("Complete"),
    "roll_back": _lazy("Rolled back"),
    "fail": _lazy("Failed"),
    "cancel": _lazy("Cancel change"),
    "review": _lazy("Record the review"),
}


def _detail(
    request: HttpRequest,
    change: Change,
    *,
    error: str = "",
    status: int = 200,
    reschedule_form: RescheduleForm | None = None,
) -> HttpResponse:
    user = current_user(request)
    retrospective = change.started_at is not None and change.type == ChangeType.EMERGENCY
    context = {
        "change": change,
        "instances": change.erp_instances.select_related("organization").order_by("name"),
        "approvals": change.approvals.select_related("approver").order_by("at", "id"),
        "events": change.events.select_related("actor").order_by("at", "id"),
        "needed": workflow.approvals_needed(change),
        "given": workflow.approvals_given(change, retrospective=retrospective),
        "patches": change.patch_records.select_related("erp_instance").order_by("-applied_at"),
        "actions": [(a, ACTION_LABELS[a]) for a in actions_for(user, change)],
        "can_assess": user.is_support_staff
        and change.type != ChangeType.STANDARD
        and change.state in (ChangeState.DRAFT, ChangeState.ASSESSMENT),
        "error": error,
        "posted": request.POST if request.method == "POST" else {},
        "can_edit": user.is_support_staff
        and change.state in (ChangeState.DRAFT, ChangeState.ASSESSMENT),
        "reschedule_form": (
            reschedule_form
            or RescheduleForm(
                initial={"planned_start": change.planned_start, "planned_end": change.planned_end}
            )
        )
        if user.is_support_staff and change.state == ChangeState.SCHEDULED
        else None,
    }
    return render(request, "changes/detail.html", context, status=status)


@staff_view
@require_GET
def change_detail(request: HttpRequest, ref: str) -> HttpResponse:
    return _detail(request, _change(request, ref))


@staff_view
@require_POST
def change_action(request: HttpRequest, ref: str) -> HttpResponse:
    """One workflow button: ``action`` plus ``note`` (the reason, comment or note) and, for
    the review, ``outcome`` and ``lessons``. An ActionError re-renders the page with it."""
    user = current_user(request)
    change = _change(request, ref)
    action = request.POST.get("action", "")
    note = request.POST.get("note", "")
    calls: dict[str, Any] = {
        "submit": lambda: workflow.submit_for_assessment(user, change),
        "request_approval": lambda: workflow.request_approval(user, change),
        "approve": lambda: workflow.approve_change(user, change, comment=note),
        "reject": lambda: workflow.reject_change(user, change, reason=note),
        "schedule": lambda: workflow.schedule_change(user, change),
        "start": lambda: workflow.start_change(user, change),
        "complete": lambda: workflow.complete_change(user, change, note=note),
        "roll_back": lambda: workflow.roll_back_change(user, change, note=note),
        "fail": lambda: workflow.fail_change(user, change, note=note),
        "cancel": lambda: workflow.cancel_change(user, change, reason=note),
        "review": lambda: workflow.review_change(
            user,
            change,
            outcome=request.POST.get("outcome", ""),
            lessons=request.POST.get("lessons", ""),
        ),
    }
    call = calls.get(action)
    if call is None:
        return _detail(
            request,
            change,
            error=_("Unknown action “%(action)s”.") % {"action": action},
            status=400,
        )
    try:
        call()
    except ActionError as exc:
        return _detail(
            request, Change.objects.get(pk=change.pk), error=exc.message, status=exc.status_code
        )
    messages.success(request, _("%(number)s: done.") % {"number": change.number})
    return redirect("changes:detail", ref=change.number)


@staff_view
def change_new(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    instances = ErpInstance.objects.filter(
        organization__in=visible_organizations(user), is_active=True
    )
    form = ChangeForm(request.POST or None, instances=instances)
    error, status = "", 200
    if request.method == "POST":
        if not user.is_support_staff:
            raise Http404
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["instances"] = list(data["instances"])
            if data["expected_downtime_minutes"] is None:
                data["expected_downtime_minutes"] = None if data["template"] else 0
            try:
                change = workflow.create_change(user, **data)
            except ActionError as exc:
                error, status = exc.message, exc.status_code
            else:
                return redirect("changes:detail", ref=change.number)
        else:
            status = 400
    return render(request, "changes/new.html", {"form": form, "error": error}, status=status)


@staff_view
def change_assess(request: HttpRequest, ref: str) -> HttpResponse:
    user = current_user(request)
    change = _change(request, ref)
    initial = change.risk_answers if isinstance(change.risk_answers, dict) else {}
    form = AssessmentForm(request.POST or None, initial=initial)
    error, status = "", 200
    if request.method == "POST":
        if not user.is_support_staff:
            raise Http404
        if form.is_valid():
            answers = {k: v for k, v in form.cleaned_data.items() if v}
            try:
                workflow.assess_change(user, change, answers)
            except ActionError as exc:
                error, status = exc.message, exc.status_code
            else:
                return redirect("changes:detail", ref=change.number)
        else:
            status = 400
    context = {"form": form, "change": change, "error": error}
    return render(request, "changes/assess.html", context, status=status)


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


def _visible_instances(user: User) -> Any:
    return ErpInstance.objects.filter(organization__in=visible_organizations(user), is_active=True)


@staff_view
def change_edit(request: HttpRequest, ref: str) -> HttpResponse:
    """Edit a change in draft or assessment through ``workflow.update_change``."""
    user = current_user(request)
    change = _change(request, ref)
    editable = change.state in (ChangeState.DRAFT, ChangeState.ASSESSMENT)
    initial = {name: getattr(change, name) for name in workflow.EDITABLE if name != "instances"}
    initial["instances"] = list(change.erp_instances.values_list("pk", flat=True))
    form = ChangeEditForm(request.POST or None, initial=initial, instances=_visible_instances(user))
    error, status = "", 200
    if not editable:
        error = _("Only a change in draft or assessment can be edited.")
    if request.method == "POST":
        if not user.is_support_staff:
            raise Http404
        if not editable:
            status = 409
        elif form.is_valid():
            data = dict(form.cleaned_data)
            data["instances"] = list(data["instances"])
            if data["expected_downtime_minutes"] is None:
                data["expected_downtime_minutes"] = 0
            try:
                workflow.update_change(user, change, **data)
            except ActionError as exc:
                error, status = exc.message, exc.status_code
            else:
                messages.success(request, _("%(number)s: saved.") % {"number": change.number})
                return redirect("changes:detail", ref=change.number)
        else:
            status = 400
    context = {"form": form, "change": change, "error": error, "editable": editable}
    return render(request, "changes/edit.html", context, status=status)


@staff_view
@require_POST
def change_reschedule(request: HttpRequest, ref: str) -> HttpResponse:
    """A scheduled change's new window; a blocking freeze or a bad window re-renders the
    change page with the error, warnings (overlaps, warning freezes) show on the page."""
    user = current_user(request)
    change = _change(request, ref)
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        return _detail(request, change, reschedule_form=form, status=400)
    try:
        workflow.reschedule_change(user, change, **form.cleaned_data)
    except ActionError as exc:
        return _detail(
            request,
            Change.objects.get(pk=change.pk),
            reschedule_form=form,
            error=exc.message,
            status=exc.status_code,
        )
    messages.success(request, _("%(number)s: rescheduled.") % {"number": change.number})
    return redirect("changes:detail", ref=change.number)


def _is_keeper(user: User) -> bool:
    return user.is_active and user.role_code in admin.KEEPERS


@staff_view
def freeze_list(request: HttpRequest) -> HttpResponse:
    """Current and future freeze periods of the customers the viewer sees (and those of
    every customer); managers and administrators add and end them."""
    user = current_user(request)
    visible = visible_organizations(user)
    form = FreezeForm(
        request.POST or None, organizations=visible, instances=_visible_instances(user)
    )
    error, status = "", 200
    if request.method == "POST":
        if not user.is_support_staff:
            raise Http404
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                admin.create_freeze_period(
                    user,
                    name=data["name"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    policy=data["policy"],
                    organization=data["organization"],
                    instances=list(data["instances"]),
                    reason=data["reason"],
                )
            except ActionError as exc:
                error, status = exc.message, exc.status_code
            else:
                messages.success(request, _("Freeze period added."))
                return redirect("changes:freezes")
        else:
            status = 400
    return _freezes(request, form=form, error=error, status=status)


def _freezes(request: HttpRequest, *, form: Any, error: str = "", status: int = 200) -> Any:
    user = current_user(request)
    visible = visible_organizations(user)
    freezes = (
        FreezePeriod.objects.filter(is_active=True, ends_at__gt=clock.now())
        .filter(Q(organization__isnull=True) | Q(organization__in=visible))
        .select_related("organization")
        .prefetch_related("erp_instances")
        .order_by("starts_at", "id")
    )
    context = {"freezes": freezes, "form": form, "error": error, "keeper": _is_keeper(user)}
    return render(request, "changes/freezes.html", context, status=status)


@staff_view
@require_POST
def freeze_end(request: HttpRequest, pk: int) -> HttpResponse:
    user = current_user(request)
    visible = visible_organizations(user)
    freeze = (
        FreezePeriod.objects.filter(Q(organization__isnull=True) | Q(organization__in=visible))
        .filter(pk=pk)
        .first()
    )
    if freeze is None:
        raise Http404
    try:
        admin.end_freeze_period(user, freeze)
    except ActionError as exc:
        form = FreezeForm(organizations=visible, instances=_visible_instances(user))
        return _freezes(request, form=form, error=exc.message, status=exc.status_code)
    messages.success(request, _("Freeze period “%(name)s” ended.") % {"name": freeze.name})
    return redirect("changes:freezes")


@staff_view
def template_list(request: HttpRequest) -> HttpResponse:
    """Standard change templates; managers and administrators add them."""
    user = current_user(request)
    form = TemplateForm(request.POST or None)
    error, status = "", 200
    if request.method == "POST":
        if not user.is_support_staff:
            raise Http404
        if form.is_valid():
            try:
                admin.create_template(user, **form.cleaned_data)
            except ActionError as exc:
                error, status = exc.message, exc.status_code
            else:
                messages.success(request, _("Template added."))
                return redirect("changes:templates")
        else:
            status = 400
    context = {
        "templates": ChangeTemplate.objects.order_by("-is_active", "name"),
        "form": form,
        "error": error,
        "keeper": _is_keeper(user),
    }
    return render(request, "changes/templates.html", context, status=status)
