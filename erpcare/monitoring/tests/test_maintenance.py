"""Maintenance windows: one-off and recurring, and the pipeline's suppression."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from erpcare.conftest import Cast
from erpcare.monitoring.maintenance import active_window
from erpcare.monitoring.models import Alert, MaintenanceWindow
from erpcare.monitoring.tests.test_pipeline import T0, am_alert, incidents, integration, run, store

NOV_1 = datetime.fromisoformat("2026-11-01T00:00:00+00:00")
DEC_1 = datetime.fromisoformat("2026-12-01T00:00:00+00:00")


def shanghai(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


def window(cast: Cast, **fields: object) -> MaintenanceWindow:
    values: dict[str, object] = {
        "name": "upgrade",
        "organization": cast.acme,
        "starts_at": T0 - timedelta(hours=1),
        "ends_at": T0 + timedelta(hours=1),
        "created_at": T0,
        **fields,
    }
    return MaintenanceWindow.objects.create(**values)


@pytest.mark.django_db
def test_one_off_window_covers_its_customer_and_instances(cast: Cast) -> None:
    upgrade = window(cast)
    upgrade.erp_instances.add(cast.acme_erp)
    assert active_window(cast.acme, cast.acme_erp, T0) == upgrade
    assert active_window(cast.acme, None, T0) is None  # not on one of its instances
    assert active_window(cast.globex, cast.globex_erp, T0) is None
    assert active_window(cast.acme, cast.acme_erp, T0 + timedelta(hours=1)) is None
    assert active_window(cast.acme, cast.acme_erp, T0 - timedelta(hours=2)) is None
    upgrade.is_active = False
    upgrade.save()
    assert active_window(cast.acme, cast.acme_erp, T0) is None


@pytest.mark.django_db
def test_a_window_without_instances_covers_the_whole_customer(cast: Cast) -> None:
    whole = window(cast)
    assert active_window(cast.acme, cast.acme_erp, T0) == whole
    assert active_window(cast.acme, None, T0) == whole


@pytest.mark.django_db
def test_recurring_window_across_midnight_in_its_time_zone(cast: Cast) -> None:
    nightly = window(
        cast, starts_at=NOV_1, ends_at=DEC_1, cron="0 23 * * *", duration_minutes=120,
        time_zone="Asia/Shanghai",
    )  # fmt: skip
    assert active_window(cast.acme, cast.acme_erp, shanghai("2026-11-10T23:00:00")) == nightly
    assert active_window(cast.acme, cast.acme_erp, shanghai("2026-11-11T00:30:00")) == nightly
    assert active_window(cast.acme, cast.acme_erp, shanghai("2026-11-11T01:00:00")) is None
    assert active_window(cast.acme, cast.acme_erp, shanghai("2026-11-10T22:59:00")) is None
    assert active_window(cast.acme, cast.acme_erp, shanghai("2026-12-01T23:30:00")) is None


@pytest.mark.django_db
def test_a_broken_schedule_never_suppresses(cast: Cast) -> None:
    window(cast, cron="not a cron", duration_minutes=60)
    assert active_window(cast.acme, cast.acme_erp, T0) is None


@pytest.mark.django_db
def test_alerts_during_maintenance_are_recorded_without_incident(cast: Cast) -> None:
    upgrade = window(cast)
    integ = integration(cast)
    store(integ, am_alert("fp1", instance="db01"))
    stats = run()
    alert = Alert.objects.get()
    assert stats["suppressed"] == 1
    assert alert.suppressed_by == upgrade
    assert alert.incident is None
    assert alert.group_key != ""
    assert incidents() == []


@pytest.mark.django_db
def test_maintenance_stops_a_flapping_alert_from_reopening_its_incident(cast: Cast) -> None:
    integ = integration(cast)
    store(integ, am_alert("fp1", instance="db01"))
    run()
    store(integ, am_alert("fp1", status="resolved", instance="db01"), at=T0 + timedelta(minutes=1))
    run(T0 + timedelta(minutes=1))
    (ticket,) = incidents()
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    window(cast, starts_at=T0 + timedelta(minutes=2))
    again = am_alert("fp1", instance="db01")
    again["startsAt"] = "2026-11-10T08:02:30Z"  # firing anew: not a byte-identical re-send
    store(integ, again, at=T0 + timedelta(minutes=3))
    run(T0 + timedelta(minutes=3))
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    alert = Alert.objects.get()
    assert alert.status == "firing"
    assert alert.suppressed_by is not None
