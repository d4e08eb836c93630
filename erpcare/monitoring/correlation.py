"""Correlation: which incident a new alert joins.

Topology rules first (while a parent alert such as "database down" fires on an ERP
instance, alerts matching the child matchers on that instance join the parent's
incident), then the first group rule whose group labels the alert carries (same customer
+ instance + those labels' values, while the group's incident is open and its alerts were
seen within ``window_minutes``), else the default group: customer + instance + alertname,
for as long as the group's incident is open.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection

from erpcare.monitoring.matchers import matches
from erpcare.monitoring.models import Alert, AlertStatus, CorrelationKind, CorrelationRule
from erpcare.tickets.models import OPEN_STATUSES

MAX_KEY = 255
PARENT_SCAN = 500  # open alerts per instance considered as topology parents


@dataclass(frozen=True)
class Group:
    key: str
    window: timedelta | None  # None: as long as the incident is open
    incident_id: int | None = None  # set when a topology parent decided it
    rule: str = ""


def _key(parts: list[str]) -> str:
    key = "/".join(parts)
    if len(key) <= MAX_KEY:
        return key
    return f"{parts[0]}/{parts[1]}/sha256:{hashlib.sha256(key.encode()).hexdigest()}"


class Correlator:
    """Rules and parent alerts cached for one processing round."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        rules = list(CorrelationRule.objects.filter(is_active=True).order_by("position", "id"))
        self.group_rules = [r for r in rules if r.kind == CorrelationKind.GROUP]
        self.topology_rules = [r for r in rules if r.kind == CorrelationKind.TOPOLOGY]
        # instance id -> [(labels, incident id, group key)] of open alerts with an incident
        self._parents: dict[int, list[tuple[dict[str, str], int, str]]] = {}

    def group_for(self, alert: Alert) -> Group:
        labels = dict(alert.labels)
        labels.setdefault("alertname", alert.name)
        org = str(alert.organization_id)
        instance = str(alert.erp_instance_id or "-")
        if alert.erp_instance_id is not None:
            for rule in self.topology_rules:
                if not matches(rule.child_matchers, labels):
                    continue
                for parent_labels, incident_id, key in self._parents_on(alert.erp_instance_id):
                    if matches(rule.parent_matchers, parent_labels):
                        return Group(key, None, incident_id, rule.name)
        for rule in self.group_rules:
            group_by = [str(name) for name in rule.group_by or []]
            if all(name in labels for name in group_by):
                values = [f"{name}={labels[name]}" for name in group_by]
                return Group(
                    _key([org, instance, f"r{rule.pk}", *values]),
                    timedelta(minutes=rule.window_minutes),
                    rule=rule.name,
                )
        return Group(_key([org, instance, f"alertname={labels['alertname']}"]), None)

    def _parents_on(self, instance_id: int) -> list[tuple[dict[str, str], int, str]]:
        if instance_id not in self._parents:
            rows = (
                Alert.objects.filter(
                    erp_instance_id=instance_id,
                    status__in=[AlertStatus.FIRING, AlertStatus.ACKNOWLEDGED],
                    incident__isnull=False,
                    incident__status__in=OPEN_STATUSES,
                )
                .order_by("-last_seen_at")
                .values_list("labels", "name", "incident_id", "group_key")[:PARENT_SCAN]
            )
            self._parents[instance_id] = [
                ({"alertname": name, **labels}, incident_id, key)
                for labels, name, incident_id, key in rows
            ]
        return self._parents[instance_id]

    def remember(self, alert: Alert) -> None:
        """A new alert with an incident may be a parent for the alerts after it."""
        if not self.topology_rules or alert.erp_instance_id is None or alert.incident_id is None:
            return
        self._parents_on(alert.erp_instance_id).insert(
            0, ({"alertname": alert.name, **alert.labels}, alert.incident_id, alert.group_key)
        )

    def forget_incident(self, incident_id: int) -> None:
        for parents in self._parents.values():
            parents[:] = [p for p in parents if p[1] != incident_id]

    def open_incident_of(self, group: Group) -> int | None:
        """The open incident of this group, if its alerts were seen within the window."""
        if group.incident_id is not None:
            return group.incident_id
        found = Alert.objects.filter(
            group_key=group.key, incident__isnull=False, incident__status__in=OPEN_STATUSES
        )
        if group.window is not None:
            found = found.filter(last_seen_at__gte=self.now - group.window)
        return found.order_by("-last_seen_at").values_list("incident_id", flat=True).first()


def lock_group(key: str) -> None:
    """Serialise incident creation per group across workers until the transaction ends.

    PostgreSQL: a transaction-level advisory lock on the key's hash. SQLite has one
    writer at a time, which serialises already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])
