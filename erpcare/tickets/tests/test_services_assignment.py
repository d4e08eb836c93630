"""Giving a ticket to a person and a team."""

from __future__ import annotations

import pytest

from erpcare.audit.models import AuditEntry
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.tickets import services
from erpcare.tickets.models import Status, Ticket, TicketEvent
from erpcare.tickets.tests.helpers import state_checks

pytestmark = pytest.mark.django_db

WATCHED = (Ticket, TicketEvent, AuditEntry)

db_state, refused = state_checks(*WATCHED)


@pytest.fixture
def acme_ticket(cast):
    return services.create_ticket(cast.alice, title="Cannot print delivery notes")


@pytest.fixture
def globex_ticket(cast):
    return services.create_ticket(cast.bob, title="POS sync failed")


def reload(ticket):
    return Ticket.objects.get(pk=ticket.pk)


def test_assigning_a_new_ticket_opens_it(cast, acme_ticket):
    services.assign_ticket(cast.lina, acme_ticket, assignee=cast.vera, team=cast.l1_acme)
    ticket = reload(acme_ticket)
    assert (ticket.assignee, ticket.team, ticket.status) == (cast.vera, cast.l1_acme, "open")
    events = TicketEvent.objects.filter(ticket=ticket).exclude(kind="created").order_by("id")
    assert [(e.kind, e.field, e.new_value) for e in events] == [
        ("assigned", "team", str(cast.l1_acme)),
        ("assigned", "assignee", str(cast.vera)),
        ("status", "status", "open"),
    ]
    audit = AuditEntry.objects.get(action="ticket.assigned")
    assert audit.data == {"number": ticket.number, "assignee": cast.vera.email, "team": "l1-acme"}


def test_agent_takes_a_ticket_and_unassigns_it_again(cast, acme_ticket):
    services.assign_ticket(cast.lina, acme_ticket, assignee=cast.lina)
    services.assign_ticket(cast.lina, acme_ticket, assignee=None)
    ticket = reload(acme_ticket)
    assert ticket.assignee is None
    assert ticket.status == Status.OPEN  # unassigning does not put it back to new


def test_assigning_to_the_current_assignee_writes_nothing(cast, acme_ticket):
    services.assign_ticket(cast.lina, acme_ticket, assignee=cast.lina)
    before = db_state()
    services.assign_ticket(cast.lina, acme_ticket, assignee=cast.lina)
    assert db_state() == before


@pytest.mark.parametrize("who", ["alice", "audra"])
def test_only_support_staff_can_be_assignees(cast, acme_ticket, who):
    with refused(ActionError, "only be assigned to active support staff"):
        services.assign_ticket(cast.lina, acme_ticket, assignee=getattr(cast, who))


def test_inactive_staff_cannot_be_assignees(cast, acme_ticket):
    cast.eric.is_active = False
    cast.eric.save()
    with refused(ActionError, "active support staff"):
        services.assign_ticket(cast.lina, acme_ticket, assignee=cast.eric)


def test_assignee_must_be_a_member_of_the_team(cast, acme_ticket):
    with refused(ActionError, "Lina Zhao is not a member of Acme 驻场组"):
        services.assign_ticket(cast.mona, acme_ticket, assignee=cast.lina, team=cast.l1_acme)


def test_assignee_must_serve_the_customer(cast, globex_ticket):
    with refused(ActionError, "Vera Chen does not serve this customer"):
        services.assign_ticket(cast.lina, globex_ticket, assignee=cast.vera)


def test_team_must_serve_the_customer(cast, globex_ticket):
    with refused(ActionError, "Acme 驻场组 does not serve this customer"):
        services.assign_ticket(cast.lina, globex_ticket, assignee=None, team=cast.l1_acme)


def test_team_of_another_tier_is_refused_escalation_moves_tiers(cast, acme_ticket):
    with refused(ActionError, "escalate"):
        services.assign_ticket(cast.lina, acme_ticket, assignee=cast.eric, team=cast.l2_platform)


@pytest.mark.parametrize("who", ["alice", "audra"])
def test_customers_and_auditors_cannot_assign(cast, acme_ticket, who):
    with refused(NotAllowed, "support staff|read-only"):
        services.assign_ticket(getattr(cast, who), acme_ticket, assignee=cast.lina)


def test_agent_cannot_assign_a_ticket_they_cannot_see(cast, globex_ticket):
    with refused(NotFound, "Ticket not found"):
        services.assign_ticket(cast.vera, globex_ticket, assignee=cast.vera)


def test_closed_ticket_cannot_be_assigned(cast, acme_ticket):
    Ticket.objects.filter(pk=acme_ticket.pk).update(status=Status.CLOSED)
    with refused(Conflict, "closed ticket cannot be changed"):
        services.assign_ticket(cast.lina, acme_ticket, assignee=cast.lina)
