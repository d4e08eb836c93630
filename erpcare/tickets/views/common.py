"""What the agent workspace and the customer portal share: access checks, the
timeline, pagination, downloads and the htmx page-or-fragment rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from erpcare.accounts.models import User
from erpcare.core.errors import NotFound
from erpcare.core.htmx import render_page_or_partial
from erpcare.tickets.models import Attachment, Comment, Ticket, TicketEvent, TicketLink
from erpcare.tickets.services import get_ticket_for
from erpcare.tickets.services.access import comments_of, events_of, files_of

PAGE_SIZE = 25
MAX_PAGE = 10_000
# A ticket's page shows at most this many comments and events each; a longer history
# is read through the API, which pages it.
TIMELINE_LIMIT = 1000


View = Callable[..., HttpResponseBase]


def current_user(request: HttpRequest) -> User:
    # Every view here runs behind login_required, so this is a real User.
    return cast(User, request.user)


def view_for(allowed: Callable[[User], bool]) -> Callable[[View], View]:
    """Pages only the signed-in people ``allowed`` accepts may see; anyone else gets 404,
    so the page's existence is not given away (settings pages, admin pages)."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not allowed(current_user(request)):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


# Desk views: staff and auditors only; a customer gets 404 (the desk does not exist for them).
staff_view = view_for(lambda user: user.is_staff)


def no_store(response: HttpResponse) -> HttpResponse:
    """Keep a page out of every cache: it shows a secret once, or data that must not linger."""
    response["Cache-Control"] = "no-store"
    return response


def fetch_ticket(request: HttpRequest, number: str) -> Ticket:
    """The ticket if the signed-in user may see it; 404 otherwise (never 403, so
    numbers cannot be probed)."""
    try:
        return get_ticket_for(current_user(request), number)
    except NotFound:
        raise Http404 from None


def page_number(request: HttpRequest) -> int:
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    return max(1, min(page, MAX_PAGE))


def paginate(queryset: QuerySet[Any], page: int, page_size: int = PAGE_SIZE) -> dict[str, Any]:
    """One page without COUNT(*): fetch one row more than shown to know if more exist."""
    offset = (page - 1) * page_size
    rows = list(queryset[offset : offset + page_size + 1])
    return {
        "rows": rows[:page_size],
        "page": page,
        "has_next": len(rows) > page_size,
        "has_previous": page > 1,
        "next_page": page + 1,
        "previous_page": page - 1,
    }


def render_htmx(
    request: HttpRequest, page: str, partial: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """The page, or only its fragment for an htmx request.

    A history restore (the back button after ``hx-push-url``) needs the whole page, and
    caches must keep the two variants apart.
    """
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.history_restore_request:
        response = render(request, page, context)
    else:
        response = render_page_or_partial(request, page, partial, context)
    response.status_code = status
    patch_vary_headers(response, ("HX-Request",))
    return response


@dataclass
class TimelineEntry:
    at: datetime
    comment: Comment | None = None
    event: TicketEvent | None = None

    @property
    def is_internal(self) -> bool:
        item = self.comment or self.event
        return bool(item and item.is_internal)

    @property
    def sort_key(self) -> tuple[datetime, int, int]:
        item = self.comment or self.event
        return (self.at, 1 if self.comment else 0, item.pk if item else 0)


def timeline(ticket: Ticket, *, public_only: bool) -> list[TimelineEntry]:
    """Comments and history events in time order, in two queries.

    A comment's own "commented" event is not shown twice; the event stays visible when
    its comment has moved to another ticket in a merge.
    """
    comment_rows = list(comments_of(ticket, public_only=public_only)[:TIMELINE_LIMIT])
    shown = {comment.pk for comment in comment_rows}
    entries = [TimelineEntry(at=c.created_at, comment=c) for c in comment_rows]
    for event in events_of(ticket, public_only=public_only)[:TIMELINE_LIMIT]:
        if event.kind == TicketEvent.Kind.COMMENTED and event.comment_id in shown:
            continue
        entries.append(TimelineEntry(at=event.created_at, event=event))
    entries.sort(key=lambda entry: entry.sort_key)
    return entries


def attachments_of(ticket: Ticket, *, public_only: bool) -> list[Attachment]:
    return list(files_of(ticket, public_only=public_only)[:TIMELINE_LIMIT])


def links_of(ticket: Ticket) -> dict[str, list[TicketLink]]:
    return {
        "outgoing": list(
            TicketLink.objects.filter(source=ticket).select_related("target").order_by("id")
        ),
        "incoming": list(
            TicketLink.objects.filter(target=ticket).select_related("source").order_by("id")
        ),
    }


def download(ticket: Ticket, attachment_id: int, *, public_only: bool) -> FileResponse:
    attachment = files_of(ticket, public_only=public_only).filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
