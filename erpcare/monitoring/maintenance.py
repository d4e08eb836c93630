"""Maintenance windows: while one is open for an alert's customer and instance, the alert
is recorded (``suppressed_by``) but opens or reopens no incident."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from croniter import croniter
from django.db.models import Prefetch

from erpcare.customers.models import ErpInstance, Organization
from erpcare.monitoring.models import MaintenanceWindow


def is_open(window: MaintenanceWindow, at: datetime) -> bool:
    """One-off: ``starts_at <= at < ends_at``. Recurring: additionally within
    ``duration_minutes`` of the last cron firing, computed in the window's time zone (so
    "0 23 * * *" for 120 minutes covers 23:00–01:00 local, across midnight)."""
    if not window.is_active or not (window.starts_at <= at < window.ends_at):
        return False
    if not window.cron:
        return True
    if window.duration_minutes <= 0:
        return False
    try:
        zone = zoneinfo.ZoneInfo(window.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    local = at.astimezone(zone)
    try:
        # Start a second later so a firing exactly at ``at`` counts as the last one.
        last: datetime = croniter(window.cron, local + timedelta(seconds=1)).get_prev(datetime)
    except (ValueError, KeyError):
        return False  # a malformed schedule never suppresses anything
    return last <= local < last + timedelta(minutes=window.duration_minutes)


def applies_to(
    window: MaintenanceWindow, organization_id: int | None, erp_instance_id: int | None
) -> bool:
    """A window without a customer covers every customer; without instances, every
    instance of its customer."""
    if window.organization_id is not None and window.organization_id != organization_id:
        return False
    instance_ids = {i.pk for i in window.erp_instances.all()}
    return not instance_ids or erp_instance_id in instance_ids


class Windows:
    """The windows that may be open at ``at``, loaded once for a processing round."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self.windows = list(
            MaintenanceWindow.objects.filter(is_active=True, starts_at__lte=at, ends_at__gt=at)
            .prefetch_related(Prefetch("erp_instances", queryset=ErpInstance.objects.only("id")))
            .order_by("starts_at", "id")
        )

    def find(
        self, organization_id: int | None, erp_instance_id: int | None
    ) -> MaintenanceWindow | None:
        for window in self.windows:
            if applies_to(window, organization_id, erp_instance_id) and is_open(window, self.at):
                return window
        return None


def active_window(
    organization: Organization | None, erp_instance: ErpInstance | None, at: datetime
) -> MaintenanceWindow | None:
    """The maintenance window open for this customer and instance at ``at``, if any."""
    if organization is None and erp_instance is not None:
        organization = erp_instance.organization
    return Windows(at).find(
        organization.pk if organization is not None else None,
        erp_instance.pk if erp_instance is not None else None,
    )


def intervals(
    window: MaintenanceWindow, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The spans within ``[start, end)`` during which the window is open (for the
    availability KPI): the one-off range, or each cron firing's ``duration_minutes`` in the
    window's time zone, clipped to the window's own range."""
    lo, hi = max(start, window.starts_at), min(end, window.ends_at)
    if not window.is_active or hi <= lo:
        return []
    if not window.cron:
        return [(lo, hi)]
    if window.duration_minutes <= 0:
        return []
    try:
        zone = zoneinfo.ZoneInfo(window.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    length = timedelta(minutes=window.duration_minutes)
    try:
        # Start one duration earlier: a firing before ``lo`` may still be open at ``lo``.
        firings = croniter(window.cron, (lo - length).astimezone(zone))
        spans: list[tuple[datetime, datetime]] = []
        while len(spans) < 100_000:
            fired: datetime = firings.get_next(datetime)
            if fired >= hi:
                break
            begin, finish = max(fired, lo), min(fired + length, hi)
            if finish > begin:
                spans.append((begin, finish))
    except (ValueError, KeyError):
        return []  # a malformed schedule never suppresses anything
    return spans
