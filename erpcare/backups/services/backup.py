"""Making a backup point and keeping the right ones.

A dump streams from the engine (pg_dump, mariadb-dump, SQLite's online backup) straight
into the artifact store, which checksums (and, when the plan says so, encrypts) it in the
same pass: nothing is held in memory and a failed dump leaves no half file. The table
list and row counts are taken in the dump's own snapshot where the engine can (PostgreSQL,
SQLite), so a restore test can compare counts exactly. After every successful backup the
plan's retention is applied.

With an S3 bucket, each artifact is also uploaded (and the local file optionally dropped);
restore tests then download it when there is no local copy.

External plans make nothing: they watch the newest file another tool wrote (a glob),
record its size, checksum and age.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.text import slugify
from django.utils.translation import gettext as _

from erpcare.audit.services import record
from erpcare.backups import remote
from erpcare.backups.artifacts import ArtifactStore, load_keys
from erpcare.backups.engines import get_engine
from erpcare.backups.models import BackupKind, BackupPlan, BackupPoint, PointStatus
from erpcare.backups.retention import Point, RetentionPlan, RetentionPolicy, plan_retention
from erpcare.backups.services.specs import source_spec
from erpcare.core import clock
from erpcare.core.errors import ActionError

log = logging.getLogger(__name__)

EXTENSIONS = {
    BackupKind.POSTGRESQL: "pgdump",
    BackupKind.MYSQL: "sql",
    BackupKind.SQLITE: "sqlite3",
}


def store_for(plan: BackupPlan) -> ArtifactStore:
    return ArtifactStore(Path(plan.directory))


def artifact_name(plan: BackupPlan, point: BackupPoint) -> str:
    """``<plan id>-<plan name>-<UTC time>-p<point id>.<ext>``: sortable, and unique even
    for two backups in one second (an S3 copy must never be overwritten by the next)."""
    stem = slugify(plan.name)[:60] or "backup"
    stamp = point.started_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{plan.pk}-{stem}-{stamp}-p{point.pk}.{EXTENSIONS[BackupKind(plan.kind)]}"


def run_backup(plan: BackupPlan, *, actor: object | None = None) -> BackupPoint:
    """Make one backup point now. A failure is recorded on the point (and returned), not
    raised: the worker and the CLI read ``point.status`` and ``point.error``."""
    point = BackupPoint.objects.create(plan=plan, started_at=clock.now())
    try:
        if plan.kind == BackupKind.EXTERNAL:
            _watch_external(plan, point)
        else:
            _dump(plan, point)
    except (ActionError, OSError) as exc:
        point.status = PointStatus.FAILED
        point.error = (exc.message if isinstance(exc, ActionError) else str(exc))[:4000]
        point.finished_at = clock.now()
        point.save()
        log.warning("backup of plan %s failed: %s", plan.pk, point.error)
        return point
    point.status = PointStatus.OK
    point.finished_at = clock.now()
    point.save()
    if actor is not None:
        record(actor=actor, action="backups.backup_run", target=point, data={"plan": plan.pk})
    if plan.kind != BackupKind.EXTERNAL:
        prune(plan)
    return point


def _dump(plan: BackupPlan, point: BackupPoint) -> None:
    engine = get_engine(plan.kind)
    spec = source_spec(plan)
    engine.check_versions(spec)  # an older client than the server: a clear error first
    keys = load_keys() if plan.encrypt else None
    name = artifact_name(plan, point)
    with engine.open_dump(
        spec,
        timeout=float(plan.timeout_seconds),
        key_tables=list(plan.key_tables or []),
        newest_document_sql=plan.newest_document_sql.strip() or None,
    ) as stream:
        info = store_for(plan).write(name, stream.reader, encrypt=plan.encrypt, keys=keys)
        result = stream.result
    point.artifact = info.name
    point.size = info.size
    point.sha256 = info.sha256
    point.plain_sha256 = info.plain_sha256
    point.encrypted = info.encrypted
    point.key_id = info.key_id or ""
    point.client_version = result.tool[:100]
    point.server_version = result.server[:100]
    if result.stats is not None:
        point.stats = result.stats.as_dict()
        point.newest_document_at = result.stats.newest_document
    bucket = bucket_for(plan)
    if bucket is not None:
        try:
            point.remote_key = remote.upload(bucket, info.path, info.name, sha256=info.sha256)
        except remote.RemoteError as exc:
            # The backup itself is good: keep it locally and say the copy is missing.
            point.error = exc.message[:4000]
            return
        if not plan.keep_local:
            store_for(plan).delete(info.name)
            point.local = False


def bucket_for(plan: BackupPlan) -> remote.Bucket | None:
    if not plan.s3_bucket:
        return None
    return remote.Bucket(
        name=plan.s3_bucket,
        prefix=plan.s3_prefix,
        endpoint_url=plan.s3_endpoint_url,
        region=plan.s3_region,
        access_key=plan.s3_access_key,
        secret_key=plan.s3_secret_key,
    )


@contextlib.contextmanager
def artifact_file(plan: BackupPlan, point: BackupPoint) -> Iterator[Path]:
    """The point's stored file, checked against its recorded size and SHA-256: the local
    copy, or the S3 copy downloaded for the occasion."""
    store = store_for(plan)
    bucket = bucket_for(plan)
    if (point.local and store.exists(point.artifact)) or not point.remote_key or bucket is None:
        store.verify(point.artifact, point.sha256, point.size)
        yield store.path_for(point.artifact)
        return
    with remote.downloaded(bucket, point.remote_key, Path(plan.directory) / "downloads") as path:
        from erpcare.backups.artifacts import verify_artifact

        verify_artifact(path, point.sha256, point.size)
        yield path


def _watch_external(plan: BackupPlan, point: BackupPoint) -> None:
    pattern = plan.external_path.strip()
    if not pattern:
        raise ActionError(_("The external backup plan has no file pattern to watch."))
    files = [Path(p) for p in glob.glob(pattern) if Path(p).is_file()]
    if not files:
        raise ActionError(_("No file matches %(pattern)s.") % {"pattern": pattern})
    newest = max(files, key=lambda p: p.stat().st_mtime)
    size = newest.stat().st_size
    if size == 0:
        raise ActionError(_("The newest backup %(file)s is empty.") % {"file": newest})
    digest = hashlib.sha256()
    with newest.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    point.artifact = str(newest)[:255]
    point.size = size
    point.sha256 = point.plain_sha256 = digest.hexdigest()
    point.newest_document_at = datetime.fromtimestamp(newest.stat().st_mtime, tz=UTC)


# ---------------------------------------------------------------------------
# Retention
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PruneOutcome:
    plan: RetentionPlan
    removed: list[BackupPoint]


def _zone(plan: BackupPlan) -> ZoneInfo:
    if plan.erp_instance_id is not None and plan.erp_instance is not None:
        return ZoneInfo(plan.erp_instance.organization.time_zone or settings.TIME_ZONE)
    return ZoneInfo(settings.TIME_ZONE)


def prune(plan: BackupPlan, *, dry_run: bool = False) -> PruneOutcome:
    """Apply the plan's retention (keep N daily, M weekly, K monthly in the customer's
    time zone; the newest successful point always). Successful points beyond it lose
    their file and become "removed by retention"; failed ones only get the reason."""
    policy = RetentionPolicy(
        keep_daily=plan.keep_daily, keep_weekly=plan.keep_weekly, keep_monthly=plan.keep_monthly
    )
    points = list(
        plan.points.exclude(status__in=[PointStatus.RUNNING, PointStatus.PRUNED]).filter(
            pruned_at__isnull=True
        )
    )
    decided = plan_retention(
        [Point(p.pk, p.started_at, p.status == PointStatus.OK) for p in points],
        policy,
        _zone(plan),
    )
    by_id = {p.pk: p for p in points}
    removed = [by_id[int(d.point.id)] for d in decided.delete]
    if dry_run:
        return PruneOutcome(decided, removed)
    store = store_for(plan)
    bucket = bucket_for(plan)
    now = clock.now()
    for decision in decided.delete:
        point = by_id[int(decision.point.id)]
        if point.status == PointStatus.OK and point.artifact and plan.kind != BackupKind.EXTERNAL:
            store.delete(point.artifact)
            if point.remote_key and bucket is not None:
                remote.delete(bucket, point.remote_key)
            point.status = PointStatus.PRUNED
        point.pruned_at = now
        point.prune_reason = decision.reason[:200]
        point.save(update_fields=["status", "pruned_at", "prune_reason"])
        log.info("backup point %s removed: %s", point.pk, decision.reason)
    return PruneOutcome(decided, removed)
