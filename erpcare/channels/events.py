"""Publishing events into the outbox.

``emit`` writes one ``Event`` row inside the caller's transaction, so an event exists
exactly when the change it describes committed, and wakes the outbox worker once the
transaction commits (one wake-up per transaction, however many events it wrote).

The receiver at the bottom turns every ticket action (``ticket_recorded``) into the
events subscribers know: one per action, plus the specific ones (a transition to
resolved is ``ticket.status_changed`` and ``ticket.resolved``), never one per field.

The snapshot in ``Event.data`` is built from objects the action already loaded; at most
one query fetches the ticket's people and customer when the action did not have them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import ForeignKey
from django.dispatch import receiver
from django.urls import reverse

from erpcare.accounts.models import User
from erpcare.channels.models import Event, EventName
from erpcare.core import clock
from erpcare.tickets.models import Comment, Status, Ticket, TicketEvent, TicketType
from erpcare.tickets.signals import ticket_recorded

Kind = TicketEvent.Kind

_RELATIONS = ("organization", "team", "assignee", "requester")


@dataclass
class Spec:
    """One event to write for a ticket: its name and what it adds to the snapshot."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Snapshot
# ---------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": str(user), "email": user.email}


def _is_cached(name: str, ticket: Ticket) -> bool:
    relation = Ticket._meta.get_field(name)
    assert isinstance(relation, ForeignKey)
    return bool(relation.is_cached(ticket))


def _load_relations(ticket: Ticket) -> None:
    """Make the ticket's customer, team and people available without a query each.

    Actions that locked the ticket re-read it without its relations; one query with
    ``select_related`` brings the missing ones, which then serve every later reader.
    """
    missing = [
        name
        for name in _RELATIONS
        if getattr(ticket, f"{name}_id") is not None and not _is_cached(name, ticket)
    ]
    if not missing:
        return
    fresh = Ticket.objects.select_related(*missing).only("pk", *(f"{name}_id" for name in missing))
    loaded = fresh.get(pk=ticket.pk)
    for name in missing:
        setattr(ticket, name, getattr(loaded, name))


def ticket_snapshot(ticket: Ticket) -> dict[str, Any]:
    """The ticket as subscribers see it (the "ticket" key of every event's data)."""
    _load_relations(ticket)
    organization = ticket.organization
    team = ticket.team
    site = settings.SITE_URL
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "title": ticket.title,
        "type": ticket.type,
        "priority": ticket.priority,
        "status": ticket.status,
        "channel": ticket.channel,
        "module": ticket.module,
        "category": ticket.category,
        "organization": {
            "id": organization.pk,
            "code": organization.code,
            "name": organization.name,
        },
        "team": {"id": team.pk, "name": team.name} if team is not None else None,
        "assignee": _person(ticket.assignee),
        "requester": _person(ticket.requester),
        "response_due_at": _iso(ticket.response_due_at),
        "resolution_due_at": _iso(ticket.resolution_due_at),
        "sla_state": ticket.sla_state,
        "created_at": _iso(ticket.created_at),
        "desk_url": site + reverse("desk:ticket", args=[ticket.number]),
        "portal_url": site + reverse("portal:ticket", args=[ticket.number]),
    }


def _actor(actor: User | None) -> dict[str, Any] | None:
    if actor is None:
        return None
    return {"id": actor.pk, "name": str(actor)}


# ---------------------------------------------------------------------------
# Writing events
# ---------------------------------------------------------------------------


