"""How the knowledge base is used: views, feedback, deflections, searches, stale
articles, and the numbers reports read.

``KbEvent`` rows and ``ArticleFeedback`` are the truth; the counters on ``Article`` are
kept in step in the same transaction (with ``F()`` updates, so concurrent requests add
up) for ranking and lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.audit.services import record
from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.customers.models import Organization
from erpcare.kb.models import (
    Article,
    ArticleFeedback,
    ArticleStatus,
    EventKind,
    KbEvent,
    add_months,
)
from erpcare.kb.services.access import visible_articles

MAX_COMMENT = 2000
MAX_QUERY = 200
# A reader reloading an article, or clicking "solved" twice, counts once in this window.
VIEW_WINDOW = timedelta(minutes=30)
DEFLECTION_WINDOW = timedelta(hours=24)
# The search app's query log, when it keeps one (app label, model name).
_SEARCH_LOG_MODEL = ("search", "SearchQuery")


def _readable(user: User, article: Article) -> Article:
    found = visible_articles(user).filter(pk=article.pk).first()
    if found is None:
        raise NotFound(_("Article not found."))
    return found


def _clean_query(query: str | None) -> str:
    text = " ".join((query or "").replace("\x00", " ").split())
    return text[:MAX_QUERY]


def _index(article: Article) -> None:
    from erpcare.search import services as search_services

    search_services.index("article", [article.pk])


@transaction.atomic
def record_view(user: User, article: Article) -> bool:
    """Count a read of ``article`` by ``user``; True when it counted. A second read by the
    same person within VIEW_WINDOW does not count again."""
    article = _readable(user, article)
    now = clock.now()
    recent = KbEvent.objects.filter(
        article=article, kind=EventKind.VIEW, user=user, created_at__gte=now - VIEW_WINDOW
    )
    if recent.exists():
        return False
    KbEvent.objects.create(
        kind=EventKind.VIEW,
        article=article,
        user=user,
        organization_id=user.organization_id,
        created_at=now,
    )
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)
    return True


@transaction.atomic
def record_feedback(
    user: User, article: Article, *, helpful: bool, comment: str = ""
) -> ArticleFeedback:
    """A signed-in customer's or staff member's vote on a published article.

    One vote per person and article: voting again replaces the first vote (and its
    comment), and the article's counters move with it.
    """
    if not user.is_authenticated or not user.is_active or user.is_read_only:
        raise NotAllowed(_("Your role is read-only."))
    if not isinstance(helpful, bool):
        raise ActionError(_("Say whether the article helped: yes or no."))
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ActionError(
            _("%(field)s is too long (at most %(limit)d characters).")
            % {"field": _("Comment"), "limit": MAX_COMMENT}
        )
    if "\x00" in comment:
        raise ActionError(_("%(field)s contains a NUL character.") % {"field": _("Comment")})
    _readable(user, article)
    # Lock the article so two votes of the same person cannot both count as "first".
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status != ArticleStatus.PUBLISHED:
        raise Conflict(_("Only published articles take feedback."))
    now = clock.now()
    vote = ArticleFeedback.objects.filter(article=article, user=user).first()
    counters: dict[str, Any] = {}
    if vote is None:
        vote = ArticleFeedback.objects.create(
            article=article,
            user=user,
            helpful=helpful,
            comment=comment,
            created_at=now,
            updated_at=now,
        )
        counters = {"helpful_count" if helpful else "not_helpful_count": 1}
    else:
        if vote.helpful != helpful:
            counters = {
                "helpful_count": 1 if helpful else -1,
                "not_helpful_count": -1 if helpful else 1,
            }
        vote.helpful = helpful
        vote.comment = comment
        vote.updated_at = now
        vote.save(update_fields=["helpful", "comment", "updated_at"])
    if counters:
        Article.objects.filter(pk=article.pk).update(
            **{name: F(name) + delta for name, delta in counters.items()}
        )
        article.refresh_from_db(fields=["helpful_count", "not_helpful_count"])
        _index(article)  # helpfulness boosts ranking
    record(
        actor=user,
        action="kb.article.feedback",
        target=article,
        data={"number": article.number, "helpful": helpful, "comment": bool(comment)},
    )
    return vote


@transaction.atomic
def record_deflection(user: User, article: Article, query: str = "") -> KbEvent:
    """ "This solved my problem": a customer found the answer and opened no ticket.

    ``query`` is what they searched or typed as the ticket title. Clicking again on the
    same article within DEFLECTION_WINDOW returns the first event and counts nothing.
    """
    if not user.is_authenticated or not user.is_active or not user.is_customer:
        raise NotAllowed(_("Only customers can mark an article as the answer to their problem."))
    article = _readable(user, article)
    now = clock.now()
    earlier = (
        KbEvent.objects.filter(
            article=article,
            kind=EventKind.DEFLECTION,
            user=user,
            created_at__gte=now - DEFLECTION_WINDOW,
        )
        .order_by("-created_at")
        .first()
    )
    if earlier is not None:
        return earlier
    event = KbEvent.objects.create(
        kind=EventKind.DEFLECTION,
        article=article,
        user=user,
        organization_id=user.organization_id,
        query=_clean_query(query),
        created_at=now,
    )
    Article.objects.filter(pk=article.pk).update(deflection_count=F("deflection_count") + 1)
    return event


def record_search(user: User | None, query: str, results: int) -> KbEvent:
    """Remember a knowledge-base search and how many results it had (0 = a gap to fill)."""
    return KbEvent.objects.create(
        kind=EventKind.SEARCH,
        user=user if user is not None and user.is_authenticated else None,
        organization_id=getattr(user, "organization_id", None),
        query=_clean_query(query),
        results=max(0, int(results)),
        created_at=clock.now(),
    )


# ---------------------------------------------------------------------------
# Staleness
# ---------------------------------------------------------------------------


def _today() -> date:
    return timezone.localdate(clock.now(), timezone.get_default_timezone())


def stale_filter(today: date | None = None) -> Q:
    """Published and past the review-by date, or last reviewed (or published) more than
    ``ERPCARE_KB_REVIEW_MONTHS`` ago."""
    today = today or _today()
    cutoff_day = add_months(today, -settings.ERPCARE_KB_REVIEW_MONTHS)
    cutoff = timezone.make_aware(datetime.combine(cutoff_day, time.min))
    return Q(status=ArticleStatus.PUBLISHED) & (
        Q(review_by__lt=today)
        | Q(reviewed_at__lt=cutoff)
        | Q(reviewed_at__isnull=True, published_at__lt=cutoff)
        | Q(reviewed_at__isnull=True, published_at__isnull=True)
    )


def stale_articles(today: date | None = None) -> QuerySet[Article]:
    """Published articles due for review, the most overdue first."""
    return (
        Article.objects.filter(stale_filter(today))
        .select_related("owner")
        .order_by(F("review_by").asc(nulls_first=True), "id")
    )


# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleUsage:
    article_id: int
    number: str
    title: str
    views: int
    deflections: int
    helpful: int
    not_helpful: int

    @property
    def helpful_share(self) -> float | None:
        """helpful / votes in the period; None without votes."""
        votes = self.helpful + self.not_helpful
        return self.helpful / votes if votes else None


@dataclass(frozen=True)
class UsageSummary:
    since: datetime
    until: datetime
    views: int
    searches: int
    zero_result_searches: int
    deflections: int
    helpful: int
    not_helpful: int
    articles: list[ArticleUsage] = field(default_factory=list)
    zero_result_queries: list[tuple[str, int]] = field(default_factory=list)

    @property
    def helpful_share(self) -> float | None:
        votes = self.helpful + self.not_helpful
        return self.helpful / votes if votes else None


def _search_log() -> Any:
    """The search app's query log model when it keeps one with the fields read here."""
    try:
        model = apps.get_model(*_SEARCH_LOG_MODEL)
    except LookupError:
        return None
    names = {f.name for f in model._meta.get_fields()}
    return model if {"created_at", "query", "result_count"} <= names else None


