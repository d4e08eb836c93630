"""Fetch and authorise together: the one scoping rule for articles and their files."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.core.errors import NotFound
from erpcare.kb.models import NUMBER_PREFIX, Article, ArticleAttachment, ArticleQuerySet


def visible_articles(user: User) -> ArticleQuerySet:
    """Every article ``user`` may read; the only way views, the API and search reach them.

    Customers: published articles that are public or made for their organization.
    Support staff and auditors: all articles in every state. Inactive users and anonymous
    visitors: none.
    """
    return Article.objects.visible_to(user)


def get_article_for(user: User, ref: str | int, *, for_update: bool = False) -> Article:
    """The article with this number (``KB-0042``, any case) or id, if ``user`` may read it.

    Missing and not-yours raise the same NotFound, so numbers cannot be probed.
    """
    ref_text = str(ref).strip()
    if not ref_text or len(ref_text) > 24 or "\x00" in ref_text:
        raise NotFound(_("Article not found."))
    lookup: dict[str, int | str]
    if ref_text.isdigit():
        if len(ref_text) > 18:  # beyond a 64-bit key: PostgreSQL would raise, not miss
            raise NotFound(_("Article not found."))
        lookup = {"pk": int(ref_text)}
    elif ref_text.upper().startswith(f"{NUMBER_PREFIX}-"):
        lookup = {"number": ref_text.upper()}
    else:
        raise NotFound(_("Article not found."))
    queryset = visible_articles(user)
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        return queryset.select_related("owner", "organization", "source_ticket").get(**lookup)
    except Article.DoesNotExist:
        raise NotFound(_("Article not found.")) from None


def attachments_of(article: Article) -> QuerySet[ArticleAttachment]:
    """The article's files, oldest first (the caller has authorised the article)."""
    return ArticleAttachment.objects.filter(article=article).order_by("created_at", "id")


def get_attachment_for(user: User, article: Article, attachment_id: int | str) -> ArticleAttachment:
    """One file of ``article`` if ``user`` may read the article; NotFound otherwise.

    The download view serves images referenced as ``attachment:<id>`` through this, so an
    id of another article's file, or of an article the user cannot read, is simply not
    found.
    """
    text = str(attachment_id).strip()
    if not text.isdigit() or len(text) > 18:
        raise NotFound(_("Attachment not found."))
    if not visible_articles(user).filter(pk=article.pk).exists():
        raise NotFound(_("Attachment not found."))
    try:
        return attachments_of(article).get(pk=int(text))
    except ArticleAttachment.DoesNotExist:
        raise NotFound(_("Attachment not found.")) from None
