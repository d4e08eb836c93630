"""The article search provider: what the search service indexes of articles, and the
final "may this user read these?" check on every hit."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from erpcare.kb.models import Article, ArticleStatus, Visibility
from erpcare.search.documents import Audience, Document
from erpcare.search.registry import register

if TYPE_CHECKING:
    from erpcare.accounts.models import User

AUDIENCE = {
    Visibility.PUBLIC: Audience.PUBLIC,
    Visibility.INTERNAL: Audience.INTERNAL,
    Visibility.CUSTOMER: Audience.CUSTOMER,
}

_COLUMNS = (
    "id", "title", "summary", "body", "symptom", "cause", "resolution", "keywords",
    "visibility", "organization_id", "updated_at", "module", "type", "product",
    "helpful_count", "not_helpful_count",
)  # fmt: skip


def document_for(article: Article) -> Document:
    """The searchable view of a published article."""
    body = "\n\n".join(
        part
        for part in (
            article.summary,
            article.body,
            article.symptom,
            article.cause,
            article.resolution,
        )
        if part
    )
    return Document(
        kind=ArticleProvider.kind,
        object_id=article.pk,
        title=article.title,
        body=body,
        audience=AUDIENCE[Visibility(article.visibility)],
        organization_id=(
            article.organization_id if article.visibility == Visibility.CUSTOMER else None
        ),
        updated_at=article.updated_at,
        module=article.module,
        doc_type=article.type,
        product=article.product,
        keywords=article.keywords,
        helpfulness=article.helpfulness,
    )


class ArticleProvider:
    """Only published articles are in the index; drafts, articles in review and archived
    ones are removed from it when they leave the published state."""

    kind = "article"

    def documents(self, ids: Iterable[int]) -> Iterator[Document]:
        wanted = list(ids)
        if not wanted:
            return
        rows = Article.objects.filter(pk__in=wanted, status=ArticleStatus.PUBLISHED).only(*_COLUMNS)
        for article in rows.iterator(chunk_size=500):
            yield document_for(article)

    def all_ids(self) -> Iterator[int]:
        yield from (
            Article.objects.filter(status=ArticleStatus.PUBLISHED)
            .order_by("pk")
            .values_list("pk", flat=True)
            .iterator(chunk_size=2000)
        )

    def visible_ids(self, user: User, ids: Iterable[int]) -> set[int]:
        from erpcare.kb.services.access import visible_articles

        wanted = list(ids)
        if not wanted:
            return set()
        return set(
            visible_articles(user)
            .filter(pk__in=wanted, status=ArticleStatus.PUBLISHED)
            .values_list("pk", flat=True)
        )

    def prefilter(self, user: User) -> QuerySet[Any] | None:
        """For the search's SQL pre-filter: only agents who do not serve every customer
        are narrower than the index's own audience rule (they do not read articles made
        for customers they do not serve), so that those never take a place in the
        ranking window."""
        from erpcare.kb.services.access import visible_articles
        from erpcare.tickets.models.ticket import agent_team_scope

        if user.is_customer or user.sees_all_tickets or user.is_read_only:
            return None
        if user.is_agent and agent_team_scope(user)[1]:
            return None
        return visible_articles(user).filter(status=ArticleStatus.PUBLISHED).values("pk")


register(ArticleProvider())
