"""Conflicts of a change's window: other changes on the same ERP instance whose windows
overlap (a warning), and freeze periods covering the window for the change's customers or
instances (``warn`` → the change is flagged, ``block`` → scheduling is refused).

Windows are half-open ``[start, end)`` instants in UTC; freeze periods are instants too, so
"the month-end close from 00:00 Shanghai time" is compared exactly, whatever the server's
time zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from erpcare.changes.models import ACTIVE_STATES, Change, FreezePeriod, FreezePolicy
from erpcare.customers.models import ErpInstance


@dataclass
class Conflicts:
    overlapping: list[Change] = field(default_factory=list)
    warn_freezes: list[FreezePeriod] = field(default_factory=list)
    block_freezes: list[FreezePeriod] = field(default_factory=list)

    def warnings(self) -> list[dict[str, Any]]:
        """What the change is flagged with (stored on ``Change.warnings``)."""
        found: list[dict[str, Any]] = []
        for other in self.overlapping:
            found.append(
                {
                    "kind": "overlap",
                    "change": other.number,
                    "text": _("Overlaps %(number)s on the same ERP instance.")
                    % {"number": other.number},
                }
            )
        for freeze in self.warn_freezes:
            found.append(
                {
                    "kind": "freeze",
                    "freeze_period": freeze.pk,
                    "text": _("Inside the freeze period “%(name)s”.") % {"name": freeze.name},
                }
            )
        return found


def overlapping_changes(
    change: Change, start: datetime, end: datetime, instances: Iterable[ErpInstance]
) -> list[Change]:
    instance_ids = [i.pk for i in instances]
    if not instance_ids:
        return []
    return list(
        Change.objects.filter(
            state__in=ACTIVE_STATES,
            erp_instances__in=instance_ids,
            planned_start__lt=end,
            planned_end__gt=start,
        )
        .exclude(pk=change.pk)
        .distinct()
        .order_by("planned_start", "id")
    )


def freezes_covering(
    start: datetime, end: datetime, instances: Iterable[ErpInstance]
) -> list[FreezePeriod]:
    """Active freeze periods overlapping ``[start, end)`` that apply to one of the
    instances: a period without a customer applies to everyone; with a customer and no
    instances, to all of that customer's instances; with instances, only to those."""
    instance_list = list(instances)
    org_ids = {i.organization_id for i in instance_list}
    instance_ids = {i.pk for i in instance_list}
    candidates = (
        FreezePeriod.objects.filter(is_active=True, starts_at__lt=end, ends_at__gt=start)
        .filter(Q(organization__isnull=True) | Q(organization__in=org_ids))
        .prefetch_related("erp_instances")
        .order_by("starts_at", "id")
    )
    found = []
    for freeze in candidates:
        scoped = {i.pk for i in freeze.erp_instances.all()}
        if scoped and not (scoped & instance_ids):
            continue
        found.append(freeze)
    return found


def find_conflicts(
    change: Change,
    start: datetime,
    end: datetime,
    instances: Iterable[ErpInstance] | None = None,
) -> Conflicts:
    """The conflicts of ``change`` if it ran in ``[start, end)`` on ``instances`` (its own
    instances when not given)."""
    chosen = list(instances) if instances is not None else list(change.erp_instances.all())
    freezes = freezes_covering(start, end, chosen)
    return Conflicts(
        overlapping=overlapping_changes(change, start, end, chosen),
        warn_freezes=[f for f in freezes if f.policy == FreezePolicy.WARN],
        block_freezes=[f for f in freezes if f.policy == FreezePolicy.BLOCK],
    )
