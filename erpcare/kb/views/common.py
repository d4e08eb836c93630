"""What the desk and portal pages of the knowledge base share: fetching an article
through the one scoping rule, serving its files, and turning search hits into rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import FileResponse, Http404, HttpRequest

from erpcare.accounts.models import User
from erpcare.core.errors import NotFound
from erpcare.kb.models import Article
from erpcare.kb.services import get_article_for, get_attachment_for, visible_articles
from erpcare.tickets.models import Ticket
from erpcare.tickets.views.common import current_user

# Shown inline (so <img> works); every other type, SVG included (it can carry script),
# is downloaded.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def fetch_article(request: HttpRequest, number: str) -> Article:
    """The article if the signed-in user may read it; 404 otherwise, the same for
    "missing" and "not yours"."""
    try:
        return get_article_for(current_user(request), number)
    except NotFound:
        raise Http404 from None


def serve_file(user: User, article: Article, attachment_id: int) -> FileResponse:
    try:
        attachment = get_attachment_for(user, article, attachment_id)
    except NotFound:
        raise Http404 from None
    inline = attachment.content_type in INLINE_TYPES
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not inline,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    # Files are private to the article's readers: no shared cache may keep them.
    response["Cache-Control"] = "private, max-age=300"
    return response


@dataclass
class ResultRow:
    """One search hit with the object it points at (read through the scoping rules)."""

    hit: Any  # erpcare.search.services.Hit
    article: Article | None = None
    ticket: Ticket | None = None

    @property
    def kind(self) -> str:
        return str(self.hit.kind)


def result_rows(user: User, hits: list[Any], *, full: bool = False) -> list[ResultRow]:
    """Rows for ``hits`` in their order, with one query per kind. A hit whose object the
    user may no longer read (changed since it was indexed) is left out. ``full`` loads
    the articles' texts too (for "insert steps")."""
    article_ids = [hit.object_id for hit in hits if hit.kind == "article"]
    ticket_ids = [hit.object_id for hit in hits if hit.kind == "ticket"]
    articles: dict[int, Article] = {}
    tickets: dict[int, Ticket] = {}
    if article_ids:
        queryset = visible_articles(user).filter(pk__in=article_ids).select_related("organization")
        if not full:
            queryset = queryset.defer("body", "symptom", "cause", "resolution", "log_excerpt")
        articles = {article.pk: article for article in queryset}
    if ticket_ids:
        tickets = {
            ticket.pk: ticket
            for ticket in Ticket.objects.visible_to(user)
            .filter(pk__in=ticket_ids)
            .select_related("organization")
            .defer("description", "resolution")
        }
    rows: list[ResultRow] = []
    for hit in hits:
        if hit.kind == "article" and hit.object_id in articles:
            rows.append(ResultRow(hit, article=articles[hit.object_id]))
        elif hit.kind == "ticket" and hit.object_id in tickets:
            rows.append(ResultRow(hit, ticket=tickets[hit.object_id]))
    return rows


def articles_in_order(
    user: User, hits: list[Any], *, exclude: set[int], limit: int
) -> list[Article]:
    """The articles of ``hits`` (suggestions, similar articles), best first, at most
    ``limit``, without those in ``exclude``."""
    rows = result_rows(user, [hit for hit in hits if hit.kind == "article"], full=True)
    found = [row.article for row in rows if row.article and row.article.pk not in exclude]
    return found[:limit]
