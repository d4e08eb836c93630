"""Start the clocks of tickets that have none (created before the SLA app existed, or
while no policy applied), replaying their history so pauses and stops land where they
happened."""

from __future__ import annotations

import copy
from datetime import datetime

from django.db import transaction

from erpcare.core import clock
from erpcare.sla.models import TicketSla
from erpcare.sla.services.clocks import follow_ticket, start_clock
from erpcare.tickets.models import Status, Ticket, TicketEvent

BACKFILL_ACTION = "sla.backfill"
Kind = TicketEvent.Kind


def tickets_without_clocks() -> int:
    return Ticket.objects.filter(sla__isnull=True).count()


def backfill_clocks(*, now: datetime | None = None) -> int:
    """Start and replay the clocks of every ticket without one; returns how many started."""
    now = now or clock.now()
    started = 0
    ids = list(Ticket.objects.filter(sla__isnull=True).order_by("pk").values_list("pk", flat=True))
    for ticket_id in ids:
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
            if ticket is None or TicketSla.objects.filter(ticket_id=ticket_id).exists():
                continue
            if _replay(ticket, now):
                started += 1
    return started


def _replay(ticket: Ticket, now: datetime) -> bool:
    events = list(
        TicketEvent.objects.filter(
            ticket=ticket, kind__in=[Kind.STATUS, Kind.REOPENED, Kind.CHANGED]
        ).order_by("created_at", "id")
    )
    status_events = [e for e in events if e.field == "status"]
    priority_events = [e for e in events if e.kind == Kind.CHANGED and e.field == "priority"]
    # The ticket as it was when it was created.
    past = copy.copy(ticket)
    past.status = status_events[0].old_value if status_events else ticket.status
    if priority_events and priority_events[0].old_value.isdigit():
        past.priority = int(priority_events[0].old_value)
    past.first_response_at = past.resolved_at = past.closed_at = None
    with clock.frozen_at(ticket.created_at):
        if start_clock(past) is None:
            return False
    for event in events:
        if event.field == "status":
            past.status = event.new_value
            if past.status == Status.RESOLVED:
                past.resolved_at = event.created_at
            elif past.status == Status.CLOSED:
                past.closed_at = event.created_at
            else:
                past.resolved_at = past.closed_at = None
        elif event.field == "priority" and event.new_value.isdigit():
            past.priority = int(event.new_value)
        else:
            continue
        first = ticket.first_response_at
        past.first_response_at = first if first and first <= event.created_at else None
        with clock.frozen_at(event.created_at):
            follow_ticket(past, [], BACKFILL_ACTION)
    with clock.frozen_at(now):
        follow_ticket(ticket, [], BACKFILL_ACTION)
    return True


def fill_elapsed(*, limit: int = 2000) -> int:
    """Record the working time of clocks stopped before ``response_elapsed`` and
    ``resolution_elapsed`` existed, so business-hours KPIs count them; returns how many
    clocks were filled (the reports job calls this until it returns 0)."""
    from django.db.models import Q

    from erpcare.sla.services.calendars import working_time
    from erpcare.sla.services.clocks import closed_pauses, elapsed

    missing = Q(response_stopped_at__isnull=False, response_elapsed__isnull=True) | Q(
        resolution_stopped_at__isnull=False, resolution_elapsed__isnull=True
    )
    rows = list(
        TicketSla.objects.filter(missing)
        .select_related("calendar")
        .prefetch_related("pauses")
        .order_by("pk")[:limit]
    )
    for ts in rows:
        wt = working_time(ts.calendar)
        if ts.response_stopped_at is not None and ts.response_elapsed is None:
            ts.response_elapsed = wt.between(ts.started_at, ts.response_stopped_at)
        if ts.resolution_stopped_at is not None and ts.resolution_elapsed is None:
            ts.resolution_elapsed = elapsed(wt, ts, ts.resolution_stopped_at, closed_pauses(ts))
    TicketSla.objects.bulk_update(rows, ["response_elapsed", "resolution_elapsed"])
    return len(rows)
