"""POST /assign, /transition, /escalate on /api/v1/tickets/{ref}."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from erpcare.audit.models import AuditEntry
from erpcare.core import clock
from erpcare.tickets import services
from erpcare.tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def client_for(cast, user):
    return Client(headers={"Authorization": f"Bearer {cast.token(user)}"})


def post(client, ticket, action, data):
    return client.post(
        f"/api/v1/tickets/{ticket.number}/{action}", data, content_type="application/json"
    )


def assert_error(response, status, match=""):
    assert response.status_code == status, response.content
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert re.search(match, detail), detail


def state():
    return (
        list(Ticket.objects.order_by("pk").values()),
        TicketEvent.objects.count(),
        AuditEntry.objects.exclude(action="token.created").count(),
    )


@pytest.fixture
def ticket(cast):
    return services.create_ticket(cast.alice, title="Warehouse transfer stuck")


# --- assign ----------------------------------------------------------------------------


def test_agent_takes_the_ticket_with_me(cast, ticket):
    response = post(client_for(cast, cast.lina), ticket, "assign", {"assignee": "me"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["assignee"]["email"] == cast.lina.email
    assert body["status"] == "open"


def test_assign_to_a_team_member_by_email_and_unassign(cast, ticket):
    client = client_for(cast, cast.mona)
    body = post(
        client, ticket, "assign", {"assignee": "VERA@erpcare.example", "team": "l1-acme"}
    ).json()
    assert (body["assignee"]["email"], body["team"]["code"]) == (cast.vera.email, "l1-acme")
    body = post(client, ticket, "assign", {"assignee": None}).json()
    assert body["assignee"] is None
    assert body["team"]["code"] == "l1-acme"


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"assignee": "nobody@erpcare.example"}, 400, "not a support staff member"),
        ({"assignee": "alice@acme.example"}, 400, "not a support staff member"),
        ({"assignee": "lina@erpcare.example", "team": "l1-acme"}, 400, "not a member of"),
        ({"assignee": "eric@erpcare.example", "team": "l2-platform"}, 400, "escalate"),
        ({"team": "nope"}, 400, "There is no team nope"),
        ({"assignee": 7}, 422, "assignee"),
        ({"assignee": "me", "priority": 1}, 422, "priority"),
    ],
)
def test_bad_assignments_are_refused(cast, ticket, data, status, message):
    before = state()
    assert_error(post(client_for(cast, cast.mona), ticket, "assign", data), status, message)
    assert state() == before


@pytest.mark.parametrize(("who", "status"), [("alice", 403), ("audra", 403), ("bob", 404)])
def test_customers_and_auditors_cannot_assign(cast, ticket, who, status):
    before = state()
    response = post(client_for(cast, getattr(cast, who)), ticket, "assign", {"assignee": "me"})
    assert_error(response, status)
    assert state() == before


# --- transition ------------------------------------------------------------------------


def test_the_life_of_a_ticket_through_the_api(cast, ticket):
    staff, customer = client_for(cast, cast.lina), client_for(cast, cast.alice)
    for to in ("open", "in_progress", "waiting_customer"):
        assert post(staff, ticket, "transition", {"to": to}).json()["status"] == to
    resolved = post(
        staff,
        ticket,
        "transition",
        {"to": "resolved", "resolution_code": "data_corrected", "resolution": "Fixed stock"},
    ).json()
    assert (resolved["status"], resolved["resolution_code"]) == ("resolved", "data_corrected")
    assert resolved["resolved_at"] is not None
    reopened = post(customer, ticket, "transition", {"to": "open", "note": "still stuck"}).json()
    assert (reopened["status"], reopened["reopen_count"]) == ("open", 1)
    post(
        staff,
        ticket,
        "transition",
        {"to": "resolved", "resolution_code": "fixed", "resolution": "ok"},
    )
    closed = post(customer, ticket, "transition", {"to": "closed"}).json()
    assert closed["status"] == "closed"
    assert closed["closed_at"] is not None


@pytest.mark.parametrize(
    ("status", "data", "code", "message"),
    [
        ("new", {"to": "closed"}, 409, "cannot go from New to Closed"),
        ("closed", {"to": "open"}, 409, "cannot go from Closed to Open"),
        ("open", {"to": "open"}, 409, "cannot go from Open to Open"),
        ("open", {"to": "done"}, 400, "done is not a valid status"),
        ("open", {"to": "resolved"}, 400, "not a valid resolution code"),
        ("open", {"to": "resolved", "resolution_code": "fixed"}, 400, "Resolution is required"),
        ("open", {}, 422, "to"),
        ("open", {"to": 3}, 422, "to"),
        ("open", {"to": "in_progress", "note": "n" * 2001}, 422, "note"),
        ("open", {"to": "in_progress", "force": True}, 422, "force"),
    ],
)
def test_invalid_transitions_are_refused(cast, ticket, status, data, code, message):
    Ticket.objects.filter(pk=ticket.pk).update(status=status)
    before = state()
    assert_error(post(client_for(cast, cast.lina), ticket, "transition", data), code, message)
    assert state() == before


def test_customer_may_not_resolve_their_own_ticket(cast, ticket):
    data = {"to": "resolved", "resolution_code": "fixed", "resolution": "found it myself"}
    assert_error(post(client_for(cast, cast.alice), ticket, "transition", data), 403, "confirm")


def test_reopen_after_the_window_is_a_conflict(cast, ticket, settings):
    services.transition_ticket(
        cast.lina, ticket, to="resolved", resolution_code="fixed", resolution="ok"
    )
    later = clock.now() + timedelta(days=settings.ERPCARE_REOPEN_WINDOW_DAYS + 1)
    with time_machine.travel(later, tick=False):
        response = post(client_for(cast, cast.alice), ticket, "transition", {"to": "open"})
    assert_error(response, 409, "reopen window")


# --- escalate --------------------------------------------------------------------------


def test_escalate_to_l2_and_assign_on_the_way(cast, ticket):
    body = post(
        client_for(cast, cast.lina),
        ticket,
        "escalate",
        {"tier": 2, "reason": "lock waits on MSEG", "assignee": "eric@erpcare.example"},
    ).json()
    assert (body["tier"], body["team"]["code"], body["assignee"]["email"]) == (
        2,
        "l2-platform",
        cast.eric.email,
    )


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        ({"tier": 2}, 422, "reason"),
        ({"tier": 2, "reason": ""}, 422, "reason"),
        ({"tier": 2, "reason": "  "}, 400, "Reason is required"),
        ({"tier": 5, "reason": "x"}, 422, "tier"),
        ({"tier": "L2", "reason": "x"}, 422, "tier"),
        ({"tier": 1, "reason": "x"}, 400, "already at this tier"),
        ({"tier": 2, "reason": "x", "team": "l3-experts"}, 400, "does not work at this tier"),
        ({"tier": 2, "reason": "x", "team": "ghost"}, 400, "There is no team ghost"),
        ({"tier": 2, "reason": "x", "assignee": "xu@erpcare.example"}, 400, "not a member"),
    ],
)
def test_bad_escalations_are_refused(cast, ticket, data, code, message):
    before = state()
    assert_error(post(client_for(cast, cast.lina), ticket, "escalate", data), code, message)
    assert state() == before


def test_escalating_a_closed_ticket_is_a_conflict(cast, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(status="closed")
    response = post(client_for(cast, cast.lina), ticket, "escalate", {"tier": 2, "reason": "x"})
    assert_error(response, 409, "Only open tickets")


@pytest.mark.parametrize("action", ["assign", "transition", "escalate"])
def test_actions_on_an_unknown_ticket_are_404(cast, action):
    client = client_for(cast, cast.lina)
    data = {"assign": {"assignee": "me"}, "transition": {"to": "open"}}.get(
        action, {"tier": 2, "reason": "x"}
    )
    response = client.post(
        f"/api/v1/tickets/QST-2026-000404/{action}", data, content_type="application/json"
    )
    assert_error(response, 404, "Ticket not found")


def test_changing_only_the_team_keeps_the_assignee(cast, ticket):
    client = client_for(cast, cast.mona)
    post(client, ticket, "assign", {"assignee": "vera@erpcare.example"})
    body = post(client, ticket, "assign", {"team": "l1-acme"}).json()
    assert body["team"]["code"] == "l1-acme"
    assert body["assignee"]["email"] == cast.vera.email


def test_an_empty_assignment_changes_nothing(cast, ticket):
    client = client_for(cast, cast.mona)
    post(client, ticket, "assign", {"assignee": "vera@erpcare.example"})
    before = state()
    body = post(client, ticket, "assign", {}).json()
    assert body["assignee"]["email"] == cast.vera.email
    assert state() == before