def emit(
    name: str,
    *,
    ticket: Ticket | None = None,
    actor: User | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Record one event in the caller's transaction; the worker fans it out after commit."""
    events = emit_many(ticket, actor, [Spec(name, dict(data or {}))])
    return events[0]


def emit_many(ticket: Ticket | None, actor: User | None, specs: Sequence[Spec]) -> list[Event]:
    """Several events of one action in one INSERT, sharing one ticket snapshot."""
    if not specs:
        return []
    for spec in specs:
        if spec.name not in EventName.values:
            raise ValueError(f"unknown event {spec.name!r}")
    snapshot = ticket_snapshot(ticket) if ticket is not None else None
    now = clock.now()
    rows = []
    for spec in specs:
        data: dict[str, Any] = {"actor": _actor(actor)}
        if snapshot is not None:
            data["ticket"] = snapshot
        data.update(spec.data)
        rows.append(
            Event(
                name=spec.name,
                ticket=ticket,
                organization_id=ticket.organization_id if ticket is not None else None,
                team_id=ticket.team_id if ticket is not None else None,
                priority=ticket.priority if ticket is not None else None,
                actor=actor,
                data=data,
                created_at=now,
            )
        )
    created = Event.objects.bulk_create(rows)
    wake_on_commit()
    return created


def emit_for_tickets(items: Iterable[tuple[int, str, dict[str, Any]]]) -> int:
    """Events about many tickets at once (the SLA pass): (ticket id, name, data) each.

    The tickets are read in one query with their relations; the rows go in one INSERT.
    """
    items = list(items)
    if not items:
        return 0
    tickets = Ticket.objects.select_related(*_RELATIONS).in_bulk({i[0] for i in items})
    snapshots: dict[int, dict[str, Any]] = {}
    now = clock.now()
    rows = []
    for ticket_id, name, extra in items:
        ticket = tickets.get(ticket_id)
        if ticket is None:
            continue
        if ticket_id not in snapshots:
            snapshots[ticket_id] = ticket_snapshot(ticket)
        rows.append(
            Event(
                name=name,
                ticket=ticket,
                organization_id=ticket.organization_id,
                team_id=ticket.team_id,
                priority=ticket.priority,
                data={"ticket": snapshots[ticket_id], "actor": None, **extra},
                created_at=now,
            )
        )
    Event.objects.bulk_create(rows)
    wake_on_commit()
    return len(rows)


def _wake() -> None:
    from erpcare.channels.tasks import wake_worker

    wake_worker()


def wake_on_commit() -> None:
    """Ask for one outbox pump after the current transaction commits.

    Coalesced: a transaction that writes many events queues one wake-up. A callback
    dropped with a rolled-back savepoint is gone from the list, so the next event of the
    outer transaction queues it again.
    """
    if connection.in_atomic_block and any(entry[1] is _wake for entry in connection.run_on_commit):
        return
    transaction.on_commit(_wake)


# ---------------------------------------------------------------------------
# Ticket actions → events
# ---------------------------------------------------------------------------

# Audit action names that add nothing a subscriber listens to beyond their events.
_UPDATE_ACTIONS = {
    "ticket.updated",
    "ticket.linked",
    "ticket.merge_received",
    "ticket.attached",
}


def _changes(events: Iterable[TicketEvent]) -> list[dict[str, str]]:
    """What an action changed, field by field; internal files stay out."""
    result = []
    for e in events:
        if e.kind == Kind.ATTACHED and not e.is_internal:
            result.append({"field": "attachment", "old": "", "new": e.new_value})
        elif e.field and e.kind != Kind.COMMENTED and not e.is_internal:
            result.append({"field": e.field, "old": e.old_value, "new": e.new_value})
    return result


def _comment(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "body": comment.body,
        "internal": comment.is_internal,
        "author": str(comment.author),
        "channel": comment.channel,
    }


def specs_for_action(ticket: Ticket, events: Sequence[TicketEvent], action: str) -> list[Spec]:
    """The outbox events of one ticket action (see the module docstring)."""
    kinds = {e.kind for e in events}
    changes = _changes(events)
    specs: list[Spec] = []
    if action == "ticket.created":
        specs.append(Spec(EventName.TICKET_CREATED))
        if ticket.type == TicketType.INCIDENT:
            specs.append(Spec(EventName.INCIDENT_OPENED))
        if ticket.assignee_id is not None:
            specs.append(Spec(EventName.TICKET_ASSIGNED, {"changes": changes}))
        return specs
    commented = next((e for e in events if e.kind == Kind.COMMENTED), None)
    if commented is not None and commented.comment is not None:
        name = EventName.TICKET_NOTE if commented.is_internal else EventName.TICKET_COMMENTED
        specs.append(Spec(name, {"comment": _comment(commented.comment)}))
    if action == "ticket.assigned":
        specs.append(Spec(EventName.TICKET_ASSIGNED, {"changes": changes}))
    elif action == "ticket.escalated" or (
        action == "ticket.sla_escalated" and Kind.ESCALATED in kinds
    ):
        specs.append(Spec(EventName.TICKET_ESCALATED, {"changes": changes}))
    status_events = [e for e in events if e.kind in (Kind.STATUS, Kind.REOPENED)]
    if status_events:
        specs.append(Spec(EventName.TICKET_STATUS, {"changes": changes}))
        if any(e.kind == Kind.STATUS and e.new_value == Status.RESOLVED for e in status_events):
            specs.append(Spec(EventName.TICKET_RESOLVED, {"changes": changes}))
        if Kind.REOPENED in kinds:
            specs.append(Spec(EventName.TICKET_REOPENED, {"changes": changes}))
    if not specs and changes and (action in _UPDATE_ACTIONS or action == "ticket.sla_escalated"):
        specs.append(Spec(EventName.TICKET_UPDATED, {"changes": changes}))
    return specs


@receiver(ticket_recorded, sender=Ticket, dispatch_uid="channels.events")
def _on_ticket_recorded(
    sender: type[Ticket], ticket: Ticket, events: list[TicketEvent], action: str, **_: Any
) -> None:
    specs = specs_for_action(ticket, events, action)
    if specs:
        actor = events[0].actor if events else None
        emit_many(ticket, actor, specs)
