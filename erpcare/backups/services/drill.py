"""Restore for real: a chosen point into a named target database, for a customer's
recovery drill (or a recovery). Managers and administrators only, with the target's name
typed again as confirmation, an audit entry, and never over an existing database.

The restore goes into a scratch database first (checksum verified, time limit, dropped on
any failure) and is renamed to the target only when it finished: a half-restored target
never exists. PostgreSQL renames the database; SQLite copies the restored file to
``<plan directory>/drills/<target>.sqlite3``. MySQL/MariaDB has no database rename and is
not offered yet.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.audit.services import record
from erpcare.backups.artifacts import load_keys, plain_artifact_path
from erpcare.backups.engines import get_engine
from erpcare.backups.models import (
    BackupKind,
    BackupPoint,
    PointStatus,
    RestoreStatus,
    RestoreTest,
)
from erpcare.backups.permissions import require_configure
from erpcare.backups.services.backup import artifact_file
from erpcare.backups.services.specs import scratch_spec, source_spec
from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict

TARGET = re.compile(r"^[a-z][a-z0-9_]{2,62}$")


def check_target(point: BackupPoint, target: str, confirm: str) -> str:
    target = (target or "").strip()
    if not TARGET.fullmatch(target):
        raise ActionError(
            _(
                "Name the target database with 3 to 63 lower-case letters, digits and "
                "underscores, starting with a letter."
            )
        )
    if target.startswith("erpcare_verify_"):
        raise ActionError(_("Names starting with erpcare_verify_ are kept for restore tests."))
    if (confirm or "").strip() != target:
        raise ActionError(_("Type the target database's name again to confirm."))
    plan = point.plan
    if plan.kind not in (BackupKind.POSTGRESQL, BackupKind.SQLITE):
        raise ActionError(
            _("Restoring for real is offered for PostgreSQL and SQLite backups only.")
        )
    if plan.kind == BackupKind.POSTGRESQL and target == source_spec(plan).database:
        raise Conflict(_("The target cannot be the database the backup was taken from."))
    if point.status != PointStatus.OK:
        raise ActionError(_("Only a successful backup point can be restored."))
    return target


def restore_for_real(actor: User, point: BackupPoint, target: str, *, confirm: str) -> RestoreTest:
    """Restore ``point`` into the new database ``target``; the outcome is recorded on the
    returned test. Bad input raises ActionError before anything is touched."""
    require_configure(actor)
    target = check_target(point, target, confirm)
    plan = point.plan
    test = RestoreTest.objects.create(
        point=point, drill_target=target, started_at=clock.now(), requested_by=actor
    )
    try:
        _restore(point, target, test)
        test.status = RestoreStatus.OK
    except ActionError as exc:
        test.status = (
            RestoreStatus.TIMEOUT
            if getattr(exc, "reason", "") == "timeout"
            else RestoreStatus.FAILED
        )
        test.message = exc.message[:4000]
    except OSError as exc:
        test.status = RestoreStatus.FAILED
        test.message = str(exc)[:4000]
    test.finished_at = clock.now()
    test.save()
    record(
        actor=actor,
        action="backups.restored_for_real",
        target=test,
        data={"plan": plan.pk, "point": point.pk, "target": target, "status": test.status},
    )
    return test


def _restore(point: BackupPoint, target: str, test: RestoreTest) -> None:
    plan = point.plan
    with artifact_file(plan, point) as stored:
        _restore_file(point, target, test, stored)


def _restore_file(point: BackupPoint, target: str, test: RestoreTest, stored: Path) -> None:
    plan = point.plan
    engine = get_engine(plan.kind)
    admin = scratch_spec(plan)
    if plan.kind == BackupKind.SQLITE:
        drills = Path(plan.directory) / "drills"
        destination = drills / f"{target}.sqlite3"
        if destination.exists():
            raise Conflict(_("%(path)s exists already.") % {"path": destination})
        Path(admin.options["scratch_dir"]).mkdir(mode=0o700, parents=True, exist_ok=True)
        drills.mkdir(mode=0o700, parents=True, exist_ok=True)
    elif _pg_database_exists(admin, target):
        raise Conflict(_("A database named %(name)s exists already.") % {"name": target})
    keys = load_keys() if point.encrypted else None
    with plain_artifact_path(stored, expected_plain_sha256=point.plain_sha256, keys=keys) as path:
        with engine.restore_to_scratch(
            admin, path, timeout=float(plan.verify_timeout_seconds)
        ) as scratch:
            test.scratch_name = scratch.name[:100]
            test.restore_seconds = round(scratch.seconds, 3)
            if plan.kind == BackupKind.SQLITE:
                shutil.copyfile(scratch.spec.database, destination)
                destination.chmod(0o600)
            else:
                _pg_rename(admin, scratch.name, target)
                scratch.dropped = True  # it lives on under the target's name
        test.scratch_dropped = True


def _pg_connect(admin: Any) -> Any:
    import psycopg

    return psycopg.connect(
        host=admin.host,
        port=admin.port,
        dbname=admin.database or "postgres",
        user=admin.user,
        password=admin.password,
        autocommit=True,
        connect_timeout=30,
    )


def _pg_database_exists(admin: Any, name: str) -> bool:
    with _pg_connect(admin) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            is not None
        )


def _pg_rename(admin: Any, scratch: str, target: str) -> None:
    import psycopg
    from psycopg import sql

    with _pg_connect(admin) as conn:
        try:
            conn.execute(
                sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                    sql.Identifier(scratch), sql.Identifier(target)
                )
            )
        except psycopg.errors.DuplicateDatabase:
            raise Conflict(
                _("A database named %(name)s exists already.") % {"name": target}
            ) from None
