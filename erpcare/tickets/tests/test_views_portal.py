"""The customer portal: own organization only, public timeline only, submit and follow."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from erpcare.tickets import services
from erpcare.tickets.models import Comment, Status, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    # Pages must render without collectstatic and without the vendored assets.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def ticket_for(cast: Any, customer: str = "alice", **fields: Any) -> Ticket:
    fields.setdefault("title", "凭证无法保存")
    return services.create_ticket(getattr(cast, customer), **fields)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def reload(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def url(ticket: Ticket | str, action: str = "") -> str:
    number = ticket if isinstance(ticket, str) else ticket.number
    return f"/portal/tickets/{number}/{action}" if action else f"/portal/tickets/{number}/"


def resolved(cast: Any, ticket: Ticket) -> Ticket:
    return services.transition_ticket(
        cast.lina,
        ticket,
        to=Status.RESOLVED,
        resolution_code="configuration",
        resolution="Opened **period 03** again.",
    )


# ---------------------------------------------------------------------------
# Isolation
# ---------------------------------------------------------------------------


def test_customer_sees_only_their_organizations_tickets(cast):
    own = ticket_for(cast, title="Acme voucher")
    colleague = ticket_for(cast, "alice2", title="Ann's report")
    other = ticket_for(cast, "bob", title="Globex stock")
    response = signed_in(cast.alice).get("/portal/")
    assert response.status_code == 200
    body = response.content.decode()
    assert own.number in body
    assert colleague.number in body
    assert other.number not in body
    assert "Globex stock" not in body


def test_customer_cannot_open_another_organizations_ticket(cast):
    other = ticket_for(cast, "bob", title="Globex secret")
    client = signed_in(cast.alice)
    response = client.get(url(other))
    assert response.status_code == 404
    assert "Globex secret" not in response.content.decode()
    # Guessing the next number (or a number that does not exist) looks the same.
    assert client.get(url("INC-2026-999999")).status_code == 404
    assert client.get(url(str(other.pk))).status_code == 404
    assert client.post(url(other, "comment"), {"body": "hello"}).status_code == 404
    assert client.post(url(other, "reopen"), {"reason": "x"}).status_code == 404
    assert not Comment.objects.filter(ticket=other).exists()


def test_search_stays_inside_the_organization(cast):
    other = ticket_for(cast, "bob", title="shared words")
    own = ticket_for(cast, title="shared words too")
    response = signed_in(cast.alice).get("/portal/?state=all&q=shared")
    numbers = {t.number for t in response.context["page"]["rows"]}
    assert numbers == {own.number}
    response = signed_in(cast.alice).get(f"/portal/?state=all&q={other.number}")
    assert list(response.context["page"]["rows"]) == []


def test_customer_never_sees_internal_notes_files_or_desk_moves(cast):
    ticket = ticket_for(cast, title="Payroll")
    services.add_comment(cast.lina, ticket, body="Public answer", internal=False)
    services.add_comment(cast.lina, ticket, body="INTERNAL: customer misconfigured", internal=True)
    secret = SimpleUploadedFile("db-dump.txt", b"secret rows", content_type="text/plain")
    internal_file = services.add_attachment(cast.lina, ticket, secret, internal=True)
    services.assign_ticket(cast.lina, ticket, assignee=cast.lina)
    services.escalate_ticket(cast.lina, ticket, tier=2, reason="ESCALATION: they broke it")
    client = signed_in(cast.alice)
    body = client.get(url(ticket)).content.decode()
    assert "Public answer" in body
    assert "INTERNAL" not in body
    assert "db-dump.txt" not in body
    assert "ESCALATION" not in body
    assert 'data-testid="timeline-note"' not in body
    download = client.get(f"/portal/tickets/{ticket.number}/files/{internal_file.pk}")
    assert download.status_code == 404


def test_customer_downloads_a_public_file(cast):
    ticket = ticket_for(cast)
    upload = SimpleUploadedFile("howto.txt", b"step 1", content_type="text/plain")
    attachment = services.add_attachment(cast.lina, ticket, upload)
    response = signed_in(cast.alice).get(f"/portal/tickets/{ticket.number}/files/{attachment.pk}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"step 1"


def test_staff_opening_portal_pages_are_sent_to_the_desk(cast):
    ticket = ticket_for(cast)
    client = signed_in(cast.lina)
    assert client.get("/portal/")["Location"] == "/desk/"
    assert client.get(url(ticket))["Location"] == f"/desk/tickets/{ticket.number}/"
    assert client.get("/portal/tickets/new/")["Location"] == "/desk/tickets/new/"


# ---------------------------------------------------------------------------
# Submitting and following a ticket
# ---------------------------------------------------------------------------


def test_submit_form_shows_plain_words_and_only_own_erp_systems(cast):
    body = signed_in(cast.alice).get("/portal/tickets/new/").content.decode()
    assert "Work has stopped now" in body
    assert "Whole company or a core business process" in body
    assert "Acme SAP PRD" in body
    assert "Globex Odoo" not in body
    assert 'data-testid="submit-ticket"' in body


def test_customer_submits_a_ticket_and_sees_it(cast):
    client = signed_in(cast.alice)
    response = client.post(
        "/portal/tickets/new/",
        {
            "title": "Cannot post voucher",
            "description": "Error F5 702 when posting",
            "type": "incident",
            "erp_instance": str(cast.acme_erp.pk),
            "module": "gl",
            "urgency": "1",
            "impact": "2",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(title="Cannot post voucher")
    assert response["Location"] == url(ticket)
    assert (ticket.organization_id, ticket.requester_id) == (cast.acme.pk, cast.alice.pk)
    assert (ticket.priority, ticket.channel, ticket.module) == (1, "portal", "gl")
    page = client.get(url(ticket)).content.decode()
    assert "Cannot post voucher" in page
    assert "was submitted" in page
    assert ticket.number in client.get("/portal/").content.decode()


def test_submit_with_another_organizations_erp_system_is_a_form_error(cast):
    response = signed_in(cast.alice).post(
        "/portal/tickets/new/",
        {
            "title": "x",
            "type": "incident",
            "erp_instance": str(cast.globex_erp.pk),
            "urgency": "2",
            "impact": "3",
        },
    )
    assert response.status_code == 400
    assert 'data-testid="field-error-erp_instance"' in response.content.decode()
    assert not Ticket.objects.exists()


def test_submit_without_a_title_is_a_form_error(cast):
    response = signed_in(cast.alice).post(
        "/portal/tickets/new/", {"title": "", "type": "incident", "urgency": "2", "impact": "3"}
    )
    assert response.status_code == 400
    assert 'data-testid="field-error-title"' in response.content.decode()
    assert not Ticket.objects.exists()


def test_customer_replies(cast):
    ticket = ticket_for(cast)
    client = signed_in(cast.alice)
    response = client.post(url(ticket, "comment"), {"body": "Still broken", "internal": "true"})
    assert response.status_code == 302
    comment = Comment.objects.get(ticket=ticket)
    assert (comment.body, comment.is_internal, comment.author_id) == (
        "Still broken",
        False,
        cast.alice.pk,
    )


def test_customer_attaches_a_file(cast):
    ticket = ticket_for(cast)
    upload = SimpleUploadedFile("screen.png", b"\x89PNG....", content_type="image/png")
    response = signed_in(cast.alice).post(url(ticket, "attach"), {"file": upload, "internal": "on"})
    assert response.status_code == 302
    attachment = ticket.attachments.get()
    assert attachment.is_internal is False


def test_confirm_resolution_closes_the_ticket(cast):
    ticket = resolved(cast, ticket_for(cast))
    client = signed_in(cast.alice)
    page = client.get(url(ticket)).content.decode()
    assert 'data-testid="confirm-resolution"' in page
    assert "<strong>period 03</strong>" in page
    response = client.post(url(ticket, "confirm"))
    assert response.status_code == 302
    ticket = reload(ticket)
    assert ticket.status == Status.CLOSED
    assert ticket.closed_at is not None
    assert 'data-testid="closed-notice"' in client.get(url(ticket)).content.decode()


def test_reopen_needs_a_reason_and_counts(cast):
    ticket = resolved(cast, ticket_for(cast))
    client = signed_in(cast.alice)
    response = client.post(url(ticket, "reopen"), {"reason": ""})
    assert response.status_code == 400
    assert reload(ticket).status == Status.RESOLVED
    response = client.post(url(ticket, "reopen"), {"reason": "Period 04 has the same error"})
    assert response.status_code == 302
    ticket = reload(ticket)
    assert (ticket.status, ticket.reopen_count) == (Status.OPEN, 1)
    assert "Period 04 has the same error" in client.get(url(ticket)).content.decode()


def test_confirming_an_unresolved_ticket_is_refused(cast):
    ticket = ticket_for(cast)
    response = signed_in(cast.alice).post(url(ticket, "confirm"))
    assert response.status_code == 403
    assert 'data-testid="action-error"' in response.content.decode()
    assert reload(ticket).status == Status.NEW


def test_replying_to_a_closed_ticket_is_a_conflict(cast):
    ticket = resolved(cast, ticket_for(cast))
    services.transition_ticket(cast.alice, ticket, to=Status.CLOSED)
    response = signed_in(cast.alice).post(url(ticket, "comment"), {"body": "one more thing"})
    assert response.status_code == 409
    assert "Please open a new ticket" in response.content.decode()
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_list_filters_open_and_closed_and_pages(cast):
    done = resolved(cast, ticket_for(cast, title="done"))
    for index in range(26):
        ticket_for(cast, title=f"open {index}")
    client = signed_in(cast.alice)
    first = client.get("/portal/")
    assert first.context["page"]["has_next"] is True
    assert done.number not in {t.number for t in first.context["page"]["rows"]}
    second = client.get("/portal/?page=2")
    assert len(second.context["page"]["rows"]) == 1
    closed = client.get("/portal/?state=closed")
    assert [t.number for t in closed.context["page"]["rows"]] == [done.number]
    partial = client.get("/portal/?state=closed", headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode()
    assert done.number in partial.content.decode()


# ---------------------------------------------------------------------------
# Query counts
# ---------------------------------------------------------------------------


def count_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_portal_pages_query_count_does_not_grow(cast):
    client = signed_in(cast.alice)
    small = ticket_for(cast)
    for index in range(3):
        services.add_comment(cast.lina, small, body=f"r{index}")
    list_few = count_queries(client, "/portal/?state=all")
    big = ticket_for(cast)
    for index in range(30):
        services.add_comment(cast.lina, big, body=f"r{index}", internal=index % 3 == 0)
        services.add_comment(cast.alice, big, body=f"a{index}")
        ticket_for(cast, "alice2", title=f"more {index}")
    assert count_queries(client, "/portal/?state=all") == list_few
    assert count_queries(client, url(small)) == count_queries(client, url(big))
