"""CSAT on resolution: after the resolving action commits, invite the requester.

``ticket_changed`` (after commit) rather than ``ticket_recorded``: a survey is not part
of the ticket's state, and no ticket action should pay for it or fail because of it. A
failure here is logged and the ``surveys.csat_sweep`` job invites later.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from erpcare.tickets.models import Ticket
from erpcare.tickets.signals import ticket_changed

log = logging.getLogger(__name__)


@receiver(ticket_changed, sender=Ticket, dispatch_uid="surveys.csat")
def _on_ticket_changed(
    sender: type[Ticket], ticket_id: int, event_kinds: list[str], **_: Any
) -> None:
    if "status" not in event_kinds:
        return
    from erpcare.surveys.services.invitations import invite_csat

    try:
        invite_csat(ticket_id)
    except Exception:  # the ticket change stands; the sweep job tries again
        log.exception("CSAT invitation for ticket %s failed", ticket_id)
