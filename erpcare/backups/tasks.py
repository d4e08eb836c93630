"""The tasks a worker runs: one backup, or the restore tests of one plan."""

from __future__ import annotations

from django_tasks import task

from erpcare.backups.models import BackupPlan


@task()
def back_up(plan_id: int) -> dict[str, object]:
    from erpcare.backups.services.backup import run_backup

    plan = BackupPlan.objects.select_related("erp_instance__organization", "data_source").get(
        pk=plan_id
    )
    point = run_backup(plan)
    return {"point": point.pk, "status": point.status, "error": point.error}


@task()
def verify(plan_id: int) -> dict[str, object]:
    """Restore-test the newest good point and one older one picked at random."""
    from erpcare.backups.services.verify import points_to_verify, verify_point

    plan = BackupPlan.objects.select_related("erp_instance__organization", "data_source").get(
        pk=plan_id
    )
    tests = [verify_point(point) for point in points_to_verify(plan)]
    return {"tests": [(t.pk, t.status) for t in tests]}


@task()
def verify_one(point_id: int, requested_by: int | None = None) -> dict[str, object]:
    """A restore test of one point, asked for by a person (or the CLI)."""
    from erpcare.accounts.models import User
    from erpcare.backups.models import BackupPoint
    from erpcare.backups.services.verify import verify_point

    point = BackupPoint.objects.select_related("plan__erp_instance__organization").get(pk=point_id)
    actor = User.objects.filter(pk=requested_by).first() if requested_by else None
    test = verify_point(point, actor=actor)
    return {"test": test.pk, "status": test.status}
