"""The periodic SLA pass: record warnings, breaches and escalation steps that are due.

It reads only ``TicketSla`` rows whose ``next_check_at`` has passed, through the partial
index on that column, so a pass over 100,000 open tickets of which none is due is one
index probe. Each batch runs in one transaction:

1. the due rows' tickets are locked with ``FOR UPDATE SKIP LOCKED`` (ticket first, then
   clock — the same order as every ticket action, so no deadlock), so a second evaluator
   running at the same time skips them and an agent's action waits at most one batch;
2. the clocks are re-read under that lock and re-checked, so a row another evaluator
   finished in the meantime has nothing left to do;
3. events, notifications, escalations and the new ``next_check_at`` are written together.
   The unique constraint on SlaEvent is the last guard: a duplicate rolls back the
   batch, notifications included.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from erpcare.accounts.models import RoleCode, TeamMembership, User
from erpcare.channels.events import emit_for_tickets
from erpcare.channels.models import EventName, Notification
from erpcare.channels.services import Message, notify_many
from erpcare.core import clock
from erpcare.core.bulk import insert_rows, update_rows
from erpcare.sla.models import BusinessCalendar, Metric, SlaEvent, SlaPause, SlaPolicy, TicketSla
from erpcare.sla.services.calendars import working_time
from erpcare.sla.services.clocks import (
    Pause,
    Threshold,
    pending_thresholds,
    reschedule,
    steps_of,
    ticket_mirror,
)
from erpcare.sla.worktime import ZERO
from erpcare.tickets.models import Ticket
from erpcare.tickets.services import apply_sla_escalation

BATCH = 500


@dataclass
class PassResult:
    checked: int = 0
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0
    notifications: int = 0
    skipped_locked: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        return {
            "checked": self.checked,
            "warnings": self.warnings,
            "breaches": self.breaches,
            "escalations": self.escalations,
            "notifications": self.notifications,
            "skipped_locked": self.skipped_locked,
        }


def evaluate_due(now: datetime | None = None, *, batch: int = BATCH) -> PassResult:
    """Run passes until no row is due at ``now`` (or only rows others hold remain)."""
    now = now or clock.now()
    result = PassResult()
    seen: set[int] = set()
    while True:
        ids = list(
            TicketSla.objects.filter(next_check_at__lte=now)
            .exclude(ticket_id__in=seen)
            .order_by("next_check_at")
            .values_list("ticket_id", flat=True)[:batch]
        )
        if not ids:
            return result
        seen.update(ids)
        _evaluate_batch(ids, now, result)


@transaction.atomic
def _evaluate_batch(ids: list[int], now: datetime, result: PassResult) -> None:
    locked = list(
        Ticket.objects.filter(pk__in=ids)
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    result.skipped_locked += len(ids) - len(locked)
    if not locked:
        return
    clocks = _load_clocks(locked, now)
    pauses_of = _closed_pauses_of(clocks)
    audience = _Audience(clocks)
    events: list[SlaEvent] = []
    messages: list[Message] = []
    escalations: list[tuple[int, bool, bool, str]] = []
    outbox: list[tuple[TicketSla, str, str]] = []  # (clock, event name, metric)
    for ts in clocks:
        result.checked += 1
        wt = working_time(ts.calendar)
        pauses = pauses_of.get(ts.ticket_id, [])
        steps = steps_of(ts.policy)
        due = [t for t in pending_thresholds(wt, ts, steps, pauses) if t.at <= now]
        breached_now = {t.metric for t in due if t.kind == SlaEvent.Kind.BREACH}
        for threshold in due:
            events.append(_apply(ts, threshold, now))
            if threshold.kind == SlaEvent.Kind.WARNING:
                result.warnings += 1
                if threshold.metric in breached_now:
                    continue  # the breach a moment later says more; one message, not two
                messages += audience.messages(ts, threshold, audience.for_warning(ts))
                outbox.append((ts, EventName.SLA_WARNING, threshold.metric))
            elif threshold.kind == SlaEvent.Kind.BREACH:
                result.breaches += 1
                messages += audience.messages(ts, threshold, audience.for_breach(ts))
                outbox.append((ts, EventName.SLA_BREACHED, threshold.metric))
            else:
                result.escalations += 1
                outbox.append((ts, EventName.SLA_ESCALATED, threshold.metric))
                step = threshold.step
                assert step is not None
                messages += audience.messages(ts, threshold, audience.for_step(ts, step))
                if step.raise_tier or step.raise_priority:
                    note = _("SLA escalation: %(clock)s at %(percent)d %% of target") % {
                        "clock": Metric(threshold.metric).label,
                        "percent": step.percent,
                    }
                    escalations.append((ts.ticket_id, step.raise_tier, step.raise_priority, note))
        reschedule(ts, wt, pauses)
    insert_rows(SlaEvent, EVENT_FIELDS, events)
    update_rows(TicketSla, CLOCK_FIELDS, clocks)
    _mirror_states(clocks)
    result.notifications += notify_many(_one_per_person(messages))
    # The same thresholds as outbox events, for e-mail, robots and webhooks (the default
    # rules for sla.* use no bell: the notifications above are the in-app side).
    emit_for_tickets(
        (ts.ticket_id, name, {"sla": _sla_data(ts, metric)}) for ts, name, metric in outbox
    )
    for ticket_id, raise_tier, raise_priority, note in escalations:
        apply_sla_escalation(
            ticket_id, raise_tier=raise_tier, raise_priority=raise_priority, note=note
        )


def _sla_data(ts: TicketSla, metric: str) -> dict[str, str | None]:
    due = ts.response_due_at if metric == Metric.RESPONSE else ts.resolution_due_at
    return {
        "target": str(metric),
        "due_at": due.isoformat() if due is not None else None,
        "state": ts.ticket.sla_state,
    }


_SEVERITY: dict[str, int] = {
    Notification.Kind.SLA_WARNING: 0,
    Notification.Kind.SLA_BREACH: 1,
    Notification.Kind.SLA_ESCALATION: 2,
}


def _one_per_person(messages: list[Message]) -> list[Message]:
    """A breach and the escalation step at the same moment are one message, not two:
    per ticket and person keep the most severe of the pass."""
    best: dict[tuple[int | None, int], Message] = {}
    for message in messages:
        key = (message.ticket_id, message.recipient_id)
        kept = best.get(key)
        if kept is None or _SEVERITY.get(message.kind, 0) > _SEVERITY.get(kept.kind, 0):
            best[key] = message
    return list(best.values())


TICKET_COLUMNS = (
    "ticket__id", "ticket__number", "ticket__title", "ticket__team_id", "ticket__assignee_id",
    "ticket__organization_id", "ticket__organization__id",
    "ticket__organization__account_manager_id",
    "ticket__response_due_at", "ticket__resolution_due_at", "ticket__sla_due_at",
    "ticket__sla_state",
)  # fmt: skip
EVENT_FIELDS = ("ticket_sla", "metric", "kind", "step", "threshold_at", "recorded_at", "note")


def _load_clocks(ticket_ids: list[int], now: datetime) -> list[TicketSla]:
    """The due clocks under lock, with only the ticket columns the pass reads; policies
    and calendars come from one query each (a handful of rows shared by every clock)."""
    clocks = list(
        TicketSla.objects.filter(ticket_id__in=ticket_ids, next_check_at__lte=now)
        .select_related("ticket", "ticket__organization")
        .only(*(f.name for f in TicketSla._meta.concrete_fields), *TICKET_COLUMNS)
    )
    policies = SlaPolicy.objects.in_bulk({ts.policy_id for ts in clocks})
    calendars = BusinessCalendar.objects.in_bulk({ts.calendar_id for ts in clocks})
    for ts in clocks:
        ts.policy = policies[ts.policy_id]
        ts.calendar = calendars[ts.calendar_id]
    return clocks


def _closed_pauses_of(clocks: list[TicketSla]) -> dict[int, list[Pause]]:
    """Closed pauses of the clocks that have any, as tuples (no model instances)."""
    ids = [ts.ticket_id for ts in clocks if ts.paused_time]
    result: dict[int, list[Pause]] = defaultdict(list)
    if ids:
        rows = (
            SlaPause.objects.filter(ticket_sla_id__in=ids, ended_at__isnull=False)
            .order_by("started_at", "id")
            .values_list("ticket_sla_id", "started_at", "ended_at", "working_time")
        )
        for ticket_id, started, ended, working in rows:
            if ended is not None:  # always, by the filter; the type does not know
                result[ticket_id].append((started, ended, working or ZERO))
    return result


def _apply(ts: TicketSla, threshold: Threshold, now: datetime) -> SlaEvent:
    prefix = "response" if threshold.metric == Metric.RESPONSE else "resolution"
    if threshold.kind == SlaEvent.Kind.WARNING:
        setattr(ts, f"{prefix}_warned_at", threshold.at)
    elif threshold.kind == SlaEvent.Kind.BREACH:
        setattr(ts, f"{prefix}_breached_at", threshold.at)
    else:
        setattr(ts, f"{prefix}_last_step", threshold.percent)
    return SlaEvent(
        ticket_sla=ts,
        metric=threshold.metric,
        kind=threshold.kind,
        step=threshold.percent,
        threshold_at=threshold.at,
        recorded_at=now,
    )


CLOCK_FIELDS = (
    "response_warned_at",
    "response_breached_at",
    "response_last_step",
    "resolution_warned_at",
    "resolution_breached_at",
    "resolution_last_step",
    "next_check_at",
    "response_due_at",
    "resolution_due_at",
    "outcome",
)
MIRROR_FIELDS = ("response_due_at", "resolution_due_at", "sla_due_at", "sla_state")


def _mirror_states(clocks: list[TicketSla]) -> None:
    """Copy the clocks' state to their tickets (loaded with the clocks), writing only the
    tickets whose copy changed."""
    changed = []
    for ts in clocks:
        ticket = ts.ticket
        values = ticket_mirror(ts)
        if any(getattr(ticket, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(ticket, name, value)
            changed.append(ticket)
    update_rows(Ticket, MIRROR_FIELDS, changed)


class _Audience:
    """Who hears about a threshold. Loaded once per batch: team leads and managers."""

    def __init__(self, clocks: list[TicketSla]) -> None:
        team_ids = {ts.ticket.team_id for ts in clocks if ts.ticket.team_id}
        self.leads: dict[int, list[int]] = defaultdict(list)
        for team_id, user_id in TeamMembership.objects.filter(
            team_id__in=team_ids, is_lead=True, user__is_active=True
        ).values_list("team_id", "user_id"):
            self.leads[team_id].append(user_id)
        self._managers: list[int] | None = None
        self.languages: dict[int, str] = {}
        self.titles: dict[tuple[str, str, str, int], str] = {}

    def managers(self) -> list[int]:
        if self._managers is None:
            self._managers = list(
                User.objects.filter(role__code=RoleCode.MANAGER, is_active=True).values_list(
                    "pk", flat=True
                )
            )
        return self._managers

    def _assignee_or_leads(self, ticket: Ticket) -> list[int]:
        if ticket.assignee_id:
            return [ticket.assignee_id]
        return list(self.leads.get(ticket.team_id or 0, []))

    def for_warning(self, ts: TicketSla) -> list[int]:
        return self._assignee_or_leads(ts.ticket)

    def for_breach(self, ts: TicketSla) -> list[int]:
        ticket = ts.ticket
        ids = self._assignee_or_leads(ticket) + list(self.leads.get(ticket.team_id or 0, []))
        return ids or self.managers()

    def for_step(self, ts: TicketSla, step: object) -> list[int]:
        ticket = ts.ticket
        ids: list[int] = []
        if getattr(step, "notify_assignee", False) and ticket.assignee_id:
            ids.append(ticket.assignee_id)
        if getattr(step, "notify_team_lead", False):
            ids += self.leads.get(ticket.team_id or 0, [])
        if getattr(step, "notify_managers", False):
            ids += self.managers()
        if getattr(step, "notify_account_manager", False):
            manager_id = ticket.organization.account_manager_id
            if manager_id:
                ids.append(manager_id)
        return ids

    def messages(self, ts: TicketSla, threshold: Threshold, user_ids: list[int]) -> list[Message]:
        unique = list(dict.fromkeys(user_ids))
        if not unique:
            return []
        self._load_languages(unique)
        kinds: dict[str, str] = {
            SlaEvent.Kind.WARNING: Notification.Kind.SLA_WARNING,
            SlaEvent.Kind.BREACH: Notification.Kind.SLA_BREACH,
        }
        kind = kinds.get(threshold.kind, Notification.Kind.SLA_ESCALATION)
        result = []
        for user_id in unique:
            title = self._title(self.languages.get(user_id) or "en", threshold)
            result.append(
                Message(
                    recipient_id=user_id,
                    kind=kind,
                    title=title.replace(_NUMBER, ts.ticket.number),
                    body=ts.ticket.title,
                    ticket_id=ts.ticket_id,
                )
            )
        return result

    def _title(self, language: str, threshold: Threshold) -> str:
        """The title in a language, with a placeholder for the ticket number: switching
        translations per message costs more than the rest of the message."""
        key = (language, threshold.kind, threshold.metric, threshold.percent)
        title = self.titles.get(key)
        if title is None:
            with translation.override(language):
                title = _title(_NUMBER, threshold)
            self.titles[key] = title
        return title

    def _load_languages(self, user_ids: list[int]) -> None:
        missing = [pk for pk in user_ids if pk not in self.languages]
        if missing:
            self.languages.update(User.objects.filter(pk__in=missing).values_list("pk", "language"))


_NUMBER = "\x00"


def _title(number: str, threshold: Threshold) -> str:
    clock_name = Metric(threshold.metric).label
    values = {"number": number, "clock": clock_name, "percent": threshold.percent}
    if threshold.kind == SlaEvent.Kind.WARNING:
        return _("%(number)s: %(clock)s is due soon") % values
    if threshold.kind == SlaEvent.Kind.BREACH:
        return _("%(number)s: %(clock)s target breached") % values
    return _("%(number)s: escalation, %(clock)s at %(percent)d %% of target") % values
