"""Search API: searching and suggestions for everyone signed in (results scoped to the
caller), synonyms (staff read, managers and admins write), and the searches that found
nothing (staff)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja import Status as HttpStatus

from erpcare.accounts.models import User
from erpcare.core import clock
from erpcare.core.errors import ActionError, NotAllowed
from erpcare.core.schemas import ERRORS
from erpcare.customers.models import ErpModule
from erpcare.search import registry, services
from erpcare.search.models import Synonym
from erpcare.tickets.schemas import StrictIn

router = Router(tags=["search"])

PAGE_SIZE = 20
MAX_PAGE = 10  # 200 results: the candidates one search ranks


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


def _staff(request: HttpRequest) -> User:
    user = _user(request)
    if not user.is_staff:
        raise NotAllowed(_("Only support staff can see this."))
    return user


def _kinds(value: str | None) -> list[str] | None:
    if not value:
        return None
    kinds = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [kind for kind in kinds if kind not in registry.kinds()]
    if unknown:
        raise ActionError(
            _("Unknown kind %(kind)s; use one of: %(known)s.")
            % {"kind": unknown[0][:40], "known": ", ".join(registry.kinds())}
        )
    return kinds or None


def _module(value: str | None) -> str | None:
    if value and value not in ErpModule.values:
        raise ActionError(
            _("Unknown ERP module %(module)s; use one of: %(known)s.")
            % {"module": value[:40], "known": ", ".join(ErpModule.values)}
        )
    return value or None


# ---------------------------------------------------------------------------
# Search and suggestions
# ---------------------------------------------------------------------------


class SearchQueryIn(Schema):
    q: str = Field("", description="What to look for; any text (cut at 1,000 characters).")
    kind: str | None = Field(None, description="article or ticket (comma-separated for both)")
    module: str | None = Field(None, description="ERP module code, e.g. gl, inventory")
    type: str | None = Field(None, max_length=40, description="Article or ticket type")
    product: str | None = Field(None, max_length=80, description="e.g. sap, Tryton 7.0")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(PAGE_SIZE, ge=1, le=50)


class HitOut(Schema):
    kind: str
    object_id: int
    title: str
    title_html: str
    snippet_html: str
    score: float
    module: str
    type: str = Field(alias="doc_type")
    product: str
    updated_at: datetime


class SearchOut(Schema):
    items: list[HitOut]
    page: int
    page_size: int
    has_next: bool
    total: int = Field(description="Results the caller may see (at most 200)")
    counts: dict[str, int] = Field(description="Results per kind")
    corrected_query: str | None = Field(description='"Showing results for …" after a typo')
    terms: list[str]


class SuggestQueryIn(Schema):
    q: str = ""
    limit: int = Field(5, ge=1, le=20)


class SuggestionOut(Schema):
    kind: str
    object_id: int
    title: str
    title_html: str


class SimilarIn(StrictIn):
    text: str = Field(max_length=100_000)
    limit: int = Field(5, ge=1, le=20)


@router.get("", response={200: SearchOut, **ERRORS})
def search(request: HttpRequest, query: Query[SearchQueryIn]) -> Any:
    """Articles and tickets the caller may see, best first. Any query text is accepted."""
    results = services.search(
        _user(request),
        query.q.replace("\x00", " "),
        kinds=_kinds(query.kind),
        module=_module(query.module),
        doc_type=query.type or None,
        product=query.product or None,
        limit=query.page_size,
        offset=(query.page - 1) * query.page_size,
        record=True,
    )
    return {
        "items": results.hits,
        "page": query.page,
        "page_size": query.page_size,
        "has_next": results.has_next,
        "total": results.total,
        "counts": results.counts,
        "corrected_query": results.corrected_query,
        "terms": results.terms,
    }


@router.get("/suggest", response={200: list[SuggestionOut], **ERRORS})
def suggest(request: HttpRequest, query: Query[SuggestQueryIn]) -> Any:
    """Articles whose words start like the text being typed (the last word as a prefix)."""
    return services.suggest(_user(request), query.q.replace("\x00", " "), limit=query.limit)


@router.post("/similar", response={200: list[HitOut], **ERRORS})
def similar(request: HttpRequest, payload: SimilarIn) -> Any:
    """Articles most similar to a text, e.g. a ticket's title and description."""
    return services.similar_articles(_user(request), payload.text, limit=payload.limit)


# ---------------------------------------------------------------------------
# Synonyms
# ---------------------------------------------------------------------------

Term = Annotated[str, Field(min_length=1, max_length=100)]


class SynonymIn(StrictIn):
    terms: list[Term] = Field(min_length=2, max_length=20)


class SynonymOut(Schema):
    id: int
    terms: list[str]
    created_at: datetime
    updated_at: datetime


class SynonymPageOut(Schema):
    items: list[SynonymOut]
    page: int
    page_size: int
    has_next: bool


class SynonymListQuery(Schema):
    q: str | None = Field(None, max_length=100, description="Groups containing this text")
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(50, ge=1, le=200)


@router.get("/synonyms", response={200: SynonymPageOut, **ERRORS})
def list_synonyms(request: HttpRequest, query: Query[SynonymListQuery]) -> Any:
    _staff(request)
    queryset = Synonym.objects.order_by("id")
    if query.q:
        needle = query.q.strip().lower()
        # A small table: filtering in Python matches JSON text alike on both databases.
        ids = [s.pk for s in queryset if any(needle in str(t).lower() for t in s.terms)]
        queryset = queryset.filter(pk__in=ids)
    offset = (query.page - 1) * query.page_size
    rows = list(queryset[offset : offset + query.page_size + 1])
    return {
        "items": rows[: query.page_size],
        "page": query.page,
        "page_size": query.page_size,
        "has_next": len(rows) > query.page_size,
    }


@router.post("/synonyms", response={201: SynonymOut, **ERRORS})
def create_synonym(request: HttpRequest, payload: SynonymIn) -> Any:
    return HttpStatus(201, services.create_synonym(_user(request), payload.terms))


@router.get("/synonyms/{synonym_id}", response={200: SynonymOut, **ERRORS})
def get_synonym(request: HttpRequest, synonym_id: int) -> Any:
    _staff(request)
    return get_object_or_404(Synonym, pk=synonym_id)


@router.put("/synonyms/{synonym_id}", response={200: SynonymOut, **ERRORS})
def update_synonym(request: HttpRequest, synonym_id: int, payload: SynonymIn) -> Any:
    _staff(request)
    synonym = get_object_or_404(Synonym, pk=synonym_id)
    return services.update_synonym(_user(request), synonym, payload.terms)


@router.delete("/synonyms/{synonym_id}", response={204: None, **ERRORS})
def delete_synonym(request: HttpRequest, synonym_id: int) -> Any:
    _staff(request)
    synonym = get_object_or_404(Synonym, pk=synonym_id)
    services.delete_synonym(_user(request), synonym)
    return HttpResponse(status=204)


# ---------------------------------------------------------------------------
# Searches without results
# ---------------------------------------------------------------------------


class GapQuery(Schema):
    days: int = Field(30, ge=1, le=366, description="Look back this many days")
    limit: int = Field(20, ge=1, le=200)


class GapOut(Schema):
    query: str
    searches: int
    last_searched_at: datetime


@router.get("/zero-results", response={200: list[GapOut], **ERRORS})
def zero_results(request: HttpRequest, query: Query[GapQuery]) -> Any:
    """The most frequent searches that found nothing: the articles to write next."""
    _staff(request)
    since = clock.now() - timedelta(days=query.days)
    return services.zero_result_queries(since, limit=query.limit)
