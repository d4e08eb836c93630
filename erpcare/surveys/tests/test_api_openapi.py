"""The surveys' part of the OpenAPI document: every operation is documented with its
scoping rule, and real answers (200, 400, 422) validate against the closed schemas."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from erpcare.surveys.models import Invitation, SurveyKind
from erpcare.surveys.services import answer, invite_nps, make_token, read_token
from erpcare.surveys.tests.conftest import api, new_ticket
from erpcare.tickets.tests.test_openapi import check

pytestmark = pytest.mark.django_db

JSON = "application/json"
S = "/api/v1/surveys"


@pytest.fixture
def spec(db: Any) -> dict[str, Any]:
    return Client().get("/api/v1/openapi.json").json()


def documented(spec: dict[str, Any], path: str, status: int, response: Any) -> None:
    assert response.status_code == status, response.content
    operation = spec["paths"][path]["get"]
    content = operation["responses"][str(status)]["content"][JSON]
    check(content["schema"], spec, response.json())


def test_every_surveys_operation_is_documented(spec: dict[str, Any]) -> None:
    operations = {
        (method, path)
        for path, ops in spec["paths"].items()
        if path.startswith(S + "/")
        for method in ops
    }
    assert operations == {("get", f"{S}/responses"), ("get", f"{S}/summary")}
    for method, path in operations:
        operation = spec["paths"][path][method]
        assert "surveys" in operation["tags"]
        assert "customer" in operation["description"].lower()


def test_answers_match_the_document(cast: Any, resolve: Any, spec: dict[str, Any]) -> None:
    ticket = resolve(cast, new_ticket(cast))
    invitation = Invitation.objects.get(ticket=ticket)
    answer(read_token(make_token(invitation, 2)), 2, "slow")
    invite_nps()
    nps = Invitation.objects.get(kind=SurveyKind.NPS, user=cast.bob)
    answer(read_token(make_token(nps, 10)), 10)
    client = api(cast.mona)
    listing = client.get(f"{S}/responses")
    documented(spec, f"{S}/responses", 200, listing)
    assert len(listing.json()["items"]) == 2
    period = "start=2000-01-01T00:00:00Z&end=2100-01-01T00:00:00Z"
    summary = client.get(f"{S}/summary?{period}")
    documented(spec, f"{S}/summary", 200, summary)
    assert summary.json()["nps"]["score"] == 100.0
    # Nothing answered in this period: nulls, as documented.
    empty = client.get(f"{S}/summary?start=2000-01-01T00:00:00Z&end=2000-02-01T00:00:00Z")
    documented(spec, f"{S}/summary", 200, empty)
    assert empty.json()["csat"]["mean"] is None
    documented(spec, f"{S}/responses", 400, client.get(f"{S}/responses?kind=csat&score=0"))
    documented(spec, f"{S}/responses", 422, client.get(f"{S}/responses?kind=poll"))
    documented(
        spec,
        f"{S}/summary",
        400,
        client.get(f"{S}/summary?start=2026-01-01T00:00:00&end=2026-02-01T00:00:00Z"),
    )
