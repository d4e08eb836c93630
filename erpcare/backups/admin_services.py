"""The backups admin's actions: backup plans (create, change, delete), "back up now",
"test restore now", restore for real (queued), and retention (preview and prune).

Every function that changes something takes the actor first, checks the role and the
plan's visibility before anything else, validates (``ActionError`` with a translated
message; nothing changes then) and writes its rows and an audit entry in one transaction.
A plan's scratch server password is written, never read back: the audit log notes only
that it changed.

Visibility: a plan of an ERP instance is seen by the backup readers who see the instance
(``customers.services.visible_erp_instances``); a plan of ERPCare's own database by
administrators only. Anybody else gets NotFound, as for a plan that does not exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.audit.services import record
from erpcare.backups.models import BackupKind, BackupPlan, BackupPoint, PointStatus
from erpcare.backups.permissions import (
    can_manage_own_database,
    can_read_backups,
    require_configure,
    require_run,
)
from erpcare.core import clock
from erpcare.core.errors import ActionError, NotAllowed, NotFound
from erpcare.customers.models import ErpInstance
from erpcare.customers.services import visible_erp_instances
from erpcare.inspections.admin_services import validate_cron
from erpcare.inspections.models import DataSource

# Kinds a plan connects to through an inspection data source of the same kind.
DUMP_KINDS = (BackupKind.POSTGRESQL, BackupKind.MYSQL, BackupKind.SQLITE)
# Kinds that restore through a database server's login (SQLite restores to files).
SERVER_KINDS = (BackupKind.POSTGRESQL, BackupKind.MYSQL)
MAX_KEEP = 1000
MIN_TIMEOUT, MAX_TIMEOUT = 10, 7 * 24 * 3600
MAX_RPO_HOURS = 24 * 366
MAX_RTO_MINUTES = 60 * 24 * 30
MAX_KEY_TABLES = 100
MAX_TABLE_NAME = 128
MAX_SQL = 5000
KEY_TABLE_SPLIT = re.compile(r"[,\n\r]+")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SELECT = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class PlanValues:
    """A plan's settings as a form or the API gives them (the scratch password apart).
    ``erp_instance_id`` None means ERPCare's own database."""

    name: str
    kind: str
    erp_instance_id: int | None
    directory: str
    data_source_id: int | None = None
    encrypt: bool = True
    schedule: str = "0 2 * * *"
    verify_schedule: str = "0 4 * * 0"
    keep_daily: int = 7
    keep_weekly: int = 4
    keep_monthly: int = 12
    timeout_seconds: int = 3600
    verify_timeout_seconds: int = 3600
    key_tables: list[str] = field(default_factory=list)
    newest_document_sql: str = ""
    run_business_checks: bool = True
    external_path: str = ""
    rpo_hours: int = 24
    rto_minutes: int = 240
    scratch_host: str = ""
    scratch_port: int | None = None
    scratch_user: str = ""
    s3_bucket: str = ""
    s3_prefix: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = ""
    s3_access_key: str = ""
    keep_local: bool = True
    is_active: bool = True


# ---------------------------------------------------------------------------
# Scoping
# ---------------------------------------------------------------------------


def plans_for(user: User) -> QuerySet[BackupPlan]:
    """The plans the user may read: those of the ERP instances they see, and ERPCare's
    own database's for administrators; none for anybody who does not read backups."""
    if not can_read_backups(user):
        return BackupPlan.objects.none()
    scope = Q(erp_instance__in=visible_erp_instances(user))
    if can_manage_own_database(user):
        scope |= Q(erp_instance__isnull=True)
    return BackupPlan.objects.filter(scope)


def plan_for(user: User, plan_id: int) -> BackupPlan:
    found = (
        plans_for(user)
        .select_related("erp_instance__organization", "data_source")
        .filter(pk=plan_id)
        .first()
    )
    if found is None:
        raise NotFound(_("Backup plan not found."))
    return found


def points_for(user: User) -> QuerySet[BackupPoint]:
    return BackupPoint.objects.filter(plan__in=plans_for(user))


def point_for(user: User, point_id: int) -> BackupPoint:
    found = (
        points_for(user)
        .select_related("plan__erp_instance__organization", "plan__data_source")
        .filter(pk=point_id)
        .first()
    )
    if found is None:
        raise NotFound(_("Backup point not found."))
    return found


