"""Every ticket action leaves one audit row: who, what, on which ticket, from where."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import NoReverseMatch, reverse

from erpcare.audit.models import AuditEntry
from erpcare.tickets import services
from erpcare.tickets.models import Ticket

pytestmark = pytest.mark.django_db

IP = "198.51.100.23"
AGENT = "erpcare-cli/1.0"


def client_for(cast, user, ip=IP):
    return Client(
        headers={"Authorization": f"Bearer {cast.token(user)}", "User-Agent": AGENT},
        REMOTE_ADDR=ip,
    )


def new_rows(before_id):
    return list(
        AuditEntry.objects.filter(pk__gt=before_id).exclude(action="token.created").order_by("pk")
    )


def last_id():
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.fixture
def ticket(cast):
    return services.create_ticket(cast.alice, title="Costing run fails")


@pytest.fixture
def other(cast):
    return services.create_ticket(cast.alice2, title="Costing run fails too")


def resolved(cast, ticket):
    services.transition_ticket(
        cast.lina, ticket, to="resolved", resolution_code="fixed", resolution="ok"
    )


# name → (who, method, path, data, setup, expected action)
ACTIONS = {
    "create": ("alice", "post", "", {"title": "x"}, None, "ticket.created"),
    "update": ("lina", "patch", "/{ref}", {"title": "y"}, None, "ticket.updated"),
    "comment": ("lina", "post", "/{ref}/comments", {"body": "hi"}, None, "ticket.commented"),
    "assign": ("lina", "post", "/{ref}/assign", {"assignee": "me"}, None, "ticket.assigned"),
    "transition": ("lina", "post", "/{ref}/transition", {"to": "open"}, None,
                   "ticket.transitioned"),
    "confirm": ("alice", "post", "/{ref}/transition", {"to": "closed"}, resolved,
                "ticket.transitioned"),
    "reopen": ("alice", "post", "/{ref}/transition", {"to": "open", "note": "again"}, resolved,
               "ticket.reopened"),
    "escalate": ("lina", "post", "/{ref}/escalate", {"tier": 2, "reason": "db"}, None,
                 "ticket.escalated"),
    "link": ("lina", "post", "/{ref}/links", {"target": "{other}", "kind": "related_to"}, None,
             "ticket.linked"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(ACTIONS))
def test_each_api_action_writes_exactly_one_audit_row(cast, ticket, other, name):
    who, method, path, data, setup, action = ACTIONS[name]
    if setup:
        setup(cast, ticket)
    data = {k: v.format(other=other.number) if isinstance(v, str) else v for k, v in data.items()}
    client = client_for(cast, getattr(cast, who))
    before = last_id()
    response = getattr(client, method)(
        f"/api/v1/tickets{path.format(ref=ticket.number)}", data, content_type="application/json"
    )
    assert response.status_code in (200, 201), response.content
    rows = new_rows(before)
    assert [row.action for row in rows] == [action]
    row = rows[0]
    user = getattr(cast, who)
    assert (row.actor, row.actor_label) == (user, user.email)
    assert (row.ip, row.channel, row.user_agent) == (IP, "api", AGENT)
    assert row.target_type == "tickets.ticket"
    target = Ticket.objects.get(number=response.json().get("number", ticket.number))
    assert row.target_id == str(target.pk)
    assert row.data["number"] == target.number


def test_upload_writes_one_audit_row_with_the_files_digest(cast, ticket):
    client = client_for(cast, cast.alice)
    before = last_id()
    response = client.post(
        f"/api/v1/tickets/{ticket.number}/attachments",
        {"file": SimpleUploadedFile("a.txt", b"abc", "text/plain")},
    )
    assert response.status_code == 201
    (row,) = new_rows(before)
    assert (row.action, row.actor, row.ip, row.channel) == (
        "ticket.attached",
        cast.alice,
        IP,
        "api",
    )
    assert row.data["sha256"] == response.json()["sha256"]


def test_merge_writes_one_row_for_each_ticket_it_changes(cast, ticket, other):
    client = client_for(cast, cast.lina)
    before = last_id()
    response = client.post(
        f"/api/v1/tickets/{other.number}/merge",
        {"into": ticket.number},
        content_type="application/json",
    )
    assert response.status_code == 200
    rows = new_rows(before)
    assert [(r.action, r.target_id) for r in rows] == [
        ("ticket.merged", str(other.pk)),
        ("ticket.merge_received", str(ticket.pk)),
    ]
    assert all((r.actor, r.ip, r.channel) == (cast.lina, IP, "api") for r in rows)


def test_refused_actions_write_no_audit_row(cast, ticket):
    client = client_for(cast, cast.alice)
    before = last_id()
    responses = [
        client.post(f"/api/v1/tickets/{ticket.number}/transition", {"to": "resolved"},
                    content_type="application/json"),
        client.post(f"/api/v1/tickets/{ticket.number}/comments", {"body": "x", "internal": True},
                    content_type="application/json"),
        client.post("/api/v1/tickets", {"title": ""}, content_type="application/json"),
    ]  # fmt: skip
    assert [r.status_code for r in responses] == [403, 403, 422]
    assert new_rows(before) == []


def test_reads_write_no_audit_row(cast, ticket):
    client = client_for(cast, cast.audra)
    before = last_id()
    for suffix in ("", "/comments", "/events", "/attachments"):
        assert client.get(f"/api/v1/tickets/{ticket.number}{suffix}").status_code == 200
    assert client.get("/api/v1/tickets").status_code == 200
    assert new_rows(before) == []


def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(cast, ticket, settings):
    client = client_for(cast, cast.lina, ip="10.0.0.5")
    url = f"/api/v1/tickets/{ticket.number}/comments"
    forwarded = {"X-Forwarded-For": "203.0.113.9, 10.0.0.5"}
    before = last_id()
    client.post(url, {"body": "a"}, content_type="application/json", headers=forwarded)
    settings.ERPCARE_TRUST_X_FORWARDED_FOR = True
    client.post(url, {"body": "b"}, content_type="application/json", headers=forwarded)
    assert [row.ip for row in new_rows(before)] == ["10.0.0.5", "203.0.113.9"]


def test_actions_outside_a_request_are_recorded_as_the_system(cast, ticket):
    before = last_id()
    services.add_comment(cast.lina, ticket, body="from a script")
    (row,) = new_rows(before)
    assert (row.actor, row.channel, row.ip, row.user_agent) == (cast.lina, "system", None, "")


def test_web_actions_are_recorded_with_the_web_channel(cast, ticket, settings):
    try:
        url = reverse("desk:comment", kwargs={"number": ticket.number})
    except NoReverseMatch:
        pytest.skip("the desk has no comment form yet")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client = Client(REMOTE_ADDR=IP)
    client.force_login(cast.lina)
    before = last_id()
    response = client.post(url, {"body": "from the desk"})
    assert response.status_code in (200, 302), response.content[:500]
    rows = [r for r in new_rows(before) if r.action == "ticket.commented"]
    assert [(r.actor, r.ip, r.channel) for r in rows] == [(cast.lina, IP, "web")]
