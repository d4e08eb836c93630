"""The customer portal: my organization's tickets, a new ticket, one ticket's public side.

Customers reach tickets only through ``visible_tickets``/``get_ticket_for``, which
limit them to their own organization; another organization's ticket is a 404 whether
or not it exists. Internal notes, internal files and the desk's internal moves are
never loaded for a customer page. Staff who open a portal address are sent to the
matching desk page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from erpcare.accounts.models import User
from erpcare.core.errors import ActionError
from erpcare.tickets import services
from erpcare.tickets.forms import (
    PortalAttachForm,
    PortalCommentForm,
    PortalTicketForm,
    ReopenForm,
)
from erpcare.tickets.models import Channel, Status, Ticket
from erpcare.tickets.services.exporting import export_tickets
from erpcare.tickets.services.listing import TicketFilters, filter_tickets
from erpcare.tickets.views.common import (
    View,
    attachments_of,
    current_user,
    download,
    fetch_ticket,
    page_number,
    paginate,
    render_htmx,
    timeline,
)

# state → (label, status filter)
STATES: dict[str, tuple[Any, str | None]] = {
    "open": (pgettext_lazy("tickets not yet resolved", "Open"), "open"),
    "closed": (gettext_lazy("Resolved and closed"), f"{Status.RESOLVED},{Status.CLOSED}"),
    "all": (gettext_lazy("All"), None),
}


def portal_view(desk_name: str) -> Callable[[View], View]:
    """Customers only. Staff are redirected to the desk page ``desk_name`` (with the
    same ticket number, if any); anyone else gets 404."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = current_user(request)
            if user.is_staff:
                target = {"number": kwargs["number"]} if "number" in kwargs else {}
                return redirect(desk_name, **target)
            if not user.is_customer:
                raise Http404
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _list_filters(request: HttpRequest) -> tuple[str, str, TicketFilters]:
    state = request.GET.get("state", "open")
    if state not in STATES:
        state = "open"
    q = request.GET.get("q", "").strip()[:200]
    return state, q, TicketFilters(status=STATES[state][1], q=q or None, ordering="-updated")


@portal_view("desk:queue")
@require_GET
def ticket_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    state, q, filters = _list_filters(request)
    tickets = filter_tickets(user, filters).select_related("requester")
    context = {
        "states": [(key, label) for key, (label, _status) in STATES.items()],
        "state": state,
        "q": q,
        "page": paginate(tickets, page_number(request)),
        "export_query": urlencode({"state": state, "q": q}),
    }
    return render_htmx(
        request, "tickets/portal/list.html", "tickets/partials/portal_table.html", context
    )


@portal_view("desk:export")
@require_GET
def export(request: HttpRequest) -> HttpResponseBase:
    """The organization's tickets as listed (same state and search, all pages)."""
    user = current_user(request)
    _state, _q, filters = _list_filters(request)
    try:
        return export_tickets(
            user, filter_tickets(user, filters), filters, request.GET.get("format", "")
        )
    except ActionError as exc:
        return HttpResponse(
            exc.message, status=exc.status_code, content_type="text/plain; charset=utf-8"
        )


@portal_view("desk:new")
def new_ticket(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    status = 200
    if request.method == "POST":
        form = PortalTicketForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.create_ticket(
                    user,
                    title=data["title"],
                    description=data["description"],
                    type=data["type"],
                    channel=Channel.PORTAL,
                    impact=data["impact"],
                    urgency=data["urgency"],
                    module=data["module"],
                    erp_instance=data["erp_instance"],
                )
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(
                    request,
                    _("Thank you. Your ticket %(number)s was submitted.")
                    % {"number": ticket.number},
                )
                return redirect("portal:ticket", number=ticket.number)
        else:
            status = 400
    else:
        form = PortalTicketForm(user=user)
    return render(request, "tickets/portal/new.html", {"form": form}, status=status)


def render_portal_ticket(
    request: HttpRequest,
    ticket: Ticket,
    *,
    bound: dict[str, forms.Form] | None = None,
    error: str | None = None,
    status: int = 200,
) -> HttpResponse:
    forms_by_name: dict[str, forms.Form] = {
        "comment": PortalCommentForm(),
        "attach": PortalAttachForm(),
        "reopen": ReopenForm(),
    }
    forms_by_name.update(bound or {})
    context = {
        "ticket": ticket,
        "timeline": timeline(ticket, public_only=True),
        "attachments": attachments_of(ticket, public_only=True),
        "forms": forms_by_name,
        "error": error,
    }
    return render(request, "tickets/portal/ticket.html", context, status=status)


@portal_view("desk:ticket")
@require_GET
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    return render_portal_ticket(request, fetch_ticket(request, number))


@portal_view("desk:ticket")
@require_GET
def attachment(request: HttpRequest, number: str, attachment_id: int) -> FileResponse:
    return download(fetch_ticket(request, number), attachment_id, public_only=True)


Perform = Callable[[User, Ticket, dict[str, Any]], str]


def _run_action(
    request: HttpRequest, number: str, form_name: str, form: forms.Form, perform: Perform
) -> HttpResponse:
    ticket = fetch_ticket(request, number)
    if not form.is_valid():
        return render_portal_ticket(request, ticket, bound={form_name: form}, status=400)
    try:
        message = perform(current_user(request), ticket, form.cleaned_data)
    except ActionError as exc:
        fresh = fetch_ticket(request, number)
        return render_portal_ticket(
            request, fresh, bound={form_name: form}, error=exc.message, status=exc.status_code
        )
    messages.success(request, message)
    return redirect("portal:ticket", number=ticket.number)


@portal_view("desk:ticket")
@require_POST
def comment(request: HttpRequest, number: str) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        services.add_comment(user, ticket, body=data["body"], channel=Channel.PORTAL)
        return _("Your reply was sent.")

    return _run_action(request, number, "comment", PortalCommentForm(request.POST), perform)


@portal_view("desk:ticket")
@require_POST
def attach(request: HttpRequest, number: str) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        services.add_attachment(user, ticket, data["file"])
        return _("File attached.")

    form = PortalAttachForm(request.POST, request.FILES)
    return _run_action(request, number, "attach", form, perform)


class _NoInput(forms.Form):
    pass


@portal_view("desk:ticket")
@require_POST
def confirm(request: HttpRequest, number: str) -> HttpResponse:
    """The customer confirms the resolution: resolved → closed."""

    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        services.transition_ticket(user, ticket, to=Status.CLOSED)
        return _("Thank you for confirming. The ticket is closed.")

    return _run_action(request, number, "confirm", _NoInput(request.POST), perform)


@portal_view("desk:ticket")
@require_POST
def reopen(request: HttpRequest, number: str) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> str:
        services.reopen_ticket(user, ticket, reason=data["reason"])
        return _("The ticket was reopened. The support team will get back to you.")

    return _run_action(request, number, "reopen", ReopenForm(request.POST), perform)
