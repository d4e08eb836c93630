"""Failing checks become alerts of the monitoring pipeline, which deduplicates them, opens
one incident per ERP instance and check, reopens it within the flap window instead of
opening another, holds it back during maintenance windows, and resolves it when the check
passes again.

Each ERP instance has an internal integration (a generic JSON source with a fixed
mapping, its customer and instance set, never reachable over HTTP: its key is not
published and its secret is random). A check must fail ``params.fail_after`` runs in a
row (default 1) before it raises; a check that could not run (error, timeout) raises
nothing — its run is rated yellow and the report shows it.
"""

from __future__ import annotations

import hashlib
import json
import secrets

from erpcare.core import clock
from erpcare.customers.models import ErpInstance
from erpcare.inspections.models import CheckResult, InstanceCheck, ResultStatus, Severity
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
KEY_PREFIX = "erpcare-inspections-"
MAX_FINDINGS_IN_DESCRIPTION = 10


def integration_for(instance: ErpInstance) -> Integration:
    key = f"{KEY_PREFIX}{instance.pk}"
    found = Integration.objects.filter(key=key).first()
    if found is not None:
        return found
    return Integration.objects.create(
        name=f"ERPCare inspections · {instance.name}"[:100],
        source=SourceKind.GENERIC,
        key=key,
        secret=secrets.token_urlsafe(32),
        field_mapping=MAPPING,
        organization=instance.organization,
        erp_instance=instance,
        created_at=clock.now(),
    )


def identity(assignment: InstanceCheck) -> str:
    # One alert per instance, check and data source; the incident groups a check's alerts
    # per instance (alertname = the check's code).
    a = assignment
    return f"inspection:{a.erp_instance_id}:{a.check_ref_id}:{a.data_source_id}"


def _severity(assignment: InstanceCheck, result: CheckResult) -> str:
    if result.status == ResultStatus.CRITICAL:
        return Severity.CRITICAL if assignment.check_ref.severity == Severity.CRITICAL else "high"
    return "warning"


def _description(assignment: InstanceCheck, result: CheckResult) -> str:
    check = assignment.check_ref
    lines = [result.message, "", check.why, "", check.remedy]
    if result.findings:
        lines += ["", f"{result.findings_total} finding(s):"]
        lines += [
            json.dumps(row, ensure_ascii=False, default=str)[:300]
            for row in result.findings[:MAX_FINDINGS_IN_DESCRIPTION]
        ]
    return "\n".join(lines).strip()


def report(assignment: InstanceCheck, result: CheckResult) -> AlertPayload | None:
    """Queue a firing alert for a failing check, or a resolution for a check that passes
    again while its alert is open; None when there is nothing to say."""
    check = assignment.check_ref
    instance = assignment.erp_instance
    integration = integration_for(instance)
    alert_identity = identity(assignment)
    if result.status in (ResultStatus.WARN, ResultStatus.CRITICAL):
        fail_after = max(1, int((check.params or {}).get("fail_after", 1)))
        if assignment.consecutive_failures < fail_after:
            return None
        status = "firing"
    elif result.status == ResultStatus.OK:
        still_open = (
            Alert.objects.filter(integration=integration, identity=alert_identity)
            .exclude(status=AlertStatus.RESOLVED)
            .exists()
        )
        if not still_open:
            return None
        status = "resolved"
    else:
        return None
    body = json.dumps(
        {
            "identity": alert_identity,
            "status": status,
            "name": check.name,
            "severity": _severity(assignment, result),
            "summary": f"{check.name}: {result.message}"[:500],
            "description": _description(assignment, result),
            "labels": {
                "alertname": check.code,
                "pack": check.pack.code,
                "layer": check.layer,
                "erp_module": check.module,
                "instance": instance.name,
                "data_source": assignment.data_source.name,
            },
        },
        ensure_ascii=False,
    )
    return AlertPayload.objects.create(
        integration=integration,
        received_at=clock.now(),
        body=body,
        content_type="application/json",
        sha256=hashlib.sha256(body.encode()).hexdigest(),
        state=PayloadState.RECEIVED,
    )
