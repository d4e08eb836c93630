"""Why a due time is what it is: the ticket page's "explain SLA" and the admin preview."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from erpcare.core import clock
from erpcare.sla.models import BusinessCalendar, Metric, SlaEvent, SlaPause, SlaPolicy, TicketSla
from erpcare.sla.services.calendars import working_time
from erpcare.sla.services.clocks import closed_pauses, elapsed, share, threshold_at
from erpcare.sla.worktime import ZERO
from erpcare.tickets.models import Ticket


@dataclass
class ClockView:
    metric: str
    label: str
    target: timedelta
    due_at: datetime | None
    warn_at: datetime | None
    stopped_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None
    used: timedelta  # working time counted so far (or until stopped)
    overrun: timedelta | None
    paused: bool = False

    @property
    def remaining(self) -> timedelta:
        return self.target - self.used

    @property
    def used_percent(self) -> int:
        if not self.target:
            return 0
        return int(self.used / self.target * 100)


@dataclass
class Explanation:
    ticket: Ticket
    sla: TicketSla
    policy: SlaPolicy
    calendar: BusinessCalendar
    response: ClockView
    resolution: ClockView
    pauses: list[SlaPause] = field(default_factory=list)
    events: list[SlaEvent] = field(default_factory=list)
    paused_time: timedelta = ZERO


def explain(ticket: Ticket, *, now: datetime | None = None) -> Explanation | None:
    """The clocks of a ticket with every input that made them; None without an SLA."""
    ts = TicketSla.objects.select_related("policy", "calendar").filter(ticket_id=ticket.pk).first()
    if ts is None:
        return None
    now = now or clock.now()
    wt = working_time(ts.calendar)
    pauses = closed_pauses(ts)
    response_end = ts.response_stopped_at or now
    response = ClockView(
        metric=Metric.RESPONSE,
        label=str(Metric.RESPONSE.label),
        target=share(ts.response_minutes, 100),
        due_at=ts.response_due_at,
        warn_at=threshold_at(wt, ts, Metric.RESPONSE, ts.warning_percent, pauses),
        stopped_at=ts.response_stopped_at,
        warned_at=ts.response_warned_at,
        breached_at=ts.response_breached_at,
        used=max(wt.between(ts.started_at, response_end), ZERO),
        overrun=ts.response_overrun,
    )
    resolution_end = ts.resolution_stopped_at or ts.paused_since or now
    running = ts.resolution_stopped_at is None and ts.paused_since is None
    resolution = ClockView(
        metric=Metric.RESOLUTION,
        label=str(Metric.RESOLUTION.label),
        target=share(ts.resolution_minutes, 100),
        due_at=ts.resolution_due_at,
        warn_at=(
            threshold_at(wt, ts, Metric.RESOLUTION, ts.warning_percent, pauses) if running else None
        ),
        stopped_at=ts.resolution_stopped_at,
        warned_at=ts.resolution_warned_at,
        breached_at=ts.resolution_breached_at,
        used=max(elapsed(wt, ts, resolution_end, pauses), ZERO),
        overrun=ts.resolution_overrun,
        paused=ts.paused_since is not None and ts.resolution_stopped_at is None,
    )
    return Explanation(
        ticket=ticket,
        sla=ts,
        policy=ts.policy,
        calendar=ts.calendar,
        response=response,
        resolution=resolution,
        pauses=list(ts.pauses.all()),
        events=list(ts.events.all()),
        paused_time=ts.paused_time,
    )


@dataclass(frozen=True)
class Preview:
    opened_at: datetime
    policy: SlaPolicy
    response_warn_at: datetime
    response_due_at: datetime
    resolution_warn_at: datetime
    resolution_due_at: datetime
    working_days: list[tuple[datetime, datetime]]  # the working intervals the targets use


def preview(policy: SlaPolicy, opened_at: datetime) -> Preview:
    """ "A P1 opened Friday 17:30 is due …": the due times of a ticket opened at a moment."""
    wt = working_time(policy.calendar)
    response_due = wt.add(opened_at, share(policy.response_minutes, 100))
    resolution_due = wt.add(opened_at, share(policy.resolution_minutes, 100))
    intervals: list[tuple[datetime, datetime]] = []
    if not wt.always:
        day = opened_at.astimezone(wt.tz).date()
        last = resolution_due.astimezone(wt.tz).date()
        while day <= last and len(intervals) < 60:
            for a, b in wt.intervals_on(day):
                if b > opened_at and a < resolution_due:
                    intervals.append((max(a, opened_at), min(b, resolution_due)))
            day += timedelta(days=1)
    return Preview(
        opened_at=opened_at,
        policy=policy,
        response_warn_at=wt.add(opened_at, share(policy.response_minutes, policy.warning_percent)),
        response_due_at=response_due,
        resolution_warn_at=wt.add(
            opened_at, share(policy.resolution_minutes, policy.warning_percent)
        ),
        resolution_due_at=resolution_due,
        working_days=intervals,
    )
