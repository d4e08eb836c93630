"""Run an ERP instance's checks now — from its page ("run now") or from a ticket
("one-click diagnosis", whose result is attached to the ticket as an internal note)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.audit.services import record
from erpcare.core import clock
from erpcare.core.errors import ActionError, NotAllowed
from erpcare.customers.models import ErpInstance
from erpcare.customers.services import visible_erp_instances
from erpcare.inspections.models import (
    InspectionRun,
    InstanceCheck,
    ResultStatus,
    RunStatus,
    Trigger,
)
from erpcare.inspections.permissions import require_run
from erpcare.tickets.models import Ticket
from erpcare.tickets.services.access import visible_tickets

MAX_NOTE_FINDINGS = 15


def active_assignments(instance: ErpInstance) -> list[InstanceCheck]:
    return list(
        InstanceCheck.objects.filter(
            erp_instance=instance,
            is_active=True,
            data_source__is_active=True,
            check_ref__is_active=True,
        )
        .select_related("check_ref__pack", "data_source", "erp_instance__organization")
        .order_by("check_ref__layer", "check_ref__code", "id")
    )


def queue_run(actor: User, instance: ErpInstance, *, ticket: Ticket | None = None) -> InspectionRun:
    """Queue a run of every active check of ``instance`` now; a worker carries it out
    (``tasks.run_queued``) and, for a ticket, notes the result on it."""
    require_run(actor)
    if not visible_erp_instances(actor).filter(pk=instance.pk).exists():
        raise NotAllowed(_("You cannot see this ERP instance."))
    assignments = active_assignments(instance)
    if not assignments:
        raise ActionError(
            _("No checks are assigned to %(instance)s: apply a pack to one of its data sources.")
            % {"instance": instance.name}
        )
    run = InspectionRun.objects.create(
        erp_instance=instance,
        trigger=Trigger.TICKET if ticket is not None else Trigger.MANUAL,
        ticket=ticket,
        requested_by=actor,
        status=RunStatus.QUEUED,
        created_at=clock.now(),
    )
    record(actor=actor, action="inspections.run_requested", target=instance, data={"run": run.pk})
    from erpcare.inspections.tasks import run_queued

    run_queued.enqueue(run.pk, [a.pk for a in assignments])
    return run


def diagnose(actor: User, ticket: Ticket) -> InspectionRun:
    """One-click diagnosis: run the ticket's ERP instance's checks now."""
    if not visible_tickets(actor).filter(pk=ticket.pk).exists():
        raise NotAllowed(_("You cannot see this ticket."))
    if ticket.erp_instance_id is None:
        raise ActionError(_("This ticket names no ERP instance: set it first."))
    assert ticket.erp_instance is not None
    return queue_run(actor, ticket.erp_instance, ticket=ticket)


def note_for(run: InspectionRun) -> str:
    """The internal note a diagnosis leaves on its ticket: the rating and what failed."""
    results = list(
        run.results.select_related("instance_check__check_ref").order_by("-status", "id")
    )
    failing = [r for r in results if r.status != ResultStatus.OK]
    lines = [
        _("Diagnosis of %(instance)s: %(rating)s — %(failed)d of %(total)d checks need attention.")
        % {
            "instance": run.erp_instance.name,
            "rating": run.get_rating_display(),
            "failed": len(failing),
            "total": len(results),
        }
    ]
    for result in failing[:MAX_NOTE_FINDINGS]:
        check = result.instance_check.check_ref
        lines.append(f"- [{result.get_status_display()}] {check.name}: {result.message}".strip())
    if len(failing) > MAX_NOTE_FINDINGS:
        lines.append(_("… and %(n)d more") % {"n": len(failing) - MAX_NOTE_FINDINGS})
    return "\n".join(lines)
