"""Which plans are due for a backup or a restore test, claimed so that two leaders (or a
leader and a person's "back up now") never run the same slot twice."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q

from erpcare.backups.models import BackupKind, BackupPlan
from erpcare.inspections.services.runs import next_run_after


def _zone(plan: BackupPlan) -> str:
    if plan.erp_instance is not None:
        return plan.erp_instance.organization.time_zone
    return ""


def take_due(now: datetime) -> tuple[list[int], list[int]]:
    """(plans to back up, plans to restore-test) now; their next times are moved on in the
    same transaction. A plan seen for the first time only gets its next times."""
    backups: list[int] = []
    verifies: list[int] = []
    with transaction.atomic():
        plans = (
            BackupPlan.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(is_active=True)
            .filter(
                Q(next_backup_at__isnull=True)
                | Q(next_backup_at__lte=now)
                | Q(next_verify_at__isnull=True)
                | Q(next_verify_at__lte=now)
            )
            .select_related("erp_instance__organization")
        )
        for plan in plans:
            zone = _zone(plan)
            fields = []
            if plan.next_backup_at is not None and plan.next_backup_at <= now:
                backups.append(plan.pk)
            if plan.next_backup_at is None or plan.next_backup_at <= now:
                plan.next_backup_at = next_run_after(plan.schedule, now, zone)
                fields.append("next_backup_at")
            due_verify = plan.next_verify_at is not None and plan.next_verify_at <= now
            if due_verify and plan.kind != BackupKind.EXTERNAL:  # watched, never restored
                verifies.append(plan.pk)
            if plan.next_verify_at is None or plan.next_verify_at <= now:
                plan.next_verify_at = next_run_after(plan.verify_schedule, now, zone)
                fields.append("next_verify_at")
            if fields:
                plan.save(update_fields=fields)
    return backups, verifies