def _require_visible(actor: User, plan: BackupPlan) -> None:
    if not plans_for(actor).filter(pk=plan.pk).exists():
        raise NotFound(_("Backup plan not found."))


def sources_for(user: User) -> QuerySet[DataSource]:
    """The data sources a plan may back up: database sources of the instances the user
    sees (the password deferred: it is never shown)."""
    return (
        DataSource.objects.filter(
            erp_instance__in=visible_erp_instances(user), kind__in=[k.value for k in DUMP_KINDS]
        )
        .select_related("erp_instance__organization")
        .defer("password")
        .order_by("erp_instance__organization__name", "erp_instance__name", "name", "pk")
    )


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def parse_key_tables(text: str | list[str]) -> list[str]:
    """Key table names from a comma- or line-separated text (or a list), stripped,
    without duplicates; ActionError for a name that cannot be a table's."""
    items = KEY_TABLE_SPLIT.split(text) if isinstance(text, str) else [str(t) for t in text]
    names: list[str] = []
    for item in items:
        name = item.strip()
        if not name:
            continue
        if len(name) > MAX_TABLE_NAME or CONTROL.search(name):
            raise ActionError(_("“%(name)s” is not a table name.") % {"name": name[:40]})
        if name not in names:
            names.append(name)
    if len(names) > MAX_KEY_TABLES:
        raise ActionError(_("At most %(n)d key tables.") % {"n": MAX_KEY_TABLES})
    return names


def wrong_instance_source() -> ActionError:
    return ActionError(_("The data source belongs to another ERP instance."))


def wrong_kind_source(source: DataSource, kind: str) -> ActionError:
    return ActionError(
        _("The data source is a %(source)s database, the plan backs up %(plan)s.")
        % {"source": source.get_kind_display(), "plan": BackupKind(kind).label}
    )


def _between(value: int | None, low: int, high: int, message: str) -> int:
    if value is None or isinstance(value, bool) or not low <= value <= high:
        raise ActionError(message % {"min": low, "max": high})
    return value


