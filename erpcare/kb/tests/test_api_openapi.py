"""The OpenAPI document describes what the knowledge-base API really answers.

Same method as ``tickets/tests/test_openapi.py`` (which leaves ``/api/v1/kb`` to this
file): every KB operation is called for real and its response validated against the
document with every object schema closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from erpcare.kb import services
from erpcare.tickets import services as tickets
from erpcare.tickets.tests.test_openapi import check

pytestmark = pytest.mark.django_db

JSON = "application/json"
K = "/api/v1/kb"
A = f"{K}/articles"


@pytest.fixture
def spec(db):
    return Client().get("/api/v1/openapi.json").json()


@dataclass
class Call:
    method: str
    path: str  # as written in the document
    status: int
    who: str = "lina"
    json: Any = None
    query: str = ""
    multipart: bool = False
    ref: str = "draft"  # which article {ref} is


CALLS = {
    "list": Call("get", A, 200, query="?status=published&page_size=5"),
    "create": Call(
        "post",
        A,
        201,
        json={
            "title": "新文章",
            "type": "case",
            "symptom": "s",
            "resolution": "r",
            "visibility": "customer",
            "customer": "acme",
        },
    ),
    "from ticket": Call("post", f"{A}/from-ticket/{{ticket_ref}}", 201),
    "detail": Call("get", f"{A}/{{ref}}", 200, who="alice", ref="published"),
    "update": Call("patch", f"{A}/{{ref}}", 200, json={"body": "new", "note": "n"}),
    "submit": Call("post", f"{A}/{{ref}}/submit", 200, json={"note": "please"}),
    "publish": Call("post", f"{A}/{{ref}}/publish", 200, who="mona", json={}),
    "return": Call(
        "post", f"{A}/{{ref}}/return", 200, who="mona", json={"note": "why"}, ref="review"
    ),
    "archive": Call("post", f"{A}/{{ref}}/archive", 200, who="mona", json={}, ref="published"),
    "restore": Call("post", f"{A}/{{ref}}/restore", 200, who="mona", json={}, ref="archived"),
    "reviewed": Call("post", f"{A}/{{ref}}/reviewed", 200, who="mona", json={}, ref="published"),
    "versions": Call("get", f"{A}/{{ref}}/versions", 200),
    "version": Call("get", f"{A}/{{ref}}/versions/{{number}}", 200),
    "diff": Call("get", f"{A}/{{ref}}/diff", 200, query="?from=1&to=2"),
    "feedback": Call(
        "post",
        f"{A}/{{ref}}/feedback",
        200,
        who="alice",
        json={"helpful": True, "comment": "好"},
        ref="published",
    ),
    "deflection": Call(
        "post",
        f"{A}/{{ref}}/deflection",
        201,
        who="alice",
        json={"query": "print"},
        ref="published",
    ),
    "links": Call("get", f"{A}/{{ref}}/links", 200, ref="published"),
    "link": Call(
        "post",
        f"{A}/{{ref}}/links",
        201,
        json={"ticket": "TICKET", "kind": "solved_with"},
        ref="published",
    ),
    "unlink": Call("delete", f"{A}/{{ref}}/links/{{ticket_ref}}/{{kind}}", 204, ref="published"),
    "ticket articles": Call("get", f"{K}/tickets/{{ticket_ref}}/articles", 200, who="alice"),
    "files": Call("get", f"{A}/{{ref}}/attachments", 200),
    "upload": Call("post", f"{A}/{{ref}}/attachments", 201, multipart=True),
    "download": Call("get", f"{A}/{{ref}}/attachments/{{attachment_id}}/download", 200),
    "remove file": Call("delete", f"{A}/{{ref}}/attachments/{{attachment_id}}", 204),
    "usage": Call("get", f"{K}/usage", 200, who="mona", query="?limit=5"),
    # errors
    "404 article": Call("get", f"{A}/{{ref}}", 404, who="alice", ref="internal"),
    "403 publish": Call("post", f"{A}/{{ref}}/publish", 403, json={}),
    "409 submit": Call("post", f"{A}/{{ref}}/submit", 409, json={}, ref="published"),
    "400 create": Call("post", A, 400, json={"title": "t", "visibility": "customer"}),
    "422 create": Call("post", A, 422, json={"title": "t", "colour": "red"}),
}


@pytest.fixture
def world(cast, library):
    ticket = tickets.create_ticket(cast.alice, title="Printer", description="Blank pages")
    tickets.transition_ticket(
        cast.lina, ticket, to="resolved", resolution_code="fixed", resolution="Driver"
    )
    services.link_article(cast.lina, ticket, library.public, kind="related")
    services.link_article(cast.lina, ticket, library.acme_only, kind="solved_with")
    services.update_article(cast.lina, library.draft, body="second version")
    attachment = services.add_attachment(
        cast.lina, library.draft, SimpleUploadedFile("log.txt", b"trace", "text/plain")
    )
    return {
        "ticket": ticket,
        "attachment": attachment,
        "draft": library.draft,
        "review": library.review,
        "published": library.public,
        "archived": library.archived,
        "internal": library.internal,
    }


def send(cast, world, call: Call):
    client = Client(headers={"Authorization": f"Bearer {cast.token(getattr(cast, call.who))}"})
    url = (
        call.path.replace("{ref}", world[call.ref].number)
        .replace("{ticket_ref}", world["ticket"].number)
        .replace("{kind}", "related")
        .replace("{number}", "1")
        .replace("{attachment_id}", str(world["attachment"].pk))
    ) + call.query
    if call.multipart:
        return client.post(
            url, {"file": SimpleUploadedFile("a.png", b"\x89PNG", "image/png")}
        ), None
    if call.json is not None:
        body = {k: world["ticket"].number if v == "TICKET" else v for k, v in call.json.items()}
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
    assert response["Content-Type"].startswith(JSON)
    check(content[JSON]["schema"], spec, response.json())
    if sent is not None and call.status < 300:
        check(operation["requestBody"]["content"][JSON]["schema"], spec, sent)


def test_every_kb_operation_in_the_document_is_exercised(spec):
    documented = {
        (method, path)
        for path, operations in spec["paths"].items()
        if path.startswith(K)
        for method in operations
    }
    exercised = {(call.method, call.path) for call in CALLS.values() if call.status < 300}
    assert documented - exercised == set()
    assert exercised - documented == set()
