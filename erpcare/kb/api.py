"""Knowledge-base API (``/api/v1/kb``): thin endpoints over ``erpcare.kb.services``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, IntegerField, Q, Value, When
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Schema
from ninja import Status as HttpStatus
from ninja.files import UploadedFile
from pydantic import Field

from erpcare.accounts.models import User
from erpcare.core import clock
from erpcare.core.errors import ActionError, NotAllowed
from erpcare.core.pagination import page_of
from erpcare.core.schemas import ERRORS
from erpcare.customers.models import ErpModule, Organization
from erpcare.customers.services import get_organization_for
from erpcare.kb import services
from erpcare.kb.models import (
    NUMBER_PREFIX,
    Article,
    ArticleLanguage,
    ArticleStatus,
    ArticleType,
    Visibility,
)
from erpcare.kb.schemas import (
    ArticleFileOut,
    ArticleIn,
    ArticleLinkIn,
    ArticleLinkOut,
    ArticleOut,
    ArticlePageOut,
    ArticleUpdateIn,
    DeflectionIn,
    DeflectionOut,
    FeedbackIn,
    FeedbackOut,
    FieldDiffOut,
    PublishIn,
    ReviewedIn,
    UsageOut,
    VersionDetailOut,
    VersionOut,
    WorkflowIn,
)
from erpcare.kb.services import rules
from erpcare.kb.services.usage import stale_filter
from erpcare.tickets.models import Ticket
from erpcare.tickets.services import get_ticket_for

router = Router(tags=["knowledge base"])

RELATED = ("owner", "organization")
# The list shows summaries: the long texts stay in the database.
LONG_TEXT = ("body", "symptom", "cause", "resolution", "log_excerpt", "review_note")
ORDERINGS = {
    "-updated": ("-updated_at", "-id"),
    "-created": ("-id",),
    "-published": ("-published_at", "-id"),
    "-views": ("-view_count", "-id"),
    "-helpful": ("-helpful_count", "-id"),
    "review_by": ("review_by", "id"),
    "title": ("title", "id"),
}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _article(request: HttpRequest, ref: str) -> Article:
    return services.get_article_for(_user(request), ref)


def _detail(article_id: int) -> Article:
    return Article.objects.select_related(*RELATED, "source_ticket").get(pk=article_id)


def _customer(actor: User, code: str | None) -> Organization | None:
    return get_organization_for(actor, code) if code else None


def _ticket(request: HttpRequest, ref: str) -> Ticket:
    return get_ticket_for(_user(request), ref)


def _check_choice(value: str | None, choices: Any, label: str) -> None:
    if value is not None and value not in choices.values:
        raise ActionError(
            _("%(value)s is not a valid %(field)s.") % {"value": value, "field": label}
        )


# ---------------------------------------------------------------------------
# Articles
# ---------------------------------------------------------------------------


class ArticleListQuery(Schema):
    type: str | None = Field(None, description="faq, sop, case, upgrade")
    module: str | None = Field(None, description="ERP module code")
    product: str | None = Field(None, max_length=80, description="Product label prefix")
    status: str | None = Field(None, description="draft, review, published, archived")
    visibility: str | None = Field(None, description="public, internal, customer")
    language: str | None = None
    customer: str | None = Field(None, max_length=40, description="Customer code")
    owner: str | None = Field(None, description="'me'")
    stale: bool | None = Field(None, description="true: published articles due for review")
    q: str | None = Field(None, max_length=200, description="Article number or words")
    ordering: str | None = Field(
        None,
        description=f"{', '.join(ORDERINGS)}; default: relevance with q, else -updated",
    )
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(25, ge=1, le=100)


SEARCH_PAGES = 2  # of MAX hits each: the search service ranks at most 200 candidates


def _search(user: User, queryset: Any, text: str) -> tuple[Any, list[int]]:
    """Narrow ``queryset`` to articles matching ``text``: an article number; else what the
    search service finds (published articles, ranked, also by words in the body) plus
    articles in any state with every word in the title, summary or keywords. Returns the
    queryset and the search service's ranking (ids, best first)."""
    from erpcare.search import services as search_services

    words = text.split()
    if len(words) == 1 and words[0].upper().startswith(f"{NUMBER_PREFIX}-"):
        return queryset.filter(number=words[0].upper()), []
    ranked: list[int] = []
    for page in range(SEARCH_PAGES):
        results = search_services.search(
            user, text, kinds=["article"], limit=100, offset=page * 100
        )
        ranked += [hit.object_id for hit in results.hits]
        if not results.has_next:
            break
    by_words = Q()
    for word in words[:8]:
        by_words &= (
            Q(title__icontains=word) | Q(summary__icontains=word) | Q(keywords__icontains=word)
        )
    return queryset.filter(Q(pk__in=ranked) | by_words), ranked


