"""The inspections app's periodic jobs (registered in InspectionsConfig.ready)."""

from __future__ import annotations

from erpcare.core import clock
from erpcare.inspections.services.schedule import initialise, take_due
from erpcare.inspections.tasks import run_assignments


def schedule_due() -> dict[str, int]:
    """Queue one run per ERP instance for the checks whose time has come."""
    now = clock.now()
    initialised = initialise(now)
    due = take_due(now)
    for assignment_ids in due.values():
        run_assignments.enqueue(assignment_ids)
    return {
        "initialised": initialised,
        "instances": len(due),
        "checks": sum(len(ids) for ids in due.values()),
    }


def mail_reports() -> dict[str, int]:
    """Mail the weekly and monthly inspection reports whose period has finished."""
    from erpcare.inspections.services.mailing import mail_due_reports

    return mail_due_reports()
