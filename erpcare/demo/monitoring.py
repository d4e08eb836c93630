"""Demo data for monitoring: an active Alertmanager integration, routing rules mapping the
``customer`` and ``erp_instance`` labels to the demo customers and their instances, a
month-end rule for finance jobs, a topology rule ("database down" → "ERP job failed") and
a weekly maintenance window."""

from __future__ import annotations

from datetime import timedelta

from erpcare.core import clock
from erpcare.customers.models import ErpInstance, Organization
from erpcare.monitoring.models import (
    CorrelationKind,
    CorrelationRule,
    Integration,
    MaintenanceWindow,
    RoutingRule,
    SourceKind,
)

INTEGRATION_KEY = "demo-alertmanager"
# Demo only: the demo is for trying ERPCare out, never for production data.
DEMO_SECRET = "demo-alertmanager-secret"  # noqa: S105
FINANCE_MODULES = ["gl", "ap", "ar", "fa", "reporting"]


def seed_monitoring(organizations: list[Organization]) -> dict[str, int]:
    """Runs inside the demo's transaction; idempotent."""
    now = clock.now()
    integration, created = Integration.objects.get_or_create(
        key=INTEGRATION_KEY,
        defaults={
            "name": "Prometheus Alertmanager (demo)",
            "source": SourceKind.ALERTMANAGER,
            "secret": DEMO_SECRET,
            "created_at": now,
            "is_active": True,
        },
    )
    if not created:
        return {"routing_rules": 0}
    rules = 0
    for position, org in enumerate(organizations, start=1):
        RoutingRule.objects.create(
            name=f"customer={org.code}",
            position=position * 10,
            integration=integration,
            matchers=[{"label": "customer", "op": "=", "value": org.code}],
            set_organization=org,
        )
        rules += 1
    RoutingRule.objects.create(
        name="ERP instance from the erp_instance label",
        position=900,
        integration=integration,
        matchers=[{"label": "erp_instance", "op": "=~", "value": ".+"}],
        instance_label="erp_instance",
        severity_map={"critical": 1, "high": 1, "warning": 2, "info": 3},
    )
    RoutingRule.objects.create(
        name="Finance jobs: raised in the last 3 days of the month",
        position=950,
        matchers=[{"label": "job", "op": "=~", "value": "(gl|ap|ar|fa)_.*"}],
        set_module="gl",
        month_end_days=3,
        month_end_modules=FINANCE_MODULES,
    )
    CorrelationRule.objects.create(
        name="Database down: dependent ERP jobs join its incident",
        kind=CorrelationKind.TOPOLOGY,
        position=10,
        parent_matchers=[{"label": "alertname", "op": "=", "value": "DatabaseDown"}],
        child_matchers=[{"label": "alertname", "op": "=", "value": "ErpJobFailed"}],
    )
    instance = (
        ErpInstance.objects.filter(organization__in=organizations, environment="production")
        .order_by("organization__code", "name")
        .first()
    )
    if instance is not None:
        window = MaintenanceWindow.objects.create(
            name=f"Weekly patch window — {instance.name}",
            organization=instance.organization,
            starts_at=now - timedelta(days=30),
            ends_at=now + timedelta(days=365),
            cron="0 2 * * 0",
            duration_minutes=120,
            time_zone=instance.organization.time_zone,
            reason="Sunday 02:00–04:00: OS and database patches.",
            created_at=now,
        )
        window.erp_instances.add(instance)
    return {"routing_rules": rules + 2}
