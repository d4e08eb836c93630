"""Fetch and authorise together."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.core.errors import NotFound
from erpcare.tickets.models import Attachment, Comment, Ticket, TicketEvent, TicketQuerySet

# What a customer sees of a ticket's history besides the replies themselves: the steps of
# the workflow, not the desk's internal moves (assignment, escalation reasons, links that
# may name other customers' tickets). The portal's timeline shows the same kinds.
CUSTOMER_EVENT_KINDS = (
    TicketEvent.Kind.CREATED,
    TicketEvent.Kind.STATUS,
    TicketEvent.Kind.REOPENED,
    TicketEvent.Kind.ATTACHED,
    TicketEvent.Kind.MERGED,
)


def visible_tickets(user: User) -> TicketQuerySet:
    return Ticket.objects.visible_to(user)


def get_ticket_for(user: User, ref: str | int, *, for_update: bool = False) -> Ticket:
    """The ticket with this number (``INC-2026-000123``) or id, if ``user`` may see it.

    A ticket that exists but is out of the user's scope raises the same NotFound as one
    that does not exist, so numbers cannot be probed.
    """
    queryset = visible_tickets(user)
    if for_update:
        # of=self: PostgreSQL cannot lock the nullable side of the outer joins below.
        queryset = queryset.select_for_update(of=("self",))
    ref_text = str(ref).strip()
    if not ref_text or len(ref_text) > 24 or "\x00" in ref_text:
        raise NotFound(_("Ticket not found."))
    lookup: dict[str, int | str]
    if ref_text.isdigit():
        if len(ref_text) > 18:  # beyond a 64-bit key: PostgreSQL would raise, not miss
            raise NotFound(_("Ticket not found."))
        lookup = {"pk": int(ref_text)}
    else:
        lookup = {"number": ref_text.upper()}
    try:
        return queryset.select_related(
            "organization", "erp_instance", "requester", "team", "assignee"
        ).get(**lookup)
    except (Ticket.DoesNotExist, ValueError, OverflowError):
        raise NotFound(_("Ticket not found.")) from None


# What is said, shown and kept on a ticket, oldest first. ``public_only`` is what a
# customer may see: no internal notes, no internal files, only CUSTOMER_EVENT_KINDS.


def comments_of(ticket: Ticket, *, public_only: bool) -> QuerySet[Comment]:
    comments = Comment.objects.filter(ticket=ticket).select_related("author")
    if public_only:
        comments = comments.filter(is_internal=False)
    return comments.order_by("created_at", "id")


def events_of(ticket: Ticket, *, public_only: bool) -> QuerySet[TicketEvent]:
    events = TicketEvent.objects.filter(ticket=ticket).select_related("actor")
    if public_only:
        events = events.filter(is_internal=False, kind__in=CUSTOMER_EVENT_KINDS)
    return events.order_by("created_at", "id")


def files_of(ticket: Ticket, *, public_only: bool) -> QuerySet[Attachment]:
    files = Attachment.objects.filter(ticket=ticket).select_related("uploaded_by")
    if public_only:
        files = files.filter(is_internal=False)
    return files.order_by("created_at", "id")
