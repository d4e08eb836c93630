"""Replies and internal notes: first response, waiting for the customer, closed tickets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from erpcare.audit.models import AuditEntry
from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.tickets import services
from erpcare.tickets.models import Comment, Status, Ticket, TicketEvent
from erpcare.tickets.tests.helpers import state_checks

pytestmark = pytest.mark.django_db

WATCHED = (Ticket, TicketEvent, Comment, AuditEntry)
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

db_state, refused = state_checks(*WATCHED)


@pytest.fixture
def ticket(cast):
    with clock.frozen_at(T0):
        return services.create_ticket(cast.alice, title="MRP run takes 6 hours")


def reload(ticket):
    return Ticket.objects.get(pk=ticket.pk)


def test_first_public_staff_reply_sets_first_response_time(cast, ticket):
    with clock.frozen_at(T0 + timedelta(minutes=12)):
        services.add_comment(cast.lina, ticket, body="We are looking into it.")
    with clock.frozen_at(T0 + timedelta(hours=3)):
        services.add_comment(cast.eric, ticket, body="Index rebuilt.")
    assert reload(ticket).first_response_at == T0 + timedelta(minutes=12)


def test_internal_note_does_not_count_as_first_response(cast, ticket):
    services.add_comment(cast.lina, ticket, body="Probably the nightly job.", internal=True)
    assert reload(ticket).first_response_at is None


def test_customer_reply_does_not_count_as_first_response(cast, ticket):
    services.add_comment(cast.alice, ticket, body="Still slow today.")
    services.add_comment(cast.alice2, ticket, body="Same for me.")
    assert reload(ticket).first_response_at is None


def test_reply_flagged_as_not_a_response_does_not_stop_the_clock(cast, ticket):
    services.add_comment(cast.lina, ticket, body="Auto-acknowledgement", counts_as_response=False)
    assert reload(ticket).first_response_at is None


def test_customer_reply_puts_a_ticket_waiting_for_the_customer_back_to_open(cast, ticket):
    services.transition_ticket(cast.lina, ticket, to=Status.WAITING_CUSTOMER)
    services.add_comment(cast.alice, ticket, body="Here is the log file.")
    assert reload(ticket).status == Status.OPEN
    last = TicketEvent.objects.filter(ticket=ticket, kind="status").latest("id")
    assert (last.old_value, last.new_value, last.actor) == ("waiting_customer", "open", cast.alice)


def test_staff_reply_leaves_a_waiting_ticket_waiting(cast, ticket):
    services.transition_ticket(cast.lina, ticket, to=Status.WAITING_CUSTOMER)
    services.add_comment(cast.lina, ticket, body="Any news?")
    assert reload(ticket).status == Status.WAITING_CUSTOMER


def test_customer_reply_does_not_reopen_other_statuses(cast, ticket):
    services.transition_ticket(cast.lina, ticket, to=Status.WAITING_VENDOR)
    services.add_comment(cast.alice, ticket, body="Any news?")
    assert reload(ticket).status == Status.WAITING_VENDOR


def test_comment_writes_a_commented_event_and_an_audit_row(cast, ticket):
    note = services.add_comment(cast.lina, ticket, body="checked SM21", internal=True)
    event = TicketEvent.objects.get(ticket=ticket, kind="commented")
    assert (event.comment, event.is_internal, event.actor) == (note, True, cast.lina)
    audit = AuditEntry.objects.get(action="ticket.commented")
    assert audit.data == {"number": ticket.number, "internal": True, "comment": note.pk}
    assert note.author == cast.lina
    assert note.is_internal


def test_closed_ticket_refuses_comments(cast, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)
    with refused(Conflict, f"closed. Please open a new ticket and mention {ticket.number}"):
        services.add_comment(cast.alice, ticket, body="one more thing")
    with refused(Conflict, "closed"):
        services.add_comment(cast.lina, ticket, body="note", internal=True)


def test_customer_cannot_write_internal_notes(cast, ticket):
    with refused(NotAllowed, "Customers cannot write internal notes"):
        services.add_comment(cast.alice, ticket, body="secret", internal=True)


def test_auditor_cannot_comment(cast, ticket):
    with refused(NotAllowed, "read-only"):
        services.add_comment(cast.audra, ticket, body="audit remark")


def test_customer_cannot_comment_on_another_customers_ticket(cast, ticket):
    with refused(NotFound, "Ticket not found"):
        services.add_comment(cast.bob, ticket, body="hello?")


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "Text is required"), ("  \n ", "Text is required"), ("a\x00", "NUL character")],
)
def test_empty_or_binary_text_is_refused(cast, ticket, body, message):
    with refused(ActionError, message):
        services.add_comment(cast.lina, ticket, body=body)


def test_text_over_100000_characters_is_refused(cast, ticket):
    with refused(ActionError, "Text is too long"):
        services.add_comment(cast.lina, ticket, body="x" * 100_001)


def test_unknown_channel_is_refused(cast, ticket):
    with refused(ActionError, "fax is not a valid channel"):
        services.add_comment(cast.lina, ticket, body="hi", channel="fax")
