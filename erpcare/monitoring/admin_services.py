"""The monitoring admin's actions: integrations (create, change, rotate the secret,
deactivate, process a payload again), routing and correlation rules, maintenance windows,
the dry run, and the integrations page's numbers.

Every function that changes something takes the actor first, checks the role before
anything else, validates (raising ``ActionError`` with a translated message; nothing
changes then) and writes its rows and an audit entry in one transaction. Secrets are
returned once by the function that made them and never go into the audit log.
"""

from __future__ import annotations

import json
import re
import secrets
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import import_module
from pathlib import Path
from typing import Any

from croniter import croniter
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from erpcare.accounts.models import Team, User
from erpcare.audit.services import record
from erpcare.core import clock
from erpcare.core.errors import ActionError
from erpcare.customers.models import ErpInstance, Organization
from erpcare.monitoring import health
from erpcare.monitoring.models import (
    AlertPayload,
    AuthMode,
    CorrelationKind,
    CorrelationRule,
    Integration,
    MaintenanceWindow,
    PayloadState,
    ResolveAction,
    RoutingRule,
    SourceKind,
)
from erpcare.monitoring.permissions import require_monitoring_admin
from erpcare.monitoring.sources import ParsedAlert, PayloadError, source_for

MAX_DRY_RUN_BYTES = 1_000_000
SOURCES_DIR = Path(__file__).parent / "sources"
MAX_FLAP_MINUTES = 7 * 24 * 60
MAX_GROUP_LABELS = 20
MAX_WINDOW_DAYS = 366


def new_key() -> str:
    return secrets.token_urlsafe(16)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def endpoint_url(integration: Integration) -> str:
    return f"{settings.SITE_URL}/api/v1/alerts/{integration.source}/{integration.key}"


# ---------------------------------------------------------------------------
# Integrations
# ---------------------------------------------------------------------------


def _check_scope(organization: Organization | None, erp_instance: ErpInstance | None) -> None:
    if (
        erp_instance is not None
        and organization is not None
        and erp_instance.organization_id != organization.pk
    ):
        raise ActionError(_("The ERP instance belongs to another customer."))


def validate_field_mapping(source: str, mapping: Any) -> dict[str, Any]:
    """The generic source's field mapping, checked by that source; other sources take none."""
    if source != SourceKind.GENERIC:
        return {}
    if not isinstance(mapping, dict) or not mapping:
        raise ActionError(_("A generic JSON integration needs a field mapping (a JSON object)."))
    generic = import_module("erpcare.monitoring.sources.generic")
    try:
        generic.validate_mapping(mapping)
    except (PayloadError, ValueError) as exc:
        raise ActionError(str(exc)) from None
    return mapping


def _clean_integration(
    *,
    name: str,
    source: str,
    auth_mode: str,
    on_resolve: str,
    flap_window_minutes: int,
    organization: Organization | None,
    erp_instance: ErpInstance | None,
    field_mapping: Any,
) -> tuple[str, dict[str, Any]]:
    name = name.strip()
    if not name:
        raise ActionError(_("Enter a name."))
    if source not in SourceKind.values:
        raise ActionError(_("Choose a source."))
    if auth_mode not in AuthMode.values:
        raise ActionError(_("Choose how the source authenticates."))
    if on_resolve not in ResolveAction.values:
        raise ActionError(_("Choose what happens when alerts resolve."))
    if not 0 <= flap_window_minutes <= MAX_FLAP_MINUTES:
        raise ActionError(
            _("The flap window is between 0 and %(max)d minutes.") % {"max": MAX_FLAP_MINUTES}
        )
    _check_scope(organization, erp_instance)
    return name, validate_field_mapping(source, field_mapping)