def _search_stats(
    since: datetime, until: datetime, organization: Organization | None, limit: int
) -> tuple[int, int, list[tuple[str, int]]]:
    """(searches, zero-result searches, the most frequent zero-result queries) from the
    search app's query log when it keeps one, else from our own search events."""
    model = _search_log()
    if model is not None:
        names = {f.name for f in model._meta.get_fields()}
        rows = model.objects.filter(created_at__gte=since, created_at__lt=until)
        if "kinds" in names:  # searches that included articles (empty: every kind)
            rows = rows.filter(Q(kinds="") | Q(kinds__contains="article"))
        if organization is not None and "organization" in names:
            rows = rows.filter(organization=organization)
        zero = (
            rows.filter(zero_results=True)
            if "zero_results" in names
            else rows.filter(result_count=0)
        )
        group = "normalized" if "normalized" in names else "query"
    else:
        rows = KbEvent.objects.filter(
            kind=EventKind.SEARCH, created_at__gte=since, created_at__lt=until
        )
        if organization is not None:
            rows = rows.filter(organization=organization)
        zero = rows.filter(results=0)
        group = "query"
    gaps = [
        (row[group], row["n"])
        for row in zero.exclude(**{group: ""})
        .values(group)
        .annotate(n=Count("id"))
        .order_by("-n", group)[:limit]
    ]
    return rows.count(), zero.count(), gaps