def _clean_plan(actor: User, values: PlanValues) -> dict[str, Any]:
    """The model's field values for ``values``, or ActionError naming what is wrong.
    Fields a kind does not use are emptied so that a change leaves nothing stale."""
    from erpcare.backups.retention import RetentionPolicy
    from erpcare.backups.services.specs import own_database_spec

    name = " ".join((values.name or "").split())
    if not name:
        raise ActionError(_("Enter a name."))
    if len(name) > 100:
        raise ActionError(_("The name is at most 100 characters."))
    if values.kind not in BackupKind.values:
        raise ActionError(_("Choose what kind of backup the plan makes."))
    kind = BackupKind(values.kind)

    instance: ErpInstance | None = None
    source: DataSource | None = None
    if values.erp_instance_id is None:
        if not can_manage_own_database(actor):
            raise NotAllowed(_("Only administrators back up ERPCare's own database."))
        own_kind = own_database_spec().kind
        if kind != own_kind:
            raise ActionError(
                _("ERPCare's own database is a %(kind)s database.")
                % {"kind": BackupKind(own_kind).label}
            )
    else:
        instance = (
            visible_erp_instances(actor)
            .select_related("organization")
            .filter(pk=values.erp_instance_id)
            .first()
        )
        if instance is None:
            raise ActionError(_("Choose one of the ERP instances you can see."))
        if values.data_source_id is not None:
            source = DataSource.objects.filter(pk=values.data_source_id).first()
            if source is None:
                raise ActionError(_("Choose a data source of the ERP instance."))
            if source.erp_instance_id != instance.pk:
                raise wrong_instance_source()
            if kind != BackupKind.EXTERNAL and source.kind != kind:
                raise wrong_kind_source(source, kind)
        if kind in DUMP_KINDS and source is None:
            raise ActionError(
                _("Choose the data source (a %(kind)s database of the ERP instance) to back up.")
                % {"kind": kind.label}
            )

    directory = (values.directory or "").strip()
    if not directory.startswith("/") or CONTROL.search(directory) or len(directory) > 500:
        raise ActionError(_("Enter the backup directory's absolute path on the worker machines."))
    directory = str(PurePosixPath(directory))
    external_path = (values.external_path or "").strip()
    if kind == BackupKind.EXTERNAL:
        if not external_path.startswith("/") or len(external_path) > 500:
            raise ActionError(
                _("Enter the absolute file pattern of the backups the other tool makes.")
            )
    else:
        external_path = ""

    try:
        RetentionPolicy(
            keep_daily=values.keep_daily,
            keep_weekly=values.keep_weekly,
            keep_monthly=values.keep_monthly,
        )
    except ActionError as exc:
        raise ActionError(exc.message) from None
    for keep in (values.keep_daily, values.keep_weekly, values.keep_monthly):
        _between(keep, 0, MAX_KEEP, _("Keep from %(min)d to %(max)d backups of each kind."))
    timeout = _between(
        values.timeout_seconds, MIN_TIMEOUT, MAX_TIMEOUT,
        _("The backup time limit is between %(min)d and %(max)d seconds."),
    )  # fmt: skip
    verify_timeout = _between(
        values.verify_timeout_seconds, MIN_TIMEOUT, MAX_TIMEOUT,
        _("The restore test time limit is between %(min)d and %(max)d seconds."),
    )  # fmt: skip
    rpo = _between(
        values.rpo_hours, 1, MAX_RPO_HOURS, _("The RPO target is %(min)d to %(max)d hours.")
    )
    rto = _between(
        values.rto_minutes, 1, MAX_RTO_MINUTES, _("The RTO target is %(min)d to %(max)d minutes.")
    )
    sql = (values.newest_document_sql or "").strip()
    if sql:
        if len(sql) > MAX_SQL:
            raise ActionError(
                _("The newest-document query is at most %(n)d characters.") % {"n": MAX_SQL}
            )
        if not SELECT.match(sql):
            raise ActionError(_("The newest-document query is one SELECT (or WITH … SELECT)."))

    scratch_host = (values.scratch_host or "").strip()
    scratch_user = (values.scratch_user or "").strip()
    scratch_port = values.scratch_port
    if kind in SERVER_KINDS:
        if scratch_port is not None:
            _between(scratch_port, 1, 65535, _("The port is a number from %(min)d to %(max)d."))
        if len(scratch_host) > 255 or len(scratch_user) > 100:
            raise ActionError(_("The scratch server's host or login is too long."))
    else:
        scratch_host, scratch_port, scratch_user = "", None, ""
    # External plans copy nothing anywhere: another tool made the files.
    s3 = _clean_s3(values, none=kind == BackupKind.EXTERNAL)

    return {
        "name": name,
        "kind": kind.value,
        "erp_instance": instance,
        "data_source": source,
        "directory": directory,
        "encrypt": bool(values.encrypt) and kind != BackupKind.EXTERNAL,
        "schedule": validate_cron(values.schedule),
        "verify_schedule": validate_cron(values.verify_schedule),
        "keep_daily": values.keep_daily,
        "keep_weekly": values.keep_weekly,
        "keep_monthly": values.keep_monthly,
        "timeout_seconds": timeout,
        "verify_timeout_seconds": verify_timeout,
        "key_tables": parse_key_tables(values.key_tables),
        "newest_document_sql": sql,
        "run_business_checks": bool(values.run_business_checks),
        "external_path": external_path,
        "rpo_hours": rpo,
        "rto_minutes": rto,
        "scratch_host": scratch_host,
        "scratch_port": scratch_port,
        "scratch_user": scratch_user,
        **s3,
        "is_active": bool(values.is_active),
    }


def _clean_s3(values: PlanValues, *, none: bool = False) -> dict[str, Any]:
    """The S3 copy's settings; an empty bucket means none (and the local copy stays)."""
    bucket = "" if none else (values.s3_bucket or "").strip()
    prefix = (values.s3_prefix or "").strip().strip("/")
    endpoint = (values.s3_endpoint_url or "").strip()
    region = (values.s3_region or "").strip()
    access_key = (values.s3_access_key or "").strip()
    if not bucket:
        return {
            "s3_bucket": "", "s3_prefix": "", "s3_endpoint_url": "", "s3_region": "",
            "s3_access_key": "", "keep_local": True,
        }  # fmt: skip
    if not BUCKET.fullmatch(bucket) or ".." in bucket:
        raise ActionError(
            _("“%(name)s” is not an S3 bucket name (3 to 63 lower-case letters, digits, dots "
              "and hyphens).") % {"name": bucket[:70]}
        )  # fmt: skip
    if len(prefix) > 200 or CONTROL.search(prefix):
        raise ActionError(_("The S3 key prefix is at most 200 characters."))
    if endpoint and (
        not endpoint.lower().startswith(("http://", "https://")) or len(endpoint) > 300
    ):
        raise ActionError(
            _("Enter the S3 endpoint as an http:// or https:// URL (or leave it empty).")
        )
    if len(region) > 50 or len(access_key) > 200 or CONTROL.search(region + access_key):
        raise ActionError(_("The S3 region or access key is too long."))
    return {
        "s3_bucket": bucket,
        "s3_prefix": prefix,
        "s3_endpoint_url": endpoint,
        "s3_region": region,
        "s3_access_key": access_key,
        "keep_local": bool(values.keep_local),
    }


