"""Proving a backup point usable: restore it into a scratch database and check the copy.

In order, stopping at the first thing that makes the rest meaningless:

1. the stored file's size and SHA-256 against what was recorded at backup time (and,
   while decrypting, the plain bytes' SHA-256 and every chunk's authentication tag);
2. the restore itself, within the plan's time limit — the time from the stored file
   (download, checksum and decryption included) to a restored copy is the measured RTO;
3. smoke checks on the copy: it has tables, every table recorded at backup time is
   there, and each key table has exactly the rows counted in the dump's snapshot (a dump
   of the wrong database, an empty one or a truncated one fails here);
4. the instance's business checks (the inspection SQL checks of the business layer for
   this kind of database: trial balance, balanced entries, negative stock, …) run on the
   copy. A check that fails on the copy while it passed on the live database at its last
   run fails the restore test; one that fails on both only reports what the live system
   already has.

The scratch database is always dropped (the engine's ``ScratchDb``), and the test records
whether it was. The RPO is the age of the newest business document at backup time.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from erpcare.audit.services import record
from erpcare.backups.artifacts import load_keys, plain_artifact_path
from erpcare.backups.engines import DbSpec, EngineTimeout, get_engine
from erpcare.backups.models import (
    BackupKind,
    BackupPlan,
    BackupPoint,
    PointStatus,
    RestoreStatus,
    RestoreTest,
)
from erpcare.backups.services.backup import artifact_file
from erpcare.backups.services.specs import scratch_spec
from erpcare.core import clock
from erpcare.core.errors import ActionError

log = logging.getLogger(__name__)

OK, WARN, CRITICAL, ERROR = "ok", "warn", "critical", "error"
FAILING = (CRITICAL, ERROR, "timeout")


def _check(name: str, status: str, detail: str) -> dict[str, str]:
    return {"check": name, "status": status, "detail": detail}


def points_to_verify(plan: BackupPlan, rng: random.Random | None = None) -> list[BackupPoint]:
    """The newest successful point, and one older successful point picked at random (a
    restore test of only the newest would never notice that older files rotted)."""
    ok = list(plan.points.filter(status=PointStatus.OK).order_by("-started_at", "-id"))
    if not ok:
        return []
    chosen = [ok[0]]
    if len(ok) > 1:
        chosen.append((rng or random.SystemRandom()).choice(ok[1:]))
    return chosen


def verify_point(point: BackupPoint, *, actor: Any | None = None) -> RestoreTest:
    """Restore ``point`` into a scratch database, check the copy, drop it; the outcome is
    recorded on the returned test (failures are results, not exceptions)."""
    plan = point.plan
    test = RestoreTest.objects.create(
        point=point, started_at=clock.now(), requested_by=actor if _is_user(actor) else None
    )
    checks: list[dict[str, str]] = []
    try:
        _restore_and_check(plan, point, test, checks)
        failing = [c for c in checks if c["status"] in FAILING]
        test.status = RestoreStatus.FAILED if failing else RestoreStatus.OK
        test.message = "; ".join(c["detail"] for c in failing)[:4000]
    except EngineTimeout as exc:
        test.status = RestoreStatus.TIMEOUT
        test.message = exc.message
    except (ActionError, OSError) as exc:
        test.status = RestoreStatus.FAILED
        test.message = (exc.message if isinstance(exc, ActionError) else str(exc))[:4000]
    if point.newest_document_at is not None:
        test.rpo_seconds = max(0.0, (point.started_at - point.newest_document_at).total_seconds())
    test.checks = checks
    test.finished_at = clock.now()
    test.save()
    if _is_user(actor):
        record(
            actor=actor,
            action="backups.restore_tested",
            target=test,
            data={"point": point.pk, "status": test.status},
        )
    log.info("restore test %s of point %s: %s", test.pk, point.pk, test.status)
    return test


def _is_user(actor: Any) -> bool:
    return actor is not None and getattr(actor, "pk", None) is not None


def _restore_and_check(
    plan: BackupPlan, point: BackupPoint, test: RestoreTest, checks: list[dict[str, str]]
) -> None:
    if point.status != PointStatus.OK:
        raise ActionError(_("Only a successful backup point can be restored."))
    if plan.kind == BackupKind.EXTERNAL:
        raise ActionError(
            _("External backups are watched and checksummed; ERPCare cannot restore them.")
        )
    started = time.monotonic()  # the RTO runs from the stored file to a usable copy
    with artifact_file(plan, point) as stored:
        _restore_file(plan, point, test, checks, stored, started)


def _restore_file(
    plan: BackupPlan,
    point: BackupPoint,
    test: RestoreTest,
    checks: list[dict[str, str]],
    stored: Path,
    started: float,
) -> None:
    checks.append(
        _check(
            "checksum",
            OK,
            _("%(size)s bytes, SHA-256 %(sha)s… as recorded.")
            % {"size": f"{point.size:,}", "sha": point.sha256[:12]},
        )
    )
    engine = get_engine(plan.kind)
    admin = scratch_spec(plan)
    if plan.kind == BackupKind.SQLITE:
        Path(admin.options["scratch_dir"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    keys = load_keys() if point.encrypted else None
    with plain_artifact_path(stored, expected_plain_sha256=point.plain_sha256, keys=keys) as path:
        scratch = engine.restore_to_scratch(admin, path, timeout=float(plan.verify_timeout_seconds))
        test.scratch_name = scratch.name[:100]
        # Download, checksum and decryption included: what a recovery would wait for.
        test.restore_seconds = round(time.monotonic() - started, 3)
        RestoreTest.objects.filter(pk=test.pk).update(scratch_name=test.scratch_name)
        try:
            with scratch:
                checks.extend(smoke_checks(engine, scratch.spec, point))
                broken = any(c["status"] in FAILING for c in checks)
                # Business checks on a copy without its tables would only repeat that.
                if plan.run_business_checks and plan.erp_instance_id is not None and not broken:
                    checks.extend(business_checks(plan, scratch.spec))
        finally:
            test.scratch_dropped = scratch.dropped


def smoke_checks(engine: Any, spec: DbSpec, point: BackupPoint) -> list[dict[str, str]]:
    """Tables present and key tables' exact counts, against what the dump recorded."""
    stats = point.stats or {}
    recorded_tables = [str(t) for t in stats.get("tables", [])]
    exact = [str(t) for t in stats.get("exact", [])]
    recorded_counts = {str(k): int(v) for k, v in dict(stats.get("row_counts", {})).items()}
    found = engine.table_row_counts(spec, recorded_tables) if recorded_tables else {}
    present = [t for t in recorded_tables if found.get(t) is not None]
    results: list[dict[str, str]] = []
    if not recorded_tables:
        results.append(
            _check("tables", CRITICAL, _("The backup holds no tables: the database was empty."))
        )
        return results
    if not present:
        results.append(
            _check(
                "tables",
                CRITICAL,
                _(
                    "None of the %(n)d tables recorded at backup time is in the restored "
                    "database: the file holds another database, or nothing."
                )
                % {"n": len(recorded_tables)},
            )
        )
        return results
    missing = [t for t in recorded_tables if found.get(t) is None]
    if missing:
        results.append(
            _check(
                "tables",
                CRITICAL,
                _("%(n)d table(s) recorded at backup time are missing: %(tables)s")
                % {"n": len(missing), "tables": _names(missing)},
            )
        )
    else:
        results.append(
            _check("tables", OK, _("All %(n)d tables are there.") % {"n": len(recorded_tables)})
        )
    differing = [
        f"{t} {recorded_counts.get(t)} → {found.get(t)}"
        for t in exact
        if t in found and found.get(t) is not None and found.get(t) != recorded_counts.get(t)
    ]
    if differing:
        results.append(
            _check(
                "row counts",
                CRITICAL,
                _("Key tables hold other row counts than at backup time: %(tables)s")
                % {"tables": _names(differing)},
            )
        )
    elif exact:
        total = sum(recorded_counts.get(t, 0) for t in exact)
        results.append(
            _check(
                "row counts",
                OK,
                _("%(n)d key table(s), %(rows)s rows, exactly as at backup time.")
                % {"n": len(exact), "rows": f"{total:,}"},
            )
        )
    return results