def create_integration(
    actor: User,
    *,
    name: str,
    source: str,
    auth_mode: str = AuthMode.BEARER,
    organization: Organization | None = None,
    erp_instance: ErpInstance | None = None,
    team: Team | None = None,
    on_resolve: str = ResolveAction.RESOLVE,
    flap_window_minutes: int = 30,
    field_mapping: Any = None,
) -> tuple[Integration, str]:
    """A new integration with a random key (its URL) and secret; the secret is returned
    here once and shown once."""
    require_monitoring_admin(actor)
    name, mapping = _clean_integration(
        name=name, source=source, auth_mode=auth_mode, on_resolve=on_resolve,
        flap_window_minutes=flap_window_minutes, organization=organization,
        erp_instance=erp_instance, field_mapping=field_mapping,
    )  # fmt: skip
    secret = new_secret()
    with transaction.atomic():
        integration = Integration.objects.create(
            name=name, source=source, key=new_key(), secret=secret, auth_mode=auth_mode,
            field_mapping=mapping, organization=organization, erp_instance=erp_instance,
            team=team, on_resolve=on_resolve, flap_window_minutes=flap_window_minutes,
            created_by=actor, created_at=clock.now(),
        )  # fmt: skip
        record(
            actor=actor,
            action="monitoring.integration.created",
            target=integration,
            data={"name": name, "source": source, "auth_mode": auth_mode},
        )
    return integration, secret


def update_integration(
    actor: User,
    integration: Integration,
    *,
    name: str,
    auth_mode: str,
    organization: Organization | None = None,
    erp_instance: ErpInstance | None = None,
    team: Team | None = None,
    on_resolve: str = ResolveAction.RESOLVE,
    flap_window_minutes: int = 30,
    field_mapping: Any = None,
) -> Integration:
    """Change the defaults; the source, key and secret stay (rotate the secret apart)."""
    require_monitoring_admin(actor)
    name, mapping = _clean_integration(
        name=name, source=integration.source, auth_mode=auth_mode, on_resolve=on_resolve,
        flap_window_minutes=flap_window_minutes, organization=organization,
        erp_instance=erp_instance, field_mapping=field_mapping,
    )  # fmt: skip
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=integration.pk)
        integration.name = name
        integration.auth_mode = auth_mode
        integration.organization = organization
        integration.erp_instance = erp_instance
        integration.team = team
        integration.on_resolve = on_resolve
        integration.flap_window_minutes = flap_window_minutes
        integration.field_mapping = mapping
        integration.save(
            update_fields=[
                "name", "auth_mode", "organization", "erp_instance", "team", "on_resolve",
                "flap_window_minutes", "field_mapping",
            ]
        )  # fmt: skip
        record(
            actor=actor,
            action="monitoring.integration.changed",
            target=integration,
            data={"name": name, "auth_mode": auth_mode, "on_resolve": on_resolve},
        )
    return integration


def rotate_secret(actor: User, integration: Integration) -> tuple[Integration, str]:
    """A new secret; the old one stops working at once (ingest's cache follows the save)."""
    require_monitoring_admin(actor)
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=integration.pk)
        secret = new_secret()
        integration.secret = secret
        integration.save(update_fields=["secret"])
        record(
            actor=actor,
            action="monitoring.integration.secret_rotated",
            target=integration,
            data={"name": integration.name},
        )
    return integration, secret


def set_integration_active(actor: User, integration: Integration, *, active: bool) -> Integration:
    require_monitoring_admin(actor)
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=integration.pk)
        if integration.is_active != active:
            integration.is_active = active
            integration.save(update_fields=["is_active"])
            verb = "activated" if active else "deactivated"
            record(
                actor=actor,
                action=f"monitoring.integration.{verb}",
                target=integration,
                data={"name": integration.name},
            )
    return integration


def reprocess_payload(actor: User, payload: AlertPayload) -> AlertPayload:
    """Put a stored payload back in the queue and process it now (the pipeline does it)."""
    require_monitoring_admin(actor)
    if payload.state in (PayloadState.RECEIVED, PayloadState.PROCESSING):
        raise ActionError(_("This payload is waiting to be processed already."))
    ingest = import_module("erpcare.monitoring.ingest")
    with transaction.atomic():
        ingest.reset_for_replay([payload.pk])
        record(
            actor=actor,
            action="monitoring.payload.reprocessed",
            target=payload,
            data={"integration": payload.integration_id, "state": payload.state},
        )
    pipeline = import_module("erpcare.monitoring.pipeline")
    processed: AlertPayload = pipeline.process_payload(payload.pk)
    return processed


