"""The worker side: the pump task, the periodic jobs, the SLA pass's events."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from erpcare.accounts.models import TeamMembership
from erpcare.channels import jobs
from erpcare.channels.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Event,
    NotificationRule,
)
from erpcare.channels.tasks import pump
from erpcare.core import clock, scheduler
from erpcare.sla.services.evaluator import evaluate_due
from erpcare.tickets.models import Priority
from erpcare.tickets.services import assign_ticket, create_ticket

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_jobs_are_registered():
    registered = scheduler.registered_jobs()
    assert registered["channels.pump"].func == "erpcare.channels.jobs.pump"
    assert registered["channels.fetch_mail"].cron == "* * * * *"
    assert registered["channels.purge"].func == "erpcare.channels.jobs.purge"


def test_pump_dispatches_new_events(cast):
    NotificationRule.objects.all().delete()
    NotificationRule.objects.create(name="m", recipient_roles=["managers"], channels=["in_app"])
    create_ticket(cast.alice, title="Pump", type="request")
    result = pump()
    assert result["dispatched"] == 1
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()
    assert "delivery_claimed" in result  # the delivery runner ran too
    assert "released" in result


def test_purge_keeps_recent_and_unsent_rows(cast, settings):
    settings.ERPCARE_OUTBOX_RETENTION_DAYS = 30
    now = clock.now()
    old = now - timedelta(days=31)

    def event(created: datetime) -> Event:
        return Event.objects.create(
            name="ticket.created", created_at=created, dispatched_at=created
        )

    def delivery(ev: Event, state: str, created: datetime) -> Delivery:
        return Delivery.objects.create(
            event=ev, channel="email", address="x@example.com", state=state,
            next_attempt_at=created, created_at=created,
        )  # fmt: skip

    old_sent_event = event(old)
    sent = delivery(old_sent_event, DeliveryState.SENT, old)
    DeliveryAttempt.objects.create(delivery=sent, started_at=old, ok=True)
    old_held_event = event(old)
    held = delivery(old_held_event, DeliveryState.HELD, old)
    recent_event = event(now)
    recent = delivery(recent_event, DeliveryState.SENT, now)
    assert jobs.purge() == {"deliveries": 1, "events": 1}
    assert not Event.objects.filter(pk=old_sent_event.pk).exists()
    assert not DeliveryAttempt.objects.exists()
    assert set(Delivery.objects.values_list("pk", flat=True)) == {held.pk, recent.pk}
    assert set(Event.objects.values_list("pk", flat=True)) == {old_held_event.pk, recent_event.pk}


@pytest.mark.usefixtures("sla_defaults")
def test_the_sla_pass_emits_sla_events_next_to_its_bells(cast):
    TeamMembership.objects.create(team=cast.l1_desk, user=cast.eric, is_lead=True)
    with clock.frozen_at(datetime(2026, 11, 23, 9, 0, tzinfo=SH)):
        ticket = create_ticket(
            cast.lina, title="MRP", organization=cast.globex, priority=Priority.P1
        )
        assign_ticket(cast.lina, ticket, assignee=cast.lina, team=cast.l1_desk)
    evaluate_due(datetime(2026, 11, 23, 10, 30, tzinfo=SH))
    warning = Event.objects.get(name="sla.warning")
    assert warning.ticket_id == ticket.pk
    assert warning.data["sla"]["target"] == "response"
    assert warning.data["sla"]["state"] == "warning"
    assert warning.data["ticket"]["number"] == ticket.number
    assert warning.data["actor"] is None
    evaluate_due(datetime(2026, 11, 23, 11, 0, tzinfo=SH))
    names = set(Event.objects.filter(name__startswith="sla.").values_list("name", flat=True))
    assert names == {"sla.warning", "sla.breached", "sla.escalated"}
    breach = Event.objects.get(name="sla.breached")
    due = datetime.fromisoformat(breach.data["sla"]["due_at"])
    assert due == datetime(2026, 11, 23, 11, 0, tzinfo=SH)
