"""The notification inbox of the agent workspace and the navbar bell's count.

The bell's count is fetched by htmx after the page has loaded, so ordinary pages do not
pay a query for it.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from erpcare.channels import services
from erpcare.tickets.views.common import (
    current_user,
    page_number,
    paginate,
    render_htmx,
    staff_view,
)


@staff_view
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    context = {
        "page": paginate(services.inbox(user), page_number(request)),
        "unread": services.unread_count(user),
    }
    return render_htmx(request, "channels/inbox.html", "channels/partials/inbox_list.html", context)


@staff_view
@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    response = render(
        request,
        "channels/partials/bell.html",
        {"unread": services.unread_count(current_user(request))},
    )
    response["Cache-Control"] = "no-store"
    return response


@staff_view
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    """Mark all the user's notifications read, or only the one given as ``id``."""
    raw = request.POST.get("id")
    ids = [int(raw)] if raw and raw.isdigit() else None
    count = services.mark_read(current_user(request), ids)
    if ids is None:
        messages.success(
            request,
            ngettext(
                "%(count)d notification marked read.",
                "%(count)d notifications marked read.",
                count,
            )
            % {"count": count},
        )
    return redirect("notifications:inbox")
