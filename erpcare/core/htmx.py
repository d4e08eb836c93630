"""One rule for HTMX: the same view serves the page and its fragment."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page_or_partial(
    request: HttpRequest, page: str, partial: str, context: dict[str, Any]
) -> HttpResponse:
    htmx = getattr(request, "htmx", None)
    is_htmx = bool(htmx) and not getattr(htmx, "boosted", False)
    return render(request, partial if is_htmx else page, context)
