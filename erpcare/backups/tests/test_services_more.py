"""Backups beyond PostgreSQL: a real MariaDB plan backed up and restore-tested, external
backups watched, the schedule, and which points a restore test picks."""

from __future__ import annotations

import base64
import hashlib
import os
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from erpcare.backups.engines import DbSpec, mysql
from erpcare.backups.models import BackupKind, BackupPlan, BackupPoint, PointStatus, RestoreStatus
from erpcare.backups.services import health
from erpcare.backups.services.backup import run_backup
from erpcare.backups.services.schedule import take_due
from erpcare.backups.services.verify import points_to_verify, verify_point
from erpcare.backups.tests.test_engines_mysql import (  # noqa: F401  (module fixtures)
    COUNTS,
    KEY_TABLES,
    NEWEST_SQL,
    PASSWORD,
    admin,
    server,
    source,
)
from erpcare.conftest import Cast
from erpcare.core import clock
from erpcare.customers.models import ErpInstance
from erpcare.inspections.models import DataSource

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def backup_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERPCARE_BACKUP_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())


@pytest.fixture
def instance(cast: Cast) -> ErpInstance:
    return ErpInstance.objects.create(
        organization=cast.acme, name="Acme ERPNext", product="erpnext", version="15"
    )


def _plan(instance: ErpInstance, tmp: Path, **kw: Any) -> BackupPlan:
    values: dict[str, Any] = {
        "erp_instance": instance,
        "name": "nightly",
        "directory": str(tmp / "backups"),
        "created_at": clock.now(),
    }
    values.update(kw)
    return BackupPlan.objects.create(**values)


def test_a_mariadb_database_is_backed_up_and_proven_usable(
    instance: ErpInstance,
    source: DbSpec,  # noqa: F811 (the imported fixture)
    admin: DbSpec,  # noqa: F811
    tmp_path: Path,
) -> None:
    data_source = DataSource.objects.create(
        erp_instance=instance, name="ERPNext database", kind="mysql", host=source.host,
        port=source.port, database="erp", username="backup", password=PASSWORD,
        created_at=clock.now(), updated_at=clock.now(),
    )  # fmt: skip
    plan = _plan(
        instance, tmp_path, kind=BackupKind.MYSQL, data_source=data_source,
        key_tables=KEY_TABLES, newest_document_sql=NEWEST_SQL,
    )  # fmt: skip
    before = set(mysql.leaked_scratch_databases(admin))
    point = run_backup(plan)
    assert point.status == PointStatus.OK, point.error
    assert point.encrypted
    assert {t: point.stats["row_counts"][t] for t in KEY_TABLES} == COUNTS
    assert point.client_version
    test = verify_point(point)
    assert test.status == RestoreStatus.OK, (test.message, test.checks)
    assert {c["check"]: c["status"] for c in test.checks} == {
        "checksum": "ok",
        "tables": "ok",
        "row counts": "ok",
    }
    assert test.scratch_dropped
    assert set(mysql.leaked_scratch_databases(admin)) == before


# ---------------------------------------------------------------------------
# External backups
# ---------------------------------------------------------------------------


def test_an_external_backup_is_watched_checksummed_and_never_restored(
    instance: ErpInstance, tmp_path: Path
) -> None:
    drop = tmp_path / "nas"
    drop.mkdir()
    plan = _plan(
        instance, tmp_path, kind=BackupKind.EXTERNAL, external_path=str(drop / "erp-*.bak")
    )
    missing = run_backup(plan)
    assert missing.status == PointStatus.FAILED
    assert "No file matches" in missing.error
    (drop / "erp-1.bak").write_bytes(b"")
    empty = run_backup(plan)
    assert empty.status == PointStatus.FAILED
    assert "is empty" in empty.error
    old = drop / "erp-2.bak"
    old.write_bytes(b"x" * 1000)
    os.utime(old, (1_700_000_000, 1_700_000_000))
    newest = drop / "erp-3.bak"
    newest.write_bytes(b"backup bytes")
    point = run_backup(plan)
    assert point.status == PointStatus.OK, point.error
    assert (point.artifact, point.size) == (str(newest), 12)
    assert point.sha256 == hashlib.sha256(b"backup bytes").hexdigest()
    test = verify_point(point)
    assert test.status == RestoreStatus.FAILED
    assert "cannot restore them" in test.message
    state = health.plan_health(plan)
    assert state.backup.rating == health.GREEN
    assert state.restore.rating == health.GREY


