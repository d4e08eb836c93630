"""Resolved tickets the customer never confirmed are closed after the auto-close period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from erpcare.audit.models import AuditEntry
from erpcare.core import clock
from erpcare.tickets import services
from erpcare.tickets.models import Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 9, 10, 4, 0, tzinfo=UTC)


def resolved(cast, days_ago, status=Status.RESOLVED):
    ticket = services.create_ticket(cast.alice, title=f"resolved {days_ago} days ago")
    Ticket.objects.filter(pk=ticket.pk).update(
        status=status, resolved_at=NOW - timedelta(days=days_ago)
    )
    return ticket


def test_tickets_resolved_longer_than_the_period_are_closed(cast, settings):
    settings.ERPCARE_AUTO_CLOSE_DAYS = 7
    old = resolved(cast, 8)
    fresh = resolved(cast, 6)
    with clock.frozen_at(NOW):
        assert services.auto_close_resolved() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.status, old.closed_at) == (Status.CLOSED, NOW)
    assert fresh.status == Status.RESOLVED


def test_auto_close_is_recorded_as_the_system(cast):
    ticket = resolved(cast, 30)
    with clock.frozen_at(NOW):
        services.auto_close_resolved()
    event = TicketEvent.objects.get(ticket=ticket, kind="status")
    assert (event.actor, event.old_value, event.new_value, event.note) == (
        None,
        "resolved",
        "closed",
        "auto-close",
    )
    audit = AuditEntry.objects.get(action="ticket.auto_closed")
    assert (audit.actor, audit.channel, audit.ip) == (None, "system", None)
    assert audit.data == {"number": ticket.number, "after_days": 7}


def test_open_and_closed_tickets_are_left_alone(cast):
    for status in (Status.OPEN, Status.WAITING_CUSTOMER, Status.CLOSED):
        resolved(cast, 30, status=status)
    with clock.frozen_at(NOW):
        assert services.auto_close_resolved() == 0


def test_period_can_be_given_and_work_is_batched(cast):
    for days in (3, 4, 5):
        resolved(cast, days)
    with clock.frozen_at(NOW):
        assert services.auto_close_resolved(older_than_days=2, batch=2) == 2
        assert services.auto_close_resolved(older_than_days=2, batch=2) == 1
        assert services.auto_close_resolved(older_than_days=2, batch=2) == 0
    assert Ticket.objects.filter(status=Status.CLOSED).count() == 3


def test_running_twice_closes_nothing_twice(cast):
    resolved(cast, 10)
    with clock.frozen_at(NOW):
        services.auto_close_resolved()
        services.auto_close_resolved()
    assert AuditEntry.objects.filter(action="ticket.auto_closed").count() == 1
