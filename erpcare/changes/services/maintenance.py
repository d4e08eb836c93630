"""The monitoring maintenance windows of a change: one ``MaintenanceWindow`` per affected
customer (``change_ref`` = the change number, the customer's affected instances), kept in
step with the change's window. While one is open, alerts for those instances are recorded
but open no incident (``monitoring.maintenance``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from erpcare.accounts.models import User
from erpcare.changes.models import Change
from erpcare.core import clock
from erpcare.customers.models import ErpInstance
from erpcare.monitoring.models import MaintenanceWindow


def windows_of(change: Change) -> list[MaintenanceWindow]:
    return list(MaintenanceWindow.objects.filter(change_ref=change.number).order_by("id"))


def sync_windows(change: Change, *, actor: User | None = None) -> list[MaintenanceWindow]:
    """Create or move the windows to ``change.planned_start``–``planned_end`` for its
    instances, one per customer; a customer no longer affected loses its window."""
    assert change.planned_start is not None
    assert change.planned_end is not None
    by_org: dict[int, list[ErpInstance]] = defaultdict(list)
    for instance in change.erp_instances.all():
        by_org[instance.organization_id].append(instance)
    existing = {w.organization_id: w for w in windows_of(change)}
    kept = []
    for org_id, instances in sorted(by_org.items()):
        window = existing.pop(org_id, None)
        if window is None:
            window = MaintenanceWindow(
                organization_id=org_id,
                change_ref=change.number,
                created_at=clock.now(),
                created_by=actor,
            )
        window.name = f"{change.number} {change.title}"[:150]
        window.starts_at = change.planned_start
        window.ends_at = change.planned_end
        window.reason = change.title
        window.is_active = True
        window.save()
        window.erp_instances.set(instances)
        kept.append(window)
    for stale in existing.values():
        stale.delete()
    return kept


def start_windows(change: Change, at: datetime) -> None:
    """A change started before its planned start: its windows open now."""
    for window in windows_of(change):
        if at < window.starts_at:
            window.starts_at = at
            window.save(update_fields=["starts_at"])


def end_windows(change: Change, at: datetime) -> None:
    """The change ended (completed, failed, rolled back or cancelled) at ``at``: a window
    not yet begun is switched off, an open one ends at ``at``."""
    for window in windows_of(change):
        if at <= window.starts_at:
            window.is_active = False
            window.save(update_fields=["is_active"])
        elif at < window.ends_at:
            window.ends_at = at
            window.save(update_fields=["ends_at"])
