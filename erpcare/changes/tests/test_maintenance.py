"""A scheduled change's maintenance windows, through the real alert pipeline: an alert for
one of its instances during its window opens no incident; an alert for another instance,
or after the window (also when the change ended early), does."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from erpcare.changes.models import Change
from erpcare.changes.services import workflow
from erpcare.changes.services.maintenance import windows_of
from erpcare.changes.tests.test_workflow import MEDIUM, new_change, to_approval
from erpcare.conftest import Cast
from erpcare.core import clock
from erpcare.customers.models import ErpInstance
from erpcare.monitoring.models import Alert, Integration
from erpcare.monitoring.tests.test_pipeline import am_alert, incidents, integration, run, store

PLANNED = datetime.fromisoformat("2026-11-02T02:00:00+00:00")
START = datetime.fromisoformat("2026-11-10T07:00:00+00:00")
END = datetime.fromisoformat("2026-11-10T09:00:00+00:00")


def at(moment: datetime) -> Any:
    return clock.frozen_at(moment)


def scheduled(cast: Cast, start: datetime = START, end: datetime = END, **fields: Any) -> Change:
    with at(PLANNED):
        change = to_approval(
            cast, new_change(cast, planned_start=start, planned_end=end, **fields), MEDIUM
        )
        workflow.approve_change(cast.mona, change)
        return workflow.schedule_change(cast.eric, change)


def fire(integ: Integration, fingerprint: str, moment: datetime) -> Alert:
    name = f"Down{fingerprint}"
    store(integ, am_alert(fingerprint, name, instance=fingerprint), at=moment)
    run(moment)
    return Alert.objects.get(name=name)


@pytest.fixture
def bw(cast: Cast) -> ErpInstance:
    return ErpInstance.objects.create(
        organization=cast.acme, name="Acme BW", product="sap", version="7.5"
    )


@pytest.mark.django_db
def test_scheduling_creates_one_window_per_customer(cast: Cast) -> None:
    change = scheduled(cast, instances=[cast.acme_erp, cast.globex_erp])
    acme, globex = sorted(windows_of(change), key=lambda w: w.organization_id != cast.acme.pk)
    assert (acme.organization, globex.organization) == (cast.acme, cast.globex)
    assert list(acme.erp_instances.all()) == [cast.acme_erp]
    assert list(globex.erp_instances.all()) == [cast.globex_erp]
    for window in (acme, globex):
        assert (window.starts_at, window.ends_at, window.change_ref) == (START, END, change.number)
        assert window.is_active


@pytest.mark.django_db
def test_an_alert_for_its_instance_in_the_window_opens_no_incident(
    cast: Cast, bw: ErpInstance
) -> None:
    change = scheduled(cast)
    prd = integration(cast)
    other = integration(cast, erp_instance=bw)
    t0 = START + timedelta(hours=1)
    suppressed = fire(prd, "prd-1", t0)
    assert suppressed.suppressed_by is not None
    assert suppressed.suppressed_by.change_ref == change.number
    assert suppressed.incident is None
    assert incidents() == []
    # The same customer's other instance is not under maintenance.
    loud = fire(other, "bw-1", t0)
    assert loud.suppressed_by is None
    assert loud.incident is not None
    # After the window the change's own instance raises incidents again.
    late = fire(prd, "prd-2", END + timedelta(minutes=1))
    assert late.suppressed_by is None
    assert late.incident is not None
    before = fire(prd, "prd-3", START - timedelta(minutes=1))
    assert before.incident is not None
    assert len(incidents()) == 3


@pytest.mark.django_db
def test_a_change_ending_early_ends_its_window(cast: Cast) -> None:
    change = scheduled(cast)
    prd = integration(cast)
    with at(START + timedelta(minutes=10)):
        workflow.start_change(cast.eric, change)
    with at(START + timedelta(minutes=40)):
        workflow.complete_change(cast.eric, change)
    (window,) = windows_of(change)
    assert window.ends_at == START + timedelta(minutes=40)
    assert fire(prd, "during", START + timedelta(minutes=30)).incident is None
    assert fire(prd, "after", START + timedelta(minutes=50)).incident is not None


@pytest.mark.django_db
def test_a_cancelled_change_never_silences_anything(cast: Cast) -> None:
    change = scheduled(cast)
    prd = integration(cast)
    with at(PLANNED + timedelta(days=1)):
        workflow.cancel_change(cast.eric, change, reason="Vendor withdrew the note.")
    (window,) = windows_of(change)
    assert not window.is_active
    assert fire(prd, "during", START + timedelta(minutes=30)).incident is not None


@pytest.mark.django_db
def test_a_rolled_back_change_ends_its_window_at_that_moment(cast: Cast) -> None:
    change = scheduled(cast)
    with at(START):
        workflow.start_change(cast.eric, change)
    with at(START + timedelta(minutes=5)):
        workflow.roll_back_change(cast.eric, change, note="Lock timeouts; reverted.")
    (window,) = windows_of(change)
    assert window.ends_at == START + timedelta(minutes=5)


@pytest.mark.django_db
def test_starting_early_opens_the_window_early(cast: Cast) -> None:
    change = scheduled(cast)
    with at(START - timedelta(minutes=20)):
        workflow.start_change(cast.eric, change)
    (window,) = windows_of(change)
    assert window.starts_at == START - timedelta(minutes=20)


@pytest.mark.django_db
def test_rescheduling_moves_the_window_across_shanghai_midnight(cast: Cast) -> None:
    change = scheduled(cast)
    prd = integration(cast)
    # 00:00–02:00 Shanghai on Nov 11 = 16:00–18:00 UTC on Nov 10.
    start = datetime.fromisoformat("2026-11-11T00:00:00+08:00")
    with at(PLANNED + timedelta(days=1)):
        workflow.reschedule_change(
            cast.eric, change, planned_start=start, planned_end=start + timedelta(hours=2)
        )
    (window,) = windows_of(change)
    assert (window.starts_at, window.ends_at) == (start, start + timedelta(hours=2))
    assert fire(prd, "old-window", START + timedelta(minutes=30)).incident is not None
    # 23:59 Shanghai on Nov 10 is before the window, 00:30 on Nov 11 inside it.
    assert fire(prd, "eve", start - timedelta(minutes=1)).incident is not None
    assert fire(prd, "night", start + timedelta(minutes=30)).incident is None
    assert len(incidents()) == 2


@pytest.mark.django_db
def test_an_emergency_window_opens_when_it_starts(cast: Cast) -> None:
    now = START
    with at(now):
        change = new_change(
            cast, type="emergency", planned_start=None, planned_end=now + timedelta(hours=1)
        )
        workflow.start_change(cast.eric, change)
    (window,) = windows_of(change)
    assert (window.starts_at, window.ends_at) == (now, now + timedelta(hours=1))
    prd = integration(cast)
    assert fire(prd, "e1", now + timedelta(minutes=5)).incident is None
