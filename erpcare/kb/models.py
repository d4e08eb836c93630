"""Knowledge-base data: articles, their versions, files, ticket links, feedback and usage.

State changes go through ``erpcare.kb.services``; models hold data, invariants and small
derived properties only.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import TYPE_CHECKING, Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from erpcare.customers.models import ErpModule

if TYPE_CHECKING:
    from erpcare.accounts.models import User


NUMBER_PREFIX = "KB"


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    last_day = calendar.monthrange(year, month_index + 1)[1]
    return date(year, month_index + 1, min(day.day, last_day))


class ArticleType(models.TextChoices):
    FAQ = "faq", _("FAQ")
    SOP = "sop", _("Procedure (SOP)")
    CASE = "case", _("Troubleshooting case")
    UPGRADE = "upgrade", _("Upgrade / compatibility note")


class ArticleLanguage(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public: every customer")
    INTERNAL = "internal", _("Internal: support staff only")
    CUSTOMER = "customer", _("One customer only")


class LinkKind(models.TextChoices):
    SOLVED_WITH = "solved_with", _("Solved with")
    RELATED = "related", _("Related")
    CREATED_FROM = "created_from", _("Created from")


class EventKind(models.TextChoices):
    VIEW = "view", _("Viewed")
    DEFLECTION = "deflection", _("Solved without a ticket")
    SEARCH = "search", _("Searched")
    LINK = "link", _("Linked to a ticket")


# The fields an author edits; each saved change snapshots them into an ArticleVersion.
# Order is the order of a diff.
EDITABLE_FIELDS = (
    "title",
    "summary",
    "body",
    "symptom",
    "cause",
    "resolution",
    "log_excerpt",
    "type",
    "language",
    "module",
    "product",
    "keywords",
    "visibility",
    "organization_id",
)


class ArticleQuerySet(models.QuerySet["Article"]):
    def visible_to(self, user: User) -> ArticleQuerySet:
        """The one scoping rule for articles (see ``kb.services.access.visible_articles``).

        - not signed in or inactive: nothing;
        - managers, admins and auditors: every article in every state (auditors cannot
          write);
        - agents: every article in every state, except those made for a customer their
          teams do not serve (the same line as tickets: an agent of customer A's team does
          not read customer B's own procedures);
        - customer users: published articles that are public or made for their organization.
        """
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_all_tickets or user.is_read_only:
            return self
        if user.is_support_staff:
            from erpcare.customers.services import visible_organizations

            return self.exclude(
                Q(visibility=Visibility.CUSTOMER) & ~Q(organization__in=visible_organizations(user))
            )
        if user.is_customer and user.organization_id:
            return self.filter(status=ArticleStatus.PUBLISHED).filter(
                Q(visibility=Visibility.PUBLIC)
                | Q(visibility=Visibility.CUSTOMER, organization_id=user.organization_id)
            )
        return self.none()

    def published(self) -> ArticleQuerySet:
        return self.filter(status=ArticleStatus.PUBLISHED)


class Article(models.Model):
    """A piece of knowledge: FAQ, procedure, troubleshooting case or upgrade note.

    ``number`` (KB-0042) is handed out once per installation and never changes or comes
    back. The counters are denormalised copies of ``KbEvent``/``ArticleFeedback`` for
    ranking and lists; the events are the truth for reports.
    """

    number = models.CharField(_("number"), max_length=16, unique=True)
    type = models.CharField(_("type"), max_length=16, choices=ArticleType.choices)
    language = models.CharField(
        _("language"), max_length=10, choices=ArticleLanguage.choices, default=ArticleLanguage.EN
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=1000, blank=True)
    body = models.TextField(_("body"), blank=True)
    symptom = models.TextField(_("symptom"), blank=True)
    cause = models.TextField(_("cause"), blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    log_excerpt = models.TextField(_("log excerpt"), blank=True)
    module = models.CharField(_("ERP module"), max_length=16, choices=ErpModule.choices, blank=True)
    product = models.CharField(
        _("product and version"), max_length=80, blank=True, help_text=_("e.g. Tryton 7.0")
    )
    keywords = models.CharField(
        _("keywords"), max_length=500, blank=True, help_text=_("Error codes, synonyms, tags.")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    organization = models.ForeignKey(
        "customers.Organization",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="kb_articles",
        help_text=_("Only for articles visible to one customer."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="kb_articles",
    )
    review_by = models.DateField(_("review by"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("last reviewed"), null=True, blank=True)
    review_note = models.TextField(_("reviewer's note"), blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    view_count = models.PositiveIntegerField(_("views"), default=0)
    helpful_count = models.PositiveIntegerField(_("helpful"), default=0)
    not_helpful_count = models.PositiveIntegerField(_("not helpful"), default=0)
    deflection_count = models.PositiveIntegerField(_("solved without a ticket"), default=0)
    source_ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("source ticket"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    current_version = models.PositiveIntegerField(_("version"), default=0)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    objects = ArticleQuerySet.as_manager()

    class Meta:
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge articles")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "-updated_at"], name="kb_article_status_recent"),
            models.Index(fields=["module", "status"], name="kb_article_module_status"),
            models.Index(fields=["type", "status"], name="kb_article_type_status"),
            models.Index(
                fields=["review_by"],
                condition=Q(status="published"),
                name="kb_article_review_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(visibility="customer", organization__isnull=False)
                | (~Q(visibility="customer") & Q(organization__isnull=True)),
                name="kb_article_customer_needs_organization",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def helpfulness(self) -> float:
        """Smoothed share of helpful votes: (helpful + 1) / (votes + 2), 0.5 without votes."""
        return (self.helpful_count + 1) / (self.helpful_count + self.not_helpful_count + 2)

    def is_stale(self, today: date, *, review_months: int | None = None) -> bool:
        """Published and past its review-by date, or not reviewed for the review period."""
        if self.status != ArticleStatus.PUBLISHED:
            return False
        if self.review_by is not None and self.review_by < today:
            return True
        months = settings.ERPCARE_KB_REVIEW_MONTHS if review_months is None else review_months
        last = self.reviewed_at or self.published_at
        if last is None:
            return True
        return add_months(last.date(), months) < today

    def snapshot(self) -> dict[str, Any]:
        """The editable fields as stored in an ArticleVersion."""
        return {name: getattr(self, name) for name in EDITABLE_FIELDS}


class ArticleVersion(models.Model):
    """An immutable snapshot of an article's editable fields after one saved change."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    content = models.JSONField(_("content"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["article", "number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="unique_article_version")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("article versions are immutable")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("article versions are immutable")


def article_file_path(instance: ArticleAttachment, filename: str) -> str:
    # Same rule as ticket files: a random-looking stored name, the original kept in a column.
    return f"kb/{instance.created_at:%Y/%m}/{instance.sha256[:2]}/{instance.sha256}"


class ArticleAttachment(models.Model):
    """A file or image of an article; Markdown refers to it as ``attachment:<id>``."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=article_file_path, max_length=200)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=120)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("article attachment")
        verbose_name_plural = _("article attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class ArticleTicketLink(models.Model):
    """An article used on a ticket: "solved with KB-0042", related, or written from it."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="ticket_links")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="kb_links")
    kind = models.CharField(_("link"), max_length=16, choices=LinkKind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("article link")
        verbose_name_plural = _("article links")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "ticket", "kind"], name="unique_article_ticket_link"
            )
        ]
        indexes = [models.Index(fields=["ticket", "kind"], name="kb_link_ticket")]

    def __str__(self) -> str:
        return f"{self.article_id} {self.kind} {self.ticket_id}"


class ArticleFeedback(models.Model):
    """One signed-in person's vote on an article; a second vote replaces the first."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kb_feedback"
    )
    helpful = models.BooleanField(_("helpful"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("article feedback")
        verbose_name_plural = _("article feedback")
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["article", "user"], name="unique_article_feedback")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} {self.user_id} {'+' if self.helpful else '-'}"


class KbEvent(models.Model):
    """One use of the knowledge base, kept for reports (views, deflections, searches,
    links). Inserted only; the article counters are copies for ranking."""

    kind = models.CharField(_("event"), max_length=16, choices=EventKind.choices)
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    organization = models.ForeignKey(
        "customers.Organization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    query = models.CharField(_("search text"), max_length=200, blank=True)
    results = models.PositiveIntegerField(_("results"), null=True, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("knowledge-base event")
        verbose_name_plural = _("knowledge-base events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "created_at"], name="kb_event_kind_time"),
            models.Index(fields=["article", "kind", "created_at"], name="kb_event_article_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.kind} {self.article_id}"
