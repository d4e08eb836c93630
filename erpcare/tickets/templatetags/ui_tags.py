"""Small helpers every page can use (``{% load ui_tags %}``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.http import QueryDict
from django.utils import timezone

register = template.Library()


@register.filter
def is_past(moment: datetime | None) -> bool:
    return moment is not None and moment <= timezone.now()


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **changes: Any) -> str:
    """The current query string with some parameters replaced ("" or None removes one).

    Any change other than the page number starts again at page 1.
    """
    request = context.get("request")
    params = request.GET.copy() if request is not None else QueryDict(mutable=True)
    if "page" not in changes:
        params.pop("page", None)
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"