def _by_rank(ranked: list[int]) -> Any:
    """Order by the search service's ranking; articles it did not return come after."""
    return Case(
        *[When(pk=pk, then=Value(rank)) for rank, pk in enumerate(ranked)],
        default=Value(len(ranked)),
        output_field=IntegerField(),
    )


@router.get("/articles", response={200: ArticlePageOut, **ERRORS})
def list_articles(request: HttpRequest, query: Query[ArticleListQuery]) -> Any:
    """Articles the caller may read, filtered and paginated (customers: published only)."""
    user = _user(request)
    _check_choice(query.type, ArticleType, _("article type"))
    _check_choice(query.status, ArticleStatus, _("status"))
    _check_choice(query.visibility, Visibility, _("visibility"))
    _check_choice(query.language, ArticleLanguage, _("language"))
    _check_choice(query.module, ErpModule, _("ERP module"))
    if query.ordering is not None and query.ordering not in ORDERINGS:
        raise ActionError(
            _("%(value)s is not a valid %(field)s.")
            % {"value": query.ordering, "field": "ordering"}
        )
    queryset = services.visible_articles(user)
    for name in ("type", "status", "visibility", "language", "module"):
        value = getattr(query, name)
        if value is not None:
            queryset = queryset.filter(**{name: value})
    if query.product:
        queryset = queryset.filter(product__istartswith=query.product.strip())
    if query.customer:
        queryset = queryset.filter(organization=get_organization_for(user, query.customer))
    if query.owner is not None:
        if query.owner != "me":
            raise ActionError(_("owner takes only 'me'."))
        queryset = queryset.filter(owner=user)
    if query.stale is not None:
        stale = stale_filter()
        queryset = queryset.filter(stale) if query.stale else queryset.exclude(stale)
    ordering: list[Any] = list(ORDERINGS[query.ordering or "-updated"])
    if query.q and query.q.strip():
        if "\x00" in query.q:
            raise ActionError(_("%(field)s contains a NUL character.") % {"field": "q"})
        queryset, ranked = _search(user, queryset, query.q)
        if query.ordering is None and ranked:
            ordering = [_by_rank(ranked), *ordering]
    queryset = queryset.select_related(*RELATED).defer(*LONG_TEXT).order_by(*ordering)
    return page_of(queryset, query.page, query.page_size)


@router.post("/articles", response={201: ArticleOut, **ERRORS})
def create_article(request: HttpRequest, payload: ArticleIn) -> Any:
    """Write a draft (support staff)."""
    actor = _user(request)
    rules.require_writer(actor)
    article = services.create_article(
        actor,
        title=payload.title,
        type=payload.type,
        language=payload.language,
        summary=payload.summary,
        body=payload.body,
        symptom=payload.symptom,
        cause=payload.cause,
        resolution=payload.resolution,
        log_excerpt=payload.log_excerpt,
        module=payload.module,
        product=payload.product,
        keywords=payload.keywords,
        visibility=payload.visibility,
        organization=_customer(actor, payload.customer),
        note=payload.note,
    )
    return HttpStatus(201, _detail(article.pk))


@router.post("/articles/from-ticket/{ticket_ref}", response={201: ArticleOut, **ERRORS})
def create_from_ticket(request: HttpRequest, ticket_ref: str) -> Any:
    """A draft troubleshooting case pre-filled from a resolved or closed ticket, linked to
    it as ``created_from``."""
    actor = _user(request)
    rules.require_writer(actor)
    article = services.create_article_from_ticket(actor, _ticket(request, ticket_ref))
    return HttpStatus(201, _detail(article.pk))


@router.get("/articles/{ref}", response={200: ArticleOut, **ERRORS})
def get_article(request: HttpRequest, ref: str) -> Any:
    """One article by number (KB-0042) or id."""
    return _article(request, ref)


@router.patch("/articles/{ref}", response={200: ArticleOut, **ERRORS})
def update_article(request: HttpRequest, ref: str, payload: ArticleUpdateIn) -> Any:
    """Change the content; each save that changes something is a new version."""
    actor = _user(request)
    article = _article(request, ref)
    rules.require_writer(actor)
    changes = payload.dict(exclude_unset=True, exclude={"note", "expected_version"})
    for name in ("title", "type", "language", "visibility"):
        if name in changes and changes[name] is None:
            raise ActionError(_("%(field)s cannot be empty.") % {"field": name})
    if "customer" in changes:
        changes["organization"] = _customer(actor, changes.pop("customer"))
    for name, value in list(changes.items()):
        if value is None and name != "organization":
            changes[name] = ""
    services.update_article(
        actor, article, note=payload.note, expected_version=payload.expected_version, **changes
    )
    return _detail(article.pk)


