"""Links between tickets: related, duplicate of, caused by."""

from __future__ import annotations

import pytest

from erpcare.audit.models import AuditEntry
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.tickets import services
from erpcare.tickets.models import Ticket, TicketEvent, TicketLink
from erpcare.tickets.tests.helpers import state_checks

pytestmark = pytest.mark.django_db

WATCHED = (Ticket, TicketEvent, TicketLink, AuditEntry)

db_state, refused = state_checks(*WATCHED)


@pytest.fixture
def pair(cast):
    first = services.create_ticket(cast.alice, title="Invoices not posted")
    second = services.create_ticket(cast.alice2, title="AP interface error")
    return first, second


def test_link_is_recorded_on_both_tickets_with_one_audit_row(cast, pair):
    first, second = pair
    link = services.link_tickets(cast.lina, first, second, kind="caused_by")
    assert (link.source, link.target, link.kind, link.created_by) == (
        first,
        second,
        "caused_by",
        cast.lina,
    )
    out = TicketEvent.objects.get(ticket=first, kind="linked")
    back = TicketEvent.objects.get(ticket=second, kind="linked")
    assert (out.field, out.new_value) == ("caused_by", second.number)
    assert (back.field, back.new_value) == ("caused_by:reverse", first.number)
    audit = AuditEntry.objects.get(action="ticket.linked")
    assert audit.data == {"number": first.number, "kind": "caused_by", "target": second.number}


def test_the_same_pair_may_be_linked_in_different_ways_and_directions(cast, pair):
    first, second = pair
    services.link_tickets(cast.lina, first, second, kind="related_to")
    services.link_tickets(cast.lina, first, second, kind="caused_by")
    services.link_tickets(cast.lina, second, first, kind="related_to")
    assert TicketLink.objects.count() == 3


def test_self_link_is_refused(cast, pair):
    with refused(ActionError, "cannot be linked to itself"):
        services.link_tickets(cast.lina, pair[0], pair[0], kind="related_to")


def test_duplicate_link_is_refused(cast, pair):
    services.link_tickets(cast.lina, pair[0], pair[1], kind="related_to")
    with refused(Conflict, "already linked this way"):
        services.link_tickets(cast.lina, pair[0], pair[1], kind="related_to")


def test_unknown_link_kind_is_refused(cast, pair):
    with refused(ActionError, "blocks is not a valid link"):
        services.link_tickets(cast.lina, pair[0], pair[1], kind="blocks")


def test_link_to_a_ticket_the_agent_cannot_see_is_not_found(cast, pair):
    globex = services.create_ticket(cast.bob, title="POS")
    with refused(NotFound, "Ticket not found"):
        services.link_tickets(cast.vera, pair[0], globex, kind="related_to")


def test_link_from_a_ticket_the_agent_cannot_see_is_not_found(cast, pair):
    globex = services.create_ticket(cast.bob, title="POS")
    with refused(NotFound, "Ticket not found"):
        services.link_tickets(cast.vera, globex, pair[0], kind="related_to")


def test_staff_may_link_tickets_of_different_customers(cast, pair):
    globex = services.create_ticket(cast.bob, title="Same upstream outage")
    services.link_tickets(cast.lina, pair[0], globex, kind="related_to")
    assert TicketLink.objects.filter(source=pair[0], target=globex).exists()


@pytest.mark.parametrize("who", ["alice", "audra"])
def test_customers_and_auditors_cannot_link(cast, pair, who):
    with refused(NotAllowed, "support staff|read-only"):
        services.link_tickets(getattr(cast, who), pair[0], pair[1], kind="related_to")
