"""The agent workspace: queues, one ticket with its actions, and tickets taken by phone.

Every view is thin: it fetches the ticket through ``get_ticket_for`` (404 outside the
user's scope), validates the form and calls one action in ``erpcare.tickets.services``.
An ActionError re-renders the page with the message and the status code it carries;
the action ran in one transaction, so nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from erpcare.accounts.models import STAFF_ROLES, TeamMembership, User
from erpcare.core.errors import ActionError
from erpcare.problems.models import ProblemIncident
from erpcare.problems.services import problems as problem_services
from erpcare.problems.services.reviews import review_required
from erpcare.tickets import services
from erpcare.tickets.forms import (
    AssignForm,
    AttachForm,
    CommentForm,
    DeskTicketForm,
    EscalateForm,
    LinkForm,
    MergeForm,
    QueueFilterForm,
    TransitionForm,
)
from erpcare.tickets.models import (
    TRANSITIONS,
    Channel,
    SlaState,
    Status,
    Ticket,
    TicketQuerySet,
)
from erpcare.tickets.services.exporting import export_tickets
from erpcare.tickets.services.listing import TicketFilters, filter_tickets
from erpcare.tickets.views.common import (
    attachments_of,
    current_user,
    download,
    fetch_ticket,
    links_of,
    page_number,
    paginate,
    render_htmx,
    staff_view,
    timeline,
)

# ---------------------------------------------------------------------------
# Queue
# ---------------------------------------------------------------------------


class DeskQueueFilterForm(QueueFilterForm):
    """The queue filters plus the SLA: a state to narrow to and "SLA due" ordering."""

    sla = forms.ChoiceField(
        label=gettext_lazy("SLA"),
        required=False,
        choices=[
            ("", gettext_lazy("Any SLA state")),
            *((value, label) for value, label in SlaState.choices if value),
        ],
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        ordering = cast(forms.ChoiceField, self.fields["ordering"])
        choices = cast(list[tuple[str, Any]], ordering.choices)
        ordering.choices = [*choices, ("sla_due", gettext_lazy("SLA due first"))]


SLA_QUEUE = {"status": "open", "ordering": "sla_due"}

# name → (label, default filters). Filters given in the query string win.
QUEUES: dict[str, tuple[Any, dict[str, str]]] = {
    "mine": (gettext_lazy("Mine"), {"status": "open", "assignee": "me"}),
    "team": (gettext_lazy("My teams"), {"status": "open"}),
    "unassigned": (gettext_lazy("Unassigned"), {"status": "open", "assignee": "none"}),
    "open": (gettext_lazy("All open"), {"status": "open"}),
    "p0": ("P0", {"status": "open", "priority": "P0"}),
    "p1": ("P1", {"status": "open", "priority": "P1"}),
    "p2": ("P2", {"status": "open", "priority": "P2"}),
    "p3": ("P3", {"status": "open", "priority": "P3"}),
    "breaching": (gettext_lazy("Breaching soon"), {**SLA_QUEUE, "sla": SlaState.WARNING.value}),
    "breached": (gettext_lazy("Breached"), {**SLA_QUEUE, "sla": SlaState.BREACHED.value}),
    "all": (gettext_lazy("All tickets"), {}),
}
DEFAULT_QUEUE = "open"
QUEUE_RELATED = ("organization", "team", "assignee")


def _queue_params(request: HttpRequest) -> tuple[str, QueryDict]:
    """The queue's name and its filters: the query string over the queue's defaults."""
    name = request.GET.get("queue", DEFAULT_QUEUE)
    if name not in QUEUES:
        name = DEFAULT_QUEUE
    params = request.GET.copy()
    params["queue"] = name
    for key, value in QUEUES[name][1].items():
        params.setdefault(key, value)
    return name, params


def _queue_tickets(user: User, name: str, filters: TicketFilters) -> TicketQuerySet:
    tickets = filter_tickets(user, filters)
    if name == "team":
        tickets = tickets.filter(
            team_id__in=TeamMembership.objects.filter(user=user).values("team_id")
        )
    return tickets


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The ticket queues with filters; the table refreshes through htmx."""
    user = current_user(request)
    if not user.is_staff:
        return redirect("portal:tickets")
    name, params = _queue_params(request)
    filter_form = DeskQueueFilterForm(params, user=user)
    error = None
    page: dict[str, Any] = paginate(Ticket.objects.none(), 1)
    try:
        tickets = _queue_tickets(user, name, TicketFilters.from_mapping(params))
        tickets = tickets.select_related(*QUEUE_RELATED).defer("description", "resolution")
        page = paginate(tickets, page_number(request))
    except ActionError as exc:
        error = exc.message
    export_params = params.copy()
    export_params.pop("page", None)
    context = {
        "queues": [(key, label) for key, (label, _filters) in QUEUES.items()],
        "queue": name,
        "filter_form": filter_form,
        "page": page,
        "error": error,
        "export_query": export_params.urlencode(),
    }
    return render_htmx(
        request,
        "tickets/desk/queue.html",
        "tickets/partials/queue_table.html",
        context,
        status=400 if error else 200,
    )


