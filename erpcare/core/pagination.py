"""Page-number pagination without COUNT(*): fetch one row more than the page to know
whether another page follows. Every list endpoint and page uses it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

MAX_PAGE = 10_000


def page_of(queryset: QuerySet[Any], page: int, page_size: int) -> dict[str, Any]:
    offset = (page - 1) * page_size
    rows = list(queryset[offset : offset + page_size + 1])
    return {
        "items": rows[:page_size],
        "page": page,
        "page_size": page_size,
        "has_next": len(rows) > page_size,
    }
