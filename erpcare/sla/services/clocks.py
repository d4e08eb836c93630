"""Each ticket's SLA clocks: start, follow the ticket, re-target, and say why.

The rules (also in docs/ARCHITECTURE.md, "SLA"):

* Both clocks start when the ticket is created, in the working time of the policy's
  calendar. The policy is the one of the customer's active contract (see
  ``policies.policy_for``); targets are copied, so later policy edits do not move
  promises already made.
* First response stops at the first public reply by staff, or a phone call staff
  record; resolving or closing a ticket that never got a reply stops it too. It never
  pauses.
* Resolution pauses while the ticket waits for the customer (and for the vendor, if the
  policy says so), stops when the ticket is resolved, and resumes on reopening: the time
  between resolving and reopening is recorded as a pause.
* A priority change made by a person re-targets: the new priority's policy applies from
  the ticket's creation, with the same pauses. Breaches and warnings already recorded
  stand. A priority raised by SLA escalation keeps the targets (the escalation is a
  consequence of the clock, not a new promise).
* Every threshold instant accounts for pauses exactly: the due time is the instant at
  which the working time since the start, minus the working time inside pauses, reaches
  the target.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from erpcare.core import clock
from erpcare.sla.models import (
    EscalationStep,
    Metric,
    Outcome,
    SlaEvent,
    SlaPause,
    SlaPolicy,
    TicketSla,
)
from erpcare.sla.services.calendars import working_time
from erpcare.sla.services.policies import policy_for
from erpcare.sla.worktime import ZERO, WorkingTime
from erpcare.tickets.models import SlaState, Status, Ticket, TicketEvent

ESCALATION_ACTION = "ticket.sla_escalated"
DONE_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED})

Pause = tuple[datetime, datetime, timedelta]  # closed pause: start, end, working time in it


@dataclass(frozen=True)
class Threshold:
    at: datetime
    metric: str
    kind: str  # SlaEvent.Kind: warning, breach, escalation
    step: EscalationStep | None = None

    @property
    def percent(self) -> int:
        return self.step.percent if self.step is not None else 0


# ---------------------------------------------------------------------------
# Escalation steps per policy, cached per process like calendars
# ---------------------------------------------------------------------------

_steps_cache: dict[int, tuple[datetime, dict[str, list[EscalationStep]]]] = {}
_steps_lock = threading.Lock()


def steps_of(policy: SlaPolicy) -> dict[str, list[EscalationStep]]:
    with _steps_lock:
        hit = _steps_cache.get(policy.pk)
    if hit is not None and hit[0] == policy.updated_at:
        return hit[1]
    by_metric: dict[str, list[EscalationStep]] = {Metric.RESPONSE: [], Metric.RESOLUTION: []}
    for step in EscalationStep.objects.filter(policy_id=policy.pk).order_by("percent"):
        by_metric[step.metric].append(step)
    with _steps_lock:
        _steps_cache[policy.pk] = (policy.updated_at, by_metric)
    return by_metric


# ---------------------------------------------------------------------------
# Arithmetic on one ticket's clocks
# ---------------------------------------------------------------------------


def share(minutes: int, percent: int) -> timedelta:
    """``percent`` % of a target, exact to the microsecond."""
    return timedelta(microseconds=minutes * 60_000_000 * percent // 100)


def shifted(
    wt: WorkingTime, start: datetime, amount: timedelta, pauses: Sequence[Pause]
) -> datetime:
    """The instant at which ``amount`` of unpaused working time has passed since ``start``.

    A pause only moves the instant if it began before the instant would otherwise be
    reached, so a breach before a pause stays where it was.
    """
    extra = ZERO
    for begin, _end, working in pauses:
        candidate = wt.add(start, amount + extra)
        if candidate <= begin:
            return candidate
        extra += working
    return wt.add(start, amount + extra)


def elapsed(wt: WorkingTime, ts: TicketSla, until: datetime, pauses: Sequence[Pause]) -> timedelta:
    """Working time the resolution clock has run from its start until ``until``."""
    total = wt.between(ts.started_at, until)
    for begin, end, _working in pauses:
        lo, hi = max(begin, ts.started_at), min(end, until)
        if hi > lo:
            total -= wt.between(lo, hi)
    return total


def closed_pauses(ts: TicketSla) -> list[Pause]:
    if not ts.paused_time and not _has_prefetched_pauses(ts):
        return []
    rows = (
        ts.pauses.all() if _has_prefetched_pauses(ts) else ts.pauses.filter(ended_at__isnull=False)
    )
    return [
        (p.started_at, p.ended_at, p.working_time or ZERO) for p in rows if p.ended_at is not None
    ]


def _has_prefetched_pauses(ts: TicketSla) -> bool:
    return "pauses" in getattr(ts, "_prefetched_objects_cache", {})


def threshold_at(
    wt: WorkingTime, ts: TicketSla, metric: str, percent: int, pauses: Sequence[Pause]
) -> datetime:
    if metric == Metric.RESPONSE:
        return wt.add(ts.started_at, share(ts.response_minutes, percent))
    return shifted(wt, ts.started_at, share(ts.resolution_minutes, percent), pauses)


def _running(ts: TicketSla, metric: str) -> bool:
    if metric == Metric.RESPONSE:
        return ts.response_stopped_at is None
    return ts.resolution_stopped_at is None and ts.paused_since is None


def pending_thresholds(
    wt: WorkingTime, ts: TicketSla, steps: dict[str, list[EscalationStep]], pauses: Sequence[Pause]
) -> list[Threshold]:
    """Every threshold of the running clocks not yet recorded, earliest first."""
    result: list[Threshold] = []
    for metric in (Metric.RESPONSE, Metric.RESOLUTION):
        if not _running(ts, metric):
            continue
        warned = ts.response_warned_at if metric == Metric.RESPONSE else ts.resolution_warned_at
        breached = (
            ts.response_breached_at if metric == Metric.RESPONSE else ts.resolution_breached_at
        )
        last_step = ts.response_last_step if metric == Metric.RESPONSE else ts.resolution_last_step
        if warned is None and breached is None:
            at = threshold_at(wt, ts, metric, ts.warning_percent, pauses)
            result.append(Threshold(at, metric, SlaEvent.Kind.WARNING))
        if breached is None:
            result.append(Threshold(threshold_at(wt, ts, metric, 100, pauses), metric, "breach"))
        for step in steps.get(metric, ()):
            if step.percent > last_step:
                at = threshold_at(wt, ts, metric, step.percent, pauses)
                result.append(Threshold(at, metric, SlaEvent.Kind.ESCALATION, step))
    result.sort(key=lambda t: (t.at, t.kind != SlaEvent.Kind.WARNING, t.percent))
    return result


def reschedule(ts: TicketSla, wt: WorkingTime, pauses: Sequence[Pause]) -> None:
    """Recompute due times, the next check and the outcome from the clock state."""
    steps = steps_of(ts.policy)
    ts.response_due_at = threshold_at(wt, ts, Metric.RESPONSE, 100, pauses)
    ts.resolution_due_at = (
        threshold_at(wt, ts, Metric.RESOLUTION, 100, pauses)
        if _running(ts, Metric.RESOLUTION)
        else None
    )
    pending = pending_thresholds(wt, ts, steps, pauses)
    ts.next_check_at = pending[0].at if pending else None
    if ts.response_stopped_at is not None and ts.resolution_stopped_at is not None:
        response_missed = ts.response_breached_at is not None
        resolution_missed = ts.resolution_breached_at is not None
        ts.outcome = (
            Outcome.BOTH_BREACHED
            if response_missed and resolution_missed
            else Outcome.RESPONSE_BREACHED
            if response_missed
            else Outcome.RESOLUTION_BREACHED
            if resolution_missed
            else Outcome.MET
        )
    else:
        ts.outcome = Outcome.PENDING


def sla_state(ts: TicketSla) -> str:
    running = [m for m in (Metric.RESPONSE, Metric.RESOLUTION) if _running(ts, m)]
    if not running:
        if ts.paused_since is not None and ts.resolution_stopped_at is None:
            return SlaState.PAUSED
        return SlaState.MET if ts.outcome == Outcome.MET else SlaState.MISSED
    if any(_breached(ts, m) for m in running):
        return SlaState.BREACHED
    if any(_warned(ts, m) for m in running):
        return SlaState.WARNING
    return SlaState.OK


def _breached(ts: TicketSla, metric: str) -> bool:
    value = ts.response_breached_at if metric == Metric.RESPONSE else ts.resolution_breached_at
    return value is not None


def _warned(ts: TicketSla, metric: str) -> bool:
    value = ts.response_warned_at if metric == Metric.RESPONSE else ts.resolution_warned_at
    return value is not None


def ticket_mirror(ts: TicketSla) -> dict[str, object]:
    """The ticket columns queues read: due times of running clocks and the state."""
    response_due = ts.response_due_at if ts.response_stopped_at is None else None
    resolution_due = ts.resolution_due_at if _running(ts, Metric.RESOLUTION) else None
    dues = [d for d in (response_due, resolution_due) if d is not None]
    return {
        "response_due_at": response_due,
        "resolution_due_at": resolution_due,
        "sla_due_at": min(dues) if dues else None,
        "sla_state": sla_state(ts),
    }


def _mirror(ts: TicketSla, ticket: Ticket | None = None) -> None:
    values = ticket_mirror(ts)
    Ticket.objects.filter(pk=ts.ticket_id).update(**values)
    if ticket is not None:
        for name, value in values.items():
            setattr(ticket, name, value)


# ---------------------------------------------------------------------------
# Following the ticket
# ---------------------------------------------------------------------------


def start_clock(ticket: Ticket) -> TicketSla | None:
    policy = policy_for(
        ticket.organization_id, ticket.priority, timezone.localtime(ticket.created_at).date()
    )
    if policy is None:
        return None
    ts = TicketSla(
        ticket=ticket,
        policy=policy,
        calendar=policy.calendar,
        started_at=ticket.created_at,
        priority=ticket.priority,
        response_minutes=policy.response_minutes,
        resolution_minutes=policy.resolution_minutes,
        warning_percent=policy.warning_percent,
    )
    wt = working_time(policy.calendar)
    reschedule(ts, wt, [])
    ts.save(force_insert=True)
    _mirror(ts, ticket)
    return ts


def follow_ticket(ticket: Ticket, events: Iterable[TicketEvent], action: str) -> None:
    """Bring the clocks in line with the ticket after an action (same transaction)."""
    kinds = {event.kind for event in events}
    if TicketEvent.Kind.CREATED in kinds:
        start_clock(ticket)
        return
    ts = TicketSla.objects.select_related("policy", "calendar").filter(ticket_id=ticket.pk).first()
    if ts is None:
        return
    now = clock.now()
    wt = working_time(ts.calendar)
    changed = False
    if action == ESCALATION_ACTION:
        if ts.priority != ticket.priority:
            ts.priority = ticket.priority  # raised by the clock itself: targets stay
            changed = True
    elif ts.priority != ticket.priority:
        changed |= _retarget(ts, ticket, now)
        wt = working_time(ts.calendar)
    changed |= _follow_response(ts, ticket, wt, now)
    changed |= _follow_resolution(ts, ticket, wt, now)
    if not changed:
        return
    reschedule(ts, wt, closed_pauses(ts))
    ts.save()
    _mirror(ts, ticket)


def _retarget(ts: TicketSla, ticket: Ticket, now: datetime) -> bool:
    policy = policy_for(ticket.organization_id, ticket.priority, timezone.localdate(now))
    old = f"P{ts.priority}: {ts.response_minutes}/{ts.resolution_minutes} min"
    ts.priority = ticket.priority
    if policy is not None:
        ts.policy, ts.calendar = policy, policy.calendar
        ts.response_minutes = policy.response_minutes
        ts.resolution_minutes = policy.resolution_minutes
        ts.warning_percent = policy.warning_percent
    new = f"P{ts.priority}: {ts.response_minutes}/{ts.resolution_minutes} min"
    SlaEvent.objects.create(
        ticket_sla=ts,
        metric=Metric.RESOLUTION,
        kind=SlaEvent.Kind.RETARGETED,
        threshold_at=now,
        recorded_at=now,
        note=f"{old} → {new}",
    )
    return True


def _follow_response(ts: TicketSla, ticket: Ticket, wt: WorkingTime, now: datetime) -> bool:
    if ts.response_stopped_at is not None:
        return False
    stops = [t for t in (ticket.first_response_at, ticket.resolved_at, ticket.closed_at) if t]
    if not stops:
        return False
    stopped = min(stops)
    ts.response_stopped_at = stopped
    ts.response_elapsed = wt.between(ts.started_at, stopped)
    overrun = ts.response_elapsed - share(ts.response_minutes, 100)
    ts.response_overrun = max(overrun, ZERO)
    if overrun > ZERO and ts.response_breached_at is None:
        _record_late_breach(ts, Metric.RESPONSE, wt, now)
    return True


def _follow_resolution(ts: TicketSla, ticket: Ticket, wt: WorkingTime, now: datetime) -> bool:
    changed = False
    done = ticket.status in DONE_STATUSES
    if ts.resolution_stopped_at is not None and not done:
        # Reopened: the time it stood resolved is a pause, and the clock runs again.
        pause = SlaPause.objects.create(
            ticket_sla=ts,
            reason=SlaPause.Reason.RESOLVED,
            started_at=ts.resolution_stopped_at,
            ended_at=now,
            working_time=wt.between(ts.resolution_stopped_at, now),
        )
        ts.paused_time += pause.working_time or ZERO
        ts.resolution_stopped_at = None
        ts.resolution_overrun = None
        ts.resolution_elapsed = None
        changed = True
    if ts.resolution_stopped_at is not None:
        return changed
    wants_pause = ticket.status in ts.policy.pause_statuses and not done
    if ts.paused_since is not None and not wants_pause:
        pause_row = (
            SlaPause.objects.filter(ticket_sla=ts, ended_at__isnull=True).order_by("-id").first()
        )
        working = wt.between(ts.paused_since, now)
        if pause_row is not None:
            pause_row.ended_at, pause_row.working_time = now, working
            pause_row.save(update_fields=["ended_at", "working_time"])
        ts.paused_time += working
        ts.paused_since = None
        changed = True
    elif ts.paused_since is None and wants_pause:
        SlaPause.objects.create(ticket_sla=ts, reason=ticket.status, started_at=now)
        ts.paused_since = now
        changed = True
    if done:
        stopped = ticket.resolved_at or ticket.closed_at or now
        ts.resolution_stopped_at = stopped
        pauses = closed_pauses(ts)
        ts.resolution_elapsed = elapsed(wt, ts, stopped, pauses)
        overrun = ts.resolution_elapsed - share(ts.resolution_minutes, 100)
        ts.resolution_overrun = max(overrun, ZERO)
        if overrun > ZERO and ts.resolution_breached_at is None:
            _record_late_breach(ts, Metric.RESOLUTION, wt, now, pauses)
        changed = True
    return changed


def _record_late_breach(
    ts: TicketSla,
    metric: str,
    wt: WorkingTime,
    now: datetime,
    pauses: Sequence[Pause] = (),
) -> None:
    """A clock stopped after its due time before the evaluator saw it: record the breach
    (once) without notifying anyone, since the work is already done."""
    due = threshold_at(wt, ts, metric, 100, pauses)
    _created = SlaEvent.objects.get_or_create(
        ticket_sla=ts,
        metric=metric,
        kind=SlaEvent.Kind.BREACH,
        step=0,
        defaults={"threshold_at": due, "recorded_at": now, "note": "recorded when stopped"},
    )
    if metric == Metric.RESPONSE:
        ts.response_breached_at = due
    else:
        ts.resolution_breached_at = due