def _audit_fields(fields: dict[str, Any]) -> dict[str, Any]:
    # Where and how, never the scratch password.
    out = {k: v for k, v in fields.items() if k not in ("erp_instance", "data_source")}
    instance, source = fields["erp_instance"], fields["data_source"]
    out["erp_instance"] = instance.pk if instance is not None else None
    out["data_source"] = source.pk if source is not None else None
    return out


# ---------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------


def create_plan(
    actor: User, values: PlanValues, *, scratch_password: str = "", s3_secret_key: str = ""
) -> BackupPlan:
    require_configure(actor)
    fields = _clean_plan(actor, values)
    if fields["kind"] not in SERVER_KINDS:
        scratch_password = ""
    if not fields["s3_bucket"]:
        s3_secret_key = ""
    with transaction.atomic():
        plan = BackupPlan.objects.create(
            created_by=actor,
            created_at=clock.now(),
            scratch_password=scratch_password,
            s3_secret_key=s3_secret_key,
            **fields,
        )
        record(
            actor=actor,
            action="backups.plan_created",
            target=plan,
            data={
                **_audit_fields(fields),
                "scratch_password_set": bool(scratch_password),
                "s3_secret_key_set": bool(s3_secret_key),
            },
        )
    return plan


def _secret(locked: BackupPlan, name: str, new: str, *, clear: bool, unused: bool) -> str:
    """Set or clear one write-only secret on ``locked``; what happened, for the audit log."""
    if clear or unused:
        note = "cleared" if getattr(locked, name) else ""
        setattr(locked, name, "")
        return note
    if new:
        setattr(locked, name, new)
        return "changed"
    return ""


def update_plan(
    actor: User,
    plan: BackupPlan,
    values: PlanValues,
    *,
    scratch_password: str = "",
    clear_scratch_password: bool = False,
    s3_secret_key: str = "",
    clear_s3_secret_key: bool = False,
) -> BackupPlan:
    """Change a plan. Its ERP instance (or ERPCare's own database) and its kind stay:
    the points already made are of that database and that format. An empty
    ``scratch_password`` (``s3_secret_key``) keeps the stored one; ``clear_…`` removes it.
    A changed schedule takes effect from the scheduler's next pass."""
    require_configure(actor)
    _require_visible(actor, plan)
    if values.erp_instance_id != plan.erp_instance_id or values.kind != plan.kind:
        raise ActionError(
            _("A plan's database and kind cannot be changed; add another plan instead.")
        )
    if (scratch_password and clear_scratch_password) or (s3_secret_key and clear_s3_secret_key):
        raise ActionError(_("Either enter a new password or clear it, not both."))
    fields = _clean_plan(actor, values)
    with transaction.atomic():
        locked = BackupPlan.objects.select_for_update().get(pk=plan.pk)
        changed = sorted(key for key, value in fields.items() if getattr(locked, key) != value)
        if locked.schedule != fields["schedule"]:
            locked.next_backup_at = None  # the scheduler gives it the new schedule's time
        if locked.verify_schedule != fields["verify_schedule"]:
            locked.next_verify_at = None
        for key, value in fields.items():
            setattr(locked, key, value)
        scratch_note = _secret(
            locked, "scratch_password", scratch_password,
            clear=clear_scratch_password, unused=fields["kind"] not in SERVER_KINDS,
        )  # fmt: skip
        s3_note = _secret(
            locked, "s3_secret_key", s3_secret_key,
            clear=clear_s3_secret_key, unused=not fields["s3_bucket"],
        )  # fmt: skip
        locked.save()
        record(
            actor=actor,
            action="backups.plan_changed",
            target=locked,
            data={
                **_audit_fields(fields),
                "changed": changed,
                "scratch_password": scratch_note,
                "s3_secret_key": s3_note,
            },
        )
    return locked


