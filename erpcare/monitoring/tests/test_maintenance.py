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


def release(at: datetime) -> dict[str, int]:
    from erpcare.core import clock
    from erpcare.monitoring.pipeline import release_ended_maintenance

    with clock.frozen_at(at):
        return release_ended_maintenance()


@pytest.mark.django_db
def test_an_alert_still_firing_when_its_window_ends_opens_its_incident(cast: Cast) -> None:
    window(cast, ends_at=T0 + timedelta(minutes=30))
    integ = integration(cast)
    store(integ, am_alert("fp1", instance="db01"), am_alert("fp2", instance="db02"))
    store(integ, am_alert("fp3", instance="db03"))
    run()
    store(integ, am_alert("fp3", instance="db03", status="resolved"), at=T0 + timedelta(minutes=5))
    run(T0 + timedelta(minutes=5))
    assert incidents() == []
    # Still inside the window: nothing happens.
    assert release(T0 + timedelta(minutes=29)) == {}
    assert incidents() == []
    stats = release(T0 + timedelta(minutes=31))
    assert stats["released"] == 2  # fp3 resolved during the window: no incident for it
    (ticket,) = incidents()  # default grouping: same customer, instance and alertname
    firing = Alert.objects.filter(identity__in=["fp1", "fp2"])
    assert {a.incident_id for a in firing} == {ticket.pk}
    assert all(a.suppressed_by is None for a in firing)
    assert Alert.objects.get(identity="fp3").incident is None
    notes = [t.note for t in firing[0].transitions.all()]
    assert "Maintenance window ended; still firing" in notes
    # Done once: the next minute changes nothing.
    assert release(T0 + timedelta(minutes=32)) == {}
    assert len(incidents()) == 1


@pytest.mark.django_db
def test_a_window_that_ends_reopens_the_incident_a_flapping_alert_had(cast: Cast) -> None:
    integ = integration(cast)
    store(integ, am_alert("fp1", instance="db01"))
    run()
    store(integ, am_alert("fp1", status="resolved", instance="db01"), at=T0 + timedelta(minutes=1))
    run(T0 + timedelta(minutes=1))
    (ticket,) = incidents()
    window(cast, starts_at=T0 + timedelta(minutes=2), ends_at=T0 + timedelta(minutes=10))
    again = am_alert("fp1", instance="db01")
    again["startsAt"] = "2026-11-10T08:02:30Z"
    store(integ, again, at=T0 + timedelta(minutes=3))
    run(T0 + timedelta(minutes=3))
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    stats = release(T0 + timedelta(minutes=11))
    assert stats["incidents_reopened"] == 1
    ticket.refresh_from_db()
    assert ticket.status not in ("resolved", "closed")


@pytest.mark.django_db
def test_an_alert_passed_from_one_window_to_the_next_stays_held(cast: Cast) -> None:
    first = window(cast, ends_at=T0 + timedelta(minutes=30))
    second = window(
        cast, name="second", starts_at=T0 + timedelta(minutes=25), ends_at=T0 + timedelta(hours=2)
    )
    integ = integration(cast)
    store(integ, am_alert("fp1", instance="db01"))
    run()
    assert Alert.objects.get().suppressed_by == first
    assert release(T0 + timedelta(minutes=31)) == {}
    alert = Alert.objects.get()
    assert alert.suppressed_by == second
    assert alert.incident is None
    assert incidents() == []


def test_the_worker_checks_for_ended_windows_every_minute() -> None:
    from erpcare.core import pollers
    from erpcare.monitoring import worker

    registered = pollers.registered_pollers()[worker.MAINTENANCE_POLLER_NAME]
    assert registered.func is worker.release_maintenance
    assert registered.idle_seconds == 60
