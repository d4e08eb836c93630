"""The task a worker runs for one ERP instance's due (or requested) checks."""

from __future__ import annotations

import logging

from django_tasks import task

from erpcare.core.errors import ActionError
from erpcare.inspections.models import InstanceCheck, RunStatus, Trigger

logger = logging.getLogger(__name__)


@task()
def run_assignments(
    assignment_ids: list[int], trigger: str = Trigger.SCHEDULE
) -> dict[str, object]:
    from erpcare.inspections.services.runs import run_checks

    assignments = list(
        InstanceCheck.objects.filter(pk__in=assignment_ids, is_active=True)
        .select_related("check_ref__pack", "data_source", "erp_instance__organization")
        .order_by("check_ref__layer", "check_ref__code", "id")
    )
    if not assignments:
        return {"run": None}
    run = run_checks(assignments, trigger=trigger)
    return {"run": run.pk, "rating": run.rating, "checks": len(assignments)}


@task()
def run_queued(run_id: int, assignment_ids: list[int]) -> dict[str, object]:
    """Carry out a run queued by ``diagnosis.queue_run``; a ticket's run is noted on it."""
    from erpcare.inspections.models import InspectionRun
    from erpcare.inspections.services.diagnosis import note_for
    from erpcare.inspections.services.runs import run_checks
    from erpcare.tickets.services import add_comment

    run = InspectionRun.objects.select_related("erp_instance", "ticket", "requested_by").get(
        pk=run_id
    )
    assignments = list(
        InstanceCheck.objects.filter(pk__in=assignment_ids, is_active=True)
        .select_related("check_ref__pack", "data_source", "erp_instance__organization")
        .order_by("check_ref__layer", "check_ref__code", "id")
    )
    if not assignments:
        run.status = RunStatus.FAILED
        run.error = "no active checks left"
        run.save(update_fields=["status", "error"])
        return {"run": run.pk, "rating": ""}
    run_checks(assignments, trigger=run.trigger, run=run)
    if run.ticket is not None and run.requested_by is not None:
        try:
            add_comment(
                run.requested_by,
                run.ticket,
                body=note_for(run),
                internal=True,
                counts_as_response=False,
            )
        except ActionError as error:  # e.g. the ticket was closed meanwhile
            logger.info("diagnosis %s not noted on its ticket: %s", run.pk, error.message)
    return {"run": run.pk, "rating": run.rating}
