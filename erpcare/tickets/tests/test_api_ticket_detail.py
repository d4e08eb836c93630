"""GET and PATCH /api/v1/tickets/{ref}."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from erpcare.audit.models import AuditEntry
from erpcare.tickets import services
from erpcare.tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def client_for(cast, user):
    return Client(headers={"Authorization": f"Bearer {cast.token(user)}"})


def patch(client, ref, data):
    return client.patch(f"/api/v1/tickets/{ref}", data, content_type="application/json")


def assert_error(response, status, match=""):
    assert response.status_code == status, response.content
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert re.search(match, detail), detail
    return response.json()


def state():
    return (
        list(Ticket.objects.order_by("pk").values()),
        TicketEvent.objects.count(),
        AuditEntry.objects.exclude(action="token.created").count(),
    )


@pytest.fixture
def ticket(cast):
    return services.create_ticket(
        cast.alice,
        title="Goods receipt posts to wrong account",
        description="Movement type 101",
        erp_instance=cast.acme_erp,
        module="inventory",
        tags=["mm", "fi"],
    )


def test_ticket_by_number_has_every_detail(cast, ticket):
    response = client_for(cast, cast.alice).get(f"/api/v1/tickets/{ticket.number}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["number"] == ticket.number
    assert body["description"] == "Movement type 101"
    assert (body["impact"], body["urgency"], body["priority"]) == (3, 2, "P3")
    assert body["erp_instance"] == {"id": cast.acme_erp.pk, "name": "Acme SAP PRD"}
    assert body["requester"] == {
        "id": cast.alice.pk,
        "name": "Alice Wang",
        "email": cast.alice.email,
    }
    assert sorted(body["tags"]) == ["fi", "mm"]
    assert body["merged_into"] is None
    assert body["reopen_count"] == 0
    for name in ("first_response_at", "resolved_at", "closed_at"):
        assert body[name] is None


@pytest.mark.parametrize("form", ["id", "lower", "padded"])
def test_ticket_by_id_or_number_in_any_case(cast, ticket, form):
    ref = {"id": str(ticket.pk), "lower": ticket.number.lower(), "padded": f"%20{ticket.number}"}
    response = client_for(cast, cast.lina).get(f"/api/v1/tickets/{ref[form]}")
    assert response.status_code == 200, response.content
    assert response.json()["number"] == ticket.number


@pytest.mark.parametrize(
    "ref",
    ["INC-2026-999999", "999999", "0", "nonsense", "x" * 30, "99999999999999999999999", "INC%00"],
)
def test_unknown_ticket_is_404(cast, ticket, ref):
    assert_error(client_for(cast, cast.mona).get(f"/api/v1/tickets/{ref}"), 404, "Ticket not found")


def test_merged_ticket_names_the_ticket_it_went_into(cast, ticket):
    other = services.create_ticket(cast.alice, title="duplicate")
    services.merge_tickets(cast.lina, other, ticket)
    body = client_for(cast, cast.alice).get(f"/api/v1/tickets/{other.number}").json()
    assert (body["status"], body["merged_into"], body["resolution_code"]) == (
        "closed",
        ticket.number,
        "duplicate",
    )


def test_staff_edits_fields_and_gets_the_new_ticket_back(cast, ticket):
    response = patch(
        client_for(cast, cast.lina),
        ticket.number,
        {"title": "GR posts to wrong G/L account", "urgency": 1, "tags": ["mm"], "module": "gl"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "GR posts to wrong G/L account"
    assert (body["urgency"], body["priority"]) == (1, "P2")
    assert body["tags"] == ["mm"]
    assert body["module"] == "gl"
    fields = set(
        TicketEvent.objects.filter(ticket=ticket, kind="changed").values_list("field", flat=True)
    )
    assert fields == {"title", "urgency", "priority", "tags", "module"}


def test_patch_clears_the_erp_instance_with_null(cast, ticket):
    body = patch(client_for(cast, cast.lina), ticket.number, {"erp_instance": None}).json()
    assert body["erp_instance"] is None


def test_empty_patch_changes_nothing(cast, ticket):
    before = state()
    response = patch(client_for(cast, cast.lina), ticket.number, {})
    assert response.status_code == 200
    assert state() == before


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"status": "closed"}, 422, "status: Extra inputs are not permitted"),
        ({"title": ""}, 422, "title"),
        ({"title": None}, 400, "title cannot be empty"),
        ({"impact": None}, 400, "impact cannot be empty"),
        ({"impact": 5}, 422, "impact"),
        ({"priority": "P9"}, 422, "priority"),
        ({"category": "misc"}, 400, "misc is not a valid category"),
        ({"erp_instance": 999_999}, 404, "ERP instance not found"),
        ({"description": "bad\x00"}, 422, "NUL"),
    ],
)
def test_bad_patches_are_refused_and_change_nothing(cast, ticket, data, status, message):
    before = state()
    assert_error(patch(client_for(cast, cast.lina), ticket.number, data), status, message)
    assert state() == before


def test_erp_instance_of_another_customer_is_not_found(cast, ticket):
    before = state()
    response = patch(
        client_for(cast, cast.lina), ticket.number, {"erp_instance": cast.globex_erp.pk}
    )
    assert_error(response, 404, "ERP instance not found")
    assert state() == before


@pytest.mark.parametrize(("who", "status"), [("alice", 403), ("audra", 403), ("bob", 404)])
def test_customers_and_auditors_cannot_edit(cast, ticket, who, status):
    before = state()
    response = patch(client_for(cast, getattr(cast, who)), ticket.number, {"title": "mine"})
    assert_error(response, status, "support staff|read-only|not found")
    assert state() == before


def test_closed_ticket_edit_is_a_conflict(cast, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(status="closed")
    assert_error(
        patch(client_for(cast, cast.lina), ticket.number, {"title": "late"}), 409, "closed"
    )


def test_unknown_ticket_patch_is_404(cast):
    assert_error(patch(client_for(cast, cast.lina), "INC-2026-424242", {"title": "x"}), 404)
