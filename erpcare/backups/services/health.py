"""How each plan stands: the age of its last good backup against the RPO target, the age
of its last good restore test, and the measured RTO against the RTO target — and the
incidents a failed or stale plan opens (one per plan and concern, through the monitoring
pipeline's internal integration of the ERP instance, resolved when it is good again)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import croniter
from django.utils.translation import gettext as _

from erpcare.backups.models import (
    BackupPlan,
    BackupPoint,
    PointStatus,
    RestoreStatus,
    RestoreTest,
)
from erpcare.core import clock
from erpcare.customers.models import ErpInstance
from erpcare.monitoring.internal import alert_is_open, internal_integration, queue
from erpcare.monitoring.models import Integration

GREEN, YELLOW, RED, GREY = "green", "yellow", "red", "grey"
_ORDER = {GREY: 0, GREEN: 1, YELLOW: 2, RED: 3}


@dataclass(frozen=True)
class Concern:
    rating: str
    message: str


@dataclass(frozen=True)
class PlanHealth:
    plan: BackupPlan
    last_point: BackupPoint | None
    last_good_point: BackupPoint | None
    last_test: RestoreTest | None
    last_good_test: RestoreTest | None
    backup: Concern
    restore: Concern

    @property
    def rating(self) -> str:
        return max(self.backup.rating, self.restore.rating, key=_ORDER.__getitem__)

    @property
    def backup_age(self) -> timedelta | None:
        good = self.last_good_point
        return clock.now() - good.started_at if good is not None else None


def verify_interval(plan: BackupPlan, now: datetime) -> timedelta:
    """The time between two restore tests by the plan's cron (weekly: 7 days)."""
    it = croniter(plan.verify_schedule, now)
    first = it.get_next(datetime)
    return it.get_next(datetime) - first


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f}"


def plan_health(plan: BackupPlan, now: datetime | None = None) -> PlanHealth:
    now = now or clock.now()
    points = plan.points.exclude(status=PointStatus.RUNNING).order_by("-started_at", "-id")
    last_point = points.first()
    last_good = points.filter(status__in=[PointStatus.OK]).first()
    tests = RestoreTest.objects.filter(point__plan=plan).exclude(status=RestoreStatus.RUNNING)
    last_test = tests.order_by("-started_at", "-id").first()
    last_good_test = tests.filter(status=RestoreStatus.OK).order_by("-started_at", "-id").first()
    rpo = timedelta(hours=plan.rpo_hours)

    if last_point is None:
        backup = Concern(GREY, _("No backup yet."))
    elif last_good is None:
        backup = Concern(RED, _("No backup has succeeded: %(error)s") % {"error": last_point.error})
    elif last_point.status == PointStatus.FAILED and now - last_good.started_at > rpo:
        backup = Concern(
            RED,
            _("The last backup failed (%(error)s) and the last good one is %(hours)s h old.")
            % {"error": last_point.error, "hours": _hours(now - last_good.started_at)},
        )
    elif now - last_good.started_at > rpo:
        backup = Concern(
            RED,
            _("The last good backup is %(hours)s h old; the RPO target is %(target)d h.")
            % {"hours": _hours(now - last_good.started_at), "target": plan.rpo_hours},
        )
    elif last_point.status == PointStatus.FAILED:
        backup = Concern(
            YELLOW, _("The last backup failed: %(error)s") % {"error": last_point.error}
        )
    elif plan.s3_bucket and not last_good.remote_key:
        backup = Concern(
            YELLOW,
            _("The last backup has no S3 copy: %(error)s") % {"error": last_good.error},
        )
    else:
        backup = Concern(
            GREEN,
            _("The last good backup is %(hours)s h old.")
            % {"hours": _hours(now - last_good.started_at)},
        )

    allowed = verify_interval(plan, now) * 2 + timedelta(days=1)
    if plan.kind == "external":
        restore = Concern(GREY, _("External backups are not restored by ERPCare."))
    elif last_test is None:
        restore = Concern(YELLOW, _("No restore test yet."))
    elif last_test.status != RestoreStatus.OK:
        restore = Concern(
            RED,
            _("The last restore test did not pass: %(message)s") % {"message": last_test.message},
        )
    elif last_good_test is not None and now - last_good_test.started_at > allowed:
        restore = Concern(
            YELLOW,
            _("The last passed restore test is %(days)d days old.")
            % {"days": (now - last_good_test.started_at).days},
        )
    elif (
        last_good_test is not None
        and last_good_test.restore_seconds is not None
        and last_good_test.restore_seconds > plan.rto_minutes * 60
    ):
        restore = Concern(
            YELLOW,
            _("The restore took %(minutes).1f min; the RTO target is %(target)d min.")
            % {"minutes": last_good_test.restore_seconds / 60, "target": plan.rto_minutes},
        )
    else:
        restore = Concern(GREEN, _("The last restore test passed."))
    return PlanHealth(plan, last_point, last_good, last_test, last_good_test, backup, restore)


# ---------------------------------------------------------------------------
# Incidents
# ---------------------------------------------------------------------------

KEY_PREFIX = "erpcare-backups-"


def integration_for(instance: ErpInstance) -> Integration:
    return internal_integration(instance, key_prefix=KEY_PREFIX, label="ERPCare backups")


def _alert(plan: BackupPlan, concern_name: str, concern: Concern) -> object | None:
    """Queue a firing alert for a red concern, a resolution for a good one whose alert is
    open; None when there is nothing to say."""
    instance = plan.erp_instance
    if instance is None:
        return None
    integration = integration_for(instance)
    identity = f"backup:{plan.pk}:{concern_name}"
    if concern.rating == RED:
        status = "firing"
    elif concern.rating == GREEN:
        if not alert_is_open(integration, identity):
            return None
        status = "resolved"
    else:
        return None
    title = (
        _("Backups of %(plan)s") if concern_name == "backup" else _("Restore tests of %(plan)s")
    ) % {"plan": plan.name}
    return queue(
        integration,
        {
            "identity": identity,
            "status": status,
            "name": title,
            "severity": "high",
            "summary": f"{title}: {concern.message}"[:500],
            "description": concern.message,
            "labels": {
                "alertname": f"backup-{concern_name}",
                "erp_module": "platform",
                "instance": instance.name,
                "backup_plan": plan.name,
            },
        },
    )


def watch(now: datetime | None = None) -> dict[str, int]:
    """Rate every active plan and raise or resolve its incidents."""
    counts = {"plans": 0, "alerts": 0}
    plans = BackupPlan.objects.filter(is_active=True).select_related("erp_instance__organization")
    for plan in plans:
        health = plan_health(plan, now)
        counts["plans"] += 1
        for name, concern in (("backup", health.backup), ("restore", health.restore)):
            if _alert(plan, name, concern) is not None:
                counts["alerts"] += 1
    return counts
