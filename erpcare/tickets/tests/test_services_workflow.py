"""The status workflow: every allowed move, forbidden moves, resolving, confirming, reopening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from erpcare.audit.models import AuditEntry
from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.tickets import services
from erpcare.tickets.models import TRANSITIONS, Status, Ticket, TicketEvent
from erpcare.tickets.tests.helpers import state_checks

pytestmark = pytest.mark.django_db

WATCHED = (Ticket, TicketEvent, AuditEntry)
T0 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)

ALLOWED = [(old, new) for old, targets in TRANSITIONS.items() for new in sorted(targets)]
FORBIDDEN = [
    (old, new) for old in Status.values for new in Status.values if new not in TRANSITIONS[old]
]

db_state, refused = state_checks(*WATCHED)


def ticket_in(cast, status, *, resolved_at=None):
    ticket = services.create_ticket(cast.alice, title="Closing period blocked")
    Ticket.objects.filter(pk=ticket.pk).update(
        status=status,
        resolved_at=resolved_at or (clock.now() if status == Status.RESOLVED else None),
    )
    return Ticket.objects.get(pk=ticket.pk)


def resolve(actor, ticket):
    return services.transition_ticket(
        actor, ticket, to=Status.RESOLVED, resolution_code="fixed", resolution="Period reopened"
    )


def test_the_workflow_table_is_what_support_expects():
    assert TRANSITIONS[Status.CLOSED] == frozenset()
    assert TRANSITIONS[Status.RESOLVED] == {Status.CLOSED, Status.OPEN}
    assert all(
        Status.RESOLVED in TRANSITIONS[s] for s in Status.values if s not in ("resolved", "closed")
    )
    assert all(old not in TRANSITIONS[old] for old in Status.values)


@pytest.mark.parametrize(("old", "new"), ALLOWED)
def test_staff_can_take_every_allowed_move(cast, old, new):
    ticket = ticket_in(cast, old)
    extra = (
        {"resolution_code": "workaround", "resolution": "Use T-code F.13"}
        if new == "resolved"
        else {}
    )
    services.transition_ticket(cast.lina, ticket, to=new, note="step", **extra)
    ticket.refresh_from_db()
    assert ticket.status == new
    event = TicketEvent.objects.filter(ticket=ticket, field="status").latest("id")
    assert (event.old_value, event.new_value, event.actor) == (old, new, cast.lina)
    action = "ticket.reopened" if (old, new) == ("resolved", "open") else "ticket.transitioned"
    assert AuditEntry.objects.filter(action=action).count() == 1


@pytest.mark.parametrize(("old", "new"), FORBIDDEN)
def test_moves_outside_the_workflow_are_refused(cast, old, new):
    ticket = ticket_in(cast, old)
    with refused(Conflict, "cannot go from"):
        services.transition_ticket(
            cast.lina, ticket, to=new, resolution_code="fixed", resolution="x"
        )


def test_unknown_status_is_refused(cast):
    ticket = ticket_in(cast, Status.OPEN)
    with refused(ActionError, "done is not a valid status"):
        services.transition_ticket(cast.lina, ticket, to="done")


def test_resolving_records_code_text_and_time(cast):
    ticket = ticket_in(cast, Status.IN_PROGRESS)
    with clock.frozen_at(T0):
        resolve(cast.eric, ticket)
    ticket.refresh_from_db()
    assert (ticket.resolution_code, ticket.resolution, ticket.resolved_at) == (
        "fixed",
        "Period reopened",
        T0,
    )


@pytest.mark.parametrize(
    ("code", "text", "message"),
    [
        ("", "done", "is not a valid resolution code"),
        ("magic", "done", "magic is not a valid resolution code"),
        ("fixed", "", "Resolution is required"),
        ("fixed", "   ", "Resolution is required"),
    ],
)
def test_resolving_needs_a_resolution_code_and_text(cast, code, text, message):
    ticket = ticket_in(cast, Status.OPEN)
    with refused(ActionError, message):
        services.transition_ticket(
            cast.lina, ticket, to=Status.RESOLVED, resolution_code=code, resolution=text
        )


def test_closing_records_the_time(cast):
    ticket = ticket_in(cast, Status.RESOLVED)
    with clock.frozen_at(T0):
        services.transition_ticket(cast.lina, ticket, to=Status.CLOSED)
    ticket.refresh_from_db()
    assert ticket.closed_at == T0


# --- customers -------------------------------------------------------------------------


def test_customer_confirms_a_resolution(cast):
    ticket = ticket_in(cast, Status.RESOLVED)
    services.transition_ticket(cast.alice2, ticket, to=Status.CLOSED)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


def test_customer_reopens_within_the_window(cast):
    with time_machine.travel(T0, tick=False):
        ticket = ticket_in(cast, Status.OPEN)
        resolve(cast.lina, ticket)
    with time_machine.travel(T0 + timedelta(days=13), tick=False):
        services.transition_ticket(cast.alice, ticket, to=Status.OPEN, note="Still fails")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopen_count, ticket.resolved_at) == ("open", 1, None)
    assert (ticket.resolution_code, ticket.resolution) == ("", "")  # it did not hold
    event = TicketEvent.objects.get(ticket=ticket, kind="reopened")
    assert (event.note, event.actor) == ("Still fails", cast.alice)


def test_each_reopen_counts(cast):
    ticket = ticket_in(cast, Status.OPEN)
    for _round in range(3):
        resolve(cast.lina, ticket)
        services.reopen_ticket(cast.alice, ticket, reason="again")
    assert Ticket.objects.get(pk=ticket.pk).reopen_count == 3


def test_reopen_after_the_window_is_refused(cast, settings):
    settings.ERPCARE_REOPEN_WINDOW_DAYS = 14
    with clock.frozen_at(T0):
        ticket = ticket_in(cast, Status.OPEN)
        resolve(cast.lina, ticket)
    with (
        clock.frozen_at(T0 + timedelta(days=14, seconds=1)),
        refused(Conflict, "reopen window of 14 days has passed; please open a new ticket"),
    ):
        services.reopen_ticket(cast.alice, ticket, reason="too late")
    with clock.frozen_at(T0 + timedelta(days=14, seconds=1)), refused(Conflict, "window"):
        services.transition_ticket(cast.lina, ticket, to=Status.OPEN)


def test_reopen_needs_a_reason(cast):
    ticket = ticket_in(cast, Status.RESOLVED)
    with refused(ActionError, "Reason is required"):
        services.reopen_ticket(cast.alice, ticket, reason=" ")


@pytest.mark.parametrize("status", [Status.OPEN, Status.CLOSED, Status.NEW])
def test_only_resolved_tickets_can_be_reopened(cast, status):
    ticket = ticket_in(cast, status)
    with refused(Conflict, "Only a resolved ticket can be reopened"):
        services.reopen_ticket(cast.alice, ticket, reason="why not")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("new", "open"),
        ("open", "in_progress"),
        ("open", "resolved"),
        ("in_progress", "waiting_customer"),
        ("waiting_customer", "open"),
        ("resolved", "resolved"),
        ("closed", "open"),
    ],
)
def test_customers_may_only_confirm_or_reopen(cast, old, new):
    ticket = ticket_in(cast, old)
    with refused(NotAllowed, "confirm a resolved ticket or reopen it"):
        services.transition_ticket(
            cast.alice, ticket, to=new, resolution_code="fixed", resolution="self-service"
        )


def test_customer_cannot_move_another_customers_ticket(cast):
    ticket = ticket_in(cast, Status.RESOLVED)
    with refused(NotFound, "Ticket not found"):
        services.transition_ticket(cast.bob, ticket, to=Status.CLOSED)
    with refused(NotFound, "Ticket not found"):
        services.reopen_ticket(cast.bob, ticket, reason="mine now")


# --- auditor ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"), [("open", "in_progress"), ("resolved", "closed"), ("resolved", "open")]
)
def test_auditor_cannot_move_tickets(cast, old, new):
    ticket = ticket_in(cast, old)
    with refused(NotAllowed, "read-only"):
        services.transition_ticket(cast.audra, ticket, to=new)
    if old == "resolved":
        with refused(NotAllowed, "read-only"):
            services.reopen_ticket(cast.audra, ticket, reason="audit")
