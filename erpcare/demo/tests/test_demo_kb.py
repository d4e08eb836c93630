"""The demo knowledge base: the article data, and what seeding makes of it."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.db.models import Count, Q

from erpcare.audit.models import AuditEntry
from erpcare.customers.models import ErpModule
from erpcare.demo import data
from erpcare.demo.kb import EDITS, SOLVES, load_articles
from erpcare.demo.plan import LOCAL
from erpcare.demo.seed import seed_demo
from erpcare.kb.models import (
    Article,
    ArticleFeedback,
    ArticleStatus,
    ArticleTicketLink,
    ArticleType,
    EventKind,
    KbEvent,
    Visibility,
)
from erpcare.kb.services import stale_articles
from erpcare.search import services as search
from erpcare.search.models import SearchEntry
from erpcare.tickets.models import Status

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=LOCAL)
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


# ---------------------------------------------------------------------------
# The data
# ---------------------------------------------------------------------------


def test_the_articles_cover_every_module_type_and_both_languages():
    articles = load_articles()
    assert len(articles) >= 64
    languages = Counter(a.language for a in articles)
    assert abs(languages["zh-hans"] - languages["en"]) <= 2
    assert {a.module for a in articles} == set(ErpModule.values)
    assert {a.type for a in articles} == set(ArticleType.values)
    for module in ErpModule.values:
        assert {a.language for a in articles if a.module == module} == {"zh-hans", "en"}, module
    assert sum(a.visibility == Visibility.INTERNAL for a in articles) >= 3
    assert sum(a.visibility == Visibility.CUSTOMER for a in articles) == 1
    statuses = Counter(a.status for a in articles)
    assert statuses[ArticleStatus.DRAFT] >= 1
    assert statuses[ArticleStatus.REVIEW] >= 1
    assert statuses[ArticleStatus.ARCHIVED] == 1
    assert sum(a.stale for a in articles) >= 2


def test_articles_are_written_like_support_knowledge():
    for article in load_articles():
        text = "\n".join((article.title, article.summary, article.body, article.symptom))
        # English articles name Chinese customers and products; the prose decides.
        cjk = len(CJK.findall(text))
        share = cjk / (cjk + len(LATIN_WORD.findall(text)))
        assert (share > 0.5) == (article.language == "zh-hans"), (article.key, share)
        if article.status != ArticleStatus.ARCHIVED:
            assert len(article.body) >= 200, article.key  # Chinese is dense
        assert article.keywords, article.key
        assert len(article.keyword_text) <= 500, article.key  # the kb field's limit
        assert len(article.title) <= 200, article.key
        assert len(article.product) <= 80, article.key
        if article.type == ArticleType.CASE:
            for part in (article.symptom, article.cause, article.resolution, article.log_excerpt):
                assert part, article.key
    bodies = [a.body for a in load_articles()]
    assert sum("```sql" in body for body in bodies) >= 20
    assert sum("|---" in body for body in bodies) >= 30


def test_ticket_mappings_name_real_templates_and_articles():
    keys = {a.key for a in load_articles()}
    templates = {t.key for t in data.TEMPLATES}
    assert set(SOLVES) <= templates
    assert {key for keys_ in SOLVES.values() for key in keys_} <= keys
    assert set(EDITS) <= keys


# ---------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo seeded once for the module (a minute on PostgreSQL), in a transaction
    rolled back at the end; each test runs in a savepoint inside it and leaves it as found."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed_demo(tickets=200, now=NOW)
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_demo_writes_every_article_through_the_kb_services(demo):
    specs = {a.title: a for a in load_articles()}
    articles = Article.objects.select_related("owner", "organization")
    assert articles.count() == len(specs)
    for article in articles:
        spec = specs[article.title]
        assert article.owner.email == spec.owner
        assert article.status == spec.status
        assert (article.type, article.language, article.module) == (
            spec.type,
            spec.language,
            spec.module,
        )
        assert article.body == spec.body  # edited ones end as written in the YAML
        assert article.keywords == spec.keyword_text
        assert article.created_at <= article.updated_at <= NOW
        if article.status in (ArticleStatus.PUBLISHED, ArticleStatus.ARCHIVED):
            assert article.created_at < article.published_at <= NOW
    created = AuditEntry.objects.filter(action="kb.article.created", channel="demo")
    assert created.count() == len(specs)
    customer_only = articles.get(visibility=Visibility.CUSTOMER)
    assert customer_only.organization.code == "huadong"

    # Versions: one per saved change; the corrected articles have two.
    versions = dict(articles.values_list("title", "current_version"))
    edited = {spec.title for spec in load_articles() if spec.key in EDITS}
    assert {title for title, n in versions.items() if n == 2} == edited
    assert all(n == 1 for title, n in versions.items() if title not in edited)


@pytest.mark.django_db
def test_a_few_articles_are_stale_and_only_published_ones_are_searchable(demo):
    stale = set(stale_articles(NOW.date()).values_list("title", flat=True))
    assert stale == {a.title for a in load_articles() if a.stale}
    published = Article.objects.filter(status=ArticleStatus.PUBLISHED)
    assert published.count() == sum(a.searchable for a in load_articles())
    indexed = set(SearchEntry.objects.filter(kind="article").values_list("object_id", flat=True))
    assert indexed == set(published.values_list("pk", flat=True))


@pytest.mark.django_db
def test_articles_are_linked_used_and_rated_over_the_demo_history(demo):
    links = ArticleTicketLink.objects.select_related("ticket", "article")
    solved = links.filter(kind="solved_with")
    assert solved.count() >= 15
    for link in solved:
        assert link.ticket.status in (Status.RESOLVED, Status.CLOSED)
        assert link.created_at <= link.ticket.resolved_at
        assert link.article.published_at < link.created_at
        if link.article.organization_id:
            assert link.article.organization_id == link.ticket.organization_id
    # Agents link by the kind of problem; triage may have moved a ticket to another module.
    same_module = [link for link in solved if link.article.module == link.ticket.module]
    assert len(same_module) >= 0.8 * solved.count()
    assert links.filter(kind="related").exists()

    views = KbEvent.objects.filter(kind=EventKind.VIEW)
    assert views.count() >= 100  # a third of the full demo's readers, for 200 tickets
    assert views.filter(user__role__code="customer").count() > views.count() / 2
    internal = views.filter(article__visibility=Visibility.INTERNAL)
    assert not internal.filter(user__role__code="customer").exists()
    assert not views.filter(
        article__visibility=Visibility.CUSTOMER, user__organization__code__in=["yuanhang"]
    ).exists()
    counted = Article.objects.annotate(
        n=Count("events", filter=Q(events__kind=EventKind.VIEW))
    ).values_list("view_count", "n")
    assert all(stored == n for stored, n in counted)

    votes = ArticleFeedback.objects.all()
    assert votes.count() >= 20
    helpful_share = votes.filter(helpful=True).count() / votes.count()
    assert 0.6 < helpful_share < 0.95
    assert votes.filter(helpful=False).exclude(comment="").exists()

    deflections = KbEvent.objects.filter(kind=EventKind.DEFLECTION)
    assert deflections.count() >= 5
    assert not deflections.exclude(user__role__code="customer").exists()
    assert not deflections.filter(query="").exists()
    first = KbEvent.objects.order_by("created_at").first()
    assert first is not None
    assert first.created_at >= NOW - timedelta(days=130)


@pytest.mark.django_db
def test_customers_find_demo_articles_through_search(demo):
    from erpcare.accounts.models import User

    customer = User.objects.get(email="customer@huadong.demo")
    results = search.search(customer, "借贷不平衡", kinds=["article"])
    assert results.hits
    assert results.hits[0].title.startswith("凭证保存时提示")
    internal = search.search(customer, "ORA-00060 trace 文件", kinds=["article"])
    titles = [hit.title for hit in internal.hits]
    assert not any("内部" in title for title in titles)


@pytest.mark.django_db
def test_seeding_twice_adds_no_articles(demo):
    before = (Article.objects.count(), KbEvent.objects.count(), ArticleFeedback.objects.count())
    again = seed_demo(tickets=200)
    assert not again.created
    after = (Article.objects.count(), KbEvent.objects.count(), ArticleFeedback.objects.count())
    assert after == before