def delete_plan(actor: User, plan: BackupPlan) -> int:
    """Delete a plan with the records of its points and restore tests; the backup files
    stay in the plan's directory (an operator removes them, or keeps them). Returns the
    number of points whose records went."""
    require_configure(actor)
    _require_visible(actor, plan)
    with transaction.atomic():
        locked = BackupPlan.objects.select_for_update().get(pk=plan.pk)
        points = locked.points.count()
        record(
            actor=actor,
            action="backups.plan_deleted",
            target=locked,
            data={
                "name": locked.name,
                "kind": locked.kind,
                "erp_instance": locked.erp_instance_id,
                "directory": locked.directory,
                "points": points,
            },
        )
        locked.delete()
    return points


# ---------------------------------------------------------------------------
# Now: a backup, a restore test, a restore for real
# ---------------------------------------------------------------------------


def queue_backup(actor: User, plan: BackupPlan) -> str:
    """Queue one backup of the plan for a worker; returns the task's id."""
    from erpcare.backups.tasks import back_up

    require_run(actor)
    _require_visible(actor, plan)
    result = back_up.enqueue(plan.pk)
    record(
        actor=actor,
        action="backups.backup_queued",
        target=plan,
        data={"task": str(result.id)},
    )
    return str(result.id)


def _restorable(point: BackupPoint) -> None:
    if point.plan.kind == BackupKind.EXTERNAL:
        raise ActionError(
            _("External backups are watched and checksummed; ERPCare cannot restore them.")
        )
    if point.status != PointStatus.OK:
        raise ActionError(_("Only a successful backup point can be restored."))


def queue_restore_test(actor: User, point: BackupPoint) -> str:
    """Queue a restore test of one point (into a scratch database that is dropped);
    the test itself records the requester and its own audit entry."""
    from erpcare.backups.tasks import verify_one

    require_run(actor)
    _require_visible(actor, point.plan)
    _restorable(point)
    result = verify_one.enqueue(point.pk, actor.pk)
    record(
        actor=actor,
        action="backups.restore_test_queued",
        target=point,
        data={"plan": point.plan_id, "task": str(result.id)},
    )
    return str(result.id)


def queue_restore_for_real(actor: User, point: BackupPoint, target: str, *, confirm: str) -> str:
    """Check the target (typed twice, a new name, never the source) now and queue the
    restore for a worker: a large database takes longer than a page may wait. The
    outcome is a restore test with the target's name on the point."""
    from erpcare.backups.services.drill import check_target
    from erpcare.backups.tasks_drill import restore_for_real

    require_configure(actor)
    _require_visible(actor, point.plan)
    _restorable(point)
    target = check_target(point, target, confirm)
    result = restore_for_real.enqueue(point.pk, target, actor.pk)
    record(
        actor=actor,
        action="backups.restore_for_real_queued",
        target=point,
        data={"plan": point.plan_id, "target": target, "task": str(result.id)},
    )
    return str(result.id)


# ---------------------------------------------------------------------------
# Retention
# ---------------------------------------------------------------------------


def prune_preview(actor: User, plan: BackupPlan) -> Any:
    """What the plan's retention would remove now, with the reasons (nothing changes)."""
    from erpcare.backups.services.backup import prune

    if not can_read_backups(actor):
        raise NotFound(_("Backup plan not found."))
    _require_visible(actor, plan)
    return prune(plan, dry_run=True)


def prune_now(actor: User, plan: BackupPlan) -> Any:
    """Apply the plan's retention now: the files of the points beyond it are deleted."""
    from erpcare.backups.services.backup import prune

    require_configure(actor)
    _require_visible(actor, plan)
    if plan.kind == BackupKind.EXTERNAL:
        raise ActionError(_("ERPCare does not delete the files of external backups."))
    outcome = prune(plan)
    record(
        actor=actor,
        action="backups.pruned",
        target=plan,
        data={
            "removed": [p.pk for p in outcome.removed],
            "reasons": {str(d.point.id): d.reason for d in outcome.plan.delete},
        },
    )
    return outcome