@dataclass(frozen=True)
class IntegrationRow:
    integration: Integration
    received_24h: int
    failed: int


@dataclass(frozen=True)
class PipelineHealth:
    lag_seconds: float
    waiting: int
    alerts_open: int


def integration_rows() -> list[IntegrationRow]:
    """Each integration with its payloads of the last 24 hours and its failed payloads."""
    since = clock.now() - timedelta(hours=24)
    rows = (
        Integration.objects.select_related("organization", "erp_instance", "team")
        .defer("secret", "field_mapping")
        .annotate(
            received_24h=Count("payloads", filter=Q(payloads__received_at__gte=since)),
            failed=Count("payloads", filter=Q(payloads__state=PayloadState.FAILED)),
        )
        .order_by("name", "id")
    )
    return [IntegrationRow(i, i.received_24h, i.failed) for i in rows]


def pipeline_health() -> PipelineHealth:
    return PipelineHealth(
        lag_seconds=health.pipeline_lag_seconds(),
        waiting=health.payloads_waiting(),
        alerts_open=health.alerts_open(),
    )


# ---------------------------------------------------------------------------
# Configuration snippets shown with a new secret
# ---------------------------------------------------------------------------


def alertmanager_snippet(integration: Integration, secret: str) -> str:
    return (
        "receivers:\n"
        "  - name: erpcare\n"
        "    webhook_configs:\n"
        f"      - url: {json.dumps(endpoint_url(integration))}\n"
        "        http_config:\n"
        "          authorization:\n"
        "            type: Bearer\n"
        f"            credentials: {json.dumps(secret)}\n"
        "        send_resolved: true\n"
        "        max_alerts: 0\n"
    )


def grafana_snippet(integration: Integration, secret: str) -> str:
    return (
        "Integration: Webhook\n"
        f"URL: {endpoint_url(integration)}\n"
        "HTTP Method: POST\n"
        "Authorization Header - Scheme: Bearer\n"
        f"Authorization Header - Credentials: {secret}\n"
    )


def curl_example(integration: Integration, secret: str) -> str:
    # Single-quoted for the shell: a quote inside the JSON closes and reopens the string.
    body = json.dumps(_example_body(integration.source), ensure_ascii=False).replace("'", "'\\''")
    url = endpoint_url(integration)
    if integration.auth_mode == AuthMode.HMAC:
        return (
            f"SECRET='{secret}'\n"
            f"BODY='{body}'\n"
            'SIG=$(printf \'%s\' "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -hex'
            " | sed 's/^.* //')\n"
            f"curl -sS -X POST '{url}' \\\n"
            "  -H 'Content-Type: application/json' \\\n"
            '  -H "X-ERPCare-Signature: sha256=$SIG" \\\n'
            '  --data-binary "$BODY"'
        )
    return (
        f"curl -sS -X POST '{url}' \\\n"
        f"  -H 'Authorization: Bearer {secret}' \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        f"  --data-binary '{body}'"
    )


EXAMPLE_FIXTURES: dict[str, str] = {
    SourceKind.ALERTMANAGER: "firing.json",
    SourceKind.GRAFANA: "firing.json",
    SourceKind.ZABBIX: "problem.json",
    SourceKind.PAGERDUTY: "trigger.json",
    SourceKind.GENERIC: "firing.json",
    SourceKind.CLOUDEVENTS: "firing.json",
}


