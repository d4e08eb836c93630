"""The problems' part of the OpenAPI document: every operation is documented under the
``problems`` tag with its access rule, and each operation's real answers (success and the
400/401/403/404/409/422 it gives) and the requests sent validate against the closed schemas."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from erpcare.conftest import Cast
from erpcare.problems.tests.helpers import FULL_REVIEW, change, incident, resolve
from erpcare.tickets.tests.test_openapi import check

pytestmark = pytest.mark.django_db

BASE = "/api/v1/problems"
JSON = "application/json"
REF = f"{BASE}/{{ref}}"
REVIEW = f"{BASE}/reviews/{{ticket_ref}}"
INCIDENT = f"{REF}/incidents/{{ticket_ref}}"
DONE = f"{REF}/actions/{{action_id}}/done"
UNKNOWN = f"{BASE}/PRB-2026-999999"


@pytest.fixture
def spec(db: Any) -> dict[str, Any]:
    return Client().get("/api/v1/openapi.json").json()


def client(cast: Cast, who: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {cast.token(getattr(cast, who))}"})


class Caller:
    """Calls the API as one user and checks each answer (and each well-formed request)
    against the operation of the document it belongs to."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.seen: set[tuple[str, str, int]] = set()

    def __call__(
        self,
        c: Client,
        method: str,
        path: str,
        status: int,
        url: str | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        target = url or path
        if method == "get":
            response = c.get(target, params or {})
        else:
            payload = {} if json is None else json
            response = getattr(c, method)(target, payload, content_type=JSON)
        assert response.status_code == status, (method, target, response.content)
        operation = self.spec["paths"][path][method]
        content = operation["responses"][str(status)]["content"][JSON]
        assert response["Content-Type"].startswith(JSON)
        check(content["schema"], self.spec, response.json())
        if json is not None and status != 422:
            check(operation["requestBody"]["content"][JSON]["schema"], self.spec, json)
        self.seen.add((method, path, status))
        return response.json()


def operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, ops in spec["paths"].items()
        if path == BASE or path.startswith(BASE + "/")
        for method in ops
    }


def test_every_problems_operation_is_documented(spec: dict[str, Any]) -> None:
    assert operations(spec) == {
        ("get", BASE),
        ("post", BASE),
        ("get", f"{BASE}/candidates"),
        ("get", REVIEW),
        ("put", REVIEW),
        ("post", f"{REVIEW}/complete"),
        ("get", REF),
        ("patch", REF),
        ("post", f"{REF}/incidents"),
        ("delete", INCIDENT),
        ("post", f"{REF}/rca"),
        ("post", f"{REF}/actions"),
        ("post", DONE),
        ("post", f"{REF}/transitions"),
        ("post", f"{REF}/publish"),
    }
    for method, path in operations(spec):
        operation = spec["paths"][path][method]
        assert operation["tags"] == ["problems"], (method, path)
        assert operation["summary"], (method, path)
        description = operation["description"]
        assert "Support staff read and write, auditors read" in description, (method, path)
        rule = "customers see no reviews" if "/reviews/" in path else "customers see no problems"
        assert rule in description, (method, path)
        for status in ("400", "401", "403", "404", "409", "422"):
            assert status in operation["responses"], (method, path, status)


