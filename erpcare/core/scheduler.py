"""Periodic jobs: a registry, one elected leader that fires them, workers that run them.

Every ``erpcare worker`` runs a scheduler thread. Each tick it writes its heartbeat and
tries to take or renew the scheduler lease with one conditional UPDATE; only the lease
holder fires jobs. Firing a job inserts a JobRun row for the cron slot — the unique
(job, scheduled_for) constraint makes a slot fire once even across a leader change —
and enqueues a django-tasks task that any worker may pick up.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from croniter import croniter
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from erpcare.core.models import JobRun, SchedulerLease, WorkerHeartbeat

logger = logging.getLogger("erpcare.scheduler")

LEASE_NAME = "scheduler"


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    cron: str  # standard five-field cron expression, in the server's time zone
    func: str  # dotted path of a function taking no arguments, returning a JSON-able result


_registry: dict[str, PeriodicJob] = {}


def register(name: str, cron: str, func: str) -> None:
    """Declare a periodic job; apps call this from AppConfig.ready()."""
    if not croniter.is_valid(cron):
        raise ValueError(f"invalid cron expression for {name}: {cron!r}")
    _registry[name] = PeriodicJob(name=name, cron=cron, func=func)


def registered_jobs() -> dict[str, PeriodicJob]:
    return dict(_registry)


def latest_slot(job: PeriodicJob, now: datetime) -> datetime:
    local_now = timezone.localtime(now)
    previous: datetime = croniter(job.cron, local_now).get_prev(datetime)
    return previous


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Scheduler:
    def __init__(
        self,
        worker_id: str | None = None,
        *,
        lease_seconds: int = 30,
        enqueue: Callable[[JobRun], Any] | None = None,
    ) -> None:
        self.worker_id = worker_id or default_worker_id()
        self.lease = timedelta(seconds=lease_seconds)
        self.started_at = timezone.now()
        self.enqueue = enqueue or enqueue_job_run
        self.is_leader = False

    def heartbeat(self, now: datetime) -> None:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={
                "hostname": socket.gethostname(),
                "pid": os.getpid(),
                "started_at": self.started_at,
                "seen_at": now,
                "is_leader": self.is_leader,
            },
        )

    def acquire_lease(self, now: datetime) -> bool:
        try:
            with transaction.atomic():
                SchedulerLease.objects.get_or_create(
                    name=LEASE_NAME, defaults={"holder": "", "expires_at": now}
                )
        except IntegrityError:
            pass  # another worker created it at the same moment
        taken = (
            SchedulerLease.objects.filter(name=LEASE_NAME)
            .filter(Q(holder=self.worker_id) | Q(expires_at__lte=now))
            .update(holder=self.worker_id, expires_at=now + self.lease)
        )
        self.is_leader = taken == 1
        return self.is_leader

    def release_lease(self) -> None:
        SchedulerLease.objects.filter(name=LEASE_NAME, holder=self.worker_id).update(
            holder="", expires_at=timezone.now()
        )
        self.is_leader = False

    def fire_due(self, now: datetime) -> list[JobRun]:
        fired = []
        for job in _registry.values():
            slot = latest_slot(job, now)
            try:
                with transaction.atomic():
                    run = JobRun.objects.create(
                        job=job.name,
                        scheduled_for=slot,
                        created_at=now,
                        state=JobRun.State.PENDING,
                    )
                    transaction.on_commit(partial(self.enqueue, run))
            except IntegrityError:
                continue  # this slot already fired
            fired.append(run)
        return fired

    def tick(self, now: datetime | None = None) -> list[JobRun]:
        now = now or timezone.now()
        leader = self.acquire_lease(now)
        self.heartbeat(now)
        return self.fire_due(now) if leader else []

    def run_forever(self, stop: threading.Event, interval: float = 5.0) -> None:
        logger.info("scheduler %s started", self.worker_id)
        while not stop.is_set():
            close_old_connections()
            try:
                fired = self.tick()
                for run in fired:
                    logger.info("fired %s for %s", run.job, run.scheduled_for)
            except Exception:  # a database hiccup must not kill the scheduler thread
                logger.exception("scheduler tick failed")
            stop.wait(interval)
        try:
            self.release_lease()
        except Exception:
            logger.exception("could not release the scheduler lease")


def enqueue_job_run(run: JobRun) -> None:
    from erpcare.core.tasks import run_periodic_job

    run_periodic_job.enqueue(run.pk)


def execute_job_run(run_id: int, worker_id: str = "") -> JobRun | None:
    """Run a fired job once: the conditional UPDATE claims it, so a duplicate task is a no-op."""
    claimed = JobRun.objects.filter(pk=run_id, state=JobRun.State.PENDING).update(
        state=JobRun.State.RUNNING, started_at=timezone.now(), worker_id=worker_id[:100]
    )
    if not claimed:
        return None
    run = JobRun.objects.get(pk=run_id)
    job = _registry.get(run.job)
    try:
        if job is None:
            raise LookupError(f"no periodic job named {run.job!r} is registered")
        result = import_string(job.func)()
        run.result = result if isinstance(result, dict) else {"result": result}
        run.state = JobRun.State.SUCCEEDED
    except Exception:
        run.state = JobRun.State.FAILED
        run.error = traceback.format_exc()[-10_000:]
        logger.exception("periodic job %s failed", run.job)
    run.finished_at = timezone.now()
    run.save(update_fields=["state", "result", "error", "finished_at"])
    return run
