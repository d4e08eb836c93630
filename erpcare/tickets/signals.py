"""Signals other apps (SLA, notifications, search) listen to.

``ticket_changed`` is sent only after the action's transaction commits, with the
ticket id and the kinds of events written, so receivers never see rolled-back work
and can enqueue background tasks safely.
"""

from django.dispatch import Signal

ticket_changed = Signal()  # kwargs: ticket_id: int, event_kinds: list[str], actor_id: int | None