def test_answers_match_the_document(cast: Cast, spec: dict[str, Any]) -> None:
    call = Caller(spec)
    eric, xu, audra, alice = (client(cast, who) for who in ("eric", "xu", "audra", "alice"))
    first = incident(cast)
    second = incident(cast, "保存采购订单时报错超时", organization=cast.globex)
    third = incident(cast, "采购订单无法保存 超时")
    request = incident(cast, "Need a user", type="request")

    # Recurring incidents, before any of them is linked to a problem.
    clusters = call(eric, "get", f"{BASE}/candidates", 200,
                    params={"days": 7, "min_incidents": 3})  # fmt: skip
    assert [(c["module"], c["size"]) for c in clusters] == [("purchasing", 3)]
    days = call(eric, "get", f"{BASE}/candidates", 422, params={"days": 0})
    assert days["errors"][0]["field"] == "query.days"

    # Create.
    created = call(eric, "post", BASE, 201,
                   json={"title": "采购订单保存超时", "module": "purchasing",
                         "incidents": [first.number]})  # fmt: skip
    number = created["number"]
    assert (created["status"], created["customers"]) == ("new", ["acme"])
    ref = f"{BASE}/{number}"
    owner = call(eric, "post", BASE, 400, json={"title": "x", "owner": "alice@acme.example"})
    assert "support staff" in owner["detail"]
    assert call(audra, "post", BASE, 403, json={"title": "x"})["detail"] == (
        "Your role is read-only."
    )
    unknown = call(eric, "post", BASE, 422, json={"title": "x", "color": "red"})
    assert unknown["errors"][0]["field"] == "color"
    assert call(Client(), "post", BASE, 401, json={"title": "x"})["detail"]

    # List and detail.
    listed = call(audra, "get", BASE, 200, params={"status": "new"})
    assert [p["number"] for p in listed["items"]] == [number]
    assert "not a valid status" in call(eric, "get", BASE, 400, params={"status": "open"})["detail"]
    assert call(alice, "get", BASE, 404)["detail"] == "Problem not found."
    call(eric, "get", BASE, 422, params={"page": 0})
    detail = call(audra, "get", REF, 200, url=ref)
    assert [i["number"] for i in detail["incidents"]] == [first.number]
    call(alice, "get", REF, 404, url=ref)
    call(eric, "get", REF, 404, url=UNKNOWN)

    # Update.
    renamed = call(eric, "patch", REF, 200, url=ref, json={"title": "Renamed"})
    assert renamed["title"] == "Renamed"
    bad_module = call(eric, "patch", REF, 400, url=ref, json={"module": "nope"})
    assert "not a valid ERP module" in bad_module["detail"]
    call(eric, "patch", REF, 404, url=UNKNOWN, json={"title": "x"})
    call(eric, "patch", REF, 422, url=ref, json={"colour": "red"})

    # Incidents.
    incidents = f"{REF}/incidents"
    linked = call(eric, "post", incidents, 200, url=f"{ref}/incidents",
                  json={"tickets": [second.number, third.number]})  # fmt: skip
    assert sorted(linked["customers"]) == ["acme", "globex"]
    not_incident = call(eric, "post", incidents, 400, url=f"{ref}/incidents",
                        json={"tickets": [request.number]})  # fmt: skip
    assert "not an incident" in not_incident["detail"]
    again = call(eric, "post", incidents, 409, url=f"{ref}/incidents",
                 json={"tickets": [first.number]})  # fmt: skip
    assert again["detail"] == f"{first.number} is already linked to {number}."
    call(eric, "post", incidents, 404, url=f"{ref}/incidents",
         json={"tickets": ["INC-2026-999999"]})  # fmt: skip
    call(eric, "post", incidents, 422, url=f"{ref}/incidents", json={"tickets": []})
    unlinked = call(eric, "delete", INCIDENT, 200,
                    url=f"{ref}/incidents/{third.number}")  # fmt: skip
    assert third.number not in [i["number"] for i in unlinked["incidents"]]
    gone = call(eric, "delete", INCIDENT, 409, url=f"{ref}/incidents/{third.number}")
    assert gone["detail"] == f"{third.number} is not linked to {number}."
    call(eric, "delete", INCIDENT, 404, url=f"{ref}/incidents/INC-2026-999999")

    # Root cause analysis.
    rca = f"{REF}/rca"
    luck = call(eric, "post", rca, 400, url=f"{ref}/rca", json={"fishbone": ["luck"]})
    assert "fishbone category" in luck["detail"]
    call(eric, "post", rca, 422, url=f"{ref}/rca", json={"five_whys": [{"question": "Why?"}]})
    analysed = call(eric, "post", rca, 200, url=f"{ref}/rca",
                    json={"five_whys": [{"question": "Why slow?", "answer": "No index."}],
                          "fishbone": ["code"], "root_cause": "Missing index."})  # fmt: skip
    assert analysed["status"] == "investigating"

    # Actions.
    actions = f"{REF}/actions"
    action = call(eric, "post", actions, 201, url=f"{ref}/actions",
                  json={"kind": "preventive", "description": "Check indexes.",
                        "owner": "xu@erpcare.example", "due_on": "2026-12-20"})  # fmt: skip
    bad_kind = call(eric, "post", actions, 400, url=f"{ref}/actions",
                    json={"kind": "hopeful", "description": "Wait.",
                          "owner": "xu@erpcare.example"})  # fmt: skip
    assert "hopeful" in bad_kind["detail"]
    call(eric, "post", actions, 422, url=f"{ref}/actions", json={"kind": "preventive"})
    done_url = f"{ref}/actions/{action['id']}/done"
    assert call(xu, "post", DONE, 200, url=done_url)["done_at"] is not None
    assert call(xu, "post", DONE, 409, url=done_url)["detail"] == "This action is already done."
    assert call(xu, "post", DONE, 404, url=f"{ref}/actions/999999/done")["detail"] == (
        "Action not found."
    )
    call(xu, "post", DONE, 422, url=f"{ref}/actions/first/done")

    # Workflow and publishing.
    transitions = f"{REF}/transitions"
    call(eric, "post", transitions, 422, url=f"{ref}/transitions", json={"to": 1})
    workaround = call(eric, "post", transitions, 400, url=f"{ref}/transitions",
                      json={"to": "known_error"})  # fmt: skip
    assert workaround["detail"] == "Workaround is required."
    publish = f"{REF}/publish"
    nothing = call(eric, "post", publish, 400, url=f"{ref}/publish")
    assert nothing["detail"]
    known = call(eric, "post", transitions, 200, url=f"{ref}/transitions",
                 json={"to": "known_error", "workaround": "Save in batches."})  # fmt: skip
    assert (known["status"], known["known_error"]) == ("known_error", True)
    published = call(eric, "post", publish, 201, url=f"{ref}/publish")
    assert published["status"] == "draft"
    fix = change(cast)
    resolved = call(eric, "post", transitions, 200, url=f"{ref}/transitions",
                    json={"to": "resolved", "change": fix.number})  # fmt: skip
    assert resolved["resolving_change"] == fix.number
    call(eric, "post", transitions, 200, url=f"{ref}/transitions", json={"to": "closed"})
    closed = call(eric, "post", transitions, 409, url=f"{ref}/transitions",
                  json={"to": "investigating"})  # fmt: skip
    assert closed["detail"] == "A problem cannot go from Closed to Investigating."

    # Post-incident reviews.
    major = resolve(cast, incident(cast, "ERP down", priority=0))
    review = f"{BASE}/reviews/{major.number}"
    empty = call(audra, "get", REVIEW, 200, url=review)
    assert (empty["required"], empty["completed_at"]) == (True, None)
    call(alice, "get", REVIEW, 404, url=review)
    call(eric, "get", REVIEW, 404, url=f"{BASE}/reviews/INC-2026-999999")
    complete = f"{REVIEW}/complete"
    first_write = call(eric, "post", complete, 400, url=f"{review}/complete")
    assert first_write["detail"] == f"Write the post-incident review of {major.number} first."
    partial = call(eric, "put", REVIEW, 200, url=review, json={"impact": FULL_REVIEW["impact"]})
    assert partial["impact"] == FULL_REVIEW["impact"]
    missing = call(eric, "post", complete, 400, url=f"{review}/complete")
    assert "missing" in missing["detail"]
    assert call(audra, "put", REVIEW, 403, url=review, json=FULL_REVIEW)["detail"] == (
        "Your role is read-only."
    )
    minor = call(eric, "put", REVIEW, 400, url=f"{BASE}/reviews/{request.number}",
                 json=FULL_REVIEW)  # fmt: skip
    assert minor["detail"] == (
        f"{request.number} is not a major incident; post-incident reviews are for P0/P1 incidents."
    )
    nul = call(eric, "put", REVIEW, 422, url=review, json={"impact": "a\x00b"})
    assert nul["errors"][0]["field"] == "impact"
    call(eric, "put", REVIEW, 404, url=f"{BASE}/reviews/INC-2026-999999", json=FULL_REVIEW)
    call(eric, "put", REVIEW, 422, url=review, json={"mood": "calm"})
    call(eric, "put", REVIEW, 200, url=review, json=FULL_REVIEW)
    call(audra, "post", complete, 403, url=f"{review}/complete")
    call(eric, "post", complete, 404, url=f"{BASE}/reviews/INC-2026-999999/complete")
    completed = call(eric, "post", complete, 200, url=f"{review}/complete")
    assert completed["author"]["email"] == "eric@erpcare.example"
    twice = call(eric, "post", complete, 409, url=f"{review}/complete")
    assert twice["detail"] == f"The review of {major.number} is already completed."

    # Every operation answered once with success, and with the errors it gives.
    assert {(method, path) for method, path, status in call.seen if status < 300} == (
        operations(spec)
    )
    assert {status for _method, _path, status in call.seen} == {
        200, 201, 400, 401, 403, 404, 409, 422,
    }  # fmt: skip
