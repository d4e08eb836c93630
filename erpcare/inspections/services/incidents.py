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

import json

from erpcare.customers.models import ErpInstance
from erpcare.inspections.models import CheckResult, InstanceCheck, ResultStatus, Severity
from erpcare.monitoring.internal import alert_is_open, internal_integration, queue
from erpcare.monitoring.models import AlertPayload, Integration

KEY_PREFIX = "erpcare-inspections-"
MAX_FINDINGS_IN_DESCRIPTION = 10


def integration_for(instance: ErpInstance) -> Integration:
    return internal_integration(instance, key_prefix=KEY_PREFIX, label="ERPCare inspections")


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
        if not alert_is_open(integration, alert_identity):
            return None
        status = "resolved"
    else:
        return None
    return queue(
        integration,
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
    )
