"""The agent workspace: queues, the ticket page and every action posted from it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from erpcare.tickets import services
from erpcare.tickets.models import Comment, Status, Ticket, TicketEvent, TicketLink

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    # Pages must render without collectstatic and without the vendored assets.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def ticket_for(cast: Any, customer: str = "alice", **fields: Any) -> Ticket:
    fields.setdefault("title", "凭证无法保存 voucher cannot be saved")
    return services.create_ticket(getattr(cast, customer), **fields)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def reload(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def url(ticket: Ticket, action: str = "") -> str:
    base = f"/desk/tickets/{ticket.number}/"
    return f"{base.rstrip('/')}/{action}" if action else base


# ---------------------------------------------------------------------------
# Access
# ---------------------------------------------------------------------------


def test_customer_is_sent_from_the_desk_queue_to_the_portal(cast):
    response = signed_in(cast.alice).get("/desk/")
    assert response.status_code == 302
    assert response["Location"] == "/portal/"


def test_customer_cannot_open_desk_ticket_pages_or_actions(cast):
    ticket = ticket_for(cast)
    client = signed_in(cast.alice)
    assert client.get(url(ticket)).status_code == 404
    assert client.get("/desk/tickets/new/").status_code == 404
    response = client.post(url(ticket, "comment"), {"body": "hi", "internal": "true"})
    assert response.status_code == 404
    assert client.post(url(ticket, "assign"), {"assignee": "me"}).status_code == 404
    assert not Comment.objects.filter(ticket=ticket).exists()
    assert reload(ticket).assignee_id is None


def test_anonymous_visitor_is_sent_to_sign_in(cast):
    response = Client().get("/desk/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_agent_cannot_open_a_ticket_of_a_customer_their_teams_do_not_serve(cast):
    globex_ticket = ticket_for(cast, "bob")
    client = signed_in(cast.vera)  # l1-acme serves only Acme
    assert client.get(url(globex_ticket)).status_code == 404
    assert client.get("/desk/tickets/INC-2026-999999/").status_code == 404
    response = client.post(url(globex_ticket, "assign"), {"assignee": "me"})
    assert response.status_code == 404
    assert reload(globex_ticket).assignee_id is None


# ---------------------------------------------------------------------------
# Queue
# ---------------------------------------------------------------------------


def test_queue_lists_open_tickets_for_an_agent(cast):
    mine = ticket_for(cast, title="Payroll run fails")
    closed = ticket_for(cast, title="Old question")
    services.transition_ticket(
        cast.lina, closed, to=Status.RESOLVED, resolution_code="answered", resolution="Done"
    )
    response = signed_in(cast.lina).get("/desk/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="en">' in body
    assert mine.number in body
    assert "Payroll run fails" in body
    assert closed.number not in body
    assert 'data-testid="queue-table"' in body


def test_queue_answers_htmx_with_the_table_only(cast):
    ticket = ticket_for(cast)
    response = signed_in(cast.lina).get("/desk/?queue=open", headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert 'id="queue-results"' in body
    assert ticket.number in body
    assert "HX-Request" in response["Vary"]


def test_queue_history_restore_gets_the_whole_page(cast):
    response = signed_in(cast.lina).get(
        "/desk/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.content.decode()


def numbers(response: Any) -> set[str]:
    return {row.number for row in response.context["page"]["rows"]}


def test_queue_filters_by_priority_customer_module_category_and_text(cast):
    p0 = ticket_for(cast, title="ERP down", impact=1, urgency=1, module="gl")
    p3 = ticket_for(cast, title="How to print", impact=3, urgency=3, category="how_to")
    globex = ticket_for(cast, "bob", title="Stock count wrong", category="data_issue")
    client = signed_in(cast.lina)
    assert numbers(client.get("/desk/?priority=P0")) == {p0.number}
    assert numbers(client.get("/desk/?queue=p3")) == {p3.number, globex.number}
    assert numbers(client.get("/desk/?customer=globex")) == {globex.number}
    assert numbers(client.get("/desk/?module=gl")) == {p0.number}
    assert numbers(client.get("/desk/?category=data_issue")) == {globex.number}
    assert numbers(client.get("/desk/?q=print")) == {p3.number}
    assert numbers(client.get(f"/desk/?q={globex.number}")) == {globex.number}


def test_queue_mine_team_and_unassigned(cast):
    mine = ticket_for(cast, title="Mine")
    services.assign_ticket(cast.lina, mine, assignee=cast.lina, team=cast.l1_desk)
    team_only = ticket_for(cast, title="Team")
    services.assign_ticket(cast.mona, team_only, assignee=None, team=cast.l1_desk)
    other = ticket_for(cast, title="Unassigned")
    client = signed_in(cast.lina)
    assert numbers(client.get("/desk/?queue=mine")) == {mine.number}
    assert numbers(client.get("/desk/?queue=team")) == {mine.number, team_only.number}
    assert numbers(client.get("/desk/?queue=unassigned")) == {team_only.number, other.number}
    assert numbers(client.get("/desk/?queue=all")) == {mine.number, team_only.number, other.number}


def test_queue_filters_by_team_tier_and_status(cast):
    low = ticket_for(cast, title="L1")
    high = ticket_for(cast, title="L2")
    services.escalate_ticket(cast.lina, high, tier=2, reason="needs SQL")
    client = signed_in(cast.mona)
    assert numbers(client.get("/desk/?tier=2")) == {high.number}
    assert numbers(client.get("/desk/?team=l2-platform")) == {high.number}
    assert numbers(client.get("/desk/?status=new")) == {low.number}


def test_queue_shows_only_tickets_in_the_agents_scope(cast):
    acme = ticket_for(cast)
    ticket_for(cast, "bob")
    response = signed_in(cast.vera).get("/desk/?queue=all")
    assert numbers(response) == {acme.number}
    # The customer filter offers only customers the agent serves.
    choices = [str(v) for v, _label in response.context["filter_form"].fields["customer"].choices]
    assert choices == ["", "acme"]


def test_queue_rejects_unknown_filter_values_with_a_message(cast):
    response = signed_in(cast.lina).get("/desk/?status=bogus")
    assert response.status_code == 400
    assert "bogus is not a valid status" in response.content.decode()


def test_queue_pages_without_counting(cast):
    for index in range(27):
        ticket_for(cast, title=f"Ticket {index}")
    client = signed_in(cast.lina)
    first = client.get("/desk/")
    assert len(first.context["page"]["rows"]) == 25
    assert first.context["page"]["has_next"] is True
    second = client.get("/desk/?page=2")
    assert len(second.context["page"]["rows"]) == 2
    assert second.context["page"]["has_next"] is False
    assert 'data-testid="page-previous"' in second.content.decode()
    assert client.get("/desk/?page=abc").status_code == 200


def test_queue_sorts_by_priority(cast):
    p3 = ticket_for(cast, impact=3, urgency=3)
    p0 = ticket_for(cast, impact=1, urgency=1)
    rows = signed_in(cast.lina).get("/desk/?ordering=priority").context["page"]["rows"]
    assert [t.number for t in rows] == [p0.number, p3.number]
    rows = signed_in(cast.lina).get("/desk/?ordering=-priority").context["page"]["rows"]
    assert [t.number for t in rows] == [p3.number, p0.number]


# ---------------------------------------------------------------------------
# The ticket page
# ---------------------------------------------------------------------------


def test_ticket_page_shows_header_description_and_timeline(cast):
    ticket = ticket_for(
        cast,
        title="Voucher 1001 cannot be posted",
        description="**Error** F5 702\n\n<script>alert(1)</script>",
        erp_instance=cast.acme_erp,
        module="gl",
    )
    services.add_comment(cast.lina, ticket, body="Checking the *period*.", internal=False)
    services.add_comment(cast.lina, ticket, body="Customer closed period 03 early", internal=True)
    services.escalate_ticket(cast.lina, ticket, tier=2, reason="needs a DB fix")
    response = signed_in(cast.lina).get(url(ticket))
    assert response.status_code == 200
    body = response.content.decode()
    assert ticket.number in body
    assert "Acme 制造" in body
    assert "Acme SAP PRD" in body
    assert "General ledger" in body
    assert "Alice Wang" in body
    assert "<strong>Error</strong>" in body
    assert "<script>alert(1)</script>" not in body
    assert "<em>period</em>" in body
    assert 'data-testid="timeline-note"' in body
    assert "Customer closed period 03 early" in body
    # Old → new values are shown with their labels, not raw codes.
    assert "L1 service desk" in body
    assert "L2 engineering" in body
    assert "needs a DB fix" in body


def test_ticket_page_for_an_auditor_is_read_only(cast):
    ticket = ticket_for(cast)
    client = signed_in(cast.audra)
    response = client.get(url(ticket))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="read-only-notice"' in body
    assert 'data-testid="reply"' not in body
    response = client.post(url(ticket, "comment"), {"body": "I was here", "internal": "false"})
    assert response.status_code == 403
    assert "read-only" in response.content.decode()
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_ticket_page_of_a_merged_ticket_points_to_the_target(cast):
    source = ticket_for(cast, title="dup")
    target = ticket_for(cast, title="original")
    services.merge_tickets(cast.lina, source, target, reason="same problem")
    body = signed_in(cast.lina).get(url(source)).content.decode()
    assert 'data-testid="merged-into"' in body
    assert f"/desk/tickets/{target.number}/" in body


# ---------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------


def test_reply_and_internal_note(cast):
    ticket = ticket_for(cast)
    client = signed_in(cast.lina)
    response = client.post(
        url(ticket, "comment"), {"body": "Please try again", "internal": "false"}
    )
    assert response.status_code == 302
    assert response["Location"] == url(ticket)
    response = client.post(
        url(ticket, "comment"), {"body": "Looks like a lock", "internal": "true"}
    )
    assert response.status_code == 302
    comments = list(Comment.objects.filter(ticket=ticket).order_by("id"))
    assert [(c.body, c.is_internal) for c in comments] == [
        ("Please try again", False),
        ("Looks like a lock", True),
    ]
    assert reload(ticket).first_response_at is not None
    page = client.get(url(ticket))
    assert "Reply sent." in page.content.decode() or "Internal note added." in page.content.decode()


def test_empty_reply_is_a_form_error(cast):
    ticket = ticket_for(cast)
    response = signed_in(cast.lina).post(
        url(ticket, "comment"), {"body": "  ", "internal": "false"}
    )
    assert response.status_code == 400
    assert 'data-testid="field-error-body"' in response.content.decode()
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_assign_to_me_then_to_a_colleague_and_team(cast):
    ticket = ticket_for(cast)
    client = signed_in(cast.lina)
    assert client.post(url(ticket, "assign"), {"assignee": "me"}).status_code == 302
    ticket = reload(ticket)
    assert ticket.assignee_id == cast.lina.pk
    assert ticket.status == Status.OPEN
    response = client.post(
        url(ticket, "assign"), {"assignee": "vera@erpcare.example", "team": "l1-acme"}
    )
    assert response.status_code == 302
    ticket = reload(ticket)
    assert (ticket.assignee_id, ticket.team_id) == (cast.vera.pk, cast.l1_acme.pk)


def test_assign_to_someone_who_is_not_staff_changes_nothing(cast):
    ticket = ticket_for(cast)
    client = signed_in(cast.lina)
    response = client.post(url(ticket, "assign"), {"assignee": "alice@acme.example"})
    assert response.status_code == 400
    assert "is not a support staff member" in response.content.decode()
    response = client.post(
        url(ticket, "assign"), {"assignee": "eric@erpcare.example", "team": "l1-acme"}
    )
    assert response.status_code == 400
    assert 'data-testid="action-error"' in response.content.decode()
    ticket = reload(ticket)
    assert ticket.assignee_id is None
    assert ticket.team_id is None


def test_escalate_to_l2(cast):
    ticket = ticket_for(cast)
    response = signed_in(cast.lina).post(
        url(ticket, "escalate"), {"tier": "2", "reason": "Needs SQL on the ledger", "team": ""}
    )
    assert response.status_code == 302
    ticket = reload(ticket)
    assert ticket.tier == 2
    assert ticket.team_id == cast.l2_platform.pk
    event = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.ESCALATED)
    assert event.note == "Needs SQL on the ledger"


def test_escalate_without_reason_changes_nothing(cast):
    ticket = ticket_for(cast)
    response = signed_in(cast.lina).post(url(ticket, "escalate"), {"tier": "2", "reason": ""})
    assert response.status_code == 400
    assert 'id="escalate_reason"' in response.content.decode()
    assert "This field is required." in response.content.decode()
    assert reload(ticket).tier == 1
    assert not TicketEvent.objects.filter(ticket=ticket, kind="escalated").exists()


def test_escalate_a_resolved_ticket_is_a_conflict(cast):
    ticket = ticket_for(cast)
    services.transition_ticket(
        cast.lina, ticket, to=Status.RESOLVED, resolution_code="answered", resolution="ok"
    )
    response = signed_in(cast.lina).post(url(ticket, "escalate"), {"tier": "2", "reason": "x"})
    assert response.status_code == 409
    assert "Only open tickets can be escalated." in response.content.decode()
    assert reload(ticket).tier == 1


def test_resolve_needs_a_resolution_code(cast):
    ticket = ticket_for(cast)
    client = signed_in(cast.lina)
    response = client.post(
        url(ticket, "transition"), {"to": "resolved", "resolution_code": "", "resolution": "Fixed"}
    )
    assert response.status_code == 400
    assert "Choose a resolution code" in response.content.decode()
    assert 'id="resolve_resolution"' in response.content.decode()
    assert reload(ticket).status == Status.NEW
    response = client.post(
        url(ticket, "transition"),
        {"to": "resolved", "resolution_code": "fixed", "resolution": "Reopened period 03."},
    )
    assert response.status_code == 302
    ticket = reload(ticket)
    assert ticket.status == Status.RESOLVED
    assert ticket.resolution_code == "fixed"
    assert "Reopened period 03." in client.get(url(ticket)).content.decode()


def test_status_change_offers_only_allowed_moves(cast):
    ticket = ticket_for(cast)
    client = signed_in(cast.lina)
    assert client.post(url(ticket, "transition"), {"to": "in_progress"}).status_code == 302
    assert reload(ticket).status == Status.IN_PROGRESS
    response = client.post(url(ticket, "transition"), {"to": "closed"})
    assert response.status_code == 400
    assert reload(ticket).status == Status.IN_PROGRESS
    event = TicketEvent.objects.filter(ticket=ticket, kind="status").last()
    assert (event.old_value, event.new_value) == ("new", "in_progress")
    body = client.get(url(ticket)).content.decode()
    assert "In progress" in body


def test_link_and_merge(cast):
    ticket = ticket_for(cast)
    other = ticket_for(cast, title="other")
    client = signed_in(cast.lina)
    response = client.post(url(ticket, "link"), {"target": other.number, "kind": "related_to"})
    assert response.status_code == 302
    assert TicketLink.objects.filter(source=ticket, target=other, kind="related_to").exists()
    response = client.post(url(ticket, "merge"), {"into": other.number, "reason": "same"})
    assert response.status_code == 302
    assert response["Location"] == url(other)
    assert reload(ticket).merged_into_id == other.pk
    assert reload(ticket).status == Status.CLOSED


def test_link_to_an_unknown_or_invisible_ticket_is_not_found(cast):
    ticket = ticket_for(cast)
    globex = ticket_for(cast, "bob")
    client = signed_in(cast.vera)
    response = client.post(url(ticket, "link"), {"target": globex.number, "kind": "related_to"})
    assert response.status_code == 404
    assert "Ticket not found." in response.content.decode()
    response = client.post(url(ticket, "link"), {"target": "INC-2026-999999", "kind": "caused_by"})
    assert response.status_code == 404
    assert not TicketLink.objects.exists()


def test_merge_across_customers_changes_nothing(cast):
    ticket = ticket_for(cast)
    globex = ticket_for(cast, "bob")
    response = signed_in(cast.lina).post(url(ticket, "merge"), {"into": globex.number})
    assert response.status_code == 400
    assert "same customer" in response.content.decode()
    assert reload(ticket).status == Status.NEW


def test_attach_a_file_and_download_it(cast):
    ticket = ticket_for(cast)
    client = signed_in(cast.lina)
    upload = SimpleUploadedFile("trace.txt", b"ORA-00060 deadlock", content_type="text/plain")
    response = client.post(url(ticket, "attach"), {"file": upload, "internal": "on"})
    assert response.status_code == 302
    attachment = ticket.attachments.get()
    assert attachment.is_internal
    download = client.get(f"/desk/tickets/{ticket.number}/files/{attachment.pk}")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"ORA-00060 deadlock"


def test_attach_a_refused_type_changes_nothing(cast):
    ticket = ticket_for(cast)
    upload = SimpleUploadedFile("tool.exe", b"MZ...", content_type="application/x-msdownload")
    response = signed_in(cast.lina).post(url(ticket, "attach"), {"file": upload})
    assert response.status_code == 400
    assert "are not accepted" in response.content.decode()
    assert not ticket.attachments.exists()


def test_actions_require_post(cast):
    ticket = ticket_for(cast)
    assert signed_in(cast.lina).get(url(ticket, "assign")).status_code == 405


# ---------------------------------------------------------------------------
# New ticket by phone
# ---------------------------------------------------------------------------


def test_new_ticket_form_refreshes_requesters_for_the_chosen_customer(cast):
    client = signed_in(cast.lina)
    assert client.get("/desk/tickets/new/").status_code == 200
    response = client.get("/desk/tickets/new/?customer=acme", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "<html" not in body
    assert "Alice Wang" in body
    assert "Acme SAP PRD" in body
    assert "Bob Smith" not in body


def test_agent_creates_a_ticket_for_a_customer_who_phoned(cast):
    response = signed_in(cast.lina).post(
        "/desk/tickets/new/",
        {
            "customer": "acme",
            "requester": str(cast.alice.pk),
            "erp_instance": str(cast.acme_erp.pk),
            "channel": "phone",
            "type": "incident",
            "module": "ap",
            "category": "system_failure",
            "impact": "2",
            "urgency": "1",
            "priority": "",
            "title": "Payment run stuck",
            "description": "Called at 9:10",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(title="Payment run stuck")
    assert response["Location"] == f"/desk/tickets/{ticket.number}/"
    assert (ticket.channel, ticket.priority, ticket.requester_id) == ("phone", 1, cast.alice.pk)
    assert ticket.erp_instance_id == cast.acme_erp.pk


def test_new_ticket_with_another_customers_requester_is_a_form_error(cast):
    response = signed_in(cast.lina).post(
        "/desk/tickets/new/",
        {
            "customer": "acme",
            "requester": str(cast.bob.pk),
            "channel": "phone",
            "type": "incident",
            "category": "how_to",
            "impact": "3",
            "urgency": "3",
            "priority": "0",
            "title": "x",
        },
    )
    assert response.status_code == 400
    assert 'data-testid="field-error-requester"' in response.content.decode()
    assert not Ticket.objects.exists()


def test_agent_cannot_create_for_a_customer_they_do_not_serve(cast):
    response = signed_in(cast.vera).post(
        "/desk/tickets/new/",
        {"customer": "globex", "channel": "phone", "type": "incident", "category": "how_to",
         "impact": "3", "urgency": "3", "title": "x"},
    )  # fmt: skip
    assert response.status_code == 400
    assert 'data-testid="field-error-customer"' in response.content.decode()
    assert not Ticket.objects.exists()


# ---------------------------------------------------------------------------
# Query counts do not grow with the data
# ---------------------------------------------------------------------------


def count_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_queue_query_count_does_not_grow_with_tickets(cast):
    client = signed_in(cast.lina)
    for index in range(3):
        ticket = ticket_for(cast, title=f"t{index}")
        services.assign_ticket(cast.lina, ticket, assignee=cast.vera, team=cast.l1_acme)
    few = count_queries(client, "/desk/?queue=all")
    for index in range(27):
        ticket = ticket_for(cast, "bob" if index % 2 else "alice", title=f"more {index}")
        services.assign_ticket(cast.lina, ticket, assignee=cast.lina, team=cast.l1_desk)
        if index % 3 == 0:
            services.escalate_ticket(cast.lina, ticket, tier=3, reason="vendor bug")
    many = count_queries(client, "/desk/?queue=all")
    assert few == many
    assert many <= 8


def add_activity(cast: Any, ticket: Ticket, n: int) -> None:
    for index in range(n):
        services.add_comment(cast.lina, ticket, body=f"reply {index}", internal=index % 2 == 0)
        services.add_comment(cast.alice, ticket, body=f"answer {index}")
        upload = SimpleUploadedFile(f"f{index}.txt", b"x", content_type="text/plain")
        services.add_attachment(cast.lina, ticket, upload, internal=index % 2 == 0)


def test_ticket_page_query_count_does_not_grow_with_comments(cast):
    client = signed_in(cast.lina)
    small = ticket_for(cast)
    add_activity(cast, small, 3)
    big = ticket_for(cast)
    add_activity(cast, big, 30)
    other = ticket_for(cast)
    services.link_tickets(cast.lina, big, other, kind="related_to")
    services.link_tickets(cast.lina, small, other, kind="related_to")
    assert count_queries(client, url(small)) == count_queries(client, url(big))
