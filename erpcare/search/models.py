"""The search index, its synonyms, its vocabulary snapshot and the record of searches.

The full-text part of the index is not a Django field: on SQLite an FTS5 table
(``search_fts``, external content over ``search_searchentry``, kept in step by triggers),
on PostgreSQL a generated ``tsvector`` column with a GIN index. Both are created by
migration 0005 for the database at hand (see ``backends``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SearchEntry(models.Model):
    """One indexed document: what an app's provider said, analysed.

    The original body is not stored: snippets are cut from the provider's current text
    for the page of hits shown (twenty at most), which keeps a million-ticket index small
    and makes highlights always match what the user will read.
    """

    kind = models.CharField(_("kind"), max_length=16)
    object_id = models.BigIntegerField(_("object"))
    audience = models.CharField(_("audience"), max_length=16)
    organization_id = models.BigIntegerField(_("customer"), null=True, blank=True)
    module = models.CharField(_("ERP module"), max_length=16, blank=True)
    doc_type = models.CharField(_("type"), max_length=24, blank=True)
    product = models.CharField(_("product"), max_length=80, blank=True)
    title = models.CharField(_("title"), max_length=300)
    # Kind, audience and customer as index tokens (see backends.base.scope_terms).
    scope_terms = models.TextField(blank=True)
    title_terms = models.TextField(blank=True)
    body_terms = models.TextField(blank=True)
    updated_at = models.DateTimeField(_("updated"))
    helpfulness = models.FloatField(_("helpfulness"), default=0.5)

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="search_entry_unique")
        ]
        indexes = [
            models.Index(fields=["organization_id"], name="search_entry_org"),
            models.Index(fields=["kind", "audience"], name="search_entry_kind_aud"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id} {self.title}"


class Synonym(models.Model):
    """A group of equivalent terms, e.g. 凭证 / 记账凭证 / voucher.

    A query word that is one of the terms also matches every other term of its groups;
    a term of several words matches as a phrase.
    """

    terms = models.JSONField(_("terms"), default=list)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("synonym group")
        verbose_name_plural = _("synonym groups")
        ordering = ["id"]

    def __str__(self) -> str:
        return " = ".join(str(term) for term in self.terms)


class SearchTerm(models.Model):
    """A snapshot of the index vocabulary with document counts, for typo correction and
    for weighting a ticket's words (similar articles).

    Rebuilt by ``services.vocabulary.refresh`` (after a reindex and daily) rather than
    counted on every write: a per-term counter would be a hot row on every ticket action.
    """

    term = models.CharField(max_length=64, primary_key=True)
    docs = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("search term")
        verbose_name_plural = _("search terms")

    def __str__(self) -> str:
        return self.term


class SearchQuery(models.Model):
    """One search a person ran: the "gaps to write next" report lists the most frequent
    searches without a result."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    organization = models.ForeignKey(
        "customers.Organization",
        verbose_name=_("customer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    query = models.CharField(_("query"), max_length=200)
    normalized = models.CharField(_("normalized query"), max_length=200)
    kinds = models.CharField(_("kinds"), max_length=100, blank=True)
    result_count = models.PositiveIntegerField(_("results"))
    zero_results = models.BooleanField(_("no results"))
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("search query")
        verbose_name_plural = _("search queries")
        indexes = [
            models.Index(fields=["created_at"], name="search_query_time"),
            models.Index(
                fields=["created_at"], condition=Q(zero_results=True), name="search_query_zero"
            ),
        ]

    def __str__(self) -> str:
        return self.query
