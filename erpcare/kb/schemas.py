"""Typed request and response shapes of the knowledge-base API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.utils import timezone
from ninja import Schema
from pydantic import Field

from erpcare.core import clock
from erpcare.kb.models import Article, ArticleTicketLink, ArticleVersion
from erpcare.kb.services.articles import (
    MAX_KEYWORDS,
    MAX_NOTE,
    MAX_PRODUCT,
    MAX_SUMMARY,
    MAX_TEXT,
    MAX_TITLE,
)
from erpcare.tickets.schemas import StrictIn

Title = Annotated[str, Field(min_length=1, max_length=MAX_TITLE)]
LongText = Annotated[str, Field(max_length=MAX_TEXT)]
Note = Annotated[str, Field(max_length=MAX_NOTE)]


class ArticleIn(StrictIn):
    title: Title
    type: str = Field("faq", description="faq, sop, case (troubleshooting), upgrade")
    language: str | None = Field(
        None, description="zh-hans or en; left out: zh-hans when the text has Chinese"
    )
    summary: Annotated[str, Field(max_length=MAX_SUMMARY)] = ""
    body: LongText = Field("", description="Markdown; images as ![alt](attachment:<id>)")
    symptom: LongText = ""
    cause: LongText = ""
    resolution: LongText = ""
    log_excerpt: LongText = ""
    module: str = Field("", description="ERP module code, e.g. gl, inventory")
    product: Annotated[str, Field(max_length=MAX_PRODUCT)] = ""
    keywords: Annotated[str, Field(max_length=MAX_KEYWORDS)] = ""
    visibility: str = Field("internal", description="public, internal, customer")
    customer: str | None = Field(None, description="Customer code; only for visibility=customer")
    note: Note = ""


class ArticleUpdateIn(StrictIn):
    title: Title | None = None
    type: str | None = None
    language: str | None = None
    summary: Annotated[str, Field(max_length=MAX_SUMMARY)] | None = None
    body: LongText | None = None
    symptom: LongText | None = None
    cause: LongText | None = None
    resolution: LongText | None = None
    log_excerpt: LongText | None = None
    module: str | None = None
    product: Annotated[str, Field(max_length=MAX_PRODUCT)] | None = None
    keywords: Annotated[str, Field(max_length=MAX_KEYWORDS)] | None = None
    visibility: str | None = None
    customer: str | None = Field(None, description="Customer code; null clears it")
    note: Note = Field("", description="What changed, kept with the new version")
    expected_version: int | None = Field(
        None,
        strict=True,
        description="The version the edit started from; another save in between is a 409",
    )


class WorkflowIn(StrictIn):
    note: Annotated[str, Field(max_length=2000)] = ""


class PublishIn(StrictIn):
    note: Note = ""
    review_by: date | None = Field(
        None, description="In the future; default today + ERPCARE_KB_REVIEW_MONTHS"
    )


class ReviewedIn(StrictIn):
    review_by: date | None = None


class FeedbackIn(StrictIn):
    helpful: bool = Field(..., strict=True)
    comment: Annotated[str, Field(max_length=2000)] = ""


class DeflectionIn(StrictIn):
    query: Annotated[str, Field(max_length=1000)] = Field(
        "", description="What the customer searched or typed as the ticket title"
    )


class ArticleLinkIn(StrictIn):
    ticket: Annotated[str, Field(min_length=1, max_length=24)]
    kind: str = Field("solved_with", description="solved_with, related, created_from")


class PersonRef(Schema):
    id: int
    name: str


class CustomerRef(Schema):
    code: str
    name: str


def _is_customer(context: Any) -> bool:
    request = (context or {}).get("request")
    return bool(request is not None and request.user.is_customer)


class ArticleSummaryOut(Schema):
    id: int
    number: str
    type: str
    language: str
    title: str
    summary: str
    module: str
    product: str
    status: str
    visibility: str
    customer: CustomerRef | None
    owner: PersonRef | None
    review_by: date | None
    stale: bool
    published_at: datetime | None
    updated_at: datetime
    view_count: int
    helpful_count: int
    not_helpful_count: int
    deflection_count: int

    @staticmethod
    def resolve_customer(obj: Article) -> dict[str, str] | None:
        org = obj.organization
        return {"code": org.code, "name": org.name} if org is not None else None

    @staticmethod
    def resolve_owner(obj: Article) -> dict[str, Any] | None:
        owner = obj.owner
        return {"id": owner.pk, "name": owner.display_name} if owner is not None else None

    @staticmethod
    def resolve_stale(obj: Article) -> bool:
        return obj.is_stale(timezone.localdate(clock.now()))


class ArticleOut(ArticleSummaryOut):
    body: str
    symptom: str
    cause: str
    resolution: str
    log_excerpt: str
    keywords: str
    current_version: int
    created_at: datetime
    reviewed_at: datetime | None
    review_note: str = Field(description="The reviewer's last note; empty for customers")
    source_ticket: str | None = Field(description="Ticket number; null for customers")

    @staticmethod
    def resolve_review_note(obj: Article, context: Any) -> str:
        return "" if _is_customer(context) else obj.review_note

    @staticmethod
    def resolve_source_ticket(obj: Article, context: Any) -> str | None:
        # The source ticket may belong to another customer than the reader.
        if _is_customer(context) or obj.source_ticket_id is None:
            return None
        return obj.source_ticket.number  # type: ignore[union-attr]


class ArticlePageOut(Schema):
    items: list[ArticleSummaryOut]
    page: int
    page_size: int
    has_next: bool


class VersionOut(Schema):
    number: int
    author: PersonRef | None
    note: str
    created_at: datetime

    @staticmethod
    def resolve_author(obj: ArticleVersion) -> dict[str, Any] | None:
        author = obj.author
        return {"id": author.pk, "name": author.display_name} if author is not None else None


class VersionDetailOut(VersionOut):
    content: dict[str, Any]


class DiffLineOut(Schema):
    op: str = Field(description='"=" unchanged, "-" removed, "+" added')
    text: str
    old_line: int | None
    new_line: int | None


class FieldDiffOut(Schema):
    field: str
    label: str
    old: str
    new: str
    lines: list[DiffLineOut]


class FeedbackOut(Schema):
    helpful: bool
    comment: str
    helpful_count: int
    not_helpful_count: int


class DeflectionOut(Schema):
    article: str
    query: str
    created_at: datetime


class ArticleLinkOut(Schema):
    article: str
    title: str
    ticket: str
    kind: str
    created_at: datetime

    @staticmethod
    def resolve_article(obj: ArticleTicketLink) -> str:
        return obj.article.number

    @staticmethod
    def resolve_title(obj: ArticleTicketLink) -> str:
        return obj.article.title

    @staticmethod
    def resolve_ticket(obj: ArticleTicketLink) -> str:
        return obj.ticket.number


class ArticleFileOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    markdown: str = Field(description="What to paste into the text to show or link the file")
    created_at: datetime

    @staticmethod
    def resolve_markdown(obj: Any) -> str:
        prefix = "!" if obj.is_image else ""
        return f"{prefix}[{obj.filename}](attachment:{obj.pk})"


class ArticleUsageOut(Schema):
    number: str
    title: str
    views: int
    deflections: int
    helpful: int
    not_helpful: int
    helpful_share: float | None


class ZeroResultQueryOut(Schema):
    query: str
    count: int


class UsageOut(Schema):
    since: datetime
    until: datetime
    views: int
    searches: int
    zero_result_searches: int
    deflections: int
    helpful: int
    not_helpful: int
    helpful_share: float | None
    articles: list[ArticleUsageOut]
    zero_result_queries: list[ZeroResultQueryOut]

    @staticmethod
    def resolve_zero_result_queries(obj: Any) -> list[dict[str, Any]]:
        return [{"query": query, "count": count} for query, count in obj.zero_result_queries]
