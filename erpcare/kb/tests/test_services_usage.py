"""Usage: views, feedback (one vote per person, counters right), deflections, searches,
stale articles and the summary reports read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.kb import services
from erpcare.kb.models import Article, ArticleFeedback, KbEvent
from erpcare.kb.services import usage
from erpcare.kb.tests.conftest import published, write
from erpcare.tickets.tests.helpers import state_checks

pytestmark = pytest.mark.django_db

db_state, refused = state_checks(Article, ArticleFeedback, KbEvent)


def counters(article):
    article.refresh_from_db()
    return (
        article.view_count, article.helpful_count, article.not_helpful_count,
        article.deflection_count,
    )  # fmt: skip


# --- views --------------------------------------------------------------------------------


def test_a_view_counts_once_per_reader_and_half_hour(cast, library):
    start = timezone.now()
    with clock.frozen_at(start):
        assert services.record_view(cast.alice, library.public) is True
        assert services.record_view(cast.alice, library.public) is False
        assert services.record_view(cast.bob, library.public) is True
    with clock.frozen_at(start + timedelta(minutes=31)):
        assert services.record_view(cast.alice, library.public) is True
    assert counters(library.public)[0] == 3
    event = KbEvent.objects.filter(kind="view", user=cast.bob).get()
    assert (event.article, event.organization) == (library.public, cast.globex)


def test_a_view_of_an_unreadable_article_is_not_found(cast, library):
    with refused(NotFound, "Article not found"):
        services.record_view(cast.alice, library.globex_only)


# --- feedback -----------------------------------------------------------------------------


def test_one_vote_per_person_and_the_counters_follow(cast, library):
    article = library.public
    services.record_feedback(cast.alice, article, helpful=True)
    services.record_feedback(cast.bob, article, helpful=False, comment="Period still closed")
    assert counters(article)[1:3] == (1, 1)
    services.record_feedback(cast.alice, article, helpful=True, comment="again")
    assert counters(article)[1:3] == (1, 1)
    services.record_feedback(cast.alice, article, helpful=False, comment="changed my mind")
    assert counters(article)[1:3] == (0, 2)
    services.record_feedback(cast.lina, article, helpful=True)
    assert counters(article)[1:3] == (1, 2)
    assert ArticleFeedback.objects.filter(article=article).count() == 3
    vote = ArticleFeedback.objects.get(article=article, user=cast.alice)
    assert (vote.helpful, vote.comment) == (False, "changed my mind")
    assert article.helpfulness == pytest.approx(2 / 5)


def test_feedback_needs_a_published_readable_article_and_a_writer(cast, library):
    with refused(Conflict, "Only published"):
        services.record_feedback(cast.lina, library.draft, helpful=True)
    with refused(NotFound, "Article not found"):
        services.record_feedback(cast.bob, library.acme_only, helpful=True)
    with refused(NotAllowed, "read-only"):
        services.record_feedback(cast.audra, library.public, helpful=True)
    with refused(ActionError, "too long"):
        services.record_feedback(cast.alice, library.public, helpful=True, comment="x" * 2001)
    with refused(ActionError, "yes or no"):
        services.record_feedback(cast.alice, library.public, helpful="yes")  # type: ignore[arg-type]


# --- deflection ---------------------------------------------------------------------------


def test_this_solved_my_problem_is_a_deflection(cast, library):
    event = services.record_deflection(cast.alice, library.acme_only, "打印 交货单")
    assert (event.kind, event.user, event.organization) == ("deflection", cast.alice, cast.acme)
    assert event.query == "打印 交货单"
    again = services.record_deflection(cast.alice, library.acme_only, "twice")
    assert again == event
    services.record_deflection(cast.alice2, library.acme_only)
    assert counters(library.acme_only)[3] == 2
    assert KbEvent.objects.filter(kind="deflection").count() == 2


def test_deflections_are_for_customers_on_articles_they_read(cast, library):
    with refused(NotAllowed, "Only customers"):
        services.record_deflection(cast.lina, library.public)
    with refused(NotFound, "Article not found"):
        services.record_deflection(cast.bob, library.acme_only)
    long_query = services.record_deflection(cast.bob, library.public, "q" * 5000 + "\x00")
    assert len(long_query.query) == 200


def test_searches_are_remembered_with_their_result_count(cast):
    services.record_search(cast.alice, "  凭证   过账 ", 0)
    event = KbEvent.objects.get(kind="search")
    assert (event.query, event.results, event.organization) == ("凭证 过账", 0, cast.acme)


# --- stale --------------------------------------------------------------------------------


def test_stale_means_past_review_by_or_not_reviewed_for_the_period(cast, settings):
    settings.ERPCARE_KB_REVIEW_MONTHS = 12
    with time_machine.travel(datetime(2026, 1, 10, 12, tzinfo=UTC), tick=False):
        old = published(cast, "old")
        due_soon = published(
            cast,
            "due soon",
        )
        services.mark_reviewed(cast.mona, due_soon, review_by=date(2026, 6, 1))
        draft = write(cast.lina, "a draft is never stale")
    assert {a.number for a in services.stale_articles(date(2026, 5, 31))} == set()
    assert {a.number for a in services.stale_articles(date(2026, 6, 2))} == {due_soon.number}
    # review_by of "old" is 2027-01-10; without it, 12 months since the review count too.
    Article.objects.filter(pk=old.pk).update(review_by=None)
    stale = {a.number for a in services.stale_articles(date(2027, 1, 11))}
    assert stale == {old.number, due_soon.number}
    old.refresh_from_db()
    assert old.is_stale(date(2027, 1, 11))
    assert not old.is_stale(date(2027, 1, 9))
    assert not draft.is_stale(date(2030, 1, 1))


# --- summary ------------------------------------------------------------------------------


@pytest.fixture
def own_search_events(monkeypatch):
    """Read searches from KbEvent, as when the search app keeps no query log."""
    monkeypatch.setattr(usage, "_SEARCH_LOG_MODEL", ("search", "NoQueryLog"))


def test_usage_summary_counts_the_period_and_one_customer(cast, library, own_search_events):
    start = timezone.now()
    with clock.frozen_at(start - timedelta(days=40)):
        services.record_view(cast.alice, library.public)  # before the period
    with clock.frozen_at(start):
        services.record_view(cast.alice, library.public)
        services.record_view(cast.bob, library.public)
        services.record_view(cast.alice, library.acme_only)
        services.record_deflection(cast.alice, library.acme_only, "print")
        services.record_feedback(cast.alice, library.acme_only, helpful=True)
        services.record_feedback(cast.bob, library.public, helpful=False)
        services.record_search(cast.alice, "MRP lock", 0)
        services.record_search(cast.alice, "MRP lock", 0)
        services.record_search(cast.bob, "POS", 3)
    since, until = start - timedelta(days=30), start + timedelta(days=1)
    summary = services.usage_summary(since, until)
    assert (summary.views, summary.deflections, summary.searches) == (3, 1, 3)
    assert (summary.zero_result_searches, summary.helpful, summary.not_helpful) == (2, 1, 1)
    assert summary.zero_result_queries == [("MRP lock", 2)]
    assert summary.helpful_share == 0.5
    rows = {row.number: row for row in summary.articles}
    assert (rows[library.public.number].views, rows[library.public.number].helpful_share) == (
        2,
        0.0,
    )
    assert rows[library.acme_only.number].deflections == 1
    acme = services.usage_summary(since, until, cast.acme)
    assert (acme.views, acme.deflections, acme.searches, acme.not_helpful) == (2, 1, 2, 0)
    with pytest.raises(ActionError, match="end after it starts"):
        services.usage_summary(until, since)


def test_searches_come_from_the_search_apps_query_log_when_it_keeps_one(cast):
    model = usage._search_log()
    if model is None:
        pytest.skip("the search app keeps no query log")
    now = timezone.now()

    def searched(user, text, results, kinds="article"):
        model.objects.create(
            user=user, organization=user.organization, query=text, normalized=text.lower(),
            kinds=kinds, result_count=results, zero_results=results == 0, created_at=now,
        )  # fmt: skip

    searched(cast.alice, "MRP Lock", 0)
    searched(cast.alice, "mrp lock", 0)
    searched(cast.bob, "POS", 2)
    searched(cast.lina, "INC-2026", 0, kinds="ticket")
    summary = services.usage_summary(now - timedelta(hours=1), now + timedelta(hours=1))
    assert (summary.searches, summary.zero_result_searches) == (3, 2)
    assert summary.zero_result_queries == [("mrp lock", 2)]
    acme = services.usage_summary(now - timedelta(hours=1), now + timedelta(hours=1), cast.acme)
    assert (acme.searches, acme.zero_result_searches) == (2, 2)
