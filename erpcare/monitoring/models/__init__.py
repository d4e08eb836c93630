"""Monitoring models: integrations and raw payloads, alerts, routing/correlation rules,
maintenance windows."""

from erpcare.monitoring.models.alert import Alert, AlertStatus, AlertTransition, Severity
from erpcare.monitoring.models.integration import (
    AlertPayload,
    AuthMode,
    Integration,
    PayloadState,
    ResolveAction,
    SourceKind,
)
from erpcare.monitoring.models.rules import (
    CorrelationKind,
    CorrelationRule,
    MaintenanceWindow,
    RoutingRule,
)

__all__ = [
    "Alert",
    "AlertPayload",
    "AlertStatus",
    "AlertTransition",
    "AuthMode",
    "CorrelationKind",
    "CorrelationRule",
    "Integration",
    "MaintenanceWindow",
    "PayloadState",
    "ResolveAction",
    "RoutingRule",
    "Severity",
    "SourceKind",
]
