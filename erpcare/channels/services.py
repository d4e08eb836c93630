"""Create and read notifications. Delivery by mail and chat hooks in here later."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from erpcare.accounts.models import User
from erpcare.channels.models import Notification
from erpcare.core import clock
from erpcare.core.bulk import insert_rows


@dataclass(frozen=True)
class Message:
    recipient_id: int
    kind: str
    title: str
    body: str = ""
    ticket_id: int | None = None


def notify_many(messages: Iterable[Message]) -> int:
    """Write notifications in one statement; the caller's transaction decides if they exist."""
    now = clock.now()
    rows = [
        Notification(
            recipient_id=m.recipient_id,
            kind=m.kind,
            title=m.title[:300],
            body=m.body,
            ticket_id=m.ticket_id,
            created_at=now,
        )
        for m in messages
    ]
    # The SLA pass writes hundreds at once: one executemany, not bulk_create's compiler.
    insert_rows(Notification, ("recipient", "kind", "title", "body", "ticket", "created_at"), rows)
    return len(rows)


def inbox(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("ticket")


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all, or the given ones); returns how many."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=clock.now())
