"""Routing and enrichment: which customer, ERP instance, module, priority, team and tier an
alert belongs to. Integration defaults first, then the active routing rules in order."""

from __future__ import annotations

import calendar
import contextlib
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q

from erpcare.accounts.models import Team
from erpcare.customers.models import ErpInstance, ErpModule, Organization
from erpcare.monitoring.matchers import matches
from erpcare.monitoring.models import Integration, RoutingRule
from erpcare.monitoring.sources import ParsedAlert

# Without a severity map: critical alerts are P1 (a rule may say P0), info P3.
DEFAULT_SEVERITY_PRIORITY = {"critical": 1, "high": 1, "warning": 2, "info": 3}
HIGHEST_PRIORITY = 0
# A label naming the ERP module (an ErpModule value) sets it when no rule does.
MODULE_LABEL = "erp_module"


@dataclass
class Route:
    organization: Organization | None = None
    erp_instance: ErpInstance | None = None
    module: str = ""
    priority: int = 2
    team: Team | None = None
    tier: int | None = None
    rules: list[str] = field(default_factory=list)  # names of the rules that matched
    month_end_raised: bool = False


def in_month_end(at: datetime, days: int, time_zone: str) -> bool:
    """True in the last ``days`` calendar days of the month, in ``time_zone``."""
    if days <= 0:
        return False
    try:
        local = at.astimezone(zoneinfo.ZoneInfo(time_zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        local = at
    last_day = calendar.monthrange(local.year, local.month)[1]
    return local.day > last_day - days


class Router:
    """Rules and instance look-ups cached for one processing round (no query per alert)."""

    def __init__(self) -> None:
        self._rules: list[RoutingRule] | None = None
        self._instances: dict[tuple[int | None, str], ErpInstance | None] = {}

    @property
    def rules(self) -> list[RoutingRule]:
        if self._rules is None:
            self._rules = list(
                RoutingRule.objects.filter(is_active=True)
                .select_related("set_organization", "set_erp_instance__organization", "set_team")
                .order_by("position", "id")
            )
        return self._rules

    def _instance_named(self, value: str, organization: Organization | None) -> ErpInstance | None:
        """The ERP instance a label names (its name, case-insensitive), within the routed
        customer when there is one; ambiguous across customers means none."""
        value = value.strip()
        key = (organization.pk if organization is not None else None, value.lower())
        if key not in self._instances:
            found = ErpInstance.objects.select_related("organization").filter(
                name__iexact=value, is_active=True
            )
            if organization is not None:
                found = found.filter(organization=organization)
            candidates = list(found[:2]) if value else []
            self._instances[key] = candidates[0] if len(candidates) == 1 else None
        return self._instances[key]

    def route(self, integration: Integration, parsed: ParsedAlert, *, now: datetime) -> Route:
        labels = dict(parsed.labels)
        labels.setdefault("alertname", parsed.name)
        labels.setdefault("severity", parsed.severity)
        result = Route(
            organization=integration.organization,
            erp_instance=integration.erp_instance,
            team=integration.team,
            priority=DEFAULT_SEVERITY_PRIORITY.get(parsed.severity, 2),
        )
        month_end: list[RoutingRule] = []
        for rule in self.rules:
            if rule.integration_id is not None and rule.integration_id != integration.pk:
                continue
            if not matches(rule.matchers, labels):
                continue
            result.rules.append(rule.name)
            self._apply(rule, labels, parsed, result)
            if rule.month_end_days:
                month_end.append(rule)
            if rule.stop:
                break
        if result.erp_instance is not None and result.organization is None:
            result.organization = result.erp_instance.organization
        if not result.module and labels.get(MODULE_LABEL) in ErpModule.values:
            # No rule said which module: the sender did (inspections always do).
            result.module = labels[MODULE_LABEL]
        if result.tier is None and result.team is not None:
            result.tier = result.team.tier
        time_zone = result.organization.time_zone if result.organization else "Asia/Shanghai"
        for rule in month_end:
            if result.module in (rule.month_end_modules or []) and in_month_end(
                now, rule.month_end_days, time_zone
            ):
                result.priority = max(HIGHEST_PRIORITY, result.priority - 1)
                result.month_end_raised = True
                break  # one step, however many rules say so
        return result

    def _apply(
        self, rule: RoutingRule, labels: dict[str, str], parsed: ParsedAlert, result: Route
    ) -> None:
        if rule.set_organization is not None:
            result.organization = rule.set_organization
            if (
                result.erp_instance is not None
                and result.erp_instance.organization_id != rule.set_organization.pk
            ):
                result.erp_instance = None  # the default instance is another customer's
        if rule.set_erp_instance is not None:
            result.erp_instance = rule.set_erp_instance
            result.organization = rule.set_erp_instance.organization
        elif rule.instance_label and labels.get(rule.instance_label):
            instance = self._instance_named(labels[rule.instance_label], result.organization)
            if instance is not None:
                result.erp_instance = instance
                result.organization = instance.organization
        if rule.set_module:
            result.module = rule.set_module
        if rule.set_priority is not None:
            result.priority = rule.set_priority
        elif rule.severity_map and parsed.severity in rule.severity_map:
            # A broken map entry leaves the priority as it was.
            with contextlib.suppress(TypeError, ValueError):
                result.priority = int(rule.severity_map[parsed.severity])
        if rule.set_team is not None:
            result.team = rule.set_team
        if rule.set_tier is not None:
            result.tier = rule.set_tier
        result.priority = min(3, max(HIGHEST_PRIORITY, result.priority))


def route(integration: Integration, parsed: ParsedAlert, *, now: datetime) -> Route:
    """Where one alert goes (also the UI's dry run)."""
    return Router().route(integration, parsed, now=now)


def team_for_tier(tier: int, organization: Organization) -> Team | None:
    """The first team of ``tier`` that serves ``organization``."""
    return (
        Team.objects.filter(tier=tier)
        .filter(Q(serves_all_customers=True) | Q(customers=organization))
        .order_by("code")
        .first()
    )
