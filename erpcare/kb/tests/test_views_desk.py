"""The knowledge base in the agent workspace: the list, the editor, one article with its
workflow, files, history and diff, and the search page. Per role: customers get 404,
auditors read only, L1 writes drafts, managers publish."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from erpcare.kb import services
from erpcare.kb.models import Article, ArticleAttachment, ArticleVersion
from erpcare.kb.tests.conftest import published, write
from erpcare.tickets.services import create_ticket

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


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
    base = f"/desk/kb/articles/{article.number}/"
    return f"{base}{action}" if action else base


def reload(article: Article) -> Article:
    return Article.objects.get(pk=article.pk)


def article_form(**changes: Any) -> dict[str, Any]:
    data = {
        "type": "faq",
        "language": "",
        "title": "How to reverse a posted voucher",
        "summary": "",
        "body": "1. Open the voucher\n2. Choose **Reverse**",
        "symptom": "",
        "cause": "",
        "resolution": "",
        "log_excerpt": "",
        "module": "gl",
        "product": "Tryton 7.0",
        "keywords": "reverse, 冲销",
        "visibility": "public",
        "organization": "",
        "note": "",
    }
    data.update(changes)
    return data


def edit_form(article: Article, **changes: Any) -> dict[str, Any]:
    data = article_form(
        type=article.type,
        language=article.language,
        title=article.title,
        summary=article.summary,
        body=article.body,
        module=article.module,
        product=article.product,
        keywords=article.keywords,
        visibility=article.visibility,
        organization=article.organization.code if article.organization else "",
        expected_version=article.current_version,
    )
    data.update(changes)
    return data


# ---------------------------------------------------------------------------
# Who gets in
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/desk/kb/", "/desk/kb/search?q=x", "/desk/kb/new/", "{article}", "{article}edit",
     "{article}versions"],
)  # fmt: skip
def test_customers_get_404_on_every_desk_page(cast, library, path):
    target = path.format(article=url(library.public))
    assert signed_in(cast.alice).get(target).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(db):
    response = Client().get("/desk/kb/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_customers_cannot_post_desk_actions(cast, library):
    client = signed_in(cast.alice)
    before = reload(library.draft).status
    assert client.post(url(library.draft, "submit")).status_code == 404
    assert client.post("/desk/kb/new/", article_form()).status_code == 404
    assert reload(library.draft).status == before


# ---------------------------------------------------------------------------
# The list
# ---------------------------------------------------------------------------


def test_list_shows_every_article_to_staff_with_badges(cast, library):
    body = signed_in(cast.lina).get("/desk/kb/").content.decode()
    for article in library.all():
        assert f'data-article-number="{article.number}"' in body
    assert 'data-testid="kb-new"' in body
    assert 'data-status="draft"' in body
    assert 'data-visibility="customer"' in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=draft", {"draft"}),
        ("status=archived", {"archived"}),
        ("visibility=internal", {"internal"}),
        ("type=upgrade", {"archived"}),
        ("module=gl", {"public"}),
        ("visibility=customer&status=published", {"acme_only", "globex_only"}),
    ],
)
def test_list_filters(cast, library, query, expected):
    body = signed_in(cast.mona).get(f"/desk/kb/?{query}").content.decode()
    shown = {name for name, a in vars(library).items() if f'"{a.number}"' in body}
    assert shown == expected


def test_list_filters_by_owner_and_product(cast, library):
    mine = write(cast.eric, "Eric's note on MRP", product="SAP S/4HANA 2023")
    client = signed_in(cast.mona)
    body = client.get(f"/desk/kb/?owner={cast.eric.pk}").content.decode()
    assert mine.number in body
    assert library.public.number not in body
    body = client.get("/desk/kb/?product=s/4hana").content.decode()
    assert mine.number in body
    assert library.public.number not in body


def test_list_search_finds_numbers_titles_and_published_text(cast, library):
    client = signed_in(cast.lina)
    body = client.get(f"/desk/kb/?q={library.draft.number.lower()}").content.decode()
    assert f'"{library.draft.number}"' in body
    assert f'"{library.public.number}"' not in body
    body = client.get("/desk/kb/?q=checklist").content.decode()
    assert f'"{library.draft.number}"' in body  # a draft, by its title
    body = client.get("/desk/kb/?q=会计期间").content.decode()
    assert f'"{library.public.number}"' in body  # published, by words only in its body


def test_stale_articles_are_flagged_and_filtered(cast, library):
    Article.objects.filter(pk=library.internal.pk).update(
        review_by=timezone.localdate() - timedelta(days=1)
    )
    client = signed_in(cast.lina)
    body = client.get("/desk/kb/").content.decode()
    assert body.count('data-testid="kb-stale"') == 1
    body = client.get("/desk/kb/?stale=yes").content.decode()
    assert f'"{library.internal.number}"' in body
    assert f'"{library.public.number}"' not in body


def test_bad_filters_are_an_error_above_an_empty_list(cast, library):
    response = signed_in(cast.lina).get("/desk/kb/?status=nonsense&type=x&owner=abc")
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="kb-error"' in body
    assert 'data-testid="kb-row"' not in body


def test_list_pages_and_answers_htmx_with_the_table_only(cast):
    for i in range(30):
        write(cast.lina, f"Article {i:02d}")
    client = signed_in(cast.lina)
    first = client.get("/desk/kb/").content.decode()
    assert first.count('data-testid="kb-row"') == 25
    assert 'data-testid="page-next"' in first
    second = client.get("/desk/kb/?page=2", headers={"HX-Request": "true"})
    body = second.content.decode()
    assert body.count('data-testid="kb-row"') == 5
    assert "<html" not in body
    assert second["Vary"]
    assert "HX-Request" in second["Vary"]


def _list_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/desk/kb/")
    assert response.status_code == 200
    return len(captured)


def test_list_costs_the_same_queries_for_2_or_25_articles(cast):
    client = signed_in(cast.mona)
    for i in range(2):
        published(cast, f"Few {i}", visibility="customer", organization=cast.acme)
    few = _list_queries(client)
    for i in range(23):
        owner = [cast.lina, cast.eric, cast.mona][i % 3]
        services.publish(
            cast.mona,
            write(owner, f"Many {i}", visibility="customer", organization=cast.globex),
        )
    assert _list_queries(client) == few


# ---------------------------------------------------------------------------
# New article and edit
# ---------------------------------------------------------------------------


def test_l1_writes_a_draft(cast):
    response = signed_in(cast.lina).post("/desk/kb/new/", article_form(note="first"))
    article = Article.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url(article)
    assert (article.status, article.owner, article.visibility, article.module) == (
        "draft", cast.lina, "public", "gl",
    )  # fmt: skip
    assert article.language == "en"
    assert ArticleVersion.objects.get(article=article).note == "first"


def test_a_case_keeps_its_symptom_cause_and_resolution(cast):
    data = article_form(
        type="case",
        title="凭证保存报错 GL-0042",
        body="",
        symptom="保存凭证时提示 `GL-0042 period closed`",
        cause="会计期间已关闭",
        resolution="1. 打开期间\n2. 重新保存",
        log_excerpt="ERROR GL-0042 period 2026-10 closed",
        visibility="customer",
        organization="acme",
    )
    signed_in(cast.eric).post("/desk/kb/new/", data)
    article = Article.objects.get()
    assert (article.type, article.organization, article.language) == ("case", cast.acme, "zh-hans")
    assert article.log_excerpt.startswith("ERROR GL-0042")
    body = signed_in(cast.eric).get(url(article)).content.decode()
    assert 'data-testid="kb-symptom"' in body
    assert "<code>GL-0042 period closed</code>" in body
    assert 'data-testid="kb-log"' in body


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"title": "x" * 100_000}, "title", "at most 200 characters"),
        ({"type": "essay"}, "type", "Select a valid choice"),
        ({"visibility": "everyone"}, "visibility", "Select a valid choice"),
        ({"visibility": "customer"}, "organization", "Choose the customer"),
        ({"organization": "nobody", "visibility": "customer"}, "organization", "Select a valid"),
        ({"module": "astrology"}, "module", "Select a valid choice"),
    ],
)
def test_bad_input_is_shown_on_the_form_and_nothing_is_lost(cast, changes, field, message):
    data = article_form(body="My long text that must survive", **changes)
    response = signed_in(cast.lina).post("/desk/kb/new/", data)
    assert response.status_code == 400
    body = response.content.decode()
    assert f'data-testid="field-error-{field}"' in body
    assert message in body
    assert "My long text that must survive" in body
    assert not Article.objects.exists()


def test_a_refused_save_keeps_the_text_and_shows_why(cast, library):
    # Someone else saved in between: the service refuses; the text typed is kept.
    stale = edit_form(library.draft, body="my change", expected_version=1)
    services.update_article(cast.eric, library.draft, body="eric's change")
    response = signed_in(cast.lina).post(url(library.draft, "edit"), stale)
    assert response.status_code == 409
    body = response.content.decode()
    assert 'data-testid="form-error"' in body
    assert "changed by someone else" in body
    assert "my change" in body
    assert reload(library.draft).body == "eric's change"


def test_editing_saves_a_new_version(cast, library):
    client = signed_in(cast.lina)
    assert client.get(url(library.draft, "edit")).status_code == 200
    data = edit_form(library.draft, body="Step 1\nStep 2", note="steps")
    response = client.post(url(library.draft, "edit"), data)
    assert response.status_code == 302
    article = reload(library.draft)
    assert (article.body, article.current_version) == ("Step 1\nStep 2", 2)
    # Saving the same text again makes no version.
    client.post(url(article, "edit"), edit_form(article))
    assert reload(article).current_version == 2


def test_preview_renders_without_saving(cast, library):
    data = edit_form(library.draft, body="**bold** <script>alert(1)</script>", _preview="1")
    client = signed_in(cast.lina)
    full = client.post(url(library.draft, "edit"), data)
    assert full.status_code == 200
    assert 'data-testid="kb-preview"' in full.content.decode()
    fragment = client.post(url(library.draft, "edit"), data, headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert "<strong>bold</strong>" in body
    assert "<script>" not in body
    assert "<html" not in body
    assert reload(library.draft).current_version == 1
    new = client.post("/desk/kb/new/", article_form(_preview="1"), headers={"HX-Request": "true"})
    assert new.status_code == 200
    assert not Article.objects.filter(title__startswith="How").exists()


def test_l1_cannot_edit_a_published_article_but_l2_can(cast, library):
    assert signed_in(cast.lina).get(url(library.public, "edit")).status_code == 403
    response = signed_in(cast.lina).post(url(library.public, "edit"), edit_form(library.public))
    assert response.status_code == 403
    data = edit_form(library.public, body="更正：先打开期间。")
    assert signed_in(cast.eric).post(url(library.public, "edit"), data).status_code == 302
    assert reload(library.public).body == "更正：先打开期间。"


def test_auditors_read_but_write_nothing(cast, library):
    client = signed_in(cast.audra)
    body = client.get(url(library.draft)).content.decode()
    assert 'data-testid="read-only-notice"' in body
    assert 'data-testid="kb-edit"' not in body
    assert 'data-testid="kb-submit"' not in body
    assert 'data-testid="kb-new"' not in client.get("/desk/kb/").content.decode()
    assert client.get("/desk/kb/new/").status_code == 403
    assert client.post("/desk/kb/new/", article_form()).status_code == 403
    response = client.post(url(library.draft, "submit"))
    assert response.status_code == 403
    assert reload(library.draft).status == "draft"
    assert reload(library.draft).view_count == 0  # an auditor's reading is not usage


# ---------------------------------------------------------------------------
# Workflow
# ---------------------------------------------------------------------------


def test_l1_submits_and_the_manager_publishes(cast, library):
    lina = signed_in(cast.lina)
    body = lina.get(url(library.draft)).content.decode()
    assert 'data-testid="kb-submit"' in body
    assert 'data-testid="kb-publish"' not in body
    assert lina.post(url(library.draft, "submit"), {"note": "ready"}).status_code == 302
    assert reload(library.draft).status == "review"
    # L1 cannot publish: the service refuses, the page says why.
    refused = lina.post(url(library.draft, "publish"))
    assert refused.status_code == 403
    assert "Only support managers and administrators" in refused.content.decode()
    assert reload(library.draft).status == "review"

    mona = signed_in(cast.mona)
    body = mona.get(url(library.draft)).content.decode()
    assert 'data-testid="kb-publish"' in body
    assert 'data-testid="kb-return"' in body
    review_by = (timezone.localdate() + timedelta(days=90)).isoformat()
    response = mona.post(url(library.draft, "publish"), {"review_by": review_by})
    assert response.status_code == 302
    article = reload(library.draft)
    assert article.status == "published"
    assert article.review_by.isoformat() == review_by


def test_returning_needs_a_note_and_shows_it_to_the_author(cast, library):
    mona = signed_in(cast.mona)
    refused = mona.post(url(library.review, "return"), {"note": ""})
    assert refused.status_code == 400
    assert "a note is required" in refused.content.decode()
    assert reload(library.review).status == "review"
    mona.post(url(library.review, "return"), {"note": "Add the screenshots."})
    assert reload(library.review).status == "draft"
    body = signed_in(cast.lina).get(url(library.review)).content.decode()
    assert 'data-testid="kb-review-note"' in body
    assert "Add the screenshots." in body


def test_publish_with_a_past_review_date_is_refused(cast, library):
    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = signed_in(cast.mona).post(url(library.review, "publish"), {"review_by": past})
    assert response.status_code == 400
    assert "must be in the future" in response.content.decode()
    assert reload(library.review).status == "review"
    bad = signed_in(cast.mona).post(url(library.review, "publish"), {"review_by": "soon"})
    assert bad.status_code == 400
    assert reload(library.review).status == "review"


def test_archive_restore_and_unknown_actions(cast, library):
    mona = signed_in(cast.mona)
    mona.post(url(library.public, "archive"), {"note": "superseded"})
    assert reload(library.public).status == "archived"
    body = mona.get(url(library.public)).content.decode()
    assert 'data-testid="kb-restore"' in body
    assert 'data-testid="kb-edit"' not in body
    mona.post(url(library.public, "restore"))
    assert reload(library.public).status == "draft"
    conflict = mona.post(url(library.public, "restore"))
    assert conflict.status_code == 409
    assert mona.post(url(library.public, "explode")).status_code == 404


def test_the_article_page_shows_counters_links_and_feedback(cast, library):
    services.record_feedback(cast.alice, library.public, helpful=True, comment="清楚！")
    services.record_feedback(cast.bob, library.public, helpful=False)
    services.record_deflection(cast.alice, library.public, "凭证")
    ticket = create_ticket(cast.alice, title="凭证过账失败")
    services.link_article(cast.lina, ticket, library.public, kind="solved_with")
    body = signed_in(cast.lina).get(url(library.public)).content.decode()
    assert "Helpful: 50 % (1 yes, 1 no)" in body
    assert "Solved 1 problem without a ticket" in body
    assert "清楚！" in body
    assert ticket.number in body
    assert reload(library.public).view_count == 1


# ---------------------------------------------------------------------------
# Files and images
# ---------------------------------------------------------------------------


def test_an_uploaded_image_is_shown_in_the_text_through_the_scoped_url(cast, library):
    client = signed_in(cast.lina)
    upload = SimpleUploadedFile("screen.png", PNG, content_type="image/png")
    response = client.post(url(library.draft, "files"), {"file": upload})
    assert response.status_code == 302
    image = ArticleAttachment.objects.get()
    client.post(
        url(library.draft, "edit"),
        edit_form(library.draft, body=f"See ![the screen](attachment:{image.pk})"),
    )
    body = client.get(url(library.draft)).content.decode()
    src = f"/desk/kb/articles/{library.draft.number}/files/{image.pk}"
    assert f'<img src="{src}" alt="the screen"' in body
    download = client.get(src)
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content) == PNG
    # The same file id under another article is not found.
    other = f"/desk/kb/articles/{library.public.number}/files/{image.pk}"
    assert client.get(other).status_code == 404


def test_upload_from_the_editor_swaps_only_the_files_list(cast, library):
    upload = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")
    response = signed_in(cast.lina).post(
        url(library.draft, "files"),
        {"file": upload, "next": "edit"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="kb-files"' in body
    assert "notes.txt" in body
    assert "<html" not in body
    assert 'data-testid="kb-file-insert"' in body


def test_refused_uploads_say_why_and_store_nothing(cast, library):
    client = signed_in(cast.lina)
    bad_type = SimpleUploadedFile("tool.exe", b"MZ", content_type="application/octet-stream")
    response = client.post(url(library.draft, "files"), {"file": bad_type})
    assert response.status_code == 400
    assert "are not accepted" in response.content.decode()
    empty = client.post(url(library.draft, "files"), {})
    assert empty.status_code == 400
    # L1 cannot attach to a published article.
    png = SimpleUploadedFile("screen.png", PNG, content_type="image/png")
    assert client.post(url(library.public, "files"), {"file": png}).status_code == 403
    assert not ArticleAttachment.objects.exists()


def test_removing_a_file(cast, library):
    client = signed_in(cast.lina)
    client.post(url(library.draft, "files"), {"file": SimpleUploadedFile("a.txt", b"a")})
    file = ArticleAttachment.objects.get()
    assert client.post(url(library.draft, f"files/{file.pk}/remove")).status_code == 302
    assert not ArticleAttachment.objects.exists()


# ---------------------------------------------------------------------------
# History and diff
# ---------------------------------------------------------------------------


def test_versions_and_the_diff_of_the_last_change(cast, library):
    services.update_article(
        cast.lina, library.draft, body="Line one\nLine two changed", note="fix step two"
    )
    client = signed_in(cast.mona)
    body = client.get(url(library.draft, "versions")).content.decode()
    assert body.count('data-testid="kb-version"') == 2
    assert "fix step two" in body
    assert 'data-field="body"' in body
    assert "<ins>Line two changed</ins>" in body
    assert "<del>How to handle: Draft: period close checklist</del>" in body


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("from_version=1&to_version=1", 400),
        ("from_version=1&to_version=9", 404),
        ("from_version=x&to_version=2", 400),
        ("from_version=-1&to_version=99999999999999999999", 400),
    ],
)
def test_bad_diff_requests_are_errors_on_the_page(cast, library, query, status):
    services.update_article(cast.lina, library.draft, body="changed")
    response = signed_in(cast.mona).get(url(library.draft, f"versions?{query}"))
    assert response.status_code == status
    assert 'data-testid="kb-diff-error"' in response.content.decode()


# ---------------------------------------------------------------------------
# Search over articles and tickets
# ---------------------------------------------------------------------------


def test_search_page_finds_articles_and_tickets_with_highlights(cast, library):
    ticket = create_ticket(cast.alice, title="凭证过账失败 after period close")
    client = signed_in(cast.mona)
    body = client.get("/desk/kb/search?q=凭证").content.decode()
    assert library.public.number in body
    assert ticket.number in body
    assert "<mark>" in body
    only_tickets = client.get("/desk/kb/search?q=凭证&kind=ticket").content.decode()
    assert ticket.number in only_tickets
    assert library.public.number not in only_tickets


def test_search_respects_which_tickets_an_agent_serves(cast):
    globex = create_ticket(cast.bob, title="POS 同步失败 sync failure")
    # vera's team serves only Acme.
    body = signed_in(cast.vera).get("/desk/kb/search?q=sync").content.decode()
    assert globex.number not in body
    assert 'data-testid="search-empty"' in body


@pytest.mark.parametrize(
    "query",
    ['"', "*", "NEAR(a b)", "a:b", "-x", "(", '"unbalanced', "'; DROP TABLE x; --", " "],
)
def test_search_never_fails_on_odd_input(cast, library, query):
    response = signed_in(cast.lina).get("/desk/kb/search", {"q": query})
    assert response.status_code == 200


def test_search_refuses_oversized_input_with_a_message(cast):
    response = signed_in(cast.lina).get("/desk/kb/search", {"q": "x" * 100_000})
    assert response.status_code == 400
    assert 'data-testid="search-error"' in response.content.decode()
