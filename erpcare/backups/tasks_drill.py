"""The task a worker runs for a restore for real (a recovery drill): restoring a large
database takes longer than a page may wait, so the page checks the target and queues
this; the outcome is a restore test with the target's name on the point."""

from __future__ import annotations

from django_tasks import task


@task()
def restore_for_real(point_id: int, target: str, requested_by: int) -> dict[str, object]:
    from erpcare.accounts.models import User
    from erpcare.backups.models import BackupPoint
    from erpcare.backups.services.drill import restore_for_real as restore

    point = BackupPoint.objects.select_related("plan__erp_instance__organization").get(pk=point_id)
    actor = User.objects.get(pk=requested_by)
    # The services check the role again: a manager demoted meanwhile restores nothing.
    test = restore(actor, point, target, confirm=target)
    return {"test": test.pk, "status": test.status, "message": test.message}
