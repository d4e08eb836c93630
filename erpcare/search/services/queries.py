"""The record of searches: what people looked for and did not find."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Max

from erpcare.core import clock
from erpcare.search.analysis import normalize
from erpcare.search.models import SearchQuery

MAX_QUERY = 200


def normalized_query(query: str) -> str:
    """The same search typed twice counts once: NFKC, lower case, single spaces."""
    return " ".join(normalize(query).split())[:MAX_QUERY]


def record_query(
    user: Any, query: str, *, kinds: Iterable[str] | None, result_count: int
) -> SearchQuery:
    text = " ".join((query or "").replace("\x00", " ").split())
    return SearchQuery.objects.create(
        user=user,
        organization_id=getattr(user, "organization_id", None),
        query=text[:MAX_QUERY],
        normalized=normalized_query(text),
        kinds=",".join(sorted(kinds))[:100] if kinds is not None else "",
        result_count=result_count,
        zero_results=result_count == 0,
        created_at=clock.now(),
    )


@dataclass(frozen=True)
class Gap:
    query: str
    searches: int
    last_searched_at: datetime


def zero_result_queries(since: datetime, limit: int = 20) -> list[Gap]:
    """The most frequent searches without a result since ``since``: the articles to
    write next."""
    rows = (
        SearchQuery.objects.filter(zero_results=True, created_at__gte=since)
        .values("normalized")
        .annotate(searches=Count("id"), last=Max("created_at"))
        .order_by("-searches", "-last", "normalized")[: max(1, min(int(limit), 500))]
    )
    return [Gap(row["normalized"], row["searches"], row["last"]) for row in rows]
