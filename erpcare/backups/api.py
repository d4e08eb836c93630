"""Backups over the API: the plans with their health, a plan's points, a point with its
restore tests, "back up now" and "test restore now".

Reading needs a role that reads backups (L2/L3 engineers, managers, administrators,
auditors) and a plan of an ERP instance the caller can see (ERPCare's own database:
administrators); anybody else gets the same 404 as for a plan that does not exist.
Starting a backup or a restore test needs L2/L3 or a manager/administrator (403).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja import Status as HttpStatus

from erpcare.accounts.models import User
from erpcare.backups import admin_services as svc
from erpcare.backups.models import BackupPlan, BackupPoint, RestoreTest
from erpcare.backups.services.health import PlanHealth, plan_health
from erpcare.core.pagination import MAX_PAGE, page_of
from erpcare.core.schemas import ERRORS

router = Router(tags=["backups"])

READ_RULE = (
    "Needs a role that reads backups (L2/L3 engineer, manager, administrator, auditor) "
    "and a plan of an ERP instance the caller can see (plans of ERPCare's own database: "
    "administrators); otherwise 404, as for an unknown plan."
)
RUN_RULE = " Starting it needs an L2/L3 engineer, a manager or an administrator (403 otherwise)."
TESTS_SHOWN = 100


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


class ConcernOut(Schema):
    rating: str
    message: str


class HealthOut(Schema):
    rating: str
    backup: ConcernOut
    restore: ConcernOut
    last_good_backup_at: datetime | None
    last_good_backup_age_hours: float | None
    last_restore_test_at: datetime | None
    last_restore_test_status: str | None
    last_good_restore_test_at: datetime | None
    measured_rto_seconds: float | None


class PlanOut(Schema):
    id: int
    name: str
    kind: str
    erp_instance: int | None
    customer: str | None
    data_source: int | None
    is_active: bool
    directory: str
    encrypt: bool
    schedule: str
    verify_schedule: str
    keep_daily: int
    keep_weekly: int
    keep_monthly: int
    rpo_hours: int
    rto_minutes: int
    key_tables: list[str]
    run_business_checks: bool
    s3_bucket: str
    s3_prefix: str
    keep_local: bool
    next_backup_at: datetime | None
    next_verify_at: datetime | None
    health: HealthOut


class PlanPageOut(Schema):
    items: list[PlanOut]
    page: int
    page_size: int
    has_next: bool


class PointOut(Schema):
    id: int
    plan: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    artifact: str
    size: int
    sha256: str
    encrypted: bool
    local: bool
    remote_key: str
    server_version: str
    client_version: str
    tables: int
    key_table_rows: dict[str, int]
    newest_document_at: datetime | None
    error: str
    pruned_at: datetime | None
    prune_reason: str


class PointPageOut(Schema):
    items: list[PointOut]
    page: int
    page_size: int
    has_next: bool


class CheckOut(Schema):
    check: str
    status: str
    detail: str


class RestoreTestOut(Schema):
    id: int
    status: str
    drill_target: str
    started_at: datetime
    finished_at: datetime | None
    restore_seconds: float | None
    rpo_seconds: float | None
    checks: list[CheckOut]
    message: str
    scratch_name: str
    scratch_dropped: bool


class PointDetailOut(PointOut):
    restore_tests: list[RestoreTestOut]


class BackupQueuedOut(Schema):
    task: str
    status: str


def _health_out(health: PlanHealth) -> dict[str, Any]:
    good, test, good_test = health.last_good_point, health.last_test, health.last_good_test
    age = health.backup_age
    return {
        "rating": health.rating,
        "backup": {"rating": health.backup.rating, "message": health.backup.message},
        "restore": {"rating": health.restore.rating, "message": health.restore.message},
        "last_good_backup_at": good.started_at if good else None,
        "last_good_backup_age_hours": round(age.total_seconds() / 3600, 2) if age else None,
        "last_restore_test_at": test.started_at if test else None,
        "last_restore_test_status": test.status if test else None,
        "last_good_restore_test_at": good_test.started_at if good_test else None,
        "measured_rto_seconds": good_test.restore_seconds if good_test else None,
    }


def _plan_out(plan: BackupPlan) -> dict[str, Any]:
    instance = plan.erp_instance
    return {
        "id": plan.pk,
        "name": plan.name,
        "kind": plan.kind,
        "erp_instance": plan.erp_instance_id,
        "customer": instance.organization.code if instance is not None else None,
        "data_source": plan.data_source_id,
        "is_active": plan.is_active,
        "directory": plan.directory,
        "encrypt": plan.encrypt,
        "schedule": plan.schedule,
        "verify_schedule": plan.verify_schedule,
        "keep_daily": plan.keep_daily,
        "keep_weekly": plan.keep_weekly,
        "keep_monthly": plan.keep_monthly,
        "rpo_hours": plan.rpo_hours,
        "rto_minutes": plan.rto_minutes,
        "key_tables": [str(t) for t in plan.key_tables or []],
        "run_business_checks": plan.run_business_checks,
        "s3_bucket": plan.s3_bucket,
        "s3_prefix": plan.s3_prefix,
        "keep_local": plan.keep_local,
        "next_backup_at": plan.next_backup_at,
        "next_verify_at": plan.next_verify_at,
        "health": _health_out(plan_health(plan)),
    }


def _point_out(point: BackupPoint) -> dict[str, Any]:
    stats = point.stats if isinstance(point.stats, dict) else {}
    counts = dict(stats.get("row_counts") or {})
    return {
        "id": point.pk,
        "plan": point.plan_id,
        "status": point.status,
        "started_at": point.started_at,
        "finished_at": point.finished_at,
        "artifact": point.artifact,
        "size": point.size,
        "sha256": point.sha256,
        "encrypted": point.encrypted,
        "local": point.local,
        "remote_key": point.remote_key,
        "server_version": point.server_version,
        "client_version": point.client_version,
        "tables": len(stats.get("tables") or []),
        "key_table_rows": {str(t): int(counts.get(t, 0)) for t in stats.get("exact") or []},
        "newest_document_at": point.newest_document_at,
        "error": point.error,
        "pruned_at": point.pruned_at,
        "prune_reason": point.prune_reason,
    }


def _test_out(test: RestoreTest) -> dict[str, Any]:
    checks = [c for c in (test.checks or []) if isinstance(c, dict)]
    return {
        "id": test.pk,
        "status": test.status,
        "drill_target": test.drill_target,
        "started_at": test.started_at,
        "finished_at": test.finished_at,
        "restore_seconds": test.restore_seconds,
        "rpo_seconds": test.rpo_seconds,
        "checks": [
            {
                "check": str(c.get("check", "")),
                "status": str(c.get("status", "")),
                "detail": str(c.get("detail", "")),
            }
            for c in checks
        ],
        "message": test.message,
        "scratch_name": test.scratch_name,
        "scratch_dropped": test.scratch_dropped,
    }


@router.get(
    "/plans",
    response={200: PlanPageOut, **ERRORS},
    summary="Backup plans with their health",
    description="Each plan's settings and health: green, yellow, red or grey, the last good "
    "backup's age against the RPO target, the last restore test and the measured RTO. "
    "Paged; `customer` (a code) keeps one customer's plans. " + READ_RULE,
)
def list_plans(
    request: HttpRequest,
    customer: str | None = None,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(50, ge=1, le=200),
) -> object:
    plans = svc.plans_for(_user(request)).select_related("erp_instance__organization")
    if customer:
        plans = plans.filter(erp_instance__organization__code=customer)
    plans = plans.order_by("erp_instance__organization__name", "erp_instance__name", "name", "id")
    found = page_of(plans, page, page_size)
    found["items"] = [_plan_out(plan) for plan in found["items"]]
    return found


@router.get(
    "/plans/{plan_id}",
    response={200: PlanOut, **ERRORS},
    summary="A backup plan with its health",
    description=READ_RULE,
)
def get_plan(request: HttpRequest, plan_id: int) -> object:
    return _plan_out(svc.plan_for(_user(request), plan_id))


@router.get(
    "/plans/{plan_id}/points",
    response={200: PointPageOut, **ERRORS},
    summary="The backup points of a plan",
    description="Newest first, paged: size, SHA-256, encryption, the tables and the key "
    "tables' exact row counts at backup time, error or retention reason. " + READ_RULE,
)
def list_points(
    request: HttpRequest,
    plan_id: int,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(50, ge=1, le=200),
) -> object:
    plan = svc.plan_for(_user(request), plan_id)
    found = page_of(plan.points.order_by("-started_at", "-id"), page, page_size)
    found["items"] = [_point_out(point) for point in found["items"]]
    return found


@router.get(
    "/points/{point_id}",
    response={200: PointDetailOut, **ERRORS},
    summary="A backup point with its restore tests",
    description=f"The point and its latest {TESTS_SHOWN} restore tests (newest first) with "
    "each check's status and detail, the measured RTO and RPO, and whether the scratch "
    "database was dropped; a restore for real names its `drill_target`. " + READ_RULE,
)
def get_point(request: HttpRequest, point_id: int) -> object:
    point = svc.point_for(_user(request), point_id)
    out = _point_out(point)
    tests = point.restores.order_by("-started_at", "-id")[:TESTS_SHOWN]
    out["restore_tests"] = [_test_out(test) for test in tests]
    return out


@router.post(
    "/plans/{plan_id}/backups",
    response={202: BackupQueuedOut, **ERRORS},
    summary="Back a plan up now",
    description="Queues one backup; a worker makes it. Answers 202 with the task's id; the "
    "new point appears in `GET /plans/{plan_id}/points`. " + READ_RULE + RUN_RULE,
)
def backup_now(request: HttpRequest, plan_id: int) -> HttpStatus[BackupQueuedOut]:
    user = _user(request)
    plan = svc.plan_for(user, plan_id)
    task = svc.queue_backup(user, plan)
    return HttpStatus(202, BackupQueuedOut(task=task, status="queued"))


@router.post(
    "/points/{point_id}/restore-tests",
    response={202: BackupQueuedOut, **ERRORS},
    summary="Test a backup point's restore now",
    description="Queues a restore test into a scratch database that is always dropped; a "
    "worker runs it. Answers 202; the test appears in `GET /points/{point_id}`. A failed, "
    "removed or external point answers 400. " + READ_RULE + RUN_RULE,
)
def restore_test_now(request: HttpRequest, point_id: int) -> HttpStatus[BackupQueuedOut]:
    user = _user(request)
    point = svc.point_for(user, point_id)
    task = svc.queue_restore_test(user, point)
    return HttpStatus(202, BackupQueuedOut(task=task, status="queued"))
