"""Template helpers for the knowledge base (``{% load kb_tags %}``): article Markdown
with the article's own images, badges, counters and the text agents insert into replies.
"""

from __future__ import annotations

import nh3
from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from erpcare.kb.models import Article, ArticleStatus, ArticleType, LinkKind, Visibility
from erpcare.kb.rendering import render_article_markdown

register = template.Library()

STATUS_COLOURS: dict[str, str] = {
    ArticleStatus.DRAFT: "text-bg-secondary",
    ArticleStatus.REVIEW: "text-bg-info",
    ArticleStatus.PUBLISHED: "text-bg-success",
    ArticleStatus.ARCHIVED: "text-bg-dark",
}
VISIBILITY_ICONS: dict[str, tuple[str, str]] = {
    Visibility.PUBLIC: ("bi-globe2", "text-bg-light border"),
    Visibility.INTERNAL: ("bi-lock", "text-bg-warning"),
    Visibility.CUSTOMER: ("bi-building", "text-bg-primary"),
}
TYPE_ICONS: dict[str, str] = {
    ArticleType.FAQ: "bi-question-circle",
    ArticleType.SOP: "bi-list-ol",
    ArticleType.CASE: "bi-bug",
    ArticleType.UPGRADE: "bi-arrow-up-circle",
}


# A link reads differently from each end: the ticket "was solved with" KB-0042, while the
# article "solved" INC-…; the ticket is the "source of" the article made from it.
def _seen_from_ticket() -> dict[str, str]:
    return {
        LinkKind.SOLVED_WITH: _("Solved with"),
        LinkKind.RELATED: _("Related"),
        LinkKind.CREATED_FROM: _("Made into"),
    }


def _seen_from_article() -> dict[str, str]:
    return {
        LinkKind.SOLVED_WITH: _("Solved"),
        LinkKind.RELATED: _("Related"),
        LinkKind.CREATED_FROM: _("Created from"),
    }


@register.filter
def link_label_on_ticket(kind: str) -> str:
    """The label before an article number on a ticket's knowledge panel."""
    return _seen_from_ticket().get(kind, kind)


@register.filter
def link_label_on_article(kind: str) -> str:
    """The label before a ticket number on an article's page."""
    return _seen_from_article().get(kind, kind)


@register.simple_tag(takes_context=True)
def article_markdown(context: template.Context, article: Article, text: str) -> SafeString:
    """One Markdown field of ``article`` as safe HTML; ``attachment:<id>`` images and
    links point at the scoped download view named by ``kb_file_url`` in the context
    (``kb_desk:file`` or ``kb_portal:file``), for the ids in ``kb_attachment_ids``."""
    url_name = context.get("kb_file_url", "kb_desk:file")
    ids = context.get("kb_attachment_ids") or ()
    number = article.number

    def url_for(file_id: int) -> str:
        return reverse(url_name, args=[number, file_id])

    html = render_article_markdown(text or "", attachment_ids=ids, attachment_url=url_for)
    return mark_safe(html)  # noqa: S308 - sanitised by nh3 in kb.rendering


@register.simple_tag
def kb_status_badge(status: str) -> SafeString:
    try:
        label = str(ArticleStatus(status).label)
    except ValueError:
        label = status
    return format_html(
        '<span class="badge {}" data-testid="kb-status" data-status="{}">{}</span>',
        STATUS_COLOURS.get(status, "text-bg-light"),
        status,
        label,
    )


@register.simple_tag
def kb_visibility_badge(article: Article) -> SafeString:
    icon, colour = VISIBILITY_ICONS.get(article.visibility, ("bi-eye", "text-bg-light"))
    if article.visibility == Visibility.CUSTOMER:
        label = article.organization.name if article.organization else _("One customer only")
    elif article.visibility == Visibility.PUBLIC:
        label = _("Public")
    else:
        label = _("Internal")
    return format_html(
        '<span class="badge {}" data-testid="kb-visibility" data-visibility="{}" title="{}">'
        '<i class="bi {} me-1" aria-hidden="true"></i>{}</span>',
        colour,
        article.visibility,
        article.get_visibility_display(),
        icon,
        label,
    )


@register.simple_tag
def kb_type_icon(article_type: str) -> SafeString:
    return format_html(
        '<i class="bi {}" aria-hidden="true"></i>', TYPE_ICONS.get(article_type, "bi-file-text")
    )


@register.filter
def kb_stale(article: Article) -> bool:
    """Published and due for review (see Article.is_stale)."""
    return article.is_stale(timezone.localdate())


@register.filter
def helpful_percent(article: Article) -> str:
    """The share of "helpful" votes, e.g. "83 %", or "—" without votes."""
    votes = article.helpful_count + article.not_helpful_count
    if not votes:
        return "—"
    return f"{round(100 * article.helpful_count / votes)} %"


@register.filter
def kb_steps(article: Article) -> str:
    """What "insert steps" puts into a reply: the resolution of a case, else the text."""
    if article.type == ArticleType.CASE and article.resolution:
        steps = article.resolution
    else:
        steps = article.body or article.summary
    return f"{article.number} {article.title}\n\n{steps.strip()}\n"


@register.simple_tag(takes_context=True)
def kb_portal_link(context: template.Context, article: Article) -> str:
    """The Markdown link agents insert into a reply: the article in the portal."""
    path = reverse("kb_portal:article", args=[article.number])
    request = context.get("request")
    url = request.build_absolute_uri(path) if request is not None else path
    return f"[{article.number} {article.title}]({url})"


@register.filter
def readable_by_customer_of(article: Article, organization_id: int | None) -> bool:
    """Whether the ticket's customer can open ``article`` in the portal."""
    if article.status != ArticleStatus.PUBLISHED:
        return False
    if article.visibility == Visibility.PUBLIC:
        return True
    return article.visibility == Visibility.CUSTOMER and article.organization_id == organization_id


@register.filter(is_safe=True)
def snippet(html: str | None) -> SafeString:
    """A search snippet: the search service escapes the text and marks the matches; only
    ``<mark>`` survives here in any case."""
    return mark_safe(nh3.clean(html or "", tags={"mark"}, attributes={}))  # noqa: S308
