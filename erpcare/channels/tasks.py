"""The outbox worker task: fan out new events, send what is due, release held mail.

``events.emit`` wakes it after each transaction that wrote events; the "channels.pump"
periodic job runs the same function every minute as a safety net (a lost wake-up,
retries whose back-off has passed, quiet hours that ended).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django_tasks import task

from erpcare.channels import delivery
from erpcare.channels.dispatch import dispatch_pending, release_held

logger = logging.getLogger("erpcare.channels")


def pump() -> dict[str, int]:
    """One round of the outbox: dispatch, deliver, release."""
    result: dict[str, int] = {"dispatched": dispatch_pending()}
    for key, value in delivery.deliver_due().items():
        result[f"delivery_{key}"] = value
    result.update(release_held())
    return result


@task()
def pump_outbox() -> dict[str, int]:
    return pump()


def _pump_waiting() -> bool:
    if settings.TASKS["default"]["BACKEND"] != "django_tasks_db.DatabaseBackend":
        return False
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        task_path=pump_outbox.module_path, status=TaskResultStatus.READY
    ).exists()


def wake_worker() -> None:
    """Queue one pump unless one is already waiting to start (it will see our events)."""
    try:
        if not _pump_waiting():
            pump_outbox.enqueue()
    except Exception:
        # Runs after the commit: the events are safe in the outbox and the minute job
        # picks them up; the request that wrote them must not fail for this.
        logger.exception("could not queue the outbox pump")
