"""The channels app's periodic jobs (registered in ChannelsConfig.ready)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction

from erpcare.channels import tasks
from erpcare.channels.email.inbound.fetch import fetch_all
from erpcare.channels.models import Delivery, DeliveryState, Event
from erpcare.core import clock

PURGE_BATCH = 5000


def pump() -> dict[str, int]:
    """Safety net for missed wake-ups, retries and quiet hours that ended."""
    return tasks.pump()


def fetch_mail() -> dict[str, int]:
    """Fetch every active mailbox (``channels.email.inbound.fetch.fetch_all``)."""
    return fetch_all()


def purge() -> dict[str, int]:
    """Delete deliveries and events older than the retention period, in batches.

    Attempts go with their delivery (cascade). Unsent deliveries are kept whatever
    their age: nothing that is still to be delivered is lost to housekeeping.
    """
    cutoff = clock.now() - timedelta(days=settings.ERPCARE_OUTBOX_RETENTION_DAYS)
    finished = [DeliveryState.SENT, DeliveryState.DEAD, DeliveryState.CANCELLED]
    unfinished = [s for s in DeliveryState.values if s not in finished]
    deliveries = events = 0
    while True:
        ids = list(
            Delivery.objects.filter(created_at__lt=cutoff, state__in=finished).values_list(
                "pk", flat=True
            )[:PURGE_BATCH]
        )
        if not ids:
            break
        with transaction.atomic():
            deliveries += (
                Delivery.objects.filter(pk__in=ids).delete()[1].get(Delivery._meta.label, 0)
            )
    while True:
        ids = list(
            Event.objects.filter(created_at__lt=cutoff, dispatched_at__isnull=False)
            .exclude(deliveries__state__in=unfinished)
            .values_list("pk", flat=True)[:PURGE_BATCH]
        )
        if not ids:
            break
        with transaction.atomic():
            events += Event.objects.filter(pk__in=ids).delete()[1].get(Event._meta.label, 0)
    return {"deliveries": deliveries, "events": events}
