"""GET/POST /api/v1/tickets/{ref}/comments and GET /api/v1/tickets/{ref}/events."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from erpcare.audit.models import AuditEntry
from erpcare.tickets import services
from erpcare.tickets.models import Comment, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def client_for(cast, user):
    return Client(headers={"Authorization": f"Bearer {cast.token(user)}"})


def assert_error(response, status, match=""):
    assert response.status_code == status, response.content
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert re.search(match, detail), detail
    return response.json()


def state():
    return (
        Comment.objects.count(),
        TicketEvent.objects.count(),
        AuditEntry.objects.exclude(action="token.created").count(),
    )


@pytest.fixture
def ticket(cast):
    return services.create_ticket(cast.alice, title="Batch job SAPF124 aborted")


def comment_url(ticket):
    return f"/api/v1/tickets/{ticket.number}/comments"


def test_customer_replies_and_sees_the_reply(cast, ticket):
    client = client_for(cast, cast.alice)
    response = client.post(
        comment_url(ticket), {"body": "日志见附件"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["body"] == "日志见附件"
    assert body["internal"] is False
    assert body["channel"] == "api"
    assert body["author"] == {"id": cast.alice.pk, "name": "Alice Wang", "email": cast.alice.email}
    listing = client.get(comment_url(ticket)).json()
    assert [c["id"] for c in listing["items"]] == [body["id"]]


def test_staff_reply_sets_first_response(cast, ticket):
    client = client_for(cast, cast.lina)
    client.post(comment_url(ticket), {"body": "On it"}, content_type="application/json")
    detail = client.get(f"/api/v1/tickets/{ticket.number}").json()
    assert detail["first_response_at"] is not None


def test_comments_are_oldest_first_and_paged(cast, ticket):
    for i in range(5):
        services.add_comment(cast.lina, ticket, body=f"c{i}")
    client = client_for(cast, cast.lina)
    first = client.get(f"{comment_url(ticket)}?page_size=2").json()
    last = client.get(f"{comment_url(ticket)}?page_size=2&page=3").json()
    assert [c["body"] for c in first["items"]] == ["c0", "c1"]
    assert first["has_next"] is True
    assert [c["body"] for c in last["items"]] == ["c4"]
    assert last["has_next"] is False


def test_staff_see_internal_notes_customers_do_not(cast, ticket):
    services.add_comment(cast.lina, ticket, body="public")
    services.add_comment(cast.lina, ticket, body="internal", internal=True)
    staff = client_for(cast, cast.eric).get(comment_url(ticket)).json()["items"]
    customer = client_for(cast, cast.alice2).get(comment_url(ticket)).json()["items"]
    assert [(c["body"], c["internal"]) for c in staff] == [("public", False), ("internal", True)]
    assert [c["body"] for c in customer] == ["public"]


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({}, 422, "body"),
        ({"body": ""}, 422, "body"),
        ({"body": "   "}, 400, "Text is required"),
        ({"body": 5}, 422, "body"),
        ({"body": "x", "internal": "maybe"}, 422, "internal"),
        ({"body": "x", "author": "mona"}, 422, "author"),
        ({"body": "x" * 100_001}, 422, "body"),
        ({"body": "a\x00b"}, 422, "NUL"),
    ],
)
def test_bad_comments_are_refused(cast, ticket, data, status, message):
    before = state()
    response = client_for(cast, cast.lina).post(
        comment_url(ticket), data, content_type="application/json"
    )
    assert_error(response, status, message)
    assert state() == before


def test_customer_internal_note_is_forbidden(cast, ticket):
    before = state()
    response = client_for(cast, cast.alice).post(
        comment_url(ticket), {"body": "psst", "internal": True}, content_type="application/json"
    )
    assert_error(response, 403, "Customers cannot write internal notes")
    assert state() == before


def test_comment_on_a_closed_ticket_is_a_conflict(cast, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(status="closed")
    response = client_for(cast, cast.alice).post(
        comment_url(ticket), {"body": "hello?"}, content_type="application/json"
    )
    assert_error(response, 409, f"closed.*{ticket.number}")


def test_comment_on_an_unknown_ticket_is_404(cast):
    client = client_for(cast, cast.lina)
    url = "/api/v1/tickets/INC-2026-777777/comments"
    assert_error(client.post(url, {"body": "x"}, content_type="application/json"), 404)
    assert_error(client.get(url), 404)


@pytest.mark.parametrize(
    "query", ["page=0", "page=10001", "page=99999999999999999999", "page_size=201"]
)
def test_comment_paging_out_of_range_gets_422(cast, ticket, query):
    assert_error(client_for(cast, cast.lina).get(f"{comment_url(ticket)}?{query}"), 422, "page")


# --- events ----------------------------------------------------------------------------


def test_events_tell_the_history_in_order(cast, ticket):
    services.assign_ticket(cast.lina, ticket, assignee=cast.lina)
    services.transition_ticket(cast.lina, ticket, to="in_progress")
    events = client_for(cast, cast.lina).get(f"/api/v1/tickets/{ticket.number}/events").json()
    assert [(e["kind"], e["field"], e["new_value"]) for e in events] == [
        ("created", "", ticket.number),
        ("assigned", "assignee", "Lina Zhao"),
        ("status", "status", "open"),
        ("status", "status", "in_progress"),
    ]
    assert events[1]["actor"]["email"] == cast.lina.email


def test_customers_see_the_workflow_not_the_desks_internal_moves(cast, ticket):
    services.add_comment(cast.lina, ticket, body="note", internal=True)
    services.assign_ticket(cast.lina, ticket, assignee=cast.lina)
    services.escalate_ticket(cast.lina, ticket, tier=2, reason="customer keeps nagging")
    other = services.create_ticket(cast.bob, title="Globex only")
    services.link_tickets(cast.lina, other, ticket, kind="related_to")
    services.transition_ticket(
        cast.eric, ticket, to="resolved", resolution_code="fixed", resolution="job restarted"
    )
    customer = client_for(cast, cast.alice).get(f"/api/v1/tickets/{ticket.number}/events").json()
    assert [e["kind"] for e in customer] == ["created", "status", "status"]
    text = str(customer)
    assert "nagging" not in text
    assert other.number not in text
    staff = client_for(cast, cast.mona).get(f"/api/v1/tickets/{ticket.number}/events").json()
    assert {"commented", "assigned", "escalated", "linked"} <= {e["kind"] for e in staff}
