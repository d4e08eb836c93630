"""POST /api/v1/tickets/{ref}/links and /merge."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from erpcare.audit.models import AuditEntry
from erpcare.tickets import services
from erpcare.tickets.models import Comment, Ticket, TicketLink

pytestmark = pytest.mark.django_db


def client_for(cast, user):
    return Client(headers={"Authorization": f"Bearer {cast.token(user)}"})


def post(client, ref, action, data):
    return client.post(f"/api/v1/tickets/{ref}/{action}", data, content_type="application/json")


def assert_error(response, status, match=""):
    assert response.status_code == status, response.content
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert re.search(match, detail), detail


def state():
    return (
        list(Ticket.objects.order_by("pk").values()),
        TicketLink.objects.count(),
        Comment.objects.filter(ticket__status="closed").count(),
        AuditEntry.objects.exclude(action="token.created").count(),
    )


@pytest.fixture
def pair(cast):
    return (
        services.create_ticket(cast.alice, title="Cannot log in"),
        services.create_ticket(cast.alice2, title="Login broken for all"),
    )


def test_link_two_tickets(cast, pair):
    response = post(
        client_for(cast, cast.lina), pair[0].number, "links",
        {"target": pair[1].number, "kind": "related_to"},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json() == {
        "source": pair[0].number,
        "target": pair[1].number,
        "kind": "related_to",
    }


@pytest.mark.parametrize(
    ("target", "kind", "code", "message"),
    [
        ("self", "related_to", 400, "cannot be linked to itself"),
        ("INC-2026-404404", "related_to", 404, "Ticket not found"),
        ("other", "blocks", 400, "blocks is not a valid link"),
        ("other", "", 400, "is not a valid link"),
    ],
)
def test_bad_links_are_refused(cast, pair, target, kind, code, message):
    ref = {"self": pair[0].number, "other": pair[1].number}.get(target, target)
    before = state()
    response = post(
        client_for(cast, cast.lina), pair[0].number, "links", {"target": ref, "kind": kind}
    )
    assert_error(response, code, message)
    assert state() == before


def test_linking_twice_is_a_conflict(cast, pair):
    client = client_for(cast, cast.lina)
    data = {"target": pair[1].number, "kind": "caused_by"}
    post(client, pair[0].number, "links", data)
    before = state()
    assert_error(post(client, pair[0].number, "links", data), 409, "already linked")
    assert state() == before


@pytest.mark.parametrize(
    ("data", "field"), [({"kind": "related_to"}, "target"), ({"target": ""}, "target")]
)
def test_link_input_is_validated(cast, pair, data, field):
    response = post(client_for(cast, cast.lina), pair[0].number, "links", data)
    assert_error(response, 422, field)


def test_merge_through_the_api(cast, pair):
    services.add_comment(cast.alice, pair[0], body="me too")
    response = post(
        client_for(cast, cast.lina),
        pair[0].number,
        "merge",
        {"into": pair[1].number, "reason": "dup"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["number"] == pair[1].number
    source = client_for(cast, cast.alice).get(f"/api/v1/tickets/{pair[0].number}").json()
    assert (source["status"], source["merged_into"]) == ("closed", pair[1].number)
    comments = client_for(cast, cast.alice).get(f"/api/v1/tickets/{pair[1].number}/comments")
    assert [c["body"] for c in comments.json()["items"]] == ["me too"]


@pytest.mark.parametrize(
    ("into", "code", "message"),
    [
        ("self", 400, "cannot be merged into itself"),
        ("globex", 400, "same customer"),
        ("INC-2026-404404", 404, "Ticket not found"),
    ],
)
def test_bad_merges_are_refused(cast, pair, into, code, message):
    globex = services.create_ticket(cast.bob, title="Cannot log in")
    ref = {"self": pair[0].number, "globex": globex.number}.get(into, into)
    before = state()
    response = post(client_for(cast, cast.lina), pair[0].number, "merge", {"into": ref})
    assert_error(response, code, message)
    assert state() == before


def test_merging_into_a_closed_ticket_is_a_conflict(cast, pair):
    Ticket.objects.filter(pk=pair[1].pk).update(status="closed")
    response = post(client_for(cast, cast.lina), pair[0].number, "merge", {"into": pair[1].number})
    assert_error(response, 409, "closed")


@pytest.mark.parametrize(("who", "code"), [("alice", 403), ("audra", 403)])
def test_customers_and_auditors_cannot_link_or_merge(cast, pair, who, code):
    client = client_for(cast, getattr(cast, who))
    before = state()
    assert_error(
        post(client, pair[0].number, "links", {"target": pair[1].number, "kind": "related_to"}),
        code,
    )
    assert_error(post(client, pair[0].number, "merge", {"into": pair[1].number}), code)
    assert state() == before
