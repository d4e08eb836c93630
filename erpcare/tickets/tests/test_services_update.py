"""Changing a ticket's descriptive fields: one event per field, priority follows the matrix."""

from __future__ import annotations

import pytest

from erpcare.audit.models import AuditEntry
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.tickets import services
from erpcare.tickets.models import Priority, Status, Tag, Ticket, TicketEvent
from erpcare.tickets.tests.helpers import state_checks

pytestmark = pytest.mark.django_db

WATCHED = (Ticket, TicketEvent, AuditEntry, Tag, Ticket.tags.through)

db_state, refused = state_checks(*WATCHED)


@pytest.fixture
def ticket(cast):
    return services.create_ticket(
        cast.alice, title="Invoice stuck", description="since Monday", impact=3, urgency=2
    )


def changes_of(ticket):
    return [
        (e.field, e.old_value, e.new_value)
        for e in TicketEvent.objects.filter(ticket=ticket, kind="changed").order_by("id")
    ]


def test_each_changed_field_writes_its_own_event(cast, ticket):
    services.update_ticket(
        cast.lina,
        ticket,
        title="Invoice stuck in approval",
        category="business_process",
        module="ap",
        erp_instance=cast.acme_erp,
        tags=["AP", "workflow"],
    )
    assert changes_of(ticket) == [
        ("title", "Invoice stuck", "Invoice stuck in approval"),
        ("category", "how_to", "business_process"),
        ("module", "", "ap"),
        ("erp_instance", "", str(cast.acme_erp)),
        ("tags", "", "ap, workflow"),
    ]
    ticket.refresh_from_db()
    assert ticket.module == "ap"
    assert ticket.erp_instance == cast.acme_erp
    audit = AuditEntry.objects.get(action="ticket.updated")
    assert audit.actor == cast.lina
    assert audit.data["fields"] == ["category", "erp_instance", "module", "tags", "title"]


def test_changing_impact_or_urgency_recomputes_the_priority(cast, ticket):
    assert ticket.priority == Priority.P3
    services.update_ticket(cast.lina, ticket, urgency=1)
    ticket.refresh_from_db()
    assert ticket.priority == Priority.P2
    services.update_ticket(cast.lina, ticket, impact=1)
    ticket.refresh_from_db()
    assert ticket.priority == Priority.P0
    assert ("priority", "3", "2") in changes_of(ticket)
    assert ("priority", "2", "0") in changes_of(ticket)


def test_explicit_priority_wins_over_the_matrix(cast, ticket):
    services.update_ticket(cast.lina, ticket, impact=1, urgency=1, priority=Priority.P2)
    ticket.refresh_from_db()
    assert ticket.priority == Priority.P2


def test_setting_a_priority_alone_keeps_impact_and_urgency(cast, ticket):
    services.update_ticket(cast.lina, ticket, priority=Priority.P1)
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.impact, ticket.urgency) == (Priority.P1, 3, 2)
    assert changes_of(ticket) == [("priority", "3", "1")]


def test_an_update_that_changes_nothing_writes_nothing(cast, ticket):
    before = db_state()
    services.update_ticket(cast.lina, ticket, title="Invoice stuck", impact=3)
    assert db_state() == before


def test_status_tier_and_assignee_have_their_own_actions(cast, ticket):
    with refused(ActionError, "cannot be changed here: assignee, status"):
        services.update_ticket(cast.lina, ticket, status="resolved", assignee=cast.lina)


def test_customer_cannot_edit_a_ticket(cast, ticket):
    with refused(NotAllowed, "Only support staff"):
        services.update_ticket(cast.alice, ticket, title="mine")


def test_auditor_cannot_edit_a_ticket(cast, ticket):
    with refused(NotAllowed, "read-only"):
        services.update_ticket(cast.audra, ticket, title="audited")


def test_agent_who_cannot_see_the_ticket_cannot_edit_it(cast):
    globex_ticket = services.create_ticket(cast.bob, title="POS down")
    with refused(NotFound, "Ticket not found"):
        services.update_ticket(cast.vera, globex_ticket, title="hijacked")


def test_closed_ticket_cannot_be_edited(cast, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)
    with refused(Conflict, "closed ticket cannot be changed"):
        services.update_ticket(cast.lina, ticket, title="late")


def test_erp_instance_of_another_customer_is_refused(cast, ticket):
    with refused(ActionError, "belongs to another customer"):
        services.update_ticket(cast.lina, ticket, erp_instance=cast.globex_erp)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "Title is required"),
        ("title", "x" * 201, "Title is too long"),
        ("title", "a\x00b", "NUL character"),
        ("description", "a\x00b", "NUL character"),
        ("type", "bug", "not a valid type"),
        ("category", "misc", "not a valid category"),
        ("module", "crm", "not a valid ERP module"),
        ("impact", 9, "not a valid impact"),
        ("urgency", 0, "not a valid urgency"),
        ("priority", 4, "not a valid priority"),
        ("tags", ["a\x00"], "NUL character"),
    ],
)
def test_bad_values_are_refused_and_change_nothing(cast, ticket, field, value, message):
    with refused(ActionError, message):
        services.update_ticket(cast.lina, ticket, **{field: value})


def test_a_bad_value_after_good_ones_rolls_back_the_good_ones(cast, ticket):
    with refused(ActionError, "not a valid category"):
        services.update_ticket(cast.lina, ticket, title="renamed", category="misc")
    ticket.refresh_from_db()
    assert ticket.title == "Invoice stuck"