def usage_summary(
    since: datetime,
    until: datetime,
    organization: Organization | None = None,
    *,
    limit: int = 20,
) -> UsageSummary:
    """Views, searches, zero-result searches (with the most asked gaps), deflections and
    helpfulness in [since, until), overall and for the ``limit`` most viewed articles;
    only one customer's users when ``organization`` is given. Callers authorise
    (``rules.can_read_usage``)."""
    if until <= since:
        raise ActionError(_("The period must end after it starts."))
    events = KbEvent.objects.filter(created_at__gte=since, created_at__lt=until)
    votes = ArticleFeedback.objects.filter(updated_at__gte=since, updated_at__lt=until)
    if organization is not None:
        events = events.filter(organization=organization)
        votes = votes.filter(user__organization=organization)
    totals = events.aggregate(
        views=Count("id", filter=Q(kind=EventKind.VIEW)),
        deflections=Count("id", filter=Q(kind=EventKind.DEFLECTION)),
    )
    vote_totals = votes.aggregate(
        yes=Count("id", filter=Q(helpful=True)),
        no=Count("id", filter=Q(helpful=False)),
    )
    per_article = {
        row["article"]: row
        for row in events.filter(
            kind__in=[EventKind.VIEW, EventKind.DEFLECTION], article__isnull=False
        )
        .values("article")
        .annotate(
            views=Count("id", filter=Q(kind=EventKind.VIEW)),
            deflections=Count("id", filter=Q(kind=EventKind.DEFLECTION)),
        )
        .order_by("-views", "-deflections", "article")[:limit]
    }
    per_article_votes: dict[int, tuple[int, int]] = {
        row["article"]: (row["yes"], row["no"])
        for row in votes.filter(article__in=list(per_article))
        .values("article")
        .annotate(
            yes=Count("id", filter=Q(helpful=True)),
            no=Count("id", filter=Q(helpful=False)),
        )
    }
    titles = {
        row["pk"]: row
        for row in Article.objects.filter(pk__in=list(per_article)).values("pk", "number", "title")
    }
    articles = [
        ArticleUsage(
            article_id=article_id,
            number=titles[article_id]["number"],
            title=titles[article_id]["title"],
            views=row["views"],
            deflections=row["deflections"],
            helpful=per_article_votes.get(article_id, (0, 0))[0],
            not_helpful=per_article_votes.get(article_id, (0, 0))[1],
        )
        for article_id, row in per_article.items()
        if article_id in titles
    ]
    searches, zero, gaps = _search_stats(since, until, organization, limit)
    return UsageSummary(
        since=since,
        until=until,
        views=totals["views"],
        searches=searches,
        zero_result_searches=zero,
        deflections=totals["deflections"],
        helpful=vote_totals["yes"],
        not_helpful=vote_totals["no"],
        articles=articles,
        zero_result_queries=gaps,
    )
