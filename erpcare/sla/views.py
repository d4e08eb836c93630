"""SLA pages of the agent workspace: a ticket's explained clocks, and the settings.

The explain panel is for staff (the desk's own rule, ``staff_view``) and goes through
``fetch_ticket``, so a ticket the user cannot see is a 404. The settings pages are for
support managers and administrators (``can_manage_sla``); other staff get 403, customers
404 (the desk does not exist for them). Every change goes through one service function;
an ActionError is shown as the form's error and nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from erpcare.core import clock
from erpcare.core.errors import ActionError
from erpcare.sla import holiday_sources
from erpcare.sla.forms import (
    WEEKDAY_NAMES,
    CalendarDayForm,
    CalendarForm,
    PolicyForm,
    PreviewForm,
    StepFormSet,
    hours_field_name,
)
from erpcare.sla.models import BusinessCalendar, EscalationStep, SlaPolicy
from erpcare.sla.services import calendars, policies
from erpcare.sla.services.explain import explain, preview
from erpcare.sla.services.permissions import can_manage_sla
from erpcare.tickets.views.common import current_user, fetch_ticket, render_htmx, staff_view

View = Callable[..., HttpResponseBase]


def sla_admin_view(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = current_user(request)
        if not user.is_staff:
            raise Http404
        if not can_manage_sla(user):
            raise PermissionDenied(
                _("Only support managers and administrators can change SLA settings.")
            )
        return view(request, *args, **kwargs)

    return wrapper


# ---------------------------------------------------------------------------
# A ticket's clocks, explained
# ---------------------------------------------------------------------------


@staff_view
@require_GET
def ticket_explain(request: HttpRequest, number: str) -> HttpResponse:
    ticket = fetch_ticket(request, number)
    context = {
        "ticket": ticket,
        "info": explain(ticket),
        "now": clock.now(),
        "can_manage_sla": can_manage_sla(current_user(request)),
    }
    return render_htmx(request, "sla/explain_page.html", "sla/partials/explain.html", context)


# ---------------------------------------------------------------------------
# Settings: overview
# ---------------------------------------------------------------------------


@sla_admin_view
@require_GET
def settings_index(request: HttpRequest) -> HttpResponse:
    calendar_rows = []
    for calendar in BusinessCalendar.objects.prefetch_related("periods"):
        periods = list(calendar.periods.all())
        calendar_rows.append(
            {
                "calendar": calendar,
                "hours": [
                    (WEEKDAY_NAMES[day], calendars.format_hours(periods, day)) for day in range(7)
                ],
            }
        )
    policy_rows = SlaPolicy.objects.select_related("calendar", "contract__organization").annotate(
        step_count=Count("steps")
    )
    return render(
        request,
        "sla/settings.html",
        {"calendars": calendar_rows, "policies": list(policy_rows)},
    )


# ---------------------------------------------------------------------------
# Calendars
# ---------------------------------------------------------------------------


def _calendar_initial(calendar: BusinessCalendar) -> dict[str, Any]:
    periods = list(calendar.periods.all())
    initial: dict[str, Any] = {
        "name": calendar.name,
        "kind": calendar.kind,
        "time_zone": calendar.time_zone,
        "holiday_country": calendar.holiday_country,
        "holiday_subdivision": calendar.holiday_subdivision,
        "makeup_weekday": calendar.makeup_weekday,
    }
    for day in range(7):
        initial[hours_field_name(day)] = calendars.format_hours(periods, day)
    return initial


def _render_calendar(
    request: HttpRequest,
    calendar: BusinessCalendar | None,
    form: CalendarForm,
    *,
    day_form: CalendarDayForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "calendar": calendar,
        "form": form,
        "day_form": day_form or CalendarDayForm(),
    }
    if calendar is not None:
        this_year = timezone.localdate().year
        years = range(this_year, this_year + 2)
        overrides = {day.date: day for day in calendar.days.all()}
        context["overrides"] = list(overrides.values())
        if calendar.kind == BusinessCalendar.Kind.BUSINESS:
            context["years"] = [
                {
                    "year": year,
                    "days": [
                        {"date": d, "kind": kind, "name": name, "override": d in overrides}
                        for d, kind, name in calendars.year_overview(calendar, year)
                    ],
                }
                for year in years
            ]
            context["coverage_gaps"] = holiday_sources.coverage_gaps(
                calendar.holiday_country, years
            )
    return render(request, "sla/calendar_form.html", context, status=status)


def _save_calendar(request: HttpRequest, calendar: BusinessCalendar | None) -> HttpResponse:
    form = CalendarForm(request.POST)
    if not form.is_valid():
        return _render_calendar(request, calendar, form, status=400)
    data = form.cleaned_data
    try:
        saved = calendars.save_calendar(
            current_user(request),
            calendar,
            name=data["name"],
            kind=data["kind"],
            time_zone=data["time_zone"],
            holiday_country=data["holiday_country"],
            holiday_subdivision=data["holiday_subdivision"],
            makeup_weekday=data["makeup_weekday"],
            hours=data["hours"],
        )
    except ActionError as exc:
        form.add_error(None, exc.message)
        fresh = BusinessCalendar.objects.get(pk=calendar.pk) if calendar else None
        return _render_calendar(request, fresh, form, status=exc.status_code)
    messages.success(request, _("Calendar “%(name)s” saved.") % {"name": saved.name})
    return redirect("sla:calendar", calendar_id=saved.pk)


@sla_admin_view
def calendar_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save_calendar(request, None)
    form = CalendarForm(
        initial={
            "kind": BusinessCalendar.Kind.BUSINESS,
            "time_zone": current_user(request).time_zone or "Asia/Shanghai",
            "holiday_country": holiday_sources.CHINA,
            "makeup_weekday": 0,
            **{hours_field_name(day): "09:00-12:00, 13:30-18:00" for day in range(5)},
        }
    )
    return _render_calendar(request, None, form)


@sla_admin_view
def calendar_edit(request: HttpRequest, calendar_id: int) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id)
    if request.method == "POST":
        return _save_calendar(request, calendar)
    return _render_calendar(request, calendar, CalendarForm(initial=_calendar_initial(calendar)))


@sla_admin_view
@require_POST
def calendar_day_set(request: HttpRequest, calendar_id: int) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id)
    day_form = CalendarDayForm(request.POST)
    status = 400
    if day_form.is_valid():
        data = day_form.cleaned_data
        try:
            calendars.set_calendar_day(
                current_user(request),
                calendar,
                day=data["date"],
                is_working=data["is_working"],
                name=data["name"],
            )
        except ActionError as exc:
            day_form.add_error(None, exc.message)
            status = exc.status_code
        else:
            messages.success(request, _("%(date)s saved.") % {"date": data["date"].isoformat()})
            return redirect("sla:calendar", calendar_id=calendar.pk)
    form = CalendarForm(initial=_calendar_initial(calendar))
    return _render_calendar(request, calendar, form, day_form=day_form, status=status)


@sla_admin_view
@require_POST
def calendar_day_remove(request: HttpRequest, calendar_id: int, day: str) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise Http404 from None
    try:
        calendars.remove_calendar_day(current_user(request), calendar, day=when)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The override of %(date)s was removed.") % {"date": day})
    return redirect("sla:calendar", calendar_id=calendar.pk)


# ---------------------------------------------------------------------------
# Policies
# ---------------------------------------------------------------------------


def _policy_initial(policy: SlaPolicy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "priority": policy.priority,
        "service_level": policy.service_level,
        "contract": policy.contract_id,
        "response_minutes": policy.response_minutes,
        "resolution_minutes": policy.resolution_minutes,
        "calendar": policy.calendar_id,
        "warning_percent": policy.warning_percent,
        "pause_when_waiting_customer": policy.pause_when_waiting_customer,
        "pause_when_waiting_vendor": policy.pause_when_waiting_vendor,
    }


def _steps_initial(policy: SlaPolicy) -> list[dict[str, Any]]:
    return [
        {
            "metric": step.metric,
            "percent": step.percent,
            "notify_assignee": step.notify_assignee,
            "notify_team_lead": step.notify_team_lead,
            "notify_managers": step.notify_managers,
            "notify_account_manager": step.notify_account_manager,
            "raise_tier": step.raise_tier,
            "raise_priority": step.raise_priority,
        }
        for step in EscalationStep.objects.filter(policy=policy).order_by("-metric", "percent")
    ]


def _policy_context(
    policy: SlaPolicy | None,
    form: PolicyForm | None,
    steps: Any,
    *,
    preview_form: PreviewForm | None = None,
    result: Any = None,
) -> dict[str, Any]:
    return {
        "policy": policy,
        "form": form,
        "steps": steps,
        "preview_form": preview_form or PreviewForm(),
        "result": result,
        "intervals": _intervals(result),
    }


def _intervals(result: Any) -> list[dict[str, Any]]:
    """The preview's working intervals with their length and the running total."""
    if result is None:
        return []
    rows, total = [], timedelta(0)
    for starts, ends in result.working_days:
        total += ends - starts
        rows.append({"starts": starts, "ends": ends, "length": ends - starts, "total": total})
    return rows


