"""The error contract of the API: JSON ``{"detail": "..."}`` with the right 4xx code."""

from __future__ import annotations

import pytest
from django.test import Client

from erpcare.tickets import services

pytestmark = pytest.mark.django_db


def client_for(cast, user):
    return Client(headers={"Authorization": f"Bearer {cast.token(user)}"})


def assert_json_error(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert detail


@pytest.fixture
def ticket(cast):
    return services.create_ticket(cast.alice, title="x")


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("post", ""), ("patch", "/{ref}"), ("post", "/{ref}/comments"), ("post", "/{ref}/transition")],
)
def test_every_body_over_the_limit_gets_413(cast, ticket, settings, method, suffix):
    settings.ERPCARE_MAX_REQUEST_BYTES = 10_000
    client = client_for(cast, cast.lina)
    url = f"/api/v1/tickets{suffix.format(ref=ticket.number)}"
    response = getattr(client, method)(url, {"body": "x" * 10_001}, content_type="application/json")
    assert_json_error(response, 413)
    assert "10000 bytes" in response.json()["detail"]


def test_a_body_just_under_the_limit_is_read(cast, ticket, settings):
    settings.ERPCARE_MAX_REQUEST_BYTES = 10_000
    response = client_for(cast, cast.lina).post(
        f"/api/v1/tickets/{ticket.number}/comments",
        {"body": "x" * 9_900},
        content_type="application/json",
    )
    assert response.status_code == 201


def test_validation_errors_list_every_problem_with_its_field(cast):
    response = client_for(cast, cast.lina).post(
        "/api/v1/tickets",
        {"title": "", "impact": 9, "tags": ["x" * 51], "colour": "red"},
        content_type="application/json",
    )
    assert_json_error(response, 422)
    fields = sorted(problem["field"] for problem in response.json()["errors"])
    assert fields == ["colour", "impact", "tags.0", "title"]
    for field in fields:
        assert field in response.json()["detail"]


@pytest.mark.parametrize(
    ("request_args", "status"),
    [
        ({"path": "/api/v1/tickets", "data": "{", "content_type": "application/json"}, 400),
        ({"path": "/api/v1/tickets", "data": "<x/>", "content_type": "application/xml"}, 400),
    ],
)
def test_unreadable_bodies_get_400(cast, request_args, status):
    response = client_for(cast, cast.lina).post(**request_args)
    assert_json_error(response, status)


def test_unknown_api_path_is_a_json_404(cast):
    assert_json_error(client_for(cast, cast.lina).get("/api/v1/no-such-thing"), 404)


def test_wrong_method_is_a_json_405(cast, ticket):
    response = client_for(cast, cast.lina).put(
        f"/api/v1/tickets/{ticket.number}", {}, content_type="application/json"
    )
    assert_json_error(response, 405)
