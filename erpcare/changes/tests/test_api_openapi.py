"""The changes' part of the OpenAPI document: every operation is documented under the
``changes`` tag with its scoping rule, and each operation's real answers (success and the
400/403/404/409/422 it gives) and the requests sent validate against the closed schemas."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from erpcare.changes.tests.test_api import BASE, body, client
from erpcare.changes.tests.test_workflow import LOW, NOW
from erpcare.conftest import Cast
from erpcare.core import clock
from erpcare.tickets.tests.test_openapi import check

pytestmark = pytest.mark.django_db

JSON = "application/json"
REF = f"{BASE}/{{ref}}"
PATCHES = f"{BASE}/instances/{{instance_id}}/patches"


@pytest.fixture
def spec(db: Any) -> dict[str, Any]:
    return Client().get("/api/v1/openapi.json").json()


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
            response = getattr(c, method)(target, json, content_type=JSON)
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


def test_every_changes_operation_is_documented(spec: dict[str, Any]) -> None:
    assert operations(spec) == {
        ("get", BASE),
        ("post", BASE),
        ("get", f"{BASE}/calendar"),
        ("get", PATCHES),
        ("get", REF),
        ("patch", REF),
        ("post", f"{REF}/assessment"),
        ("post", f"{REF}/transitions"),
        ("post", f"{REF}/reschedule"),
        ("post", f"{REF}/approvals"),
    }
    for method, path in operations(spec):
        operation = spec["paths"][path][method]
        assert operation["tags"] == ["changes"], (method, path)
        assert "customers see no changes" in operation["description"], (method, path)
        for status in ("400", "401", "403", "404", "409", "422"):
            assert status in operation["responses"], (method, path, status)


def test_answers_match_the_document(cast: Cast, spec: dict[str, Any]) -> None:
    call = Caller(spec)
    eric, mona, adam = client(cast.eric), client(cast.mona), client(cast.adam)
    with clock.frozen_at(NOW):
        created = call(eric, "post", BASE, 201, json=body(cast))
        number = created["number"]
        assert created["state"] == "draft"
        ref = f"{BASE}/{number}"
        bad_module = call(eric, "post", BASE, 400, json=body(cast, modules=["crm"]))
        assert "“crm” is not an ERP module" in bad_module["detail"]
        assert call(client(cast.audra), "post", BASE, 403, json=body(cast))["detail"]
        unknown = call(eric, "post", BASE, 422, json={**body(cast), "colour": "red"})
        assert unknown["errors"][0]["field"] == "colour"

        listed = call(eric, "get", BASE, 200, params={"customer": "acme"})
        assert [c["number"] for c in listed["items"]] == [number]
        call(eric, "get", BASE, 422, params={"state": "nonsense"})

        detail = call(client(cast.audra), "get", REF, 200, url=ref)
        assert detail["events"][0]["to_state"] == "draft"
        call(client(cast.alice), "get", REF, 404, url=ref)
        call(eric, "get", REF, 404, url=f"{BASE}/CHG-2026-999999")

        renamed = call(eric, "patch", REF, 200, url=ref, json={"title": "Renamed"})
        assert renamed["title"] == "Renamed"
        call(eric, "patch", REF, 400, url=ref, json={"modules": ["crm"]})
        call(eric, "patch", REF, 404, url=f"{BASE}/CHG-2026-999999", json={"title": "x"})
        call(eric, "patch", REF, 422, url=ref, json={"colour": "red"})

        transitions = f"{REF}/transitions"
        submitted = call(eric, "post", transitions, 200, url=f"{ref}/transitions",
                         json={"action": "submit"})  # fmt: skip
        assert submitted["state"] == "assessment"
        call(eric, "post", transitions, 422, url=f"{ref}/transitions", json={"action": "fly"})

        assessment = f"{REF}/assessment"
        bad = call(eric, "post", assessment, 400, url=f"{ref}/assessment",
                   json={"answers": {**LOW, "tested": "maybe"}})  # fmt: skip
        assert "maybe" in bad["detail"]
        call(eric, "post", assessment, 404, url=f"{BASE}/CHG-2026-999999/assessment",
             json={"answers": LOW})  # fmt: skip
        call(eric, "post", assessment, 422, url=f"{ref}/assessment", json={"answers": "low"})
        assessed = call(eric, "post", assessment, 200, url=f"{ref}/assessment",
                        json={"answers": LOW})  # fmt: skip
        assert assessed["risk"] == "low"

        asked = call(eric, "post", transitions, 200, url=f"{ref}/transitions",
                     json={"action": "request_approval"})  # fmt: skip
        assert asked["state"] == "approval"
        wrong_state = call(eric, "post", transitions, 409, url=f"{ref}/transitions",
                           json={"action": "start"})  # fmt: skip
        assert wrong_state["detail"]

        approvals = f"{REF}/approvals"
        no_reason = call(adam, "post", approvals, 400, url=f"{ref}/approvals",
                         json={"decision": "reject", "comment": ""})  # fmt: skip
        assert no_reason["detail"]
        own = call(eric, "post", approvals, 403, url=f"{ref}/approvals",
                   json={"decision": "approve"})  # fmt: skip
        assert own["detail"] == "You cannot approve your own change."
        call(mona, "post", approvals, 422, url=f"{ref}/approvals", json={"decision": "maybe"})
        approved = call(mona, "post", approvals, 200, url=f"{ref}/approvals",
                        json={"decision": "approve", "comment": "Go."})  # fmt: skip
        assert approved["approvals_given"] == 1
        call(mona, "post", approvals, 404, url=f"{BASE}/CHG-2026-999999/approvals",
             json={"decision": "approve"})  # fmt: skip

        reschedule = f"{REF}/reschedule"
        too_early = call(eric, "post", reschedule, 409, url=f"{ref}/reschedule",
                         json={"planned_start": "2026-11-11T07:00:00Z",
                               "planned_end": "2026-11-11T09:00:00Z"})  # fmt: skip
        assert too_early["detail"]
        scheduled = call(eric, "post", transitions, 200, url=f"{ref}/transitions",
                         json={"action": "schedule"})  # fmt: skip
        assert scheduled["state"] == "scheduled"
        backwards = call(eric, "post", reschedule, 400, url=f"{ref}/reschedule",
                         json={"planned_start": "2026-11-11T09:00:00Z",
                               "planned_end": "2026-11-11T07:00:00Z"})  # fmt: skip
        assert backwards["detail"]
        call(eric, "post", reschedule, 422, url=f"{ref}/reschedule",
             json={"planned_start": "2026-11-11T07:00:00Z"})  # fmt: skip
        call(eric, "post", reschedule, 404, url=f"{BASE}/CHG-2026-999999/reschedule",
             json={"planned_start": "2026-11-11T07:00:00Z",
                   "planned_end": "2026-11-11T09:00:00Z"})  # fmt: skip
        moved = call(eric, "post", reschedule, 200, url=f"{ref}/reschedule",
                     json={"planned_start": "2026-11-11T07:00:00Z",
                           "planned_end": "2026-11-11T09:00:00Z"})  # fmt: skip
        assert moved["planned_start"].startswith("2026-11-11T07:00:00")

        calendar = f"{BASE}/calendar"
        month = call(eric, "get", calendar, 200, params={"first": "2026-11-01",
                                                         "last": "2026-11-30"})  # fmt: skip
        assert [c["number"] for c in month["changes"]] == [number]
        backwards = call(eric, "get", calendar, 400, params={"first": "2026-11-30",
                                                             "last": "2026-11-01"})  # fmt: skip
        assert backwards["detail"] == "The calendar range ends before it starts."
        call(eric, "get", calendar, 404, params={"first": "2026-11-01", "last": "2026-11-30",
                                                "customer": "nobody"})  # fmt: skip
        call(eric, "get", calendar, 422, params={"first": "November"})

    with clock.frozen_at(NOW.replace(day=11, hour=7, minute=30)):
        call(eric, "post", transitions, 200, url=f"{ref}/transitions", json={"action": "start"})
        version = "S/4HANA 2023 FPS03"
        done = call(eric, "post", transitions, 200, url=f"{ref}/transitions",
                    json={"action": "complete",
                          "versions": {str(cast.acme_erp.pk): version}})  # fmt: skip
        assert done["state"] == "completed"
        reviewed = call(mona, "post", transitions, 200, url=f"{ref}/transitions",
                        json={"action": "review", "outcome": "OK", "lessons": "None"})  # fmt: skip
        assert reviewed["state"] == "reviewed"

        patches = call(eric, "get", PATCHES, 200,
                       url=f"{BASE}/instances/{cast.acme_erp.pk}/patches")  # fmt: skip
        assert [(p["version_after"], p["change"]) for p in patches] == [(version, number)]
        call(client(cast.alice), "get", PATCHES, 404,
             url=f"{BASE}/instances/{cast.acme_erp.pk}/patches")  # fmt: skip
        call(eric, "get", PATCHES, 422, url=f"{BASE}/instances/first/patches")

    # Every operation answered once with success, and with the errors it gives.
    assert {(method, path) for method, path, status in call.seen if status < 300} == (
        operations(spec)
    )
    assert {status for _method, _path, status in call.seen} == {
        200, 201, 400, 403, 404, 409, 422,
    }  # fmt: skip