def _names(items: Iterable[str], limit: int = 10) -> str:
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f", … (+{len(items) - limit})" if len(items) > limit else "")


def business_checks(plan: BackupPlan, spec: DbSpec) -> list[dict[str, str]]:
    """The instance's business-layer SQL checks for this kind of database, run on the copy."""
    from erpcare.inspections.models import CheckKind, InstanceCheck, Layer
    from erpcare.inspections.runners.spec import SourceSpec
    from erpcare.inspections.services.runs import ask

    assignments = (
        InstanceCheck.objects.filter(
            erp_instance_id=plan.erp_instance_id,
            is_active=True,
            check_ref__kind=CheckKind.SQL,
            check_ref__layer=Layer.BUSINESS,
            check_ref__source_kind=plan.kind,
        )
        .select_related("check_ref", "data_source")
        .order_by("check_ref__code", "id")
    )
    results: list[dict[str, str]] = []
    seen: set[int] = set()
    for assignment in assignments:
        if assignment.check_ref_id in seen:
            continue  # the same check on two data sources of the instance: once is enough
        seen.add(assignment.check_ref_id)
        source = assignment.data_source
        runner_spec = SourceSpec(
            kind=plan.kind,
            host=spec.host,
            port=spec.port,
            database=spec.database,
            username=spec.user,
            password=spec.password,
            options=dict(spec.options) if plan.kind != BackupKind.SQLITE else {},
            timeout_ms=source.statement_timeout_ms,
            max_rows=source.max_rows,
        )
        verdict = ask(assignment, runner_spec)
        status = verdict.status
        detail = f"{assignment.check_ref.name}: {verdict.message}".strip(": ")
        if status in FAILING and assignment.last_status in FAILING:
            # The live database fails it too: the copy is faithful, not broken.
            status = WARN
            detail = _("%(detail)s (the live database fails this check too)") % {"detail": detail}
        results.append(_check(assignment.check_ref.code, status, detail[:1000]))
    return results