# ---------------------------------------------------------------------------
# Schedule and choice of points
# ---------------------------------------------------------------------------


def test_the_schedule_starts_a_plan_at_its_next_time_and_takes_each_slot_once(
    instance: ErpInstance, tmp_path: Path
) -> None:
    plan = _plan(instance, tmp_path, kind=BackupKind.SQLITE, schedule="0 2 * * *")
    now = clock.now()
    assert take_due(now) == ([], [])  # first sight: only the next times
    plan.refresh_from_db()
    assert plan.next_backup_at is not None
    assert plan.next_verify_at is not None
    assert plan.next_backup_at > now
    later = plan.next_backup_at + timedelta(minutes=1)
    backups, _verifies = take_due(later)
    assert backups == [plan.pk]
    assert take_due(later) == ([], [])  # the slot is taken
    plan.refresh_from_db()
    assert plan.next_backup_at > later
    external = _plan(instance, tmp_path, kind=BackupKind.EXTERNAL, name="nas", external_path="/x")
    take_due(later)
    BackupPlan.objects.filter(pk=external.pk).update(next_verify_at=later, next_backup_at=later)
    backups, verifies = take_due(later + timedelta(seconds=1))
    assert (backups, verifies) == ([external.pk], [])  # watched, never restore-tested
    inactive = _plan(instance, tmp_path, kind=BackupKind.SQLITE, is_active=False, name="off")
    take_due(later)
    inactive.refresh_from_db()
    assert inactive.next_backup_at is None


def test_a_restore_test_takes_the_newest_good_point_and_one_older_at_random(
    instance: ErpInstance, tmp_path: Path
) -> None:
    plan = _plan(instance, tmp_path, kind=BackupKind.SQLITE)
    now = clock.now()
    made = [
        BackupPoint.objects.create(
            plan=plan, status=status, started_at=now - timedelta(days=d), finished_at=now
        )
        for d, status in enumerate(
            [PointStatus.FAILED, PointStatus.OK, PointStatus.OK, PointStatus.PRUNED, PointStatus.OK]
        )
    ]
    newest_good, older = made[1], {made[2].pk, made[4].pk}
    seen = set()
    for seed in range(20):
        chosen = points_to_verify(plan, random.Random(seed))  # noqa: S311 (a seeded test)
        assert chosen[0] == newest_good
        assert len(chosen) == 2
        assert chosen[1].pk in older
        seen.add(chosen[1].pk)
    assert seen == older
    assert points_to_verify(_plan(instance, tmp_path, name="empty", kind="sqlite")) == []


# ---------------------------------------------------------------------------
# ERPCare's own database
# ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_erpcares_own_database_is_backed_up_and_restore_tested(tmp_path: Path) -> None:
    from django.conf import settings
    from django.db import connection

    name = str(settings.DATABASES["default"]["NAME"])
    if connection.vendor == "sqlite" and ("memory" in name or name == ":memory:"):
        pytest.skip("the SQLite test database lives in memory: there is no file to back up")
    plan = BackupPlan.objects.create(
        erp_instance=None, name="ERPCare itself", kind=connection.vendor,
        directory=str(tmp_path / "own"), key_tables=["backups_backupplan"],
        created_at=clock.now(),
    )  # fmt: skip
    point = run_backup(plan)
    assert point.status == PointStatus.OK, point.error
    assert point.stats["row_counts"]["backups_backupplan"] == 1
    test = verify_point(point)
    assert test.status == RestoreStatus.OK, (test.message, test.checks)
    assert test.scratch_dropped
