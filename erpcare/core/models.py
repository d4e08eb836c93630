"""Visible records of background work: worker heartbeats, the scheduler lease, job runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """One row per running worker process, refreshed every few seconds."""

    worker_id = models.CharField(max_length=100, unique=True)
    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)
    is_leader = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return self.worker_id


class SchedulerLease(models.Model):
    """A lease that makes exactly one worker the scheduler of periodic jobs.

    Taken or renewed with one conditional UPDATE (holder is me, or the lease expired),
    so any number of workers on any number of machines elect one leader through the
    database they already share.
    """

    name = models.CharField(max_length=50, unique=True)
    holder = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: {self.holder}"


class JobRun(models.Model):
    """One run of a periodic job, with its outcome, shown to operators."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    job = models.CharField(_("job"), max_length=100)
    scheduled_for = models.DateTimeField(_("scheduled for"))
    created_at = models.DateTimeField(_("created"))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices)
    worker_id = models.CharField(_("worker"), max_length=100, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-scheduled_for", "-id"]
        constraints = [
            # A job fires once per scheduled slot, however many leaders there ever were.
            models.UniqueConstraint(fields=["job", "scheduled_for"], name="unique_job_slot")
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.scheduled_for:%Y-%m-%d %H:%M}"


def worker_status() -> dict[str, Any]:
    stale_after = timedelta(seconds=settings.ERPCARE_WORKER_HEARTBEAT_SECONDS * 4)
    latest = WorkerHeartbeat.objects.order_by("-seen_at").first()
    if latest is None:
        return {"state": "never_seen"}
    age = (timezone.now() - latest.seen_at).total_seconds()
    return {
        "state": "ok" if age <= stale_after.total_seconds() else "stale",
        "last_seen_seconds": round(age, 1),
        "workers": WorkerHeartbeat.objects.filter(
            seen_at__gte=timezone.now() - stale_after
        ).count(),
    }