# ---------------------------------------------------------------------------
# Workflow
# ---------------------------------------------------------------------------


@router.post("/articles/{ref}/submit", response={200: ArticleOut, **ERRORS})
def submit_article(request: HttpRequest, ref: str, payload: WorkflowIn) -> Any:
    """draft → review."""
    article = _article(request, ref)
    services.submit_for_review(_user(request), article, note=payload.note)
    return _detail(article.pk)


@router.post("/articles/{ref}/publish", response={200: ArticleOut, **ERRORS})
def publish_article(request: HttpRequest, ref: str, payload: PublishIn) -> Any:
    """draft or review → published (managers, admins)."""
    article = _article(request, ref)
    services.publish(_user(request), article, review_by=payload.review_by, note=payload.note)
    return _detail(article.pk)


@router.post("/articles/{ref}/return", response={200: ArticleOut, **ERRORS})
def return_article(request: HttpRequest, ref: str, payload: WorkflowIn) -> Any:
    """review → draft, with the reviewer's note (the owner may withdraw without one)."""
    article = _article(request, ref)
    services.return_to_draft(_user(request), article, note=payload.note)
    return _detail(article.pk)


@router.post("/articles/{ref}/archive", response={200: ArticleOut, **ERRORS})
def archive_article(request: HttpRequest, ref: str, payload: WorkflowIn) -> Any:
    """→ archived (managers, admins)."""
    article = _article(request, ref)
    services.archive(_user(request), article, note=payload.note)
    return _detail(article.pk)


@router.post("/articles/{ref}/restore", response={200: ArticleOut, **ERRORS})
def restore_article(request: HttpRequest, ref: str, payload: WorkflowIn) -> Any:
    """archived → draft (managers, admins)."""
    article = _article(request, ref)
    services.restore(_user(request), article, note=payload.note)
    return _detail(article.pk)


@router.post("/articles/{ref}/reviewed", response={200: ArticleOut, **ERRORS})
def mark_article_reviewed(request: HttpRequest, ref: str, payload: ReviewedIn) -> Any:
    """A reviewer confirms a published article is still right (clears "stale")."""
    article = _article(request, ref)
    services.mark_reviewed(_user(request), article, review_by=payload.review_by)
    return _detail(article.pk)


# ---------------------------------------------------------------------------
# History
# ---------------------------------------------------------------------------


@router.get("/articles/{ref}/versions", response={200: list[VersionOut], **ERRORS})
def list_versions(request: HttpRequest, ref: str) -> Any:
    """Saved versions, newest first (staff and auditors)."""
    article = _article(request, ref)
    return list(services.article_versions(_user(request), article)[:1000])


@router.get("/articles/{ref}/versions/{number}", response={200: VersionDetailOut, **ERRORS})
def get_version(request: HttpRequest, ref: str, number: int) -> Any:
    article = _article(request, ref)
    return services.get_version(_user(request), article, number)


class DiffQuery(Schema):
    from_version: int = Field(..., alias="from", ge=1, le=1_000_000)
    to_version: int = Field(..., alias="to", ge=1, le=1_000_000)


@router.get("/articles/{ref}/diff", response={200: list[FieldDiffOut], **ERRORS})
def diff_versions(request: HttpRequest, ref: str, query: Query[DiffQuery]) -> Any:
    """What changed between two versions (``?from=1&to=3``): a line diff per field."""
    article = _article(request, ref)
    return services.article_diff(_user(request), article, query.from_version, query.to_version)


# ---------------------------------------------------------------------------
# Readers: feedback and deflection
# ---------------------------------------------------------------------------


@router.post("/articles/{ref}/feedback", response={200: FeedbackOut, **ERRORS})
def give_feedback(request: HttpRequest, ref: str, payload: FeedbackIn) -> Any:
    """Helpful or not, with an optional comment; a second vote replaces the first."""
    article = _article(request, ref)
    vote = services.record_feedback(
        _user(request), article, helpful=payload.helpful, comment=payload.comment
    )
    article.refresh_from_db(fields=["helpful_count", "not_helpful_count"])
    return {
        "helpful": vote.helpful,
        "comment": vote.comment,
        "helpful_count": article.helpful_count,
        "not_helpful_count": article.not_helpful_count,
    }


@router.post("/articles/{ref}/deflection", response={201: DeflectionOut, **ERRORS})
def record_deflection(request: HttpRequest, ref: str, payload: DeflectionIn) -> Any:
    """ "This solved my problem" (customers): no ticket needed."""
    article = _article(request, ref)
    event = services.record_deflection(_user(request), article, payload.query)
    return HttpStatus(
        201, {"article": article.number, "query": event.query, "created_at": event.created_at}
    )


