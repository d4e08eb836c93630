"""Keeps the SLA clocks in step with every ticket action, inside its transaction."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from erpcare.sla.services.clocks import follow_ticket
from erpcare.tickets.models import Ticket, TicketEvent
from erpcare.tickets.signals import ticket_recorded


@receiver(ticket_recorded, sender=Ticket, dispatch_uid="sla.follow_ticket")
def _follow(
    sender: type[Ticket], ticket: Ticket, events: list[TicketEvent], action: str, **_: Any
) -> None:
    follow_ticket(ticket, events, action)
