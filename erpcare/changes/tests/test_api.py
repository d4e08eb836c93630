"""The changes API: the same rules as the services, over HTTP with bearer tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.test import Client

from erpcare.accounts.models import User
from erpcare.accounts.services import create_api_token
from erpcare.audit.models import AuditEntry
from erpcare.changes.models import Change, FreezePeriod
from erpcare.changes.tests.test_workflow import LOW, NOW
from erpcare.conftest import Cast
from erpcare.core import clock

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("_frozen"),
]

BASE = "/api/v1/changes"


@pytest.fixture
def _frozen() -> Any:
    with clock.frozen_at(NOW):
        yield


def client(user: User) -> Client:
    _token, raw = create_api_token(user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def body(cast: Cast, **fields: Any) -> dict[str, Any]:
    return {
        "type": "normal",
        "title": "Rebuild the stock valuation index",
        "instances": [cast.acme_erp.pk],
        "modules": ["inventory"],
        "planned_start": "2026-11-10T07:00:00Z",
        "planned_end": "2026-11-10T09:00:00Z",
        "expected_downtime_minutes": 10,
        "implementation_plan": "CREATE INDEX CONCURRENTLY …",
        "rollback_plan": "DROP INDEX CONCURRENTLY …",
        **fields,
    }


def post(c: Client, url: str, data: dict[str, Any]) -> Any:
    return c.post(url, data, content_type="application/json")


def test_create_and_walk_a_change_through_its_workflow(cast: Cast) -> None:
    eric, mona = client(cast.eric), client(cast.mona)
    created = post(eric, BASE, body(cast))
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    assert created.json()["customers"] == ["acme"]
    assert created.json()["state"] == "draft"
    url = f"{BASE}/{number}"
    assert post(eric, f"{url}/transitions", {"action": "submit"}).status_code == 200
    assessed = post(eric, f"{url}/assessment", {"answers": LOW})
    assert assessed.json()["risk"] == "low"
    assert post(eric, f"{url}/transitions", {"action": "request_approval"}).json()["state"] == (
        "approval"
    )
    own = post(eric, f"{url}/approvals", {"decision": "approve"})
    assert own.status_code == 403
    assert own.json()["detail"] == "You cannot approve your own change."
    approved = post(mona, f"{url}/approvals", {"decision": "approve", "comment": "Go."})
    assert approved.json()["approvals_given"] == 1
    scheduled = post(eric, f"{url}/transitions", {"action": "schedule"})
    assert scheduled.json()["state"] == "scheduled"
    post(eric, f"{url}/transitions", {"action": "start"})
    done = post(
        eric,
        f"{url}/transitions",
        {"action": "complete", "versions": {str(cast.acme_erp.pk): "S/4HANA 2023 FPS03"}},
    )
    assert done.json()["state"] == "completed"
    assert done.json()["instances"][0]["version"] == "S/4HANA 2023 FPS03"
    patches = eric.get(f"{BASE}/instances/{cast.acme_erp.pk}/patches").json()
    assert [(p["version_after"], p["change"]) for p in patches] == [("S/4HANA 2023 FPS03", number)]
    reviewed = post(
        mona, f"{url}/transitions", {"action": "review", "outcome": "OK", "lessons": "None"}
    )
    assert reviewed.json()["state"] == "reviewed"
    detail = client(cast.audra).get(url).json()
    assert [e["to_state"] for e in detail["events"] if e["to_state"]] == [
        "draft", "assessment", "approval", "scheduled", "in_progress", "completed", "reviewed",
    ]  # fmt: skip
    change = Change.objects.get(number=number)
    assert AuditEntry.objects.filter(target_id=str(change.pk), action="change.reviewed").exists()


def test_errors_are_named_with_their_status(cast: Cast) -> None:
    eric = client(cast.eric)
    no_rollback = post(eric, BASE, body(cast, rollback_plan="")).json()["number"]
    url = f"{BASE}/{no_rollback}"
    post(eric, f"{url}/transitions", {"action": "submit"})
    post(eric, f"{url}/assessment", {"answers": LOW})
    refused = post(eric, f"{url}/transitions", {"action": "request_approval"})
    assert refused.status_code == 400
    assert refused.json()["detail"] == "Write the rollback plan before asking for approval."
    wrong_state = post(eric, f"{url}/transitions", {"action": "start"})
    assert wrong_state.status_code == 409
    unknown = post(eric, BASE, {**body(cast), "colour": "red"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "colour"
    bad_module = post(eric, BASE, body(cast, modules=["crm"]))
    assert bad_module.status_code == 400
    assert "“crm” is not an ERP module" in bad_module.json()["detail"]
    bad_answer = post(eric, f"{url}/assessment", {"answers": {**LOW, "tested": "maybe"}})
    assert bad_answer.status_code == 400
    assert post(client(cast.audra), BASE, body(cast)).status_code == 403
    assert client(cast.alice).get(url).status_code == 404
    assert client(cast.alice).get(BASE).json()["items"] == []
    assert Client().get(BASE).status_code == 401


def test_a_blocking_freeze_is_named_over_the_api(cast: Cast) -> None:
    FreezePeriod.objects.create(
        name="Annual audit", organization=cast.acme, policy="block", created_at=NOW,
        starts_at=datetime.fromisoformat("2026-11-10T00:00:00+08:00"),
        ends_at=datetime.fromisoformat("2026-11-11T00:00:00+08:00"),
    )  # fmt: skip
    eric = client(cast.eric)
    number = post(eric, BASE, body(cast)).json()["number"]
    url = f"{BASE}/{number}"
    post(eric, f"{url}/transitions", {"action": "submit"})
    post(eric, f"{url}/assessment", {"answers": LOW})
    post(eric, f"{url}/transitions", {"action": "request_approval"})
    post(client(cast.mona), f"{url}/approvals", {"decision": "approve"})
    refused = post(eric, f"{url}/transitions", {"action": "schedule"})
    assert refused.status_code == 409
    assert "“Annual audit”" in refused.json()["detail"]
    calendar = eric.get(f"{BASE}/calendar", {"first": "2026-11-01", "last": "2026-11-30"})
    assert [f["name"] for f in calendar.json()["freeze_periods"]] == ["Annual audit"]
    assert [c["number"] for c in calendar.json()["changes"]] == [number]
    rejected = post(client(cast.adam), f"{url}/approvals", {"decision": "reject", "comment": ""})
    assert rejected.status_code == 400
    rejected = post(
        client(cast.adam), f"{url}/approvals", {"decision": "reject", "comment": "Audit"}
    )
    assert rejected.json()["state"] == "draft"


def test_list_filters(cast: Cast) -> None:
    eric = client(cast.eric)
    acme = post(eric, BASE, body(cast)).json()["number"]
    globex = post(eric, BASE, body(cast, instances=[cast.globex_erp.pk])).json()["number"]
    listed = eric.get(BASE, {"customer": "globex"}).json()["items"]
    assert [c["number"] for c in listed] == [globex]
    listed = eric.get(BASE, {"instance": cast.acme_erp.pk, "state": "draft"}).json()["items"]
    assert [c["number"] for c in listed] == [acme]
    assert eric.get(BASE, {"state": "scheduled"}).json()["items"] == []
    assert eric.get(BASE, {"state": "nonsense"}).status_code == 422
    patched = eric.patch(
        f"{BASE}/{acme}", {"title": "Renamed"}, content_type="application/json"
    ).json()
    assert patched["title"] == "Renamed"
