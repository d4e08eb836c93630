"""Ticket actions: one function per state change.

Each action validates its input and the actor's rights, writes the ticket rows, one
TicketEvent per change and one audit entry in a single transaction, and announces the
change through ``ticket_changed`` after commit. Views, the API, e-mail intake and
alert intake all call these functions; nothing else writes tickets.
"""

from erpcare.tickets.services.access import get_ticket_for, visible_tickets
from erpcare.tickets.services.actions import (
    add_attachment,
    add_comment,
    apply_sla_escalation,
    assign_ticket,
    auto_close_resolved,
    create_ticket,
    escalate_ticket,
    link_tickets,
    merge_tickets,
    reopen_ticket,
    transition_ticket,
    update_ticket,
)

__all__ = [
    "add_attachment",
    "add_comment",
    "apply_sla_escalation",
    "assign_ticket",
    "auto_close_resolved",
    "create_ticket",
    "escalate_ticket",
    "get_ticket_for",
    "link_tickets",
    "merge_tickets",
    "reopen_ticket",
    "transition_ticket",
    "update_ticket",
    "visible_tickets",
]
