"""The knowledge panel of a ticket's desk page: suggested articles (ranked by similarity
to the ticket), the linked ones, link/unlink, and "create article from ticket".

The panel loads after the page (htmx) so the ticket page pays nothing for the search; it
is also a page of its own for browsers without JavaScript. Link and unlink answer an
htmx request with the refreshed panel, anything else with a redirect to the ticket.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from erpcare.core.errors import ActionError
from erpcare.kb import services
from erpcare.kb.forms import TicketLinkForm, TicketUnlinkForm
from erpcare.kb.models import LinkKind
from erpcare.kb.services import rules
from erpcare.kb.views.common import articles_in_order
from erpcare.tickets.models import Status, Ticket
from erpcare.tickets.views.common import current_user, fetch_ticket, render_htmx, staff_view

SUGGESTIONS = 5
# The title says most; the description's first part adds the error text and codes.
DESCRIPTION_CHARS = 2000


def _similar_text(ticket: Ticket) -> str:
    return f"{ticket.title}\n{(ticket.description or '')[:DESCRIPTION_CHARS]}"


def render_panel(
    request: HttpRequest,
    ticket: Ticket,
    *,
    form: forms.Form | None = None,
    message: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> HttpResponse:
    from erpcare.search import services as search_services

    user = current_user(request)
    links = list(services.links_of_ticket(user, ticket))
    linked_ids = {link.article_id for link in links}
    hits = search_services.similar_articles(user, _similar_text(ticket), limit=SUGGESTIONS * 2)
    suggested = articles_in_order(user, list(hits), exclude=linked_ids, limit=SUGGESTIONS)
    can_link = rules.can_write(user)
    context: dict[str, Any] = {
        "ticket": ticket,
        "links": links,
        "suggested": suggested,
        "link_form": form or TicketLinkForm(),
        "can_link": can_link,
        "can_create": can_link and ticket.status in (Status.RESOLVED, Status.CLOSED),
        "can_insert": can_link and ticket.status != Status.CLOSED,
        "solved_with": LinkKind.SOLVED_WITH,
        "related": LinkKind.RELATED,
        "message": message,
        "error": error,
    }
    return render_htmx(
        request,
        "kb/desk/ticket_panel_page.html",
        "kb/desk/_ticket_panel_body.html",
        context,
        status=status,
    )


@staff_view
@require_GET
def ticket_panel(request: HttpRequest, number: str) -> HttpResponse:
    return render_panel(request, fetch_ticket(request, number))


def _answer(
    request: HttpRequest, ticket: Ticket, message: str | None, error: str | None, status: int,
    form: forms.Form | None = None,
) -> HttpResponse:  # fmt: skip
    if getattr(request, "htmx", None):
        # Shown inside the refreshed panel, not queued for the next page.
        return render_panel(request, ticket, form=form, message=message, error=error, status=status)
    if error:
        messages.error(request, error)
    elif message:
        messages.success(request, message)
    return redirect("desk:ticket", number=ticket.number)


@staff_view
@require_POST
def link(request: HttpRequest, number: str) -> HttpResponse:
    user = current_user(request)
    ticket = fetch_ticket(request, number)
    form = TicketLinkForm(request.POST)
    if not form.is_valid():
        errors = " ".join(str(e) for errs in form.errors.values() for e in errs)
        return _answer(request, ticket, None, errors, 400, form)
    try:
        article = services.get_article_for(user, form.cleaned_data["article"])
        services.link_article(user, ticket, article, kind=form.cleaned_data["kind"])
    except ActionError as exc:
        return _answer(request, ticket, None, exc.message, exc.status_code, form)
    message = _("%(article)s linked: %(kind)s.") % {
        "article": article.number,
        "kind": LinkKind(form.cleaned_data["kind"]).label,
    }
    return _answer(request, ticket, message, None, 200)


@staff_view
@require_POST
def unlink(request: HttpRequest, number: str) -> HttpResponse:
    user = current_user(request)
    ticket = fetch_ticket(request, number)
    form = TicketUnlinkForm(request.POST)
    if not form.is_valid():
        return _answer(request, ticket, None, _("Choose a link to remove."), 400)
    try:
        article = services.get_article_for(user, form.cleaned_data["article"])
        services.unlink_article(user, ticket, article, kind=form.cleaned_data["kind"])
    except ActionError as exc:
        return _answer(request, ticket, None, exc.message, exc.status_code)
    message = _("Link to %(article)s removed.") % {"article": article.number}
    return _answer(request, ticket, message, None, 200)
