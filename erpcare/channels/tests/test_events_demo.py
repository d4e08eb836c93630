"""The demo's channel data: history is not news, one example robot, mail domains, rules."""

from __future__ import annotations

from datetime import datetime

import pytest

from erpcare.channels.dispatch import dispatch_pending
from erpcare.channels.models import (
    CustomerMailDomain,
    Delivery,
    Destination,
    Event,
    NotificationRule,
)
from erpcare.demo.plan import LOCAL
from erpcare.demo.seed import seed_demo

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_channels_and_its_history_sends_nothing():
    seed_demo(tickets=30, now=datetime(2026, 11, 18, 15, 0, tzinfo=LOCAL))
    assert Event.objects.exists()
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()
    assert dispatch_pending() == 0
    assert not Delivery.objects.exists()
    robot = Destination.objects.get()
    assert robot.kind == "wecom"
    assert not robot.is_active
    assert CustomerMailDomain.objects.count() >= 2
    assert NotificationRule.objects.filter(name="Requester: ticket updates").exists()
