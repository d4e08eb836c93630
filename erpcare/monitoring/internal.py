"""Internal integrations: how other apps (inspections, backups) raise and resolve alerts
through the pipeline. One generic-source integration per ERP instance and app, with a
fixed field mapping, its customer and instance set, and a random secret — never reachable
over HTTP, its key not published."""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from erpcare.core import clock
from erpcare.customers.models import ErpInstance
from erpcare.monitoring.models import (
    Alert,
    AlertPayload,
    AlertStatus,
    Integration,
    PayloadState,
    SourceKind,
)

MAPPING = {
    "identity": "identity",
    "status": "status",
    "name": "name",
    "severity": "severity",
    "summary": "summary",
    "description": "description",
    "labels": "labels",
}


def internal_integration(instance: ErpInstance, *, key_prefix: str, label: str) -> Integration:
    """The instance's integration for one app (``key_prefix`` + instance id), made once."""
    key = f"{key_prefix}{instance.pk}"
    found = Integration.objects.filter(key=key).first()
    if found is not None:
        return found
    return Integration.objects.create(
        name=f"{label} · {instance.name}"[:100],
        source=SourceKind.GENERIC,
        key=key,
        secret=secrets.token_urlsafe(32),
        field_mapping=MAPPING,
        organization=instance.organization,
        erp_instance=instance,
        created_at=clock.now(),
    )


def alert_is_open(integration: Integration, identity: str) -> bool:
    return (
        Alert.objects.filter(integration=integration, identity=identity)
        .exclude(status=AlertStatus.RESOLVED)
        .exists()
    )


def queue(integration: Integration, alert: dict[str, Any]) -> AlertPayload:
    """Store one alert (keys of ``MAPPING``) as a received payload for the worker."""
    body = json.dumps(alert, ensure_ascii=False)
    return AlertPayload.objects.create(
        integration=integration,
        received_at=clock.now(),
        body=body,
        content_type="application/json",
        sha256=hashlib.sha256(body.encode()).hexdigest(),
        state=PayloadState.RECEIVED,
    )
