"""The problems API: create, link, RCA, actions, transitions, publish, candidates, reviews;
errors are JSON ``{"detail": …}`` and change nothing; customers get 404, auditors read."""

from __future__ import annotations

import pytest
from django.test import Client

from erpcare.problems.models import Problem
from erpcare.problems.tests.helpers import FULL_REVIEW, change, db_state, incident, resolve

pytestmark = [
    pytest.mark.django_db,
]

P = "/api/v1/problems"
JSON = "application/json"


def api(cast, who):
    return Client(headers={"Authorization": f"Bearer {cast.token(getattr(cast, who))}"})


def post(client, url, body=None):
    return client.post(url, body or {}, content_type=JSON)


def test_a_problem_from_creation_to_knowledge(cast):
    eric = api(cast, "eric")
    first = incident(cast)
    second = incident(cast, "保存采购订单时报错超时", organization=cast.globex)
    response = post(
        eric, P, {"title": "采购订单保存超时", "module": "purchasing", "incidents": [first.number]}
    )
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    assert response.json()["customers"] == ["acme"]
    response = post(eric, f"{P}/{number}/incidents", {"tickets": [second.number]})
    assert response.status_code == 200
    assert sorted(response.json()["customers"]) == ["acme", "globex"]
    response = post(
        eric,
        f"{P}/{number}/rca",
        {
            "five_whys": [{"question": "Why slow?", "answer": "No index."}],
            "fishbone": ["code"],
            "root_cause": "Missing index.",
        },
    )
    assert (response.status_code, response.json()["status"]) == (200, "investigating")
    response = post(
        eric,
        f"{P}/{number}/actions",
        {"kind": "preventive", "description": "Check indexes.", "owner": "xu@erpcare.example",
         "due_on": "2026-12-20"},
    )  # fmt: skip
    assert response.status_code == 201
    action_id = response.json()["id"]
    response = post(api(cast, "xu"), f"{P}/{number}/actions/{action_id}/done")
    assert response.json()["done_at"] is not None
    response = post(eric, f"{P}/{number}/transitions", {"to": "known_error"})
    assert response.status_code == 400
    assert response.json()["detail"] == "Workaround is required."
    fix = change(cast)
    response = post(eric, f"{P}/{number}/transitions", {"to": "resolved", "change": fix.number})
    assert (response.json()["status"], response.json()["resolving_change"]) == (
        "resolved",
        fix.number,
    )
    assert post(eric, f"{P}/{number}/publish").status_code == 400  # no fix, no workaround
    post(eric, f"{P}/{number}/transitions", {"to": "investigating", "note": "Reopened"})
    post(eric, f"{P}/{number}/transitions", {"to": "known_error", "workaround": "Batches."})
    response = post(eric, f"{P}/{number}/publish")
    assert response.status_code == 201
    assert response.json()["status"] == "draft"
    detail = eric.get(f"{P}/{number}").json()
    assert detail["article"] == response.json()["number"]
    assert [i["number"] for i in detail["incidents"]] == [first.number, second.number]
    listed = eric.get(P, {"status": "known_error"}).json()
    assert [item["number"] for item in listed["items"]] == [number]
    assert eric.get(P, {"open": "false"}).json()["items"] == []


def test_errors_are_json_and_change_nothing(cast):
    eric = api(cast, "eric")
    problem = post(eric, P, {"title": "x"}).json()["number"]
    request = incident(cast, "Need a user", type="request")
    audra, alice = api(cast, "audra"), api(cast, "alice")  # token creation is audited
    incidents = f"{P}/{problem}/incidents"
    before = db_state()
    cases = [
        (post(eric, P, {"title": "x", "color": "red"}), 422, "color"),
        (post(eric, P, {"title": "x", "owner": "alice@acme.example"}), 400, "support staff"),
        (post(eric, P, {"title": "x", "module": "nope"}), 400, "not a valid ERP module"),
        (post(eric, incidents, {"tickets": [request.number]}), 400, "not an incident"),
        (post(eric, incidents, {"tickets": ["INC-2026-999999"]}), 404, "Ticket not found"),
        (post(eric, f"{P}/{problem}/rca", {"fishbone": ["luck"]}), 400, "fishbone category"),
        (post(eric, f"{P}/{problem}/transitions", {"to": "resolved"}), 400, "root cause"),
        (post(eric, f"{P}/{problem}/transitions", {"to": "done"}), 400, "not a valid status"),
        (post(eric, f"{P}/{problem}/actions/999/done"), 404, "Action not found"),
        (eric.get(f"{P}/PRB-2026-999999"), 404, "Problem not found"),
        (eric.get(P, {"status": "open"}), 400, "not a valid status"),
        (eric.get(f"{P}/candidates", {"days": 0}), 422, "days"),
        (post(audra, P, {"title": "x"}), 403, "read-only"),
        (alice.get(f"{P}/{problem}"), 404, "Problem not found"),
        (alice.get(P), 404, "Problem not found"),
        (Client().get(P), 401, "Authentication required"),
    ]  # fmt: skip
    for response, status, text in cases:
        assert response.status_code == status, (status, text, response.content)
        assert text in response.json()["detail"], response.json()
    assert db_state() == before
    assert audra.get(f"{P}/{problem}").status_code == 200


def test_candidates_and_reviews(cast):
    eric = api(cast, "eric")
    for title in ("采购订单保存超时", "保存采购订单时报错超时", "采购订单无法保存 超时"):
        incident(cast, title)
    clusters = eric.get(f"{P}/candidates", {"days": 7, "min_incidents": 3}).json()
    assert [(c["module"], c["size"], c["suggested_title"]) for c in clusters] == [
        ("purchasing", 3, "采购订单保存超时")
    ]
    major = resolve(cast, incident(cast, "ERP down", priority=0))
    review = eric.get(f"{P}/reviews/{major.number}").json()
    assert (review["required"], review["completed_at"]) == (True, None)
    response = eric.put(f"{P}/reviews/{major.number}", FULL_REVIEW, content_type=JSON)
    assert response.json()["impact"] == FULL_REVIEW["impact"]
    response = post(eric, f"{P}/reviews/{major.number}/complete")
    assert response.json()["completed_at"] is not None
    assert response.json()["author"]["email"] == "eric@erpcare.example"
    assert Problem.objects.count() == 0
