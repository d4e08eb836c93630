"""The published OpenAPI document describes what the API really answers.

Real requests go to the running application; each response is validated against the
schema the document gives for that operation and status code, with every object schema
closed (``additionalProperties: false``), so a field added to or dropped from a response
without the document changing fails here. Accepted request bodies are validated against
the document's request schemas the same way.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from jsonschema import Draft202012Validator, FormatChecker

from erpcare.customers.models import Contract
from erpcare.sla.models import SlaPolicy
from erpcare.sla.services.calendars import save_calendar, set_calendar_day
from erpcare.tickets import services

pytestmark = pytest.mark.django_db

JSON = "application/json"


@pytest.fixture
def spec(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(JSON)
    return response.json()


def closed(components: dict[str, Any]) -> dict[str, Any]:
    """The components with every object schema refusing undocumented properties."""
    result = copy.deepcopy(components)
    for schema in result.get("schemas", {}).values():
        if "properties" in schema:
            schema.setdefault("additionalProperties", False)
    return result


def check(schema: dict[str, Any], document: dict[str, Any], instance: Any) -> None:
    root = {**schema, "components": closed(document["components"])}
    Draft202012Validator.check_schema(root)
    Draft202012Validator(root, format_checker=FormatChecker()).validate(instance)


@dataclass
class Call:
    method: str
    path: str  # as written in the document
    status: int
    who: str | None = "lina"
    url: str = ""  # concrete URL; defaults to ``path`` with {ref} filled in
    json: Any = None
    multipart: dict[str, Any] | None = None
    extra_headers: dict[str, str] | None = None


def fill(path: str, world: dict[str, Any]) -> str:
    return (
        path.replace("{ref}", world["ticket"].number)
        .replace("{code}", "acme")
        .replace("{instance_id}", str(world["instance"].pk))
        .replace("{attachment_id}", str(world["attachment"].pk))
        .replace("{calendar_id}", str(world["calendar"].pk))
        .replace("{policy_id}", str(world["policy"].pk))
        .replace("{day}", "2026-12-24")
    )


T = "/api/v1/tickets"
S = "/api/v1/sla"
CALLS = {
    # successes
    "list": Call("get", T, 200, url=f"{T}?status=open,new&page_size=5"),
    "export": Call("get", f"{T}/export", 200, url=f"{T}/export?format=csv&priority=P1"),
    "create": Call("post", T, 201, who="alice", json={"title": "新工单", "urgency": 1}),
    "detail": Call("get", f"{T}/{{ref}}", 200),
    "update": Call("patch", f"{T}/{{ref}}", 200, json={"title": "renamed", "priority": "P1"}),
    "comments": Call("get", f"{T}/{{ref}}/comments", 200),
    "comment": Call("post", f"{T}/{{ref}}/comments", 201, json={"body": "ok", "internal": True}),
    "events": Call("get", f"{T}/{{ref}}/events", 200),
    "attachments": Call("get", f"{T}/{{ref}}/attachments", 200),
    "upload": Call(
        "post", f"{T}/{{ref}}/attachments", 201,
        multipart={"file": ("log.txt", b"trace", "text/plain"), "internal": "true"},
    ),
    "download": Call("get", f"{T}/{{ref}}/attachments/{{attachment_id}}/download", 200),
    "assign": Call("post", f"{T}/{{ref}}/assign", 200, json={"assignee": "me"}),
    "transition": Call("post", f"{T}/{{ref}}/transition", 200, json={"to": "in_progress"}),
    "escalate": Call("post", f"{T}/{{ref}}/escalate", 200, json={"tier": 2, "reason": "db"}),
    "link": Call("post", f"{T}/{{ref}}/links", 201, json={"target": "OTHER", "kind": "related_to"}),
    "merge": Call("post", f"{T}/{{ref}}/merge", 200, json={"into": "OTHER"}),
    "me": Call("get", "/api/v1/me", 200, who="alice"),
    "customers": Call("get", "/api/v1/customers", 200),
    "customer": Call("get", "/api/v1/customers/{code}", 200),
    "instances": Call("get", "/api/v1/erp-instances", 200),
    "instance": Call("get", "/api/v1/erp-instances/{instance_id}", 200),
    "sla calendars": Call("get", f"{S}/calendars", 200),
    "sla calendar create": Call("post", f"{S}/calendars", 201, who="mona", json={
        "name": "Berlin", "time_zone": "Europe/Berlin", "holiday_country": "DE",
        "hours": {"0": "09:00-17:00", "4": "09:00-15:00"},
    }),
    "sla calendar": Call("get", f"{S}/calendars/{{calendar_id}}", 200),
    "sla calendar update": Call("put", f"{S}/calendars/{{calendar_id}}", 200, who="mona", json={
        "name": "Shanghai short", "hours": {"0": "10:00-16:00"}, "holiday_country": "CN",
    }),
    "sla calendar day": Call("post", f"{S}/calendars/{{calendar_id}}/days", 201, who="mona",
                             json={"date": "2026-12-31", "name": "年终结账", "is_working": False}),
    "sla calendar day delete": Call(
        "delete", f"{S}/calendars/{{calendar_id}}/days/{{day}}", 204, who="mona"
    ),
    "sla policies": Call("get", f"{S}/policies", 200),
    "sla policy create": Call("post", f"{S}/policies", 201, who="mona", json={
        "name": "Basic P3", "service_level": "basic", "priority": 3, "response_minutes": 900,
        "resolution_minutes": 4500, "calendar_id": "CALENDAR",
        "steps": [{"metric": "resolution", "percent": 100, "notify_managers": True}],
    }),
    "sla policy": Call("get", f"{S}/policies/{{policy_id}}", 200),
    "sla policy update": Call("put", f"{S}/policies/{{policy_id}}", 200, who="adam", json={
        "name": "Acme special P3", "contract_id": "CONTRACT", "priority": 3,
        "response_minutes": 60, "resolution_minutes": 600, "calendar_id": "CALENDAR",
    }),
    "sla policy delete": Call("delete", f"{S}/policies/{{policy_id}}", 204, who="mona"),
    "sla preview": Call("get", f"{S}/policies/{{policy_id}}/preview", 200,
                        url="PREVIEW"),
    "sla ticket": Call("get", f"{S}/tickets/{{ref}}", 200),
    # errors
    "400 invalid filter": Call("get", T, 400, url=f"{T}?status=done"),
    "401 no token": Call("get", T, 401, who=None),
    "401 bad token": Call("get", T, 401, who=None, extra_headers={"Authorization": "Bearer x"}),
    "403 read-only": Call("post", f"{T}/{{ref}}/comments", 403, who="audra", json={"body": "x"}),
    "404 ticket": Call("get", f"{T}/{{ref}}", 404, url=f"{T}/INC-2026-999999"),
    "404 other customer": Call("get", f"{T}/{{ref}}", 404, who="bob"),
    "404 customer": Call("get", "/api/v1/customers/{code}", 404, url="/api/v1/customers/none"),
    "409 transition": Call("post", f"{T}/{{ref}}/transition", 409, json={"to": "closed"}),
    "413 body": Call("post", T, 413, json={"title": "x", "description": "x" * 1_000_001}),
    "422 body": Call("post", T, 422, json={"title": "", "colour": "red"}),
    "422 query": Call("get", T, 422, url=f"{T}?page=0"),
    "400 sla policy": Call("post", f"{S}/policies", 400, who="mona", json={
        "name": "x", "priority": 3, "response_minutes": -5, "resolution_minutes": 60,
        "calendar_id": "CALENDAR",
    }),
    "403 sla policy": Call("post", f"{S}/policies", 403, json={
        "name": "x", "priority": 3, "response_minutes": 5, "resolution_minutes": 60,
        "calendar_id": "CALENDAR",
    }),
    "403 sla customer": Call("get", f"{S}/policies", 403, who="alice"),
    "404 sla ticket": Call("get", f"{S}/tickets/{{ref}}", 404, url=f"{S}/tickets/INC-2026-999999"),
}  # fmt: skip


@pytest.fixture
def world(cast, sla_defaults):
    ticket = services.create_ticket(cast.alice, title="Invoice posting fails", tags=["gl"])
    services.add_comment(cast.alice, ticket, body="details")
    services.add_comment(cast.lina, ticket, body="internal", internal=True)
    attachment = services.add_attachment(
        cast.alice, ticket, SimpleUploadedFile("a.csv", b"a,b", "text/csv")
    )
    other = services.create_ticket(cast.alice2, title="Same problem")
    calendar = save_calendar(
        cast.mona, name="Shanghai", hours={0: [(time(9), time(18))]}, holiday_country="CN"
    )
    set_calendar_day(cast.mona, calendar, day=date(2026, 12, 24), is_working=False)
    SlaPolicy.objects.filter(name="Basic P3").delete()
    contract = Contract.objects.get(organization=cast.acme)
    policy = SlaPolicy.objects.create(
        name="Acme special P3", contract=contract, priority=3, response_minutes=60,
        resolution_minutes=600, calendar=calendar,
    )  # fmt: skip
    return {
        "ticket": ticket, "other": other, "instance": cast.acme_erp, "attachment": attachment,
        "calendar": calendar, "policy": policy, "contract": contract,
    }  # fmt: skip


def send(cast, world, call: Call):
    headers = dict(call.extra_headers or {})
    if call.who:
        headers["Authorization"] = f"Bearer {cast.token(getattr(cast, call.who))}"
    client = Client(headers=headers)
    url = call.url or fill(call.path, world)
    if url == "PREVIEW":
        url = fill(call.path, world) + "?opened_at=2026-11-20T17:30%2B08:00"
    if call.multipart is not None:
        data = {
            key: SimpleUploadedFile(*value) if isinstance(value, tuple) else value
            for key, value in call.multipart.items()
        }
        return client.post(url, data), None
    if call.json is not None:
        placeholders = {
            "OTHER": world["other"].number,
            "CALENDAR": world["calendar"].pk,
            "CONTRACT": world["contract"].pk,
        }
        body = {
            k: placeholders.get(v, v) if isinstance(v, str) else v for k, v in call.json.items()
        }
        return getattr(client, call.method)(url, body, content_type=JSON), body
    return getattr(client, call.method)(url), None


@pytest.mark.parametrize("name", list(CALLS))
def test_response_matches_the_document(cast, world, spec, name):
    call = CALLS[name]
    response, sent = send(cast, world, call)
    assert response.status_code == call.status, response.content
    operation = spec["paths"][call.path][call.method]
    documented = operation["responses"]
    assert str(call.status) in documented, f"{call.status} is not documented for {name}"
    content = documented[str(call.status)].get("content")
    if content is None:
        assert not response["Content-Type"].startswith(JSON)
        return
    if JSON not in content:  # a file (the ticket export): one of the documented types
        assert response["Content-Type"].split(";")[0] in content
        return
    assert response["Content-Type"].startswith(JSON)
    check(content[JSON]["schema"], spec, response.json())
    if sent is not None and call.status < 300:
        check(operation["requestBody"]["content"][JSON]["schema"], spec, sent)


# Apps that check their own part of the document the same way (kb/tests/test_api_openapi.py,
# search/tests/test_api.py, channels/tests/test_chat_intake.py,
# monitoring/tests/test_ingest.py, inspections/tests/test_api.py, backups/tests/test_api.py,
# surveys/tests/test_api_openapi.py, changes/tests/test_api_openapi.py,
# problems/tests/test_api_openapi.py).
OWN_DOCUMENT_TESTS = (
    "/api/v1/kb/",
    "/api/v1/search",
    "/api/v1/intake/",
    "/api/v1/alerts/",
    "/api/v1/inspections/",
    "/api/v1/backups/",
    "/api/v1/surveys/",
    "/api/v1/changes",
    "/api/v1/problems",
)


def test_every_operation_in_the_document_is_exercised(spec):
    documented = {
        (method, path)
        for path, operations in spec["paths"].items()
        if not path.startswith(OWN_DOCUMENT_TESTS)
        for method in operations
    }
    exercised = {(call.method, call.path) for call in CALLS.values() if call.status < 300}
    assert documented - exercised == set()
    assert exercised - documented == set()


def test_every_operation_documents_the_error_shapes(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "401", "403", "404", "422"):
                assert status in operation["responses"], (method, path, status)
            for status in ("400", "401", "403", "404"):
                schema = operation["responses"][status]["content"][JSON]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path)


def test_the_document_declares_both_ways_to_authenticate(spec):
    schemes = spec["components"]["securitySchemes"]
    assert {scheme["type"] for scheme in schemes.values()} == {"http", "apiKey"}
    assert any(scheme.get("scheme") == "bearer" for scheme in schemes.values())


def test_the_attachment_upload_documents_the_internal_flag(spec):
    operation = spec["paths"][f"{T}/{{ref}}/attachments"]["post"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    resolved = schema
    if "$ref" in schema:
        resolved = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert {"file", "internal"} <= set(resolved["properties"])