def _example_body(source: str) -> Any:
    """A recorded payload of this source (its own test fixture), so the example is one the
    parser reads; a small Alertmanager alert if the fixture is missing."""
    fixture = SOURCES_DIR / source / "fixtures" / EXAMPLE_FIXTURES.get(source, "firing.json")
    try:
        return json.loads(fixture.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    now = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "4",
        "status": "firing",
        "receiver": "erpcare",
        "groupKey": "{}:{alertname=\"ErpDatabaseDown\"}",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "ErpDatabaseDown", "severity": "critical",
                           "instance": "sap-prd-db01"},
                "annotations": {"summary": "SAP PRD database down"},
                "startsAt": now,
                "fingerprint": "erpcare-example-1",
            }
        ],
    }  # fmt: skip


# ---------------------------------------------------------------------------
# Matchers as lines
# ---------------------------------------------------------------------------

_MATCHER_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


def parse_matcher_lines(text: str) -> list[dict[str, str]]:
    """``label=value``, ``label!=value``, ``label=~regex``, ``label!~regex``, one a line
    (a value may be quoted); blank lines and ``#`` comments are skipped."""
    matchers: list[dict[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        found = _MATCHER_LINE.match(line)
        if found is None:
            raise ActionError(
                _("Line %(n)d is not a matcher: write label=value, label!=value, label=~regex "
                  "or label!~regex.") % {"n": number}
            )  # fmt: skip
        label, op, value = found.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        matchers.append({"label": label, "op": op, "value": value})
    validate_matchers(matchers)
    return matchers


def validate_matchers(matchers: list[dict[str, str]]) -> None:
    import_module("erpcare.monitoring.matchers").validate(matchers)


def format_mapping(mapping: Mapping[str, Any]) -> str:
    return json.dumps(mapping, ensure_ascii=False, indent=2) if mapping else ""


def format_matchers(matchers: Iterable[Mapping[str, Any]]) -> str:
    return "\n".join(
        f"{m.get('label', '')}{m.get('op', '=')}{m.get('value', '')}" for m in matchers or []
    )


def parse_label_list(text: str) -> list[str]:
    labels = [part.strip() for part in re.split(r"[,\s]+", text) if part.strip()]
    if len(labels) > MAX_GROUP_LABELS:
        raise ActionError(_("At most %(n)d group labels.") % {"n": MAX_GROUP_LABELS})
    for label in labels:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", label):
            raise ActionError(_("“%(label)s” is not a label name.") % {"label": label})
    return labels


# ---------------------------------------------------------------------------
# Routing rules
# ---------------------------------------------------------------------------

SEVERITY_KEYS = ("critical", "high", "warning", "info")


def parse_severity_map(text: str) -> dict[str, int]:
    """``critical=0`` lines (severity → priority P0–P3)."""
    mapping: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        severity, sep, priority = line.partition("=")
        severity, priority = severity.strip().lower(), priority.strip().upper().lstrip("P")
        if not sep or severity not in SEVERITY_KEYS or priority not in {"0", "1", "2", "3"}:
            raise ActionError(
                _("Line %(n)d: write severity=priority, e.g. critical=0 (severities: critical, "
                  "high, warning, info; priorities 0–3).") % {"n": number}
            )  # fmt: skip
        mapping[severity] = int(priority)
    return mapping


def format_severity_map(mapping: Mapping[str, int]) -> str:
    return "\n".join(f"{k}={v}" for k, v in (mapping or {}).items())


ROUTING_FIELDS = (
    "name", "position", "is_active", "integration", "matchers", "set_organization",
    "set_erp_instance", "instance_label", "set_module", "set_priority", "severity_map",
    "set_team", "set_tier", "month_end_days", "month_end_modules", "stop",
)  # fmt: skip


def save_routing_rule(actor: User, rule: RoutingRule | None, **values: Any) -> RoutingRule:
    require_monitoring_admin(actor)
    values["name"] = str(values.get("name", "")).strip()
    if not values["name"]:
        raise ActionError(_("Enter a name."))
    unknown = set(values) - set(ROUTING_FIELDS)
    if unknown:
        raise ValueError(f"unknown routing rule fields: {sorted(unknown)}")
    validate_matchers(values.get("matchers") or [])
    _check_scope(values.get("set_organization"), values.get("set_erp_instance"))
    priority = values.get("set_priority")
    if priority is not None and priority not in (0, 1, 2, 3):
        raise ActionError(_("The priority is P0 to P3."))
    tier = values.get("set_tier")
    if tier is not None and tier not in (1, 2, 3):
        raise ActionError(_("The support tier is 1, 2 or 3."))
    if not 0 <= int(values.get("month_end_days") or 0) <= 10:
        raise ActionError(_("Month-end days are between 0 and 10."))
    with transaction.atomic():
        created = rule is None
        if rule is None:
            rule = RoutingRule(**values)
        else:
            rule = RoutingRule.objects.select_for_update().get(pk=rule.pk)
            for key, value in values.items():
                setattr(rule, key, value)
        rule.save()
        record(
            actor=actor,
            action="monitoring.routing_rule." + ("created" if created else "changed"),
            target=rule,
            data={"name": rule.name, "position": rule.position, "matchers": rule.matchers},
        )
    return rule


def delete_routing_rule(actor: User, rule: RoutingRule) -> None:
    require_monitoring_admin(actor)
    with transaction.atomic():
        record(
            actor=actor,
            action="monitoring.routing_rule.deleted",
            target=rule,
            data={"name": rule.name},
        )
        rule.delete()


# ---------------------------------------------------------------------------
# Correlation rules
# ---------------------------------------------------------------------------


def save_correlation_rule(
    actor: User,
    rule: CorrelationRule | None,
    *,
    name: str,
    position: int,
    is_active: bool,
    kind: str,
    group_by: list[str],
    window_minutes: int,
    parent_matchers: list[dict[str, str]],
    child_matchers: list[dict[str, str]],
) -> CorrelationRule:
    require_monitoring_admin(actor)
    name = name.strip()
    if not name:
        raise ActionError(_("Enter a name."))
    if kind not in CorrelationKind.values:
        raise ActionError(_("Choose a kind."))
    if not 1 <= window_minutes <= MAX_FLAP_MINUTES:
        raise ActionError(
            _("The window is between 1 and %(max)d minutes.") % {"max": MAX_FLAP_MINUTES}
        )
    validate_matchers(parent_matchers)
    validate_matchers(child_matchers)
    if kind == CorrelationKind.TOPOLOGY and (not parent_matchers or not child_matchers):
        raise ActionError(
            _("A topology rule needs matchers for the parent and the dependent alerts.")
        )
    values = {
        "name": name, "position": position, "is_active": is_active, "kind": kind,
        "group_by": group_by, "window_minutes": window_minutes,
        "parent_matchers": parent_matchers, "child_matchers": child_matchers,
    }  # fmt: skip
    with transaction.atomic():
        created = rule is None
        if rule is None:
            rule = CorrelationRule(**values)
        else:
            rule = CorrelationRule.objects.select_for_update().get(pk=rule.pk)
            for key, value in values.items():
                setattr(rule, key, value)
        rule.save()
        record(
            actor=actor,
            action="monitoring.correlation_rule." + ("created" if created else "changed"),
            target=rule,
            data={"name": name, "kind": kind},
        )
    return rule


def delete_correlation_rule(actor: User, rule: CorrelationRule) -> None:
    require_monitoring_admin(actor)
    with transaction.atomic():
        record(
            actor=actor,
            action="monitoring.correlation_rule.deleted",
            target=rule,
            data={"name": rule.name},
        )
        rule.delete()


# ---------------------------------------------------------------------------
# Maintenance windows
# ---------------------------------------------------------------------------


def save_maintenance_window(
    actor: User,
    window: MaintenanceWindow | None,
    *,
    name: str,
    organization: Organization | None,
    erp_instances: list[ErpInstance],
    starts_at: datetime,
    ends_at: datetime,
    cron: str = "",
    duration_minutes: int = 0,
    time_zone: str = "Asia/Shanghai",
    reason: str = "",
    is_active: bool = True,
) -> MaintenanceWindow:
    require_monitoring_admin(actor)
    name = name.strip()
    cron = " ".join(cron.split())
    if not name:
        raise ActionError(_("Enter a name."))
    if ends_at <= starts_at:
        raise ActionError(_("The window must end after it starts."))
    if ends_at - starts_at > timedelta(days=MAX_WINDOW_DAYS) and not cron:
        raise ActionError(_("A one-off window lasts at most a year."))
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ActionError(_("“%(tz)s” is not a time zone.") % {"tz": time_zone}) from None
    if cron:
        if not croniter.is_valid(cron) or len(cron.split()) != 5:
            raise ActionError(
                _("“%(cron)s” is not a cron schedule (five fields: minute hour day month "
                  "weekday).") % {"cron": cron}
            )  # fmt: skip
        if not 1 <= duration_minutes <= 7 * 24 * 60:
            raise ActionError(_("A recurring window needs a duration of 1 minute to 7 days."))
    else:
        duration_minutes = 0
    for instance in erp_instances:
        if organization is not None and instance.organization_id != organization.pk:
            raise ActionError(_("The ERP instance belongs to another customer."))
    values = {
        "name": name, "organization": organization, "starts_at": starts_at,
        "ends_at": ends_at, "cron": cron, "duration_minutes": duration_minutes,
        "time_zone": time_zone, "reason": reason.strip(), "is_active": is_active,
    }  # fmt: skip
    with transaction.atomic():
        created = window is None
        if window is None:
            window = MaintenanceWindow(**values, created_by=actor, created_at=clock.now())
        else:
            window = MaintenanceWindow.objects.select_for_update().get(pk=window.pk)
            for key, value in values.items():
                setattr(window, key, value)
        window.save()
        window.erp_instances.set(erp_instances)
        record(
            actor=actor,
            action="monitoring.maintenance_window." + ("created" if created else "changed"),
            target=window,
            data={
                "name": name, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(),
                "cron": cron, "instances": [i.pk for i in erp_instances],
            },
        )  # fmt: skip
    return window


def end_maintenance_window(actor: User, window: MaintenanceWindow) -> MaintenanceWindow:
    """End it now: alerts open incidents again from this moment."""
    require_monitoring_admin(actor)
    now = clock.now()
    with transaction.atomic():
        window = MaintenanceWindow.objects.select_for_update().get(pk=window.pk)
        if window.ends_at <= now or not window.is_active:
            raise ActionError(_("This maintenance window is over already."))
        if window.starts_at > now:
            # Not started yet: "end now" cancels it.
            window.is_active = False
        else:
            window.ends_at = now
        window.save(update_fields=["ends_at", "is_active"])
        record(
            actor=actor,
            action="monitoring.maintenance_window.ended",
            target=window,
            data={"name": window.name, "at": now.isoformat()},
        )
    return window


# ---------------------------------------------------------------------------
# Dry run
# ---------------------------------------------------------------------------


@dataclass
class DryRunResult:
    alerts: list[tuple[ParsedAlert, Any]] = field(default_factory=list)
    error: str = ""


def dry_run(actor: User, integration: Integration, body: bytes) -> DryRunResult:
    """Parse a pasted payload with the integration's source and route each alert, as the
    pipeline would now. Nothing is stored."""
    require_monitoring_admin(actor)
    if len(body) > MAX_DRY_RUN_BYTES:
        raise ActionError(_("The payload is larger than 1 MB."))
    if not body.strip():
        raise ActionError(_("Paste a payload."))
    try:
        parsed = source_for(integration.source).parse(body, mapping=integration.field_mapping)
    except PayloadError as exc:
        return DryRunResult(error=str(exc))
    routing = import_module("erpcare.monitoring.routing")
    now = clock.now()
    return DryRunResult(alerts=[(a, routing.route(integration, a, now=now)) for a in parsed])
