"""The knowledge-base API: list, detail, create, update, workflow, history, feedback,
deflection, links, files and usage; errors are JSON ``{"detail": …}`` and change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from erpcare.audit.models import AuditEntry
from erpcare.kb import services
from erpcare.kb.models import (
    Article,
    ArticleAttachment,
    ArticleFeedback,
    ArticleTicketLink,
    ArticleVersion,
    KbEvent,
)
from erpcare.tickets import services as tickets

pytestmark = pytest.mark.django_db

K = "/api/v1/kb"
JSON = "application/json"


def api(cast, who):
    return Client(headers={"Authorization": f"Bearer {cast.token(getattr(cast, who))}"})


def db_state():
    return [
        list(model.objects.order_by("pk").values())
        for model in (
            Article,
            ArticleVersion,
            ArticleFeedback,
            ArticleTicketLink,
            ArticleAttachment,
            KbEvent,
        )
    ] + [AuditEntry.objects.filter(action__startswith="kb.").count()]


# --- reading ------------------------------------------------------------------------------


def test_customers_list_only_what_they_may_read(cast, library):
    body = api(cast, "alice").get(f"{K}/articles").json()
    assert {item["number"] for item in body["items"]} == {
        library.public.number,
        library.acme_only.number,
    }
    assert body["has_next"] is False
    staff = api(cast, "lina").get(f"{K}/articles?page_size=100").json()
    assert len(staff["items"]) == 7


def test_list_filters(cast, library):
    client = api(cast, "mona")

    def numbers(query):
        response = client.get(f"{K}/articles?{query}")
        assert response.status_code == 200, response.content
        return {item["number"] for item in response.json()["items"]}

    assert numbers("status=draft") == {library.draft.number}
    assert numbers("type=upgrade") == {library.archived.number}
    assert numbers("module=gl") == {library.public.number}
    assert numbers("visibility=customer&customer=acme") == {library.acme_only.number}
    assert numbers("q=凭证") == {library.public.number}
    assert numbers("q=F5 201") == {library.public.number}
    assert numbers(f"q={library.internal.number.lower()}") == {library.internal.number}
    assert numbers("stale=true") == set()
    assert library.public.number in numbers("stale=false")
    assert numbers("owner=me") == set()
    assert len(numbers("owner=me&page_size=1")) == 0
    page = client.get(f"{K}/articles?page_size=2&ordering=title").json()
    assert (len(page["items"]), page["has_next"]) == (2, True)


def test_q_uses_the_search_service_and_its_ranking(cast, library):
    services.update_article(
        cast.mona, library.internal, body="The MRP run lock stays after a crash: reset it."
    )
    services.update_article(cast.mona, library.globex_only, body="Reset the POS sync queue.")
    staff = api(cast, "mona").get(f"{K}/articles", {"q": "crash"}).json()
    assert [item["number"] for item in staff["items"]] == [library.internal.number]
    bob = api(cast, "bob").get(f"{K}/articles", {"q": "reset"}).json()
    assert [item["number"] for item in bob["items"]] == [library.globex_only.number]
    assert api(cast, "alice").get(f"{K}/articles", {"q": "reset"}).json()["items"] == []
    # Drafts are not in the search index; their titles are still found.
    drafts = api(cast, "lina").get(f"{K}/articles", {"q": "checklist"}).json()
    assert [item["number"] for item in drafts["items"]] == [library.draft.number]


def test_the_list_and_the_detail_take_a_fixed_number_of_queries(cast, library):
    client = api(cast, "mona")
    client.get(f"{K}/articles")  # warm the token and role look-ups

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count(f"{K}/articles?page_size=100")
    assert few <= 6
    for n in range(10):
        services.create_article(
            cast.lina, title=f"more {n}", visibility="customer",
            organization=cast.acme if n % 2 else cast.globex,
        )  # fmt: skip
    assert count(f"{K}/articles?page_size=100") == few
    assert count(f"{K}/articles?page_size=100&q=more") <= few + 8
    assert count(f"{K}/articles/{library.acme_only.number}") <= few


def test_detail_by_number_or_id_and_404_for_the_rest(cast, library):
    alice = api(cast, "alice")
    body = alice.get(f"{K}/articles/{library.acme_only.number}").json()
    assert body["title"] == "Acme: printing delivery notes"
    assert body["customer"] == {"code": "acme", "name": "Acme 制造"}
    assert alice.get(f"{K}/articles/{library.public.pk}").status_code == 200
    for article in (library.globex_only, library.internal, library.draft, library.archived):
        for ref in (article.number, article.pk):
            response = alice.get(f"{K}/articles/{ref}")
            assert response.status_code == 404
            assert response.json() == {"detail": "Article not found."}
    assert alice.get(f"{K}/articles/KB-9999").json() == {"detail": "Article not found."}


def test_customers_do_not_see_the_source_ticket_or_reviewer_notes(cast):
    ticket = tickets.create_ticket(cast.bob, title="POS receipt printer offline")
    tickets.transition_ticket(
        cast.lina, ticket, to="resolved", resolution_code="fixed", resolution="Driver updated"
    )
    article = services.create_article_from_ticket(cast.lina, ticket)
    services.update_article(cast.mona, article, visibility="public")
    services.publish(cast.mona, article)
    staff = api(cast, "lina").get(f"{K}/articles/{article.number}").json()
    assert staff["source_ticket"] == ticket.number
    seen = api(cast, "alice").get(f"{K}/articles/{article.number}").json()
    assert seen["source_ticket"] is None
    assert seen["review_note"] == ""


def test_no_token_is_401(library):
    response = Client().get(f"{K}/articles")
    assert response.status_code == 401
    assert "detail" in response.json()


# --- writing ------------------------------------------------------------------------------


def test_an_agent_creates_and_edits_a_draft(cast):
    lina = api(cast, "lina")
    response = lina.post(f"{K}/articles", {
        "title": "月末结账步骤", "type": "sop", "body": "1. 关闭期间\n2. 结转损益",
        "module": "gl", "product": "用友 U8 13.0", "visibility": "customer", "customer": "acme",
    }, content_type=JSON)  # fmt: skip
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["number"], created["status"], created["language"]) == (
        "KB-0001",
        "draft",
        "zh-hans",
    )
    assert created["customer"]["code"] == "acme"
    assert created["current_version"] == 1
    response = lina.patch(f"{K}/articles/KB-0001", {
        "body": "1. 关闭期间\n2. 结转损益\n3. 出报表", "note": "step 3", "expected_version": 1,
    }, content_type=JSON)  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["current_version"] == 2
    stale_edit = lina.patch(
        f"{K}/articles/KB-0001", {"body": "x", "expected_version": 1}, content_type=JSON
    )
    assert stale_edit.status_code == 409
    response = lina.patch(
        f"{K}/articles/KB-0001", {"visibility": "public", "customer": None}, content_type=JSON
    )
    assert response.json()["customer"] is None
    versions = lina.get(f"{K}/articles/KB-0001/versions").json()
    assert [v["number"] for v in versions] == [3, 2, 1]
    assert versions[1]["note"] == "step 3"
    assert lina.get(f"{K}/articles/KB-0001/versions/1").json()["content"]["title"] == "月末结账步骤"
    diff = lina.get(f"{K}/articles/KB-0001/diff?from=1&to=2").json()
    assert [(d["field"], [line["op"] for line in d["lines"]]) for d in diff] == [
        ("body", ["=", "=", "+"])
    ]


def test_the_workflow_over_the_api(cast):
    article = services.create_article(cast.lina, title="Reset a password", body="Use SU01.")
    lina, mona = api(cast, "lina"), api(cast, "mona")
    ref = article.number
    assert lina.post(f"{K}/articles/{ref}/submit", {}, content_type=JSON).json()["status"] == (
        "review"
    )
    assert lina.post(f"{K}/articles/{ref}/publish", {}, content_type=JSON).status_code == 403
    returned = mona.post(f"{K}/articles/{ref}/return", {"note": "Screenshots?"}, content_type=JSON)
    assert returned.json()["review_note"] == "Screenshots?"
    lina.post(f"{K}/articles/{ref}/submit", {}, content_type=JSON)
    review_by = (timezone.localdate() + timedelta(days=60)).isoformat()
    published = mona.post(
        f"{K}/articles/{ref}/publish", {"review_by": review_by}, content_type=JSON
    )
    assert published.status_code == 200, published.content
    assert (published.json()["status"], published.json()["review_by"]) == ("published", review_by)
    reviewed = mona.post(f"{K}/articles/{ref}/reviewed", {}, content_type=JSON)
    assert reviewed.status_code == 200
    assert mona.post(f"{K}/articles/{ref}/archive", {}, content_type=JSON).json()["status"] == (
        "archived"
    )
    assert mona.post(f"{K}/articles/{ref}/restore", {}, content_type=JSON).json()["status"] == (
        "draft"
    )
    again = mona.post(f"{K}/articles/{ref}/restore", {}, content_type=JSON)
    assert again.status_code == 409
    assert "cannot be restored" in again.json()["detail"]


def test_feedback_and_deflection(cast, library):
    alice = api(cast, "alice")
    ref = library.acme_only.number
    first = alice.post(f"{K}/articles/{ref}/feedback", {"helpful": True}, content_type=JSON)
    assert first.json() == {
        "helpful": True,
        "comment": "",
        "helpful_count": 1,
        "not_helpful_count": 0,
    }
    second = alice.post(
        f"{K}/articles/{ref}/feedback", {"helpful": False, "comment": "Still fails"},
        content_type=JSON,
    )  # fmt: skip
    assert second.json()["helpful_count"] == 0
    assert second.json()["not_helpful_count"] == 1
    solved = alice.post(f"{K}/articles/{ref}/deflection", {"query": "交货单 打印"},
                        content_type=JSON)  # fmt: skip
    assert solved.status_code == 201
    assert solved.json()["query"] == "交货单 打印"
    assert KbEvent.objects.filter(kind="deflection", user=cast.alice).count() == 1
    staff = api(cast, "lina").post(f"{K}/articles/{ref}/deflection", {}, content_type=JSON)
    assert staff.status_code == 403
    other = api(cast, "bob").post(f"{K}/articles/{ref}/feedback", {"helpful": True},
                                  content_type=JSON)  # fmt: skip
    assert other.status_code == 404


def test_links_and_create_from_ticket(cast, library):
    ticket = tickets.create_ticket(cast.alice, title="Delivery note prints blank")
    lina = api(cast, "lina")
    early = lina.post(f"{K}/articles/from-ticket/{ticket.number}", {}, content_type=JSON)
    assert early.status_code == 409
    solved = {"ticket": ticket.number, "kind": "solved_with"}
    link = lina.post(f"{K}/articles/{library.acme_only.number}/links", solved, content_type=JSON)
    assert link.status_code == 201, link.content
    assert link.json()["ticket"] == ticket.number
    lina.post(f"{K}/articles/{library.internal.number}/links",
              {"ticket": ticket.number, "kind": "related"}, content_type=JSON)  # fmt: skip
    mine = api(cast, "alice").get(f"{K}/tickets/{ticket.number}/articles").json()
    assert [row["article"] for row in mine] == [library.acme_only.number]
    assert len(lina.get(f"{K}/tickets/{ticket.number}/articles").json()) == 2
    assert api(cast, "bob").get(f"{K}/tickets/{ticket.number}/articles").status_code == 404
    rows = lina.get(f"{K}/articles/{library.acme_only.number}/links").json()
    assert [(row["ticket"], row["kind"]) for row in rows] == [(ticket.number, "solved_with")]
    gone = lina.delete(f"{K}/articles/{library.internal.number}/links/{ticket.number}/related")
    assert gone.status_code == 204
    tickets.transition_ticket(
        cast.lina, ticket, to="resolved", resolution_code="fixed", resolution="New form"
    )
    created = lina.post(f"{K}/articles/from-ticket/{ticket.number}", {}, content_type=JSON)
    assert created.status_code == 201, created.content
    assert (created.json()["type"], created.json()["source_ticket"]) == ("case", ticket.number)


def test_files(cast, library):
    eric = api(cast, "eric")
    ref = library.acme_only.number
    png = SimpleUploadedFile("screen.png", b"\x89PNG\r\n\x1a\nxxxx", "image/png")
    response = eric.post(f"{K}/articles/{ref}/attachments", {"file": png})
    assert response.status_code == 201, response.content
    file = response.json()
    assert file["markdown"] == f"![screen.png](attachment:{file['id']})"
    url = f"{K}/articles/{ref}/attachments/{file['id']}/download"
    download = api(cast, "alice").get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"\x89PNG")
    assert api(cast, "bob").get(url).status_code == 404
    assert len(api(cast, "alice").get(f"{K}/articles/{ref}/attachments").json()) == 1
    assert api(cast, "alice").delete(
        f"{K}/articles/{ref}/attachments/{file['id']}"
    ).status_code == (403)
    assert eric.delete(f"{K}/articles/{ref}/attachments/{file['id']}").status_code == 204


def test_usage_is_for_managers_admins_and_auditors(cast, library):
    services.record_view(cast.alice, library.public)
    services.record_deflection(cast.alice, library.public, "x")
    for who in ("mona", "adam", "audra"):
        body = api(cast, who).get(f"{K}/usage").json()
        assert (body["views"], body["deflections"]) == (1, 1)
        assert body["articles"][0]["number"] == library.public.number
    for who in ("lina", "alice"):
        assert api(cast, who).get(f"{K}/usage").status_code == 403
    assert api(cast, "mona").get(f"{K}/usage?customer=globex").json()["views"] == 0
