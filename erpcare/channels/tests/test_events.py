"""Ticket actions publish outbox events: one per action plus the specific ones."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from erpcare.channels.events import emit
from erpcare.channels.models import Event
from erpcare.tickets.services import (
    add_attachment,
    add_comment,
    assign_ticket,
    create_ticket,
    escalate_ticket,
    reopen_ticket,
    transition_ticket,
    update_ticket,
)

pytestmark = pytest.mark.django_db


def names_after(action: Any) -> list[str]:
    last = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    action()
    return list(Event.objects.filter(pk__gt=last).order_by("pk").values_list("name", flat=True))


def test_create_writes_ticket_created_and_incident_opened_with_the_snapshot(cast, settings):
    settings.SITE_URL = "https://desk.example"
    ticket = create_ticket(cast.alice, title="GL posting fails", module="gl")
    events = list(Event.objects.filter(ticket=ticket).order_by("pk"))
    assert [e.name for e in events] == ["ticket.created", "incident.opened"]
    data = events[0].data
    assert data["actor"] == {"id": cast.alice.pk, "name": "Alice Wang"}
    snap = data["ticket"]
    assert snap["number"] == ticket.number
    assert snap["organization"] == {"id": cast.acme.pk, "code": "acme", "name": "Acme 制造"}
    assert snap["requester"] == {
        "id": cast.alice.pk,
        "name": "Alice Wang",
        "email": "alice@acme.example",
    }
    assert snap["assignee"] is None
    assert snap["team"] is None
    assert snap["priority"] == ticket.priority
    assert snap["module"] == "gl"
    assert snap["desk_url"] == f"https://desk.example/desk/tickets/{ticket.number}/"
    assert snap["portal_url"] == f"https://desk.example/portal/tickets/{ticket.number}/"
    assert events[0].organization_id == cast.acme.pk
    assert events[0].priority == ticket.priority
    assert events[0].dispatched_at is None


def test_a_request_is_not_an_incident_and_an_assignee_at_creation_is_told(cast):
    ticket = create_ticket(
        cast.lina,
        title="New user",
        type="request",
        organization=cast.acme,
        team=cast.l1_desk,
        assignee=cast.lina,
    )
    names = list(Event.objects.filter(ticket=ticket).order_by("pk").values_list("name", flat=True))
    assert names == ["ticket.created", "ticket.assigned"]
    snap = Event.objects.filter(ticket=ticket).first().data["ticket"]  # type: ignore[union-attr]
    assert snap["team"] == {"id": cast.l1_desk.pk, "name": "财务组 L1"}
    assert snap["assignee"]["email"] == "lina@erpcare.example"


def test_public_reply_internal_note_and_customer_reply_to_waiting_ticket(cast):
    ticket = create_ticket(cast.alice, title="Stock count")
    assert names_after(lambda: add_comment(cast.lina, ticket, body="Looking")) == [
        "ticket.commented"
    ]
    event = Event.objects.order_by("-pk").first()
    assert event is not None
    assert event.data["comment"]["body"] == "Looking"
    assert event.data["comment"]["internal"] is False
    assert event.data["comment"]["author"] == "Lina Zhao"
    assert names_after(lambda: add_comment(cast.lina, ticket, body="Hmm", internal=True)) == [
        "ticket.note"
    ]
    assign_ticket(cast.lina, ticket, assignee=cast.lina, team=cast.l1_desk)
    transition_ticket(cast.lina, ticket, to="waiting_customer")
    assert names_after(lambda: add_comment(cast.alice, ticket, body="Here it is")) == [
        "ticket.commented",
        "ticket.status_changed",
    ]


def test_assign_escalate_update_and_status_events_carry_changes(cast):
    ticket = create_ticket(cast.alice, title="Slow report")
    assert names_after(
        lambda: assign_ticket(cast.lina, ticket, assignee=cast.lina, team=cast.l1_desk)
    ) == ["ticket.assigned", "ticket.status_changed"]
    changes = Event.objects.get(ticket=ticket, name="ticket.assigned").data["changes"]
    assert {"field": "assignee", "old": "", "new": "Lina Zhao"} in changes
    assert names_after(lambda: escalate_ticket(cast.lina, ticket, tier=2, reason="needs SQL")) == [
        "ticket.escalated"
    ]
    assert names_after(lambda: update_ticket(cast.eric, ticket, title="Slow GL report")) == [
        "ticket.updated"
    ]
    event = Event.objects.filter(name="ticket.updated").get()
    assert event.data["changes"] == [
        {"field": "title", "old": "Slow report", "new": "Slow GL report"}
    ]
    assert event.data["actor"]["id"] == cast.eric.pk


def test_resolve_and_reopen(cast):
    ticket = create_ticket(cast.alice, title="Invoice")
    assign_ticket(cast.lina, ticket, assignee=cast.lina, team=cast.l1_desk)
    assert names_after(
        lambda: transition_ticket(
            cast.lina, ticket, to="resolved", resolution_code="fixed", resolution="Done"
        )
    ) == ["ticket.status_changed", "ticket.resolved"]
    assert names_after(lambda: reopen_ticket(cast.alice, ticket, reason="Still broken")) == [
        "ticket.status_changed",
        "ticket.reopened",
    ]


def test_a_public_file_is_an_update_an_internal_file_is_nothing(cast):
    ticket = create_ticket(cast.alice, title="Screenshot")
    public = SimpleUploadedFile("error.txt", b"trace", content_type="text/plain")
    assert names_after(lambda: add_attachment(cast.lina, ticket, public)) == ["ticket.updated"]
    internal = SimpleUploadedFile("db.txt", b"sql", content_type="text/plain")
    assert names_after(lambda: add_attachment(cast.lina, ticket, internal, internal=True)) == []


def test_a_failed_action_leaves_no_event(cast):
    ticket = create_ticket(cast.alice, title="Close me")
    with pytest.raises(Exception):  # noqa: B017,PT011
        transition_ticket(cast.lina, ticket, to="resolved")  # no resolution code
    assert not Event.objects.filter(ticket=ticket, name="ticket.resolved").exists()


def test_unknown_event_names_are_refused(cast):
    with pytest.raises(ValueError, match="unknown event"):
        emit("ticket.exploded")


def count_queries(action: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        action()
    return len(ctx.captured_queries)


def test_the_receiver_adds_at_most_two_queries_to_ticket_create_and_comment(cast):
    from erpcare.tickets.signals import ticket_recorded

    def create() -> Any:
        return create_ticket(cast.lina, title="Q", organization=cast.acme, team=cast.l1_desk)

    def comment(ticket: Any) -> Any:
        return add_comment(cast.lina, ticket, body="hello")

    create()  # warm caches (content types, sequences)
    with_receiver = count_queries(create)
    fresh = create()
    with_receiver_comment = count_queries(lambda: comment(fresh))
    from erpcare.channels import events as module
    from erpcare.tickets.models import Ticket

    assert ticket_recorded.disconnect(sender=Ticket, dispatch_uid="channels.events")
    try:
        without = count_queries(create)
        fresh = create()
        without_comment = count_queries(lambda: comment(fresh))
    finally:
        ticket_recorded.connect(
            module._on_ticket_recorded, sender=Ticket, dispatch_uid="channels.events"
        )
    assert with_receiver - without <= 2, (with_receiver, without)
    assert with_receiver_comment - without_comment <= 2, (with_receiver_comment, without_comment)


@pytest.mark.django_db(transaction=True)
def test_one_wake_up_per_transaction_and_none_on_rollback(transactional_db):
    from erpcare.conftest import build_cast

    cast = build_cast()
    DBTaskResult.objects.all().delete()
    with transaction.atomic():
        ticket = create_ticket(cast.lina, title="A", organization=cast.acme)
        add_comment(cast.lina, ticket, body="one")
        add_comment(cast.lina, ticket, body="two", internal=True)
    pumps = DBTaskResult.objects.filter(task_path="erpcare.channels.tasks.pump_outbox")
    assert pumps.count() == 1
    assert Event.objects.filter(ticket=ticket).count() == 4

    def rolled_back() -> None:
        with transaction.atomic():
            add_comment(cast.lina, ticket, body="three")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        rolled_back()
    assert Event.objects.filter(ticket=ticket).count() == 4
    # A pump already waiting to start will see the new events: no second one is queued.
    add_comment(cast.lina, ticket, body="four")
    assert pumps.count() == 1
