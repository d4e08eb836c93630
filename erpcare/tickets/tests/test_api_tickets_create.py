"""POST /api/v1/tickets: who opens what, and how bad input is answered."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from erpcare.audit.models import AuditEntry
from erpcare.tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/tickets"


def client_for(cast, user):
    return Client(headers={"Authorization": f"Bearer {cast.token(user)}"})


def post(client, data, url=URL):
    return client.post(url, data, content_type="application/json")


def assert_error(response, status, match=""):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert detail
    assert re.search(match, detail), detail
    return response.json()


def nothing_written(fn):
    before = (
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        AuditEntry.objects.exclude(action="token.created").count(),
    )
    response = fn()
    after = (
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        AuditEntry.objects.exclude(action="token.created").count(),
    )
    assert after == before
    return response


def test_customer_opens_a_ticket_for_own_organization(cast):
    response = post(
        client_for(cast, cast.alice),
        {
            "title": "凭证无法过账",
            "description": "FB01 报错 F5 155",
            "impact": 2,
            "urgency": 1,
            "module": "gl",
            "category": "system_failure",
            "erp_instance": cast.acme_erp.pk,
            "tags": ["Month-End"],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert re.fullmatch(r"INC-\d{4}-\d{6}", body["number"])
    assert body["customer"] == {"code": "acme", "name": "Acme 制造"}
    assert body["priority"] == "P1"
    assert body["status"] == "new"
    assert body["channel"] == "api"
    assert body["requester"]["email"] == "alice@acme.example"
    assert body["erp_instance"] == {"id": cast.acme_erp.pk, "name": "Acme SAP PRD"}
    assert body["tags"] == ["month-end"]
    assert response["Content-Type"] == "application/json; charset=utf-8"


def test_staff_opens_a_ticket_with_every_field(cast):
    response = post(
        client_for(cast, cast.mona),
        {
            "title": "Payroll export fails",
            "customer": "acme",
            "type": "request",
            "channel": "phone",
            "priority": "P0",
            "requester": "ANN@acme.example",
            "team": "l2-platform",
            "assignee": "eric@erpcare.example",
            "module": "hr",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("REQ-")
    assert (body["priority"], body["tier"], body["status"]) == ("P0", 2, "open")
    assert body["team"]["code"] == "l2-platform"
    assert body["assignee"]["email"] == "eric@erpcare.example"
    assert body["requester"]["email"] == "ann@acme.example"


@pytest.mark.parametrize(
    ("given", "expected"), [("urgent", "P0"), ("p2", "P2"), (3, "P3"), ("1", "P1")]
)
def test_priority_accepts_p_codes_numbers_and_common_words(cast, given, expected):
    response = post(
        client_for(cast, cast.lina), {"title": "x", "customer": "acme", "priority": given}
    )
    assert response.status_code == 201, response.content
    assert response.json()["priority"] == expected


def test_customer_gets_404_for_another_customer(cast):
    client = client_for(cast, cast.alice)
    response = nothing_written(lambda: post(client, {"title": "x", "customer": "globex"}))
    assert_error(response, 404, "Customer not found")


@pytest.mark.parametrize(
    "field", [{"priority": "P0"}, {"team": "l1-acme"}, {"assignee": "vera@erpcare.example"}]
)
def test_customer_cannot_set_priority_team_or_assignee(cast, field):
    client = client_for(cast, cast.alice)
    response = nothing_written(lambda: post(client, {"title": "x", **field}))
    assert_error(response, 403, "set by the support team")


def test_staff_must_name_the_customer(cast):
    client = client_for(cast, cast.lina)
    assert_error(nothing_written(lambda: post(client, {"title": "x"})), 400, "Choose the customer")


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"customer": "nope"}, 404, "Customer not found"),
        ({"customer": "acme", "erp_instance": 999_999}, 404, "ERP instance not found"),
        ({"customer": "globex", "erp_instance": "ACME"}, 422, "erp_instance"),
        ({"customer": "acme", "requester": "bob@globex.example"}, 400, "not a user of Acme"),
        ({"customer": "acme", "team": "l9"}, 400, "There is no team l9"),
        ({"customer": "acme", "assignee": "alice@acme.example"}, 400, "not a support staff"),
        ({"customer": "acme", "type": "bug"}, 400, "bug is not a valid type"),
        ({"customer": "acme", "module": "crm"}, 400, "crm is not a valid ERP module"),
        ({"customer": "acme", "category": "x"}, 400, "x is not a valid category"),
        ({"customer": "acme", "channel": "fax"}, 400, "fax is not a valid channel"),
        ({"customer": "acme", "priority": "P7"}, 422, "priority"),
        ({"customer": "acme", "priority": "whenever"}, 422, "priority must be P0"),
        ({"customer": "acme", "impact": 0}, 422, "impact"),
        ({"customer": "acme", "urgency": 4}, 422, "urgency"),
        ({"customer": "acme", "tags": [f"t{i}" for i in range(21)]}, 422, "tags"),
    ],
)
def test_bad_references_and_values_are_refused(cast, data, status, message):
    client = client_for(cast, cast.lina)
    response = nothing_written(lambda: post(client, {"title": "x", **data}))
    assert_error(response, status, message)


def test_erp_instance_of_another_customer_is_not_found(cast):
    client = client_for(cast, cast.lina)
    response = nothing_written(
        lambda: post(client, {"title": "x", "customer": "acme", "erp_instance": cast.globex_erp.pk})
    )
    assert_error(response, 404, "ERP instance not found")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": 42}, "title"),
        ({"title": ["a"]}, "title"),
        ({"title": None}, "title"),
        ({"title": "x", "impact": "high"}, "impact"),
        ({"title": "x", "impact": 1.5}, "impact"),
        ({"title": "x", "impact": True}, "impact"),
        ({"title": "x", "priority": True}, "priority"),
        ({"title": "x", "tags": "gl"}, "tags"),
        ({"title": "x", "tags": ["x" * 51]}, "tags.0"),
        ({"title": "x", "description": "d" * 100_001}, "description"),
        ({"title": "x", "colour": "red"}, "colour"),
    ],
)
def test_missing_wrong_typed_and_unknown_fields_get_422_with_the_field_named(cast, data, field):
    client = client_for(cast, cast.alice)
    body = assert_error(nothing_written(lambda: post(client, data)), 422, "Invalid input")
    assert field in [problem["field"] for problem in body["errors"]], body


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "a\x00b"}, "title"),
        ({"title": "x", "description": "\x00"}, "description"),
        ({"title": "x", "tags": ["a\x00"]}, "tags"),
        ({"title": "x", "customer": "ac\x00me"}, "customer"),
        ({"title": "x", "requester": "a\x00@acme.example"}, "requester"),
    ],
)
def test_text_with_nul_characters_is_refused(cast, data, field):
    client = client_for(cast, cast.alice)
    body = assert_error(nothing_written(lambda: post(client, data)), 422, "NUL")
    assert field in body["detail"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("title=x", "application/x-www-form-urlencoded"),
        ("", "application/json"),
        ("[]", "application/json"),
        ('"title"', "application/json"),
    ],
)
def test_body_that_is_not_a_json_object_is_refused(cast, body, content_type):
    client = client_for(cast, cast.alice)
    response = nothing_written(lambda: client.post(URL, body, content_type=content_type))
    assert response.status_code in (400, 422), response.content
    assert isinstance(response.json()["detail"], str)


def test_oversized_body_gets_413_before_it_is_read(cast, settings):
    client = client_for(cast, cast.alice)
    limit = settings.ERPCARE_MAX_REQUEST_BYTES
    response = nothing_written(
        lambda: post(client, {"title": "big", "description": "x" * (limit + 1)})
    )
    assert_error(response, 413, f"too large \\(limit {limit} bytes\\)")


def test_auditor_cannot_open_tickets(cast):
    client = client_for(cast, cast.audra)
    response = nothing_written(lambda: post(client, {"title": "x", "customer": "acme"}))
    assert_error(response, 403, "read-only")
