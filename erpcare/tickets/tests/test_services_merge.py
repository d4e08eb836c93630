"""Merging a duplicate into the ticket that stays."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from erpcare.audit.models import AuditEntry
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.tickets import services
from erpcare.tickets.models import (
    Attachment,
    Comment,
    ResolutionCode,
    Status,
    Ticket,
    TicketEvent,
    TicketLink,
)
from erpcare.tickets.tests.helpers import state_checks

pytestmark = pytest.mark.django_db

WATCHED = (
    Ticket,
    TicketEvent,
    TicketLink,
    Comment,
    Attachment,
    AuditEntry,
    Ticket.watchers.through,
)

db_state, refused = state_checks(*WATCHED)


@pytest.fixture
def duplicate(cast):
    ticket = services.create_ticket(cast.alice2, title="Cannot log in to SAP")
    services.add_comment(cast.alice2, ticket, body="since 9:00")
    services.add_comment(cast.lina, ticket, body="same as the other one?", internal=True)
    services.add_attachment(
        cast.alice2, ticket, SimpleUploadedFile("screen.png", b"\x89PNG...", "image/png")
    )
    ticket.watchers.add(cast.mona)
    return ticket


@pytest.fixture
def original(cast):
    ticket = services.create_ticket(cast.alice, title="SAP login fails for everyone")
    services.add_comment(cast.alice, ticket, body="urgent")
    return ticket


def test_merge_moves_conversation_files_and_watchers(cast, duplicate, original):
    result = services.merge_tickets(cast.lina, duplicate, original, reason="same outage")
    assert result == original
    assert list(Comment.objects.filter(ticket=original).values_list("body", flat=True)) == [
        "since 9:00",
        "same as the other one?",
        "urgent",
    ]
    assert list(Attachment.objects.filter(ticket=original).values_list("filename", flat=True)) == [
        "screen.png"
    ]
    assert not Comment.objects.filter(ticket=duplicate).exists()
    assert set(original.watchers.all()) == {cast.alice, cast.alice2, cast.mona}


def test_merged_ticket_is_closed_as_a_duplicate_pointing_to_the_other(cast, duplicate, original):
    services.merge_tickets(cast.lina, duplicate, original, reason="same outage")
    source = Ticket.objects.get(pk=duplicate.pk)
    assert source.status == Status.CLOSED
    assert source.merged_into == original
    assert source.resolution_code == ResolutionCode.DUPLICATE
    assert source.resolution == "same outage"
    assert source.closed_at is not None
    assert source.resolved_at is not None
    assert TicketLink.objects.filter(
        source=duplicate, target=original, kind="duplicate_of"
    ).exists()
    assert TicketEvent.objects.filter(
        ticket=duplicate, kind="merged", new_value=original.number
    ).exists()
    assert TicketEvent.objects.filter(
        ticket=original, kind="merged", new_value=duplicate.number
    ).exists()


def test_merge_without_reason_says_where_it_went(cast, duplicate, original):
    services.merge_tickets(cast.lina, duplicate, original)
    assert Ticket.objects.get(pk=duplicate.pk).resolution == f"Merged into {original.number}"


def test_merge_writes_an_audit_row_for_each_ticket_it_changes(cast, duplicate, original):
    services.merge_tickets(cast.lina, duplicate, original)
    merged = AuditEntry.objects.get(action="ticket.merged")
    received = AuditEntry.objects.get(action="ticket.merge_received")
    assert merged.target_id == str(duplicate.pk)
    assert merged.data == {
        "number": duplicate.number,
        "into": original.number,
        "comments": 2,
        "files": 1,
    }
    assert received.target_id == str(original.pk)


def test_tickets_of_different_customers_cannot_be_merged(cast, original):
    globex = services.create_ticket(cast.bob, title="Cannot log in")
    with refused(ActionError, "Only tickets of the same customer can be merged"):
        services.merge_tickets(cast.lina, globex, original)


def test_a_ticket_cannot_be_merged_into_itself(cast, original):
    with refused(ActionError, "cannot be merged into itself"):
        services.merge_tickets(cast.lina, original, original)


def test_closed_tickets_cannot_be_merged_either_way(cast, duplicate, original):
    Ticket.objects.filter(pk=original.pk).update(status=Status.CLOSED)
    with refused(Conflict, f"{original.number} is closed; merge into an open ticket"):
        services.merge_tickets(cast.lina, duplicate, original)
    with refused(Conflict, f"{original.number} is closed and cannot be merged"):
        services.merge_tickets(cast.lina, original, duplicate)


def test_merged_ticket_cannot_be_merged_again(cast, duplicate, original):
    services.merge_tickets(cast.lina, duplicate, original)
    third = services.create_ticket(cast.alice, title="third")
    with refused(Conflict, "closed"):
        services.merge_tickets(cast.lina, duplicate, third)


def test_agent_cannot_merge_into_a_ticket_they_cannot_see(cast, original):
    vera_side = services.create_ticket(cast.bob, title="POS")
    with refused(NotFound, "Ticket not found"):
        services.merge_tickets(cast.vera, original, vera_side)
    with refused(NotFound, "Ticket not found"):
        services.merge_tickets(cast.vera, vera_side, original)


@pytest.mark.parametrize("who", ["alice", "audra"])
def test_customers_and_auditors_cannot_merge(cast, duplicate, original, who):
    with refused(NotAllowed, "support staff|read-only"):
        services.merge_tickets(getattr(cast, who), duplicate, original)
