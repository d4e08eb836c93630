from __future__ import annotations

from django_tasks import task

from erpcare.core.scheduler import default_worker_id, execute_job_run


@task()
def run_periodic_job(run_id: int) -> str:
    run = execute_job_run(run_id, worker_id=default_worker_id())
    return run.state if run is not None else "skipped"
