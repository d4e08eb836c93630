"""Demo data for backups, made by the real services.

- The inspected demo instance's SQLite "ERP database" (``demo_erp_file``) gets a nightly
  plan: two real backup points (one taken as of yesterday, one now) and one real restore
  test of the newest — checksum, tables, exact counts of the key tables, the demo pack's
  business checks on the copy (the negative stock the live database has too is reported,
  not failed), measured RTO — so the plan is green. Encrypted only when
  ``ERPCARE_BACKUP_KEY`` is set.
- The Yonyou U8 instance of another customer gets an "external" plan: the customer's own
  SQL Server job is supposed to drop ``*.bak`` files in a folder that ERPCare watches, and
  no file is there — so the demo also shows what a missing backup looks like (red, "No
  file matches …"), and the worker's backup watch raises an incident for it. A file put
  into that folder turns it green at the next check.

Files go under ``VAR_DIR/demo-backups``. Runs inside the demo's transaction, after
``seed_inspections`` (the data source and its checks' last results must exist); the demo
is seeded once (``seed_demo`` returns early when it exists), and leftovers of an earlier
demo database in the plan's directory are removed first.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings

from erpcare.accounts.models import RoleCode, User
from erpcare.backups.artifacts import BackupKeyError, load_keys
from erpcare.backups.models import BackupKind, BackupPlan, PointStatus
from erpcare.backups.services.backup import run_backup
from erpcare.backups.services.verify import verify_point
from erpcare.core import clock
from erpcare.customers.models import ErpInstance, Organization
from erpcare.inspections.models import DataSource, SourceKind

KEY_TABLES = ["journal_line", "stock_level", "purchase_order"]
EXTERNAL_PRODUCT = "yonyou"


def demo_backup_root() -> Path:
    return Path(settings.VAR_DIR) / "demo-backups"


def _encrypt() -> bool:
    """Encrypt when a backup key is configured; a malformed key still says "encrypt", so
    the backups fail with the key's error instead of silently going unencrypted."""
    try:
        return bool(load_keys())
    except BackupKeyError:
        return True


def seed_backups(organizations: list[Organization]) -> dict[str, int]:
    actor = (
        User.objects.filter(role__code__in=[RoleCode.ADMIN, RoleCode.MANAGER], is_active=True)
        .order_by("role__code", "id")
        .first()
    )
    instances = ErpInstance.objects.filter(organization__in=organizations).order_by("id")
    instance = instances.first()
    if actor is None or instance is None:
        return {}
    source = (
        DataSource.objects.filter(erp_instance=instance, kind=SourceKind.SQLITE)
        .order_by("id")
        .first()
    )
    if source is None:
        return {}
    now = clock.now()
    counts = {"backup_plans": 0, "backup_points": 0, "restore_tests": 0}

    directory = demo_backup_root() / f"instance-{instance.pk}"
    shutil.rmtree(directory, ignore_errors=True)  # an earlier demo database's files
    plan = BackupPlan.objects.create(
        erp_instance=instance,
        name="Demo ERP database · nightly",
        kind=BackupKind.SQLITE,
        data_source=source,
        directory=str(directory),
        encrypt=_encrypt(),
        key_tables=KEY_TABLES,
        created_by=actor,
        created_at=now - timedelta(days=2),
    )
    counts["backup_plans"] += 1
    with clock.frozen_at(now - timedelta(days=1)):
        run_backup(plan)
    newest = run_backup(plan)
    counts["backup_points"] += 2
    if newest.status == PointStatus.OK:
        verify_point(newest)
        counts["restore_tests"] += 1

    external = instances.filter(product=EXTERNAL_PRODUCT).exclude(pk=instance.pk).first()
    if external is not None:
        folder = demo_backup_root() / f"instance-{external.pk}-sqlserver"
        shutil.rmtree(folder, ignore_errors=True)
        watched = BackupPlan.objects.create(
            erp_instance=external,
            name="U8 SQL Server backups (the customer's own job, watched)",
            kind=BackupKind.EXTERNAL,
            directory=str(folder),
            external_path=str(folder / "*.bak"),
            encrypt=False,  # another tool's files, read as they are
            schedule="30 3 * * *",
            created_by=actor,
            created_at=now - timedelta(days=2),
        )
        run_backup(watched)  # no file: a failed point that says so
        counts["backup_plans"] += 1
        counts["backup_points"] += 1
    return counts