@staff_view
@require_GET
def export(request: HttpRequest) -> HttpResponseBase:
    """The queue as shown (same queue, same filters, all pages) as CSV or XLSX."""
    user = current_user(request)
    name, params = _queue_params(request)
    try:
        filters = TicketFilters.from_mapping(params)
        tickets = _queue_tickets(user, name, filters)
        return export_tickets(
            user, tickets, filters, params.get("format", ""), extra={"queue": name}
        )
    except ActionError as exc:
        return HttpResponse(
            exc.message, status=exc.status_code, content_type="text/plain; charset=utf-8"
        )


# ---------------------------------------------------------------------------
# One ticket
# ---------------------------------------------------------------------------


def _staff_choices() -> list[User]:
    return list(
        User.objects.filter(role__code__in=STAFF_ROLES, is_active=True)
        .only("id", "email", "display_name")
        .order_by("display_name")[:500]
    )


def _status_form(ticket: Ticket, data: Any = None) -> TransitionForm:
    """The workflow moves allowed from the ticket's status, except resolving, which has
    its own form."""
    form = TransitionForm(data)
    allowed = TRANSITIONS.get(ticket.status, frozenset()) - {Status.RESOLVED}
    to = cast(forms.ChoiceField, form.fields["to"])
    to.choices = [(value, label) for value, label in Status.choices if value in allowed]
    return form


