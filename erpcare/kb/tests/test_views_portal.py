"""The help center of the customer portal: search-first home, articles (only those the
customer may read: everything else is a 404), feedback, "this solved my problem" and the
suggestions under the new-ticket form's title."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from erpcare.kb import services
from erpcare.kb.models import Article, ArticleFeedback, EventKind, KbEvent
from erpcare.kb.tests.conftest import published
from erpcare.tickets.models import Ticket

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


def url(article: Article, action: str = "") -> str:
    return f"/portal/kb/articles/{article.number}/{action}"


def reload(article: Article) -> Article:
    return Article.objects.get(pk=article.pk)


# ---------------------------------------------------------------------------
# Who reads what
# ---------------------------------------------------------------------------


def test_customers_read_public_and_their_own_articles(cast, library):
    client = signed_in(cast.alice)
    for article in (library.public, library.acme_only):
        response = client.get(url(article))
        assert response.status_code == 200
        assert article.title in response.content.decode()


@pytest.mark.parametrize("name", ["internal", "globex_only", "draft", "review", "archived"])
def test_anything_else_is_404_by_number_or_id(cast, library, name):
    article = getattr(library, name)
    client = signed_in(cast.alice)
    for ref in (article.number, article.number.lower(), str(article.pk)):
        assert client.get(f"/portal/kb/articles/{ref}/").status_code == 404
    assert client.get("/portal/kb/articles/KB-9999/").status_code == 404
    assert client.post(url(article, "feedback"), {"helpful": "yes"}).status_code == 404
    assert client.post(url(article, "solved")).status_code == 404
    assert not KbEvent.objects.filter(article=article).exists()


def test_staff_are_sent_to_the_desk(cast, library):
    client = signed_in(cast.lina)
    response = client.get(url(library.internal))
    assert response.status_code == 302
    assert response["Location"] == f"/desk/kb/articles/{library.internal.number}/"
    assert client.get("/portal/kb/")["Location"] == "/desk/kb/"


def test_the_home_lists_only_what_the_customer_may_read(cast, library):
    body = signed_in(cast.alice).get("/portal/kb/").content.decode()
    assert library.public.title in body
    assert library.acme_only.title in body
    for name in ("internal", "globex_only", "draft", "review", "archived"):
        assert getattr(library, name).title not in body
    assert 'data-testid="help-module-gl"' in body
    assert 'data-testid="new-ticket"' in body


def test_the_home_filters_by_module(cast, library):
    body = signed_in(cast.alice).get("/portal/kb/?module=gl").content.decode()
    assert library.public.title in body
    assert library.acme_only.title not in body


def test_search_finds_chinese_articles_by_words_in_the_body(cast, library):
    response = signed_in(cast.alice).get("/portal/kb/", {"q": "会计期间"})
    body = response.content.decode()
    assert f'data-article-number="{library.public.number}"' in body
    assert "<mark>" in body


def test_search_never_shows_another_customers_article(cast, library):
    body = signed_in(cast.alice).get("/portal/kb/", {"q": "Globex POS sync"}).content.decode()
    assert library.globex_only.number not in body
    body = signed_in(cast.alice).get("/portal/kb/", {"q": "MRP run lock"}).content.decode()
    assert library.internal.number not in body


def test_a_search_without_results_offers_a_ticket(cast, library):
    body = signed_in(cast.alice).get("/portal/kb/", {"q": "量子纠缠"}).content.decode()
    assert 'data-testid="help-empty"' in body
    assert 'data-testid="help-empty-new-ticket"' in body


@pytest.mark.parametrize(
    "query", ['"', "*", "NEAR(a b)", "a:b", "-x", "(", '"open', "'; DROP TABLE x; --"]
)
def test_odd_queries_never_fail(cast, library, query):
    assert signed_in(cast.alice).get("/portal/kb/", {"q": query}).status_code == 200


def test_oversized_queries_and_modules_are_a_message(cast):
    client = signed_in(cast.alice)
    response = client.get("/portal/kb/", {"q": "x" * 100_000})
    assert response.status_code == 400
    assert 'data-testid="help-error"' in response.content.decode()
    assert client.get("/portal/kb/", {"module": "astrology"}).status_code == 400


def test_htmx_search_answers_with_the_results_only(cast, library):
    response = signed_in(cast.alice).get(
        "/portal/kb/", {"q": "会计期间"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert 'id="help-results"' in body
    assert "<html" not in body


def test_the_portal_home_searches_first_and_keeps_the_ticket_list(cast, library):
    body = signed_in(cast.alice).get("/portal/").content.decode()
    assert body.index('data-testid="portal-help"') < body.index('data-testid="portal-results"')
    assert 'action="/portal/kb/"' in body
    assert 'data-testid="new-ticket"' in body
    popular = signed_in(cast.alice).get("/portal/kb/popular").content.decode()
    assert library.public.title in popular
    assert library.globex_only.title not in popular


# ---------------------------------------------------------------------------
# Reading an article
# ---------------------------------------------------------------------------


def test_reading_counts_once_per_visit_and_renders_sanitised_markdown(cast):
    article = published(
        cast,
        "Reverse a voucher",
        visibility="public",
        body="**Steps** <script>alert(1)</script> [x](javascript:alert(1))",
    )
    client = signed_in(cast.alice)
    body = client.get(url(article)).content.decode()
    assert "<strong>Steps</strong>" in body
    assert "<script>alert" not in body
    assert 'href="javascript:' not in body
    client.get(url(article))
    assert reload(article).view_count == 1


def test_files_are_served_only_to_readers_of_the_article(cast, library):
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 32
    image = services.add_attachment(
        cast.mona, library.public, SimpleUploadedFile("screen.png", png, content_type="image/png")
    )
    pdf = services.add_attachment(
        cast.mona, library.public, SimpleUploadedFile("guide.pdf", b"%PDF-1.4 x")
    )
    secret = services.add_attachment(
        cast.mona, library.globex_only, SimpleUploadedFile("globex.pdf", b"%PDF-1.4 g")
    )
    services.update_article(cast.mona, library.public, body=f"![screen](attachment:{image.pk})")
    client = signed_in(cast.alice)
    body = client.get(url(library.public)).content.decode()
    assert f'src="/portal/kb/articles/{library.public.number}/files/{image.pk}"' in body
    assert "guide.pdf" in body
    inline = client.get(url(library.public, f"files/{image.pk}"))
    assert inline.status_code == 200
    assert "attachment" not in inline.get("Content-Disposition", "")
    download = client.get(url(library.public, f"files/{pdf.pk}"))
    assert download["Content-Disposition"].startswith("attachment")
    assert client.get(url(library.public, f"files/{secret.pk}")).status_code == 404
    assert client.get(url(library.globex_only, f"files/{secret.pk}")).status_code == 404
    assert (
        signed_in(cast.bob).get(url(library.globex_only, f"files/{secret.pk}")).status_code == 200
    )


def test_related_articles_exclude_the_article_itself(cast, library):
    other = published(cast, "凭证过账失败：期间未打开", visibility="public", body="打开会计期间。")
    body = signed_in(cast.alice).get(url(library.public)).content.decode()
    related = body[body.index('id="kb-related-title"') :]
    assert other.title in related
    assert f'href="{url(library.public)}"' not in related


# ---------------------------------------------------------------------------
# Feedback
# ---------------------------------------------------------------------------


def test_one_vote_per_customer_the_second_replaces_the_first(cast, library):
    client = signed_in(cast.alice)
    response = client.post(url(library.public, "feedback"), {"helpful": "yes", "comment": "好"})
    assert response.status_code == 302
    client.post(url(library.public, "feedback"), {"helpful": "no", "comment": "步骤不全"})
    vote = ArticleFeedback.objects.get()
    assert (vote.helpful, vote.comment) == (False, "步骤不全")
    article = reload(library.public)
    assert (article.helpful_count, article.not_helpful_count) == (0, 1)
    body = client.get(url(library.public)).content.decode()
    assert 'data-testid="kb-my-vote"' in body


def test_feedback_through_htmx_answers_with_the_box(cast, library):
    response = signed_in(cast.alice).post(
        url(library.public, "feedback"), {"helpful": "yes"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="kb-feedback-thanks"' in body
    assert "<html" not in body


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "helpful"),
        ({"helpful": "maybe"}, "helpful"),
        ({"helpful": "no", "comment": "x" * 3000}, "comment"),
    ],
)
def test_bad_feedback_is_shown_and_the_comment_kept(cast, library, data, field):
    response = signed_in(cast.alice).post(url(library.public, "feedback"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert f'data-testid="field-error-{field}"' in body
    assert not ArticleFeedback.objects.exists()


# ---------------------------------------------------------------------------
# Suggestions on the new-ticket form, and "this solved my problem"
# ---------------------------------------------------------------------------


def test_the_new_ticket_form_asks_for_suggestions_as_the_title_is_typed(cast):
    body = signed_in(cast.alice).get("/portal/tickets/new/").content.decode()
    assert 'hx-get="/portal/kb/suggest"' in body
    assert "keyup changed delay:300ms from:#id_title" in body
    assert "input changed delay:300ms from:#id_title" in body


def test_suggestions_link_to_articles_with_the_typed_title(cast, library):
    response = signed_in(cast.alice).get("/portal/kb/suggest", {"title": "凭证过账"})
    body = response.content.decode()
    assert f'data-article-number="{library.public.number}"' in body
    assert "from=new-ticket&amp;q=%E5%87%AD%E8%AF%81%E8%BF%87%E8%B4%A6" in body
    assert 'target="_blank"' in body


def test_suggestions_respect_isolation_and_tiny_input(cast, library):
    client = signed_in(cast.alice)
    assert client.get("/portal/kb/suggest", {"title": "POS"}).content.decode().strip() == ""
    assert client.get("/portal/kb/suggest", {"title": "x"}).content.decode().strip() == ""
    assert client.get("/portal/kb/suggest", {"title": "'\"(*"}).status_code == 200
    assert client.get("/portal/kb/suggest", {"title": "凭证" * 50_000}).status_code == 200


def test_this_solved_my_problem_records_a_deflection_and_creates_no_ticket(cast, library):
    client = signed_in(cast.alice)
    page = client.get(url(library.public), {"from": "new-ticket", "q": "凭证过账失败"})
    body = page.content.decode()
    assert 'data-testid="kb-solved"' in body
    assert 'value="凭证过账失败"' in body
    response = client.post(url(library.public, "solved"), {"q": "凭证过账失败"}, follow=True)
    assert response.redirect_chain[-1][0] == "/portal/"
    assert "No ticket was needed" in response.content.decode()
    event = KbEvent.objects.get(kind=EventKind.DEFLECTION)
    assert (event.article_id, event.user, event.query) == (
        library.public.pk, cast.alice, "凭证过账失败",
    )  # fmt: skip
    assert reload(library.public).deflection_count == 1
    assert not Ticket.objects.exists()


def test_the_solved_button_only_shows_for_visits_from_the_new_ticket_form(cast, library):
    body = signed_in(cast.alice).get(url(library.public)).content.decode()
    assert 'data-testid="kb-solved"' not in body


def _home_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/portal/kb/")
    assert response.status_code == 200
    return len(captured)


def test_the_home_costs_the_same_queries_for_2_or_20_articles(cast):
    client = signed_in(cast.alice)
    modules = ["gl", "ap", "inventory", "sales"]
    for i in range(2):
        published(cast, f"Few {i}", visibility="public", module=modules[i])
    few = _home_queries(client)
    for i in range(18):
        published(cast, f"Many {i}", visibility="customer", organization=cast.acme,
                  module=modules[i % 4])  # fmt: skip
    assert _home_queries(client) == few