def _get_policy(policy_id: int) -> SlaPolicy:
    return get_object_or_404(
        SlaPolicy.objects.select_related("calendar", "contract__organization"), pk=policy_id
    )


def _save_policy(request: HttpRequest, policy: SlaPolicy | None) -> HttpResponse:
    form = PolicyForm(request.POST)
    steps = StepFormSet(request.POST, prefix="steps")
    if not (form.is_valid() and steps.is_valid()):
        return render(
            request, "sla/policy_form.html", _policy_context(policy, form, steps), status=400
        )
    data = form.cleaned_data
    specs = [spec for spec in (step.spec() for step in steps.forms) if spec is not None]
    try:
        saved = policies.save_policy(
            current_user(request),
            policy,
            name=data["name"],
            priority=data["priority"],
            response_minutes=data["response_minutes"],
            resolution_minutes=data["resolution_minutes"],
            calendar=data["calendar"],
            service_level=data["service_level"],
            contract=data["contract"],
            warning_percent=data["warning_percent"],
            pause_when_waiting_customer=data["pause_when_waiting_customer"],
            pause_when_waiting_vendor=data["pause_when_waiting_vendor"],
            steps=specs,
        )
    except ActionError as exc:
        form.add_error(None, exc.message)
        fresh = _get_policy(policy.pk) if policy else None
        return render(
            request,
            "sla/policy_form.html",
            _policy_context(fresh, form, steps),
            status=exc.status_code,
        )
    messages.success(request, _("Policy “%(name)s” saved.") % {"name": saved.name})
    return redirect("sla:policy", policy_id=saved.pk)