def render_ticket(
    request: HttpRequest,
    ticket: Ticket,
    *,
    bound: dict[str, forms.Form] | None = None,
    error: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The ticket page; ``bound`` replaces the empty form of a failed action so the
    input and its field errors are shown again."""
    user = current_user(request)
    can_work = user.is_support_staff and not user.is_read_only
    forms_by_name: dict[str, forms.Form] = {
        "comment": CommentForm(),
        "attach": AttachForm(),
        "assign": AssignForm(
            user=user,
            tier=ticket.tier,
            initial={"team": ticket.team.code if ticket.team else None},
        ),
        "escalate": EscalateForm(initial={"tier": min(ticket.tier + 1, 3)}),
        "status": _status_form(ticket),
        "resolve": TransitionForm(initial={"to": Status.RESOLVED}, auto_id="resolve_%s"),
        "link": LinkForm(),
        "merge": MergeForm(),
    }
    forms_by_name.update(bound or {})
    context = {
        "ticket": ticket,
        "tags": list(ticket.tags.all()),
        "timeline": timeline(ticket, public_only=False),
        "attachments": attachments_of(ticket, public_only=False),
        "links": links_of(ticket),
        "forms": forms_by_name,
        "staff": _staff_choices() if can_work else [],
        "can_work": can_work,
        "can_resolve": Status.RESOLVED in TRANSITIONS.get(ticket.status, frozenset()),
        "error": error,
    }
    if problem_services.can_read(user):
        link = ProblemIncident.objects.filter(ticket=ticket).select_related("problem").first()
        context["problem"] = link.problem if link else None
        context["review_required"] = review_required(ticket)
    return render(request, "tickets/desk/ticket.html", context, status=status)


@staff_view
@require_GET
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    return render_ticket(request, fetch_ticket(request, number))


@staff_view
@require_GET
def attachment(request: HttpRequest, number: str, attachment_id: int) -> FileResponse:
    return download(fetch_ticket(request, number), attachment_id, public_only=False)


Perform = Callable[[User, Ticket, dict[str, Any]], tuple[str, Ticket | None]]


def _run_action(
    request: HttpRequest,
    number: str,
    form_name: str,
    form: forms.Form,
    perform: Perform,
) -> HttpResponse:
    """Validate ``form``, run ``perform`` (which calls one service action and returns the
    success message and the ticket to show next), redirect on success."""
    ticket = fetch_ticket(request, number)
    if not form.is_valid():
        return render_ticket(request, ticket, bound={form_name: form}, status=400)
    try:
        message, next_ticket = perform(current_user(request), ticket, form.cleaned_data)
    except ActionError as exc:
        # The action rolled back; show the ticket as it is in the database.
        fresh = fetch_ticket(request, number)
        return render_ticket(
            request, fresh, bound={form_name: form}, error=exc.message, status=exc.status_code
        )
    messages.success(request, message)
    return redirect("desk:ticket", number=(next_ticket or ticket).number)


@staff_view
@require_POST
def comment(request: HttpRequest, number: str) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> tuple[str, None]:
        services.add_comment(
            user, ticket, body=data["body"], internal=data["internal"], channel=Channel.WEB
        )
        if data["internal"]:
            return _("Internal note added."), None
        return _("Reply sent."), None

    return _run_action(request, number, "comment", CommentForm(request.POST), perform)


@staff_view
@require_POST
def attach(request: HttpRequest, number: str) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> tuple[str, None]:
        services.add_attachment(user, ticket, data["file"], internal=data["internal"])
        return _("File attached."), None

    form = AttachForm(request.POST, request.FILES)
    return _run_action(request, number, "attach", form, perform)


@staff_view
@require_POST
def assign(request: HttpRequest, number: str) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> tuple[str, None]:
        services.assign_ticket(user, ticket, assignee=data["assignee"], team=data["team"])
        return _("Assignment saved."), None

    form = AssignForm(request.POST, user=current_user(request))  # the service checks the tier
    return _run_action(request, number, "assign", form, perform)


@staff_view
@require_POST
def escalate(request: HttpRequest, number: str) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> tuple[str, None]:
        services.escalate_ticket(
            user, ticket, tier=data["tier"], reason=data["reason"], team=data["team"]
        )
        return _("The ticket's support tier was changed."), None

    return _run_action(request, number, "escalate", EscalateForm(request.POST), perform)


@staff_view
@require_POST
def transition(request: HttpRequest, number: str) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> tuple[str, None]:
        services.transition_ticket(
            user,
            ticket,
            to=data["to"],
            resolution_code=data["resolution_code"],
            resolution=data["resolution"],
            note=data["note"],
        )
        if data["to"] == Status.RESOLVED:
            return _("The ticket is resolved."), None
        return _("Status changed."), None

    resolving = request.POST.get("to") == Status.RESOLVED
    if resolving:
        form: TransitionForm = TransitionForm(request.POST, auto_id="resolve_%s")
    else:
        form = _status_form(fetch_ticket(request, number), request.POST)
    return _run_action(request, number, "resolve" if resolving else "status", form, perform)


def _other_ticket(request: HttpRequest, ref: str) -> Ticket:
    """The ticket a link or merge points to, through the same scoping (NotFound → 404)."""
    return services.get_ticket_for(current_user(request), ref)


@staff_view
@require_POST
def link(request: HttpRequest, number: str) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> tuple[str, None]:
        target = _other_ticket(request, data["target"])
        services.link_tickets(user, ticket, target, kind=data["kind"])
        return _("Tickets linked."), None

    return _run_action(request, number, "link", LinkForm(request.POST), perform)


@staff_view
@require_POST
def merge(request: HttpRequest, number: str) -> HttpResponse:
    def perform(user: User, ticket: Ticket, data: dict[str, Any]) -> tuple[str, Ticket]:
        target = _other_ticket(request, data["into"])
        merged = services.merge_tickets(user, ticket, target, reason=data["reason"])
        return (
            _("%(source)s was merged into this ticket.") % {"source": ticket.number},
            merged,
        )

    return _run_action(request, number, "merge", MergeForm(request.POST), perform)


# ---------------------------------------------------------------------------
# New ticket (taken by phone, e-mail or chat)
# ---------------------------------------------------------------------------


@staff_view
def new_ticket(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    status = 200
    if request.method == "POST":
        form = DeskTicketForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.create_ticket(
                    user,
                    title=data["title"],
                    description=data["description"],
                    organization=data["customer"],
                    type=data["type"],
                    channel=data["channel"],
                    impact=data["impact"],
                    urgency=data["urgency"],
                    priority=data["priority"],
                    category=data["category"],
                    module=data["module"],
                    erp_instance=data["erp_instance"],
                    requester=data["requester"],
                )
            except ActionError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(
                    request, _("Ticket %(number)s was created.") % {"number": ticket.number}
                )
                return redirect("desk:ticket", number=ticket.number)
        else:
            status = 400
    else:
        form = DeskTicketForm(initial={"customer": request.GET.get("customer")}, user=user)
    form.fields["customer"].widget.attrs["hx-get"] = reverse("desk:new")
    return render_htmx(
        request,
        "tickets/desk/new.html",
        "tickets/partials/customer_dependent.html",
        {"form": form, "can_work": user.is_support_staff and not user.is_read_only},
        status=status,
    )
