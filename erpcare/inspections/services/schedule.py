"""What is due: the leader's minute job picks the checks whose time has come and queues
one run per ERP instance; any worker executes it (``inspections.tasks``).

Schedules are cron expressions read in the customer's time zone. A check's next run is
set when it is queued (and again when it has run), so a slow run
is never queued twice; a new assignment's first run is its schedule's next firing. The
question "what is due" reads the partial index ``instancecheck_due`` only.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import Q

from erpcare.inspections.models import InstanceCheck
from erpcare.inspections.services.runs import next_run_after, schedule_of, zone_of

MAX_PER_TICK = 5000
# What deciding needs: the schedules and the customer's time zone.
_FIELDS = (
    "id",
    "schedule",
    "check_ref__schedule",
    "erp_instance__id",
    "erp_instance__organization__time_zone",
)


def _move_on(assignments: list[InstanceCheck], now: datetime) -> None:
    """Set each assignment's next run. Assignments with the same schedule in the same time
    zone share it: one cron computation and one UPDATE per (schedule, zone), however
    many thousand assignments there are."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for assignment in assignments:
        groups[(schedule_of(assignment), zone_of(assignment))].append(assignment.pk)
    for (schedule, zone), ids in groups.items():
        next_run = next_run_after(schedule, now, zone)
        for start in range(0, len(ids), 1000):
            InstanceCheck.objects.filter(pk__in=ids[start : start + 1000]).update(
                next_run_at=next_run
            )


def initialise(now: datetime) -> int:
    """Give assignments without a next run their schedule's next firing."""
    fresh = list(
        InstanceCheck.objects.filter(is_active=True, next_run_at__isnull=True)
        .select_related("check_ref", "erp_instance__organization")
        .only(*_FIELDS)[:MAX_PER_TICK]
    )
    _move_on(fresh, now)
    return len(fresh)


def take_due(now: datetime, *, limit: int = MAX_PER_TICK) -> dict[int, list[int]]:
    """The due assignments, grouped by ERP instance, with their next run moved on."""
    with transaction.atomic():
        due = (
            InstanceCheck.objects.filter(is_active=True, next_run_at__lte=now)
            .filter(Q(data_source__is_active=True) & Q(check_ref__is_active=True))
            .select_related("check_ref", "erp_instance__organization")
            .only(*_FIELDS)
            .order_by("next_run_at", "id")
        )
        found = list(due.select_for_update(of=("self",), skip_locked=True)[:limit])
        by_instance: dict[int, list[int]] = defaultdict(list)
        for assignment in found:
            by_instance[assignment.erp_instance_id].append(assignment.pk)
        _move_on(found, now)
    return dict(by_instance)
