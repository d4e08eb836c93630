"""The knowledge panel on a ticket's desk page: suggested articles ranked by similarity,
linked articles, link/unlink, insert link/steps, and "create article from ticket"."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from erpcare.kb.models import Article, ArticleTicketLink
from erpcare.kb.tests.conftest import published
from erpcare.tickets.models import Status, Ticket
from erpcare.tickets.services import create_ticket, transition_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def panel(ticket: Ticket, action: str = "panel") -> str:
    return f"/desk/kb/tickets/{ticket.number}/{action}"


HX = {"HX-Request": "true"}


@pytest.fixture
def ticket(cast: Any) -> Ticket:
    return create_ticket(
        cast.alice,
        title="凭证过账失败 期间已关闭",
        description="过账时提示会计期间已关闭，无法保存记账凭证。",
    )


def test_the_ticket_page_loads_the_panel_after_the_page(cast, ticket):
    body = signed_in(cast.lina).get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert f'hx-get="{panel(ticket)}"' in body
    assert "kb/kb.js" in body


def test_the_ticket_page_costs_no_search_query(cast, ticket):
    client = signed_in(cast.lina)
    with CaptureQueriesContext(connection) as captured:
        client.get(f"/desk/tickets/{ticket.number}/")
    assert not [q for q in captured.captured_queries if "search" in q["sql"].lower()]


def test_suggestions_are_ranked_by_similarity_and_scoped(cast, library, ticket):
    other = published(cast, "Printing a delivery note", visibility="public", body="Print it.")
    body = signed_in(cast.lina).get(panel(ticket), headers=HX).content.decode()
    assert "<html" not in body
    assert f'data-article-number="{library.public.number}"' in body
    assert other.number not in body
    # A customer never gets the panel.
    assert signed_in(cast.alice).get(panel(ticket)).status_code == 404
    # An agent whose teams do not serve the customer does not see the ticket at all.
    bob_ticket = create_ticket(cast.bob, title="凭证过账失败")
    assert signed_in(cast.vera).get(panel(bob_ticket)).status_code == 404


def test_linking_a_suggestion_moves_it_to_the_linked_list(cast, library, ticket):
    client = signed_in(cast.lina)
    response = client.post(
        panel(ticket, "link"),
        {"article": library.public.number, "kind": "solved_with"},
        headers=HX,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="kb-panel-message"' in body
    assert f'data-testid="kb-linked-article" data-article-number="{library.public.number}"' in body
    assert (
        f'data-testid="kb-suggested-article" data-article-number="{library.public.number}"'
        not in body
    )
    link = ArticleTicketLink.objects.get()
    assert (link.article_id, link.ticket_id, link.kind, link.created_by) == (
        library.public.pk, ticket.pk, "solved_with", cast.lina,
    )  # fmt: skip
    # The same link again is refused in place.
    again = client.post(
        panel(ticket, "link"), {"article": library.public.number, "kind": "solved_with"}, headers=HX
    )
    assert again.status_code == 409
    assert "already linked" in again.content.decode()
    # Without htmx: back to the ticket page.
    response = client.post(
        panel(ticket, "unlink"), {"article": library.public.number, "kind": "solved_with"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/desk/tickets/{ticket.number}/"
    assert not ArticleTicketLink.objects.exists()


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"article": "KB-9999", "kind": "solved_with"}, 404),
        ({"article": "", "kind": "solved_with"}, 400),
        ({"article": "KB-0001", "kind": "bogus"}, 400),
        ({"article": "x" * 5000, "kind": "related"}, 400),
    ],
)
def test_bad_links_are_refused_in_the_panel(cast, library, ticket, data, status):
    response = signed_in(cast.lina).post(panel(ticket, "link"), data, headers=HX)
    assert response.status_code == status
    assert 'data-testid="kb-panel-error"' in response.content.decode()
    assert not ArticleTicketLink.objects.exists()


def test_auditors_see_the_panel_but_cannot_link(cast, library, ticket):
    client = signed_in(cast.audra)
    body = client.get(panel(ticket), headers=HX).content.decode()
    assert 'data-testid="kb-link-solved"' not in body
    assert 'data-testid="kb-insert-steps"' not in body
    response = client.post(
        panel(ticket, "link"), {"article": library.public.number, "kind": "related"}, headers=HX
    )
    assert response.status_code == 403
    assert not ArticleTicketLink.objects.exists()


def test_insert_buttons_carry_the_portal_link_and_the_steps(cast, library, ticket):
    case = published(
        cast,
        "凭证过账失败：期间已关闭（案例）",
        type="case",
        visibility="public",
        symptom="过账时提示期间已关闭",
        resolution="1. 打开会计期间\n2. 重新过账",
        body="",
    )
    body = html.unescape(signed_in(cast.lina).get(panel(ticket), headers=HX).content.decode())
    assert (
        f"[{case.number} {case.title}](http://testserver/portal/kb/articles/{case.number}/)" in body
    )
    assert f"{case.number} {case.title}\n\n1. 打开会计期间\n2. 重新过账" in body
    assert 'data-kb-target="#comment_body"' in body


def test_internal_articles_offer_steps_but_no_customer_link(cast, ticket):
    internal = published(
        cast, "凭证过账失败 internal fix", visibility="internal", body="会计期间 SQL fix"
    )
    body = signed_in(cast.lina).get(panel(ticket), headers=HX).content.decode()
    item = body[body.index(f'data-article-number="{internal.number}"') :]
    item = item[: item.index("</li>")]
    assert 'data-testid="kb-insert-steps"' in item
    assert 'data-testid="kb-insert-link"' not in item


def test_create_article_from_a_resolved_ticket(cast, ticket):
    client = signed_in(cast.lina)
    body = client.get(panel(ticket), headers=HX).content.decode()
    assert 'data-testid="kb-from-ticket"' not in body  # not resolved yet
    refused = client.post(panel(ticket, "article"))
    assert refused.status_code == 302
    assert not Article.objects.exists()

    transition_ticket(
        cast.mona, ticket, to=Status.RESOLVED, resolution_code="configuration",
        resolution="打开 2026-10 会计期间后重新过账。",
    )  # fmt: skip
    body = client.get(panel(ticket), headers=HX).content.decode()
    assert 'data-testid="kb-from-ticket"' in body
    response = client.post(panel(ticket, "article"))
    article = Article.objects.get()
    assert response["Location"] == f"/desk/kb/articles/{article.number}/edit"
    assert (article.type, article.source_ticket_id, article.status) == ("case", ticket.pk, "draft")
    editor = client.get(response["Location"]).content.decode()
    assert "打开 2026-10 会计期间后重新过账。" in editor
    assert ArticleTicketLink.objects.get().kind == "created_from"