# ---------------------------------------------------------------------------
# Tickets
# ---------------------------------------------------------------------------


@router.get("/articles/{ref}/links", response={200: list[ArticleLinkOut], **ERRORS})
def list_article_links(request: HttpRequest, ref: str) -> Any:
    """The tickets (that the caller may see) this article is linked to, newest first."""
    article = _article(request, ref)
    return list(services.links_of_article(_user(request), article).select_related("article")[:500])


@router.post("/articles/{ref}/links", response={201: ArticleLinkOut, **ERRORS})
def link_article(request: HttpRequest, ref: str, payload: ArticleLinkIn) -> Any:
    """Link the article to a ticket: solved_with ("solved with KB-0042"), related."""
    actor = _user(request)
    rules.require_writer(actor)
    article = _article(request, ref)
    link = services.link_article(
        actor, _ticket(request, payload.ticket), article, kind=payload.kind
    )
    return HttpStatus(201, link)


@router.delete("/articles/{ref}/links/{ticket_ref}/{kind}", response={204: None, **ERRORS})
def unlink_article(request: HttpRequest, ref: str, ticket_ref: str, kind: str) -> Any:
    actor = _user(request)
    rules.require_writer(actor)
    article = _article(request, ref)
    services.unlink_article(actor, _ticket(request, ticket_ref), article, kind=kind)
    return HttpResponse(status=204)


@router.get("/tickets/{ticket_ref}/articles", response={200: list[ArticleLinkOut], **ERRORS})
def ticket_articles(request: HttpRequest, ticket_ref: str) -> Any:
    """Articles linked to a ticket (customers: only those published for them)."""
    ticket = _ticket(request, ticket_ref)
    return list(services.links_of_ticket(_user(request), ticket).select_related("ticket")[:500])


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


@router.get("/articles/{ref}/attachments", response={200: list[ArticleFileOut], **ERRORS})
def list_files(request: HttpRequest, ref: str) -> Any:
    return list(services.attachments_of(_article(request, ref))[:500])


@router.post("/articles/{ref}/attachments", response={201: ArticleFileOut, **ERRORS})
def add_file(request: HttpRequest, ref: str, file: File[UploadedFile]) -> Any:
    """Upload one file or image (multipart/form-data, field ``file``); refer to it in the
    text with the returned ``markdown``."""
    actor = _user(request)
    rules.require_writer(actor)
    article = _article(request, ref)
    return HttpStatus(201, services.add_attachment(actor, article, file))


@router.get(
    "/articles/{ref}/attachments/{attachment_id}/download",
    response={200: None, **ERRORS},
    openapi_extra={"responses": {200: {"description": "The file's bytes"}}},
)
def download_file(request: HttpRequest, ref: str, attachment_id: str) -> Any:
    article = _article(request, ref)
    attachment = services.get_attachment_for(_user(request), article, attachment_id)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=not attachment.is_image,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )


@router.delete("/articles/{ref}/attachments/{attachment_id}", response={204: None, **ERRORS})
def remove_file(request: HttpRequest, ref: str, attachment_id: str) -> Any:
    actor = _user(request)
    rules.require_writer(actor)
    article = _article(request, ref)
    services.remove_attachment(actor, article, attachment_id)
    return HttpResponse(status=204)


# ---------------------------------------------------------------------------
# Usage
# ---------------------------------------------------------------------------


class UsageQuery(Schema):
    since: datetime | None = Field(None, description="Default: 30 days before until")
    until: datetime | None = Field(None, description="Default: now")
    customer: str | None = Field(None, max_length=40, description="Customer code")
    limit: int = Field(20, ge=1, le=100, description="How many articles and gaps to list")


@router.get("/usage", response={200: UsageOut, **ERRORS})
def usage(request: HttpRequest, query: Query[UsageQuery]) -> Any:
    """Views, searches, searches without a result, deflections and helpfulness in a
    period (managers, admins, auditors)."""
    user = _user(request)
    if not rules.can_read_usage(user):
        raise NotAllowed(_("Only support managers, administrators and auditors see KB usage."))
    until = query.until or clock.now()
    since = query.since or until - timedelta(days=30)
    if since.tzinfo is None or until.tzinfo is None:
        raise ActionError(_("Give times with their UTC offset, e.g. 2026-11-01T00:00+08:00."))
    if until - since > timedelta(days=3660):
        raise ActionError(_("The period is at most ten years."))
    organization = _customer(user, query.customer)
    return services.usage_summary(since, until, organization, limit=query.limit)
