"""The ticket search provider, and the receiver that keeps ticket entries in step.

A ticket's document: number and title as the title; description, resolution and the
public comments as the body (internal notes never); tags as keywords; audience CUSTOMER
with the ticket's organization. Merged tickets are not indexed (their comments moved to
the surviving ticket, which is reindexed by the same merge).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.dispatch import receiver

from erpcare.accounts.models import User
from erpcare.search import registry
from erpcare.search.documents import Audience, Document
from erpcare.search.services.indexing import index
from erpcare.tickets.models import Comment, Ticket, TicketEvent
from erpcare.tickets.models.ticket import agent_team_scope
from erpcare.tickets.signals import ticket_recorded

TICKET = "ticket"
BATCH = 1000

# Events that cannot change what is indexed: the receiver skips the reindex for them.
_SILENT_KINDS = {
    TicketEvent.Kind.ASSIGNED,
    TicketEvent.Kind.ESCALATED,
    TicketEvent.Kind.DE_ESCALATED,
    TicketEvent.Kind.LINKED,
    TicketEvent.Kind.ATTACHED,
    TicketEvent.Kind.STATUS,
}
_SILENT_FIELDS = {"priority", "impact", "urgency", "category"}


class TicketProvider:
    kind = TICKET

    def documents(self, ids: Iterable[int]) -> Iterator[Document]:
        wanted = list(ids)
        tickets = list(
            Ticket.objects.filter(pk__in=wanted, merged_into__isnull=True)
            .select_related("erp_instance")
            .prefetch_related("tags")
            .only(
                "id", "number", "type", "title", "description", "resolution", "module",
                "organization_id", "updated_at", "erp_instance__product",
                "erp_instance__version",
            )
        )  # fmt: skip
        comments: dict[int, list[str]] = defaultdict(list)
        rows = (
            Comment.objects.filter(ticket_id__in=[t.pk for t in tickets], is_internal=False)
            .order_by("ticket_id", "created_at", "id")
            .values_list("ticket_id", "body")
        )
        for ticket_id, body in rows:
            comments[ticket_id].append(body)
        for ticket in tickets:
            instance = ticket.erp_instance
            product = f"{instance.product} {instance.version}".strip() if instance else ""
            yield Document(
                kind=TICKET,
                object_id=ticket.pk,
                title=f"{ticket.number} {ticket.title}",
                body="\n\n".join(
                    part
                    for part in (ticket.description, ticket.resolution, *comments[ticket.pk])
                    if part
                ),
                audience=Audience.CUSTOMER,
                organization_id=ticket.organization_id,
                updated_at=ticket.updated_at,
                module=ticket.module,
                doc_type=ticket.type,
                product=product,
                keywords=" ".join(tag.name for tag in ticket.tags.all()),
            )

    def all_ids(self) -> Iterator[int]:
        last = 0
        while True:
            ids = list(
                Ticket.objects.filter(pk__gt=last, merged_into__isnull=True)
                .order_by("pk")
                .values_list("pk", flat=True)[:BATCH]
            )
            if not ids:
                return
            yield from ids
            last = ids[-1]

    def visible_ids(self, user: User, ids: Iterable[int]) -> set[int]:
        wanted = list(ids)
        if not wanted:
            return set()
        return set(
            Ticket.objects.visible_to(user).filter(pk__in=wanted).values_list("pk", flat=True)
        )

    def prefilter(self, user: User) -> QuerySet[Any] | None:
        """The tickets an agent may see, for the SQL pre-filter of a search; None when
        the index's own audience rule already says it (customers: their organization)
        or the user sees every ticket."""
        if user.is_customer or user.sees_all_tickets:
            return None
        if user.is_agent and agent_team_scope(user)[1]:
            return None
        return Ticket.objects.visible_to(user).values("pk")


registry.register(TicketProvider())


def _changes_text(events: list[TicketEvent]) -> bool:
    for event in events:
        if event.kind in _SILENT_KINDS:
            continue
        if event.kind == TicketEvent.Kind.COMMENTED and event.is_internal:
            continue
        if event.kind == TicketEvent.Kind.CHANGED and event.field in _SILENT_FIELDS:
            continue
        return True
    return False


@receiver(ticket_recorded, sender=Ticket, dispatch_uid="search.index_ticket")
def _index_ticket(
    sender: type[Ticket], ticket: Ticket, events: list[TicketEvent], action: str, **_: Any
) -> None:
    """Inside the action's transaction: the entry commits or rolls back with the ticket."""
    if _changes_text(events):
        index(TICKET, [ticket.pk])
