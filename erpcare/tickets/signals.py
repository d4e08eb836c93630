"""Signals other apps (SLA, notifications, search) listen to.

``ticket_changed`` is sent only after the action's transaction commits, with the
ticket id and the kinds of events written, so receivers never see rolled-back work
and can enqueue background tasks safely.

``ticket_recorded`` is sent inside the action's transaction, right after its events are
written, with the saved ticket, the events and the audit action name. Receivers that keep
derived state which must never disagree with the ticket (the SLA clocks) use it, so a
crash can never leave the ticket changed and its clocks not.
"""

from django.dispatch import Signal

ticket_recorded = Signal()  # kwargs: ticket: Ticket, events: list[TicketEvent], action: str
ticket_changed = Signal()  # kwargs: ticket_id: int, event_kinds: list[str], actor_id: int | None
