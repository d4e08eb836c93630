"""SLA API: calendars and policies (read by staff, changed by managers/admins), a
preview of due times, and a ticket's explained clocks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja import Status as HttpStatus

from erpcare.accounts.models import User
from erpcare.core.errors import ActionError, NotAllowed, NotFound
from erpcare.core.schemas import ERRORS
from erpcare.customers.models import Contract
from erpcare.sla.models import BusinessCalendar, SlaPolicy
from erpcare.sla.services import calendars, policies
from erpcare.sla.services.explain import explain, preview
from erpcare.tickets.services import get_ticket_for

router = Router(tags=["sla"])


def _staff(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if user.is_customer:
        raise NotAllowed(_("Only support staff can see SLA settings."))
    return user


def _minutes(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 60, 2)


# ---------------------------------------------------------------------------
# Calendars
# ---------------------------------------------------------------------------


class CalendarDayOut(Schema):
    date: date
    is_working: bool
    name: str


class CalendarOut(Schema):
    id: int
    name: str
    kind: str
    time_zone: str
    holiday_country: str
    holiday_subdivision: str
    makeup_weekday: int
    hours: dict[int, str]
    overrides: list[CalendarDayOut]

    @staticmethod
    def resolve_hours(obj: BusinessCalendar) -> dict[int, str]:
        periods = list(obj.periods.all())
        return {day: calendars.format_hours(periods, day) for day in range(7)}

    @staticmethod
    def resolve_overrides(obj: BusinessCalendar) -> list[Any]:
        return list(obj.days.all())


class CalendarIn(Schema):
    name: str = Field(max_length=200)
    kind: str = BusinessCalendar.Kind.BUSINESS
    time_zone: str = "Asia/Shanghai"
    holiday_country: str = Field("", max_length=8)
    holiday_subdivision: str = Field("", max_length=16)
    makeup_weekday: int = 0
    hours: dict[int, str] = Field(
        default_factory=dict,
        description='Per weekday (0 = Monday): "09:00-12:00, 13:30-18:00"; missing = no work.',
    )


class CalendarDayIn(Schema):
    date: date
    is_working: bool = False
    name: str = Field("", max_length=200)


def _save_calendar(
    request: HttpRequest, calendar: BusinessCalendar | None, data: CalendarIn
) -> Any:
    hours = {int(day): calendars.parse_hours(text) for day, text in data.hours.items()}
    saved = calendars.save_calendar(
        request.user,  # type: ignore[arg-type]
        calendar,
        name=data.name,
        kind=data.kind,
        time_zone=data.time_zone,
        holiday_country=data.holiday_country,
        holiday_subdivision=data.holiday_subdivision,
        makeup_weekday=data.makeup_weekday,
        hours=hours,
    )
    return BusinessCalendar.objects.prefetch_related("periods", "days").get(pk=saved.pk)


@router.get("/calendars", response={200: list[CalendarOut], **ERRORS})
def list_calendars(request: HttpRequest) -> Any:
    _staff(request)
    return list(BusinessCalendar.objects.prefetch_related("periods", "days"))


@router.post("/calendars", response={201: CalendarOut, **ERRORS})
def create_calendar(request: HttpRequest, payload: CalendarIn) -> Any:
    return HttpStatus(201, _save_calendar(request, None, payload))


@router.get("/calendars/{calendar_id}", response={200: CalendarOut, **ERRORS})
def get_calendar(request: HttpRequest, calendar_id: int) -> Any:
    _staff(request)
    return get_object_or_404(BusinessCalendar.objects.prefetch_related("periods"), pk=calendar_id)


@router.put("/calendars/{calendar_id}", response={200: CalendarOut, **ERRORS})
def update_calendar(request: HttpRequest, calendar_id: int, payload: CalendarIn) -> Any:
    _staff(request)
    return _save_calendar(request, get_object_or_404(BusinessCalendar, pk=calendar_id), payload)


@router.post("/calendars/{calendar_id}/days", response={201: CalendarDayOut, **ERRORS})
def set_calendar_day(request: HttpRequest, calendar_id: int, payload: CalendarDayIn) -> Any:
    _staff(request)
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id)
    entry = calendars.set_calendar_day(
        request.user,  # type: ignore[arg-type]
        calendar,
        day=payload.date,
        is_working=payload.is_working,
        name=payload.name,
    )
    return HttpStatus(201, entry)


@router.delete("/calendars/{calendar_id}/days/{day}", response={204: None, **ERRORS})
def remove_calendar_day(request: HttpRequest, calendar_id: int, day: date) -> Any:
    _staff(request)
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id)
    calendars.remove_calendar_day(request.user, calendar, day=day)  # type: ignore[arg-type]
    return HttpResponse(status=204)


# ---------------------------------------------------------------------------
# Policies
# ---------------------------------------------------------------------------


class StepIO(Schema):
    metric: str
    percent: int
    notify_assignee: bool = True
    notify_team_lead: bool = False
    notify_managers: bool = False
    notify_account_manager: bool = False
    raise_tier: bool = False
    raise_priority: bool = False


class PolicyOut(Schema):
    id: int
    name: str
    service_level: str
    contract_id: int | None
    priority: int
    response_minutes: int
    resolution_minutes: int
    calendar_id: int
    warning_percent: int
    pause_when_waiting_customer: bool
    pause_when_waiting_vendor: bool
    steps: list[StepIO]

    @staticmethod
    def resolve_steps(obj: SlaPolicy) -> list[Any]:
        return list(obj.steps.all())


class PolicyIn(Schema):
    name: str = Field(max_length=200)
    priority: int
    response_minutes: int
    resolution_minutes: int
    calendar_id: int
    service_level: str = ""
    contract_id: int | None = None
    warning_percent: int = 75
    pause_when_waiting_customer: bool = True
    pause_when_waiting_vendor: bool = False
    steps: list[StepIO] | None = None


def _save_policy(request: HttpRequest, policy: SlaPolicy | None, data: PolicyIn) -> Any:
    calendar = BusinessCalendar.objects.filter(pk=data.calendar_id).first()
    if calendar is None:
        raise ActionError(_("Unknown calendar."))
    contract = None
    if data.contract_id is not None:
        contract = Contract.objects.filter(pk=data.contract_id).first()
        if contract is None:
            raise ActionError(_("Unknown contract."))
    steps = (
        [policies.StepSpec(**step.dict()) for step in data.steps]
        if data.steps is not None
        else None
    )
    saved = policies.save_policy(
        request.user,  # type: ignore[arg-type]
        policy,
        name=data.name,
        priority=data.priority,
        response_minutes=data.response_minutes,
        resolution_minutes=data.resolution_minutes,
        calendar=calendar,
        service_level=data.service_level,
        contract=contract,
        warning_percent=data.warning_percent,
        pause_when_waiting_customer=data.pause_when_waiting_customer,
        pause_when_waiting_vendor=data.pause_when_waiting_vendor,
        steps=steps,
    )
    return SlaPolicy.objects.prefetch_related("steps").get(pk=saved.pk)


@router.get("/policies", response={200: list[PolicyOut], **ERRORS})
def list_policies(request: HttpRequest) -> Any:
    _staff(request)
    return list(SlaPolicy.objects.prefetch_related("steps"))


@router.post("/policies", response={201: PolicyOut, **ERRORS})
def create_policy(request: HttpRequest, payload: PolicyIn) -> Any:
    return HttpStatus(201, _save_policy(request, None, payload))


@router.get("/policies/{policy_id}", response={200: PolicyOut, **ERRORS})
def get_policy(request: HttpRequest, policy_id: int) -> Any:
    _staff(request)
    return get_object_or_404(SlaPolicy.objects.prefetch_related("steps"), pk=policy_id)


@router.put("/policies/{policy_id}", response={200: PolicyOut, **ERRORS})
def update_policy(request: HttpRequest, policy_id: int, payload: PolicyIn) -> Any:
    _staff(request)
    return _save_policy(request, get_object_or_404(SlaPolicy, pk=policy_id), payload)


@router.delete("/policies/{policy_id}", response={204: None, **ERRORS})
def delete_policy(request: HttpRequest, policy_id: int) -> Any:
    _staff(request)
    policies.delete_policy(request.user, get_object_or_404(SlaPolicy, pk=policy_id))  # type: ignore[arg-type]
    return HttpResponse(status=204)


class PreviewQuery(Schema):
    opened_at: datetime = Field(description="ISO 8601 with an offset, e.g. 2026-11-20T17:30+08:00")


class PreviewOut(Schema):
    opened_at: datetime
    response_warn_at: datetime
    response_due_at: datetime
    resolution_warn_at: datetime
    resolution_due_at: datetime
    working_intervals: list[tuple[datetime, datetime]]


@router.get("/policies/{policy_id}/preview", response={200: PreviewOut, **ERRORS})
def preview_policy(request: HttpRequest, policy_id: int, query: Query[PreviewQuery]) -> Any:
    _staff(request)
    policy = get_object_or_404(SlaPolicy.objects.select_related("calendar"), pk=policy_id)
    if query.opened_at.tzinfo is None:
        raise ActionError(_("Give the time with its offset, e.g. 2026-11-20T17:30+08:00."))
    result = preview(policy, query.opened_at)
    return {
        "opened_at": result.opened_at,
        "response_warn_at": result.response_warn_at,
        "response_due_at": result.response_due_at,
        "resolution_warn_at": result.resolution_warn_at,
        "resolution_due_at": result.resolution_due_at,
        "working_intervals": result.working_days,
    }


# ---------------------------------------------------------------------------
# A ticket's clocks
# ---------------------------------------------------------------------------


class ClockOut(Schema):
    target_minutes: float
    used_minutes: float
    due_at: datetime | None
    warn_at: datetime | None
    stopped_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None
    overrun_minutes: float | None
    paused: bool


class PauseOut(Schema):
    reason: str
    started_at: datetime
    ended_at: datetime | None
    working_minutes: float | None


class SlaEventOut(Schema):
    metric: str
    kind: str
    step: int
    threshold_at: datetime
    recorded_at: datetime
    note: str


class TicketSlaOut(Schema):
    ticket: str
    policy: str
    calendar: str
    time_zone: str
    priority: str
    started_at: datetime
    state: str
    outcome: str
    paused_minutes: float
    response: ClockOut
    resolution: ClockOut
    pauses: list[PauseOut]
    events: list[SlaEventOut]


def _clock(view: Any) -> dict[str, Any]:
    return {
        "target_minutes": _minutes(view.target),
        "used_minutes": _minutes(view.used),
        "due_at": view.due_at,
        "warn_at": view.warn_at,
        "stopped_at": view.stopped_at,
        "warned_at": view.warned_at,
        "breached_at": view.breached_at,
        "overrun_minutes": _minutes(view.overrun),
        "paused": view.paused,
    }


@router.get("/tickets/{ref}", response={200: TicketSlaOut, **ERRORS})
def ticket_sla(request: HttpRequest, ref: str) -> Any:
    _staff(request)
    ticket = get_ticket_for(request.user, ref)  # type: ignore[arg-type]
    info = explain(ticket)
    if info is None:
        raise NotFound(_("This ticket has no SLA."))
    return {
        "ticket": ticket.number,
        "policy": info.policy.name,
        "calendar": info.calendar.name,
        "time_zone": info.calendar.time_zone,
        "priority": f"P{info.sla.priority}",
        "started_at": info.sla.started_at,
        "state": ticket.sla_state,
        "outcome": info.sla.outcome,
        "paused_minutes": _minutes(info.paused_time),
        "response": _clock(info.response),
        "resolution": _clock(info.resolution),
        "pauses": [
            {
                "reason": p.reason,
                "started_at": p.started_at,
                "ended_at": p.ended_at,
                "working_minutes": _minutes(p.working_time),
            }
            for p in info.pauses
        ],
        "events": info.events,
    }