@sla_admin_view
def policy_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save_policy(request, None)
    form = PolicyForm(
        initial={"warning_percent": 75, "pause_when_waiting_customer": True, "priority": 2}
    )
    steps = StepFormSet(prefix="steps")
    return render(request, "sla/policy_form.html", _policy_context(None, form, steps))


@sla_admin_view
def policy_edit(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = _get_policy(policy_id)
    if request.method == "POST":
        return _save_policy(request, policy)
    form = PolicyForm(initial=_policy_initial(policy))
    steps = StepFormSet(initial=_steps_initial(policy), prefix="steps")
    return render(request, "sla/policy_form.html", _policy_context(policy, form, steps))


@sla_admin_view
@require_POST
def policy_delete(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = _get_policy(policy_id)
    try:
        policies.delete_policy(current_user(request), policy)
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect("sla:policy", policy_id=policy.pk)
    messages.success(request, _("Policy “%(name)s” deleted.") % {"name": policy.name})
    return redirect("sla:settings")


@sla_admin_view
@require_GET
def policy_preview(request: HttpRequest, policy_id: int) -> HttpResponse:
    """ "A ticket opened at … is due …": the due times of a ticket opened at a moment,
    the moment read in the user's time zone."""
    policy = _get_policy(policy_id)
    preview_form = PreviewForm(request.GET)
    result = None
    status = 400
    if preview_form.is_valid():
        opened_at: datetime = preview_form.cleaned_data["opened_at"]
        result = preview(policy, opened_at)
        status = 200
    if getattr(request, "htmx", None):
        context = _policy_context(policy, None, None, preview_form=preview_form, result=result)
        return render(request, "sla/partials/preview.html", context, status=status)
    form = PolicyForm(initial=_policy_initial(policy))
    steps = StepFormSet(initial=_steps_initial(policy), prefix="steps")
    context = _policy_context(policy, form, steps, preview_form=preview_form, result=result)
    return render(request, "sla/policy_form.html", context, status=status)
