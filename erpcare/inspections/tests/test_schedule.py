"""What is due, once: the leader's minute job and the tasks it queues."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult

from erpcare.conftest import Cast
from erpcare.core import clock
from erpcare.inspections.jobs import schedule_due
from erpcare.inspections.models import InspectionRun, InstanceCheck
from erpcare.inspections.services.schedule import initialise, take_due
from erpcare.inspections.tasks import run_assignments
from erpcare.inspections.tests.helpers import assign, check, erp_sqlite, sqlite_source

MON_0555 = datetime.fromisoformat("2026-11-30T05:55:00+00:00")


@pytest.fixture
def erp_db(tmp_path: Path) -> Path:
    return erp_sqlite(tmp_path / "erp.sqlite3")


@pytest.mark.django_db
def test_due_checks_are_taken_once_grouped_by_instance(cast: Cast, erp_db: Path) -> None:
    # Schedules are read in the customer's time zone: Acme is in Shanghai (UTC+8),
    # Globex in Berlin (UTC+1).
    cast.globex.time_zone = "Europe/Berlin"
    cast.globex.save(update_fields=["time_zone"])
    acme = sqlite_source(cast.acme_erp, erp_db)
    globex = sqlite_source(cast.globex_erp, erp_db)
    daily = check("daily", schedule="0 6 * * *")
    hourly = check("hourly", schedule="0 * * * *")
    a1, a2 = assign(acme, daily), assign(acme, hourly)
    g1 = assign(globex, daily, schedule="30 6 * * *")  # its own schedule wins
    start = datetime.fromisoformat("2026-11-29T21:55:00+00:00")  # 05:55 in Shanghai
    assert initialise(start) == 3
    next_runs = {
        k: v.astimezone(UTC) for k, v in InstanceCheck.objects.values_list("id", "next_run_at")
    }
    assert next_runs[a1.pk].isoformat() == "2026-11-29T22:00:00+00:00"  # 06:00 Shanghai
    assert next_runs[a2.pk].isoformat() == "2026-11-29T22:00:00+00:00"
    assert next_runs[g1.pk].isoformat() == "2026-11-30T05:30:00+00:00"  # 06:30 Berlin
    assert take_due(start) == {}
    six_in_shanghai = datetime.fromisoformat("2026-11-29T22:00:00+00:00")
    due = take_due(six_in_shanghai)
    assert due == {cast.acme_erp.pk: [a1.pk, a2.pk]}
    assert take_due(six_in_shanghai) == {}  # moved on: not queued twice
    a1.refresh_from_db()
    a2.refresh_from_db()
    assert a1.next_run_at.astimezone(UTC).isoformat() == "2026-11-30T22:00:00+00:00"
    assert a2.next_run_at.astimezone(UTC).isoformat() == "2026-11-29T23:00:00+00:00"


@pytest.mark.django_db
def test_inactive_sources_checks_and_assignments_are_not_due(cast: Cast, erp_db: Path) -> None:
    source = sqlite_source(cast.acme_erp, erp_db)
    off_source = sqlite_source(cast.acme_erp, erp_db, name="old", is_active=False)
    assign(source, check("off", is_active=False), next_run_at=MON_0555)
    assign(source, check("paused"), next_run_at=MON_0555, is_active=False)
    assign(off_source, check("source-off"), next_run_at=MON_0555)
    assert take_due(MON_0555) == {}


@pytest.mark.django_db
def test_the_minute_job_queues_one_task_per_instance_and_the_task_runs_them(
    cast: Cast, erp_db: Path
) -> None:
    source = sqlite_source(cast.acme_erp, erp_db)
    assign(source, check("a"), next_run_at=MON_0555)
    assign(source, check("b"), next_run_at=MON_0555)
    with clock.frozen_at(MON_0555):
        done = schedule_due()
    assert done == {"initialised": 0, "instances": 1, "checks": 2}
    (queued,) = DBTaskResult.objects.filter(task_path=run_assignments.module_path)
    result = run_assignments.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])
    run = InspectionRun.objects.get()
    assert result == {"run": run.pk, "rating": "green", "checks": 2}
    assert run.results.count() == 2
