"""The periodic scheduler: one leader, each cron slot fired once, each run executed once."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from erpcare.core import scheduler
from erpcare.core.models import JobRun, SchedulerLease, WorkerHeartbeat

pytestmark = pytest.mark.django_db(transaction=True)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALLS: list[str] = []


def record_call() -> dict[str, int]:
    CALLS.append("called")
    return {"calls": len(CALLS)}


def explode() -> None:
    raise RuntimeError("the ERP database did not answer")


@pytest.fixture
def jobs(monkeypatch):
    monkeypatch.setattr(scheduler, "_registry", {})
    scheduler.register("test.record", "*/5 * * * *", f"{__name__}.record_call")
    CALLS.clear()
    return scheduler


def make(worker_id, fired):
    return scheduler.Scheduler(worker_id, lease_seconds=30, enqueue=fired.append)


def test_only_one_of_two_workers_becomes_leader(jobs):
    now = datetime(2026, 11, 22, 10, 1, tzinfo=SHANGHAI)
    fired: list[JobRun] = []
    first, second = make("box-a:1", fired), make("box-b:2", fired)
    assert first.tick(now) != []
    assert second.tick(now) == []
    assert (first.is_leader, second.is_leader) == (True, False)
    assert SchedulerLease.objects.get().holder == "box-a:1"
    assert WorkerHeartbeat.objects.count() == 2


def test_a_follower_takes_over_when_the_leader_stops_renewing(jobs):
    now = datetime(2026, 11, 22, 10, 1, tzinfo=SHANGHAI)
    fired: list[JobRun] = []
    first, second = make("box-a:1", fired), make("box-b:2", fired)
    first.tick(now)
    assert second.acquire_lease(now + timedelta(seconds=29)) is False
    assert second.acquire_lease(now + timedelta(seconds=31)) is True
    assert first.acquire_lease(now + timedelta(seconds=32)) is False


def test_a_cron_slot_fires_once_even_across_a_leader_change(jobs):
    now = datetime(2026, 11, 22, 10, 1, tzinfo=SHANGHAI)
    fired: list[JobRun] = []
    first, second = make("box-a:1", fired), make("box-b:2", fired)
    first.tick(now)
    first.tick(now + timedelta(seconds=20))
    second.tick(now + timedelta(seconds=60))  # took over: same 10:00 slot
    assert [run.scheduled_for for run in fired] == [datetime(2026, 11, 22, 10, 0, tzinfo=SHANGHAI)]
    second.tick(now + timedelta(minutes=5))  # the 10:05 slot
    assert JobRun.objects.count() == 2


def test_a_fired_run_executes_once_and_records_its_result(jobs):
    now = datetime(2026, 11, 22, 10, 1, tzinfo=SHANGHAI)
    fired: list[JobRun] = []
    make("box-a:1", fired).tick(now)
    run_id = fired[0].pk
    done = scheduler.execute_job_run(run_id, worker_id="box-a:1")
    again = scheduler.execute_job_run(run_id, worker_id="box-b:2")
    assert done is not None
    assert done.state == JobRun.State.SUCCEEDED
    assert done.result == {"calls": 1}
    assert again is None
    assert CALLS == ["called"]


def test_a_failing_job_is_recorded_with_its_error(jobs):
    scheduler.register("test.explode", "0 * * * *", f"{__name__}.explode")
    run = JobRun.objects.create(
        job="test.explode",
        scheduled_for=datetime(2026, 11, 22, 10, 0, tzinfo=SHANGHAI),
        created_at=datetime(2026, 11, 22, 10, 0, tzinfo=SHANGHAI),
        state=JobRun.State.PENDING,
    )
    result = scheduler.execute_job_run(run.pk)
    assert result is not None
    assert result.state == JobRun.State.FAILED
    assert "the ERP database did not answer" in result.error
    assert result.finished_at is not None


def test_invalid_cron_expressions_are_refused_at_registration(jobs):
    with pytest.raises(ValueError, match="invalid cron"):
        scheduler.register("test.bad", "every monday", "x.y")


def test_the_task_runs_a_fired_job_through_the_database_worker(jobs, settings):
    # The real django-tasks database backend: enqueue, then a worker in batch mode runs it.
    from django.core.management import call_command

    from erpcare.core.tasks import run_periodic_job

    run = JobRun.objects.create(
        job="test.record",
        scheduled_for=datetime(2026, 11, 22, 10, 0, tzinfo=SHANGHAI),
        created_at=datetime(2026, 11, 22, 10, 0, tzinfo=SHANGHAI),
        state=JobRun.State.PENDING,
    )
    run_periodic_job.enqueue(run.pk)
    call_command("erpcare_worker", "--batch", "--interval", "0")
    run.refresh_from_db()
    assert run.state == JobRun.State.SUCCEEDED
    assert CALLS == ["called"]
