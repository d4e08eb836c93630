"""Bad input on every knowledge-base endpoint: a 4xx with a JSON ``{"detail": …}`` that
says what is wrong, never a 500, and nothing changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from erpcare.kb import services
from erpcare.kb.tests.test_api_articles import JSON, K, api, db_state

pytestmark = pytest.mark.django_db

HUGE = "x" * 100_000
YESTERDAY = (timezone.localdate() - timedelta(days=1)).isoformat()
TODAY = timezone.localdate().isoformat()


@pytest.fixture
def world(cast, library):
    from erpcare.tickets import services as tickets

    ticket = tickets.create_ticket(cast.alice, title="Open ticket")
    return {"ticket": ticket.number, "draft": library.draft.number, "pub": library.public.number}


# (who, method, path, body, status, words in the detail)
CASES = {
    "missing title": ("lina", "post", "/articles", {"body": "x"}, 422, "title"),
    "empty title": ("lina", "post", "/articles", {"title": ""}, 422, "title"),
    "blank title": ("lina", "post", "/articles", {"title": "   "}, 400, "Title is required"),
    "100 KB title": ("lina", "post", "/articles", {"title": HUGE}, 422, "title"),
    "100 KB body too": ("lina", "post", "/articles", {"title": "t", "body": HUGE * 2}, 422, "body"),
    "unknown type": ("lina", "post", "/articles", {"title": "t", "type": "memo"}, 400,
                     "memo is not a valid article type"),
    "unknown visibility": ("lina", "post", "/articles", {"title": "t", "visibility": "secret"},
                           400, "secret is not a valid visibility"),
    "unknown language": ("lina", "post", "/articles", {"title": "t", "language": "fr"}, 400,
                         "fr is not a valid language"),
    "unknown module": ("lina", "post", "/articles", {"title": "t", "module": "crm"}, 400,
                       "crm is not a valid ERP module"),
    "customer visibility without customer": (
        "lina", "post", "/articles", {"title": "t", "visibility": "customer"}, 400,
        "needs that customer"),
    "customer on a public article": (
        "lina", "post", "/articles", {"title": "t", "visibility": "public", "customer": "acme"},
        400, "Only an article visible to one customer"),
    "unknown customer": ("lina", "post", "/articles",
                         {"title": "t", "visibility": "customer", "customer": "nope"}, 404,
                         "Customer not found"),
    "customer out of scope": ("vera", "post", "/articles",
                              {"title": "t", "visibility": "customer", "customer": "globex"},
                              404, "Customer not found"),
    "unknown field": ("lina", "post", "/articles", {"title": "t", "colour": "red"}, 422,
                      "colour"),
    "NUL in title": ("lina", "post", "/articles", {"title": "a\x00b"}, 422, "NUL"),
    "wrong JSON type": ("lina", "post", "/articles", {"title": ["t"]}, 422, "title"),
    "customer writes": ("alice", "post", "/articles", {"title": "t"}, 403, "support staff"),
    "auditor writes": ("audra", "post", "/articles", {"title": "t"}, 403, "read-only"),
    "update unknown field": ("lina", "patch", "/articles/DRAFT", {"status": "published"}, 422,
                             "status"),
    "update title null": ("lina", "patch", "/articles/DRAFT", {"title": None}, 400,
                          "title cannot be empty"),
    "update 100 KB title": ("lina", "patch", "/articles/DRAFT", {"title": HUGE}, 422, "title"),
    "update unknown type": ("lina", "patch", "/articles/DRAFT", {"type": "memo"}, 400,
                            "not a valid article type"),
    "update to customer without one": ("lina", "patch", "/articles/DRAFT",
                                       {"visibility": "customer"}, 400, "needs that customer"),
    "update expected_version as text": ("lina", "patch", "/articles/DRAFT",
                                        {"expected_version": "1"}, 422, "expected_version"),
    "update by a customer": ("alice", "patch", "/articles/PUB", {"title": "mine"}, 403,
                             "support staff"),
    "update missing article": ("lina", "patch", "/articles/KB-9999", {"title": "x"}, 404,
                               "Article not found"),
    "publish review_by in the past": ("mona", "post", "/articles/DRAFT/publish",
                                      {"review_by": YESTERDAY}, 400, "in the future"),
    "publish review_by today": ("mona", "post", "/articles/DRAFT/publish",
                                {"review_by": TODAY}, 400, "in the future"),
    "publish review_by not a date": ("mona", "post", "/articles/DRAFT/publish",
                                     {"review_by": "soon"}, 422, "review_by"),
    "publish unknown field": ("mona", "post", "/articles/DRAFT/publish", {"status": "x"}, 422,
                              "status"),
    "publish by an agent": ("lina", "post", "/articles/DRAFT/publish", {}, 403,
                            "managers and administrators"),
    "submit published": ("lina", "post", "/articles/PUB/submit", {}, 409, "cannot be submitted"),
    "return a draft": ("mona", "post", "/articles/DRAFT/return", {"note": "n"}, 409,
                       "cannot be returned"),
    "archive by a customer": ("alice", "post", "/articles/PUB/archive", {}, 403, "."),
    "restore a draft": ("mona", "post", "/articles/DRAFT/restore", {}, 409, "cannot be restored"),
    "reviewed in the past": ("mona", "post", "/articles/PUB/reviewed", {"review_by": YESTERDAY},
                             400, "in the future"),
    "diff missing version": ("lina", "get", "/articles/DRAFT/diff?from=1&to=5", None, 404,
                             "Version 5 not found"),
    "diff without versions": ("lina", "get", "/articles/DRAFT/diff", None, 422, "from"),
    "diff version 0": ("lina", "get", "/articles/DRAFT/diff?from=0&to=1", None, 422, "from"),
    "versions by a customer": ("alice", "get", "/articles/PUB/versions", None, 404,
                               "Article not found"),
    "version text": ("lina", "get", "/articles/DRAFT/versions/one", None, 422, "number"),
    "feedback without helpful": ("alice", "post", "/articles/PUB/feedback", {}, 422, "helpful"),
    "feedback helpful as text": ("alice", "post", "/articles/PUB/feedback", {"helpful": "yes"},
                                 422, "helpful"),
    "feedback on a draft": ("lina", "post", "/articles/DRAFT/feedback", {"helpful": True}, 409,
                            "Only published"),
    "feedback huge comment": ("alice", "post", "/articles/PUB/feedback",
                              {"helpful": True, "comment": HUGE}, 422, "comment"),
    "deflection unknown field": ("alice", "post", "/articles/PUB/deflection", {"ticket": "x"},
                                 422, "ticket"),
    "link unknown kind": ("lina", "post", "/articles/PUB/links",
                          {"ticket": "TICKET", "kind": "fixes"}, 400, "not a valid link"),
    "link missing ticket": ("lina", "post", "/articles/PUB/links",
                            {"ticket": "INC-2026-999999"}, 404, "Ticket not found"),
    "link by a customer": ("alice", "post", "/articles/PUB/links", {"ticket": "TICKET"}, 403,
                           "support staff"),
    "unlink missing": ("lina", "delete", "/articles/PUB/links/TICKET/related", None, 404,
                       "Link not found"),
    "from open ticket": ("lina", "post", "/articles/from-ticket/TICKET", None, 409,
                         "resolved or closed"),
    "from missing ticket": ("lina", "post", "/articles/from-ticket/INC-2026-999999", None, 404,
                            "Ticket not found"),
    "from ticket by a customer": ("alice", "post", "/articles/from-ticket/TICKET", None, 403,
                                  "support staff"),
    "ticket articles other customer": ("bob", "get", "/tickets/TICKET/articles", None, 404,
                                       "Ticket not found"),
    "list unknown type": ("lina", "get", "/articles?type=memo", None, 400, "memo"),
    "list unknown status": ("lina", "get", "/articles?status=gone", None, 400, "gone"),
    "list unknown ordering": ("lina", "get", "/articles?ordering=random", None, 400, "random"),
    "list page 0": ("lina", "get", "/articles?page=0", None, 422, "page"),
    "list huge q": ("lina", "get", "/articles?q=" + "x" * 300, None, 422, "q"),
    "list stale not bool": ("lina", "get", "/articles?stale=maybe", None, 422, "stale"),
    "list owner other": ("lina", "get", "/articles?owner=bob", None, 400, "me"),
    "list unknown customer": ("lina", "get", "/articles?customer=nope", None, 404, "Customer"),
    "file too large": ("eric", "upload", "/articles/PUB/attachments", None, 400, "too large"),
    "file by a customer": ("alice", "upload", "/articles/PUB/attachments", None, 403, "."),
    "file missing id": ("alice", "get", "/articles/PUB/attachments/999/download", None, 404,
                        "Attachment not found"),
    "file bad id": ("alice", "get", "/articles/PUB/attachments/abc/download", None, 404,
                    "Attachment not found"),
    "usage naive time": ("mona", "get", "/usage?since=2026-01-01T00:00", None, 400, "offset"),
    "usage reversed": ("mona", "get",
                       "/usage?since=2026-02-01T00:00Z&until=2026-01-01T00:00Z", None, 400,
                       "end after it starts"),
    "usage bad date": ("mona", "get", "/usage?since=yesterday", None, 422, "since"),
    "usage by an agent": ("lina", "get", "/usage", None, 403, "managers"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_and_changes_nothing(cast, world, settings, name):
    who, method, path, body, status, words = CASES[name]
    settings.ERPCARE_MAX_ATTACHMENT_BYTES = 1024
    url = K + (
        path.replace("DRAFT", world["draft"]).replace("PUB", world["pub"])
        .replace("TICKET", world["ticket"])
    )  # fmt: skip
    if body is not None:
        body = {k: world["ticket"] if v == "TICKET" else v for k, v in body.items()}
    client = api(cast, who)
    before = db_state()
    if method == "upload":
        upload = SimpleUploadedFile("big.txt", b"x" * 2048, "text/plain")
        response = client.post(url, {"file": upload})
    elif body is None:
        response = getattr(client, method)(url)
    else:
        response = getattr(client, method)(url, body, content_type=JSON)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(JSON)
    detail = response.json()["detail"]
    assert words.lower() in detail.lower() or words == ".", detail
    assert db_state() == before


def test_a_body_over_the_request_limit_is_413(cast, library):
    response = api(cast, "lina").post(
        f"{K}/articles", {"title": "t", "body": "x" * 1_100_000}, content_type=JSON
    )
    assert response.status_code == 413


def test_fts_and_sql_looking_queries_are_just_text(cast, library):
    client = api(cast, "alice")
    for q in ('"', "*", "NEAR", ":", "-", "' OR 1=1 --", 'a"b', "%", "_"):
        response = client.get(f"{K}/articles", {"q": q})
        assert response.status_code == 200, (q, response.content)


def test_a_customer_gets_404_not_403_for_what_they_cannot_see(cast, library):
    alice = api(cast, "alice")
    for article in (library.globex_only, library.internal, library.draft, library.review):
        for suffix, method in (("", "get"), ("/versions", "get"), ("/links", "get"),
                               ("/attachments", "get"), ("/submit", "post"),
                               ("/feedback", "post"), ("/deflection", "post")):  # fmt: skip
            response = getattr(alice, method)(
                f"{K}/articles/{article.number}{suffix}",
                *(
                    [{"helpful": True}]
                    if suffix == "/feedback"
                    else [{}]
                    if method == "post"
                    else []
                ),
                **({"content_type": JSON} if method == "post" else {}),
            )
            assert response.status_code == 404, (article.number, suffix, response.content)


def test_a_customer_cannot_count_views_by_unlisted_ids(cast, library):
    before = services.visible_articles(cast.alice).count()
    assert Client().get(f"{K}/articles/{library.internal.pk}").status_code == 401
    assert services.visible_articles(cast.alice).count() == before
