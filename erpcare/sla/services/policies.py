"""SLA policies: which one applies to a ticket, and editing them with clear refusals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.audit.services import record
from erpcare.core.errors import ActionError
from erpcare.customers.models import Contract
from erpcare.sla.models import BusinessCalendar, EscalationStep, Metric, ServiceLevel, SlaPolicy
from erpcare.sla.services.permissions import require_sla_admin
from erpcare.tickets.models import Priority

MAX_TARGET_MINUTES = 366 * 24 * 60  # a target beyond a year is a typo
MAX_STEP_PERCENT = 1000


def active_contract(organization_id: int, on: date) -> Contract | None:
    """The customer's contract in force on a date; the latest-starting one wins."""
    return (
        Contract.objects.filter(organization_id=organization_id, starts_on__lte=on, ends_on__gte=on)
        .order_by("-starts_on", "-id")
        .first()
    )


def policy_for(organization_id: int, priority: int, on: date) -> SlaPolicy | None:
    """The rule, in order: a policy made for the active contract; the policy of its
    service level; the default policy (no service level). None only when an admin has
    deleted the defaults — such tickets have no SLA clock.
    """
    contract = active_contract(organization_id, on)
    candidates = SlaPolicy.objects.filter(priority=priority).select_related("calendar")
    if contract is not None:
        rows = list(
            candidates.filter(
                Q(contract=contract)
                | Q(contract__isnull=True, service_level__in=[contract.service_level, ""])
            )
        )
        for match in (
            lambda p: p.contract_id == contract.pk,
            lambda p: p.contract_id is None and p.service_level == contract.service_level,
        ):
            found = next((p for p in rows if match(p)), None)
            if found is not None:
                return found
        return next((p for p in rows if p.contract_id is None and p.service_level == ""), None)
    return candidates.filter(contract__isnull=True, service_level="").first()


@dataclass(frozen=True)
class StepSpec:
    metric: str
    percent: int
    notify_assignee: bool = True
    notify_team_lead: bool = False
    notify_managers: bool = False
    notify_account_manager: bool = False
    raise_tier: bool = False
    raise_priority: bool = False


def _validate_targets(response_minutes: int, resolution_minutes: int, warning_percent: int) -> None:
    for value, label in (
        (response_minutes, _("First response target")),
        (resolution_minutes, _("Resolution target")),
    ):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ActionError(_("%(field)s must be a whole number of minutes.") % {"field": label})
        if value <= 0:
            raise ActionError(_("%(field)s must be more than 0 minutes.") % {"field": label})
        if value > MAX_TARGET_MINUTES:
            raise ActionError(_("%(field)s must be at most one year.") % {"field": label})
    if resolution_minutes < response_minutes:
        raise ActionError(_("The resolution target cannot be shorter than the first response."))
    if not isinstance(warning_percent, int) or not 1 <= warning_percent <= 99:
        raise ActionError(_("The warning must come at 1 % to 99 % of the target."))


def _validate_steps(steps: Sequence[StepSpec]) -> None:
    seen: set[tuple[str, int]] = set()
    for step in steps:
        if step.metric not in Metric.values:
            raise ActionError(_("Unknown clock: %(metric)s.") % {"metric": step.metric})
        if not isinstance(step.percent, int) or not 1 <= step.percent <= MAX_STEP_PERCENT:
            raise ActionError(
                _("An escalation step must come at 1 %% to %(max)d %% of the target.")
                % {"max": MAX_STEP_PERCENT}
            )
        key = (step.metric, step.percent)
        if key in seen:
            raise ActionError(_("Two escalation steps at the same point of the same clock."))
        seen.add(key)
        if not (
            step.notify_assignee
            or step.notify_team_lead
            or step.notify_managers
            or step.notify_account_manager
            or step.raise_tier
            or step.raise_priority
        ):
            raise ActionError(_("An escalation step must notify someone or raise something."))


@transaction.atomic
def save_policy(
    actor: User,
    policy: SlaPolicy | None = None,
    *,
    name: str,
    priority: int,
    response_minutes: int,
    resolution_minutes: int,
    calendar: BusinessCalendar,
    service_level: str = "",
    contract: Contract | None = None,
    warning_percent: int = 75,
    pause_when_waiting_customer: bool = True,
    pause_when_waiting_vendor: bool = False,
    steps: Sequence[StepSpec] | None = None,
) -> SlaPolicy:
    """Create or change a policy (and, when given, replace its escalation steps).

    Tickets already running keep the targets they started with; a policy change applies
    to new tickets and to tickets whose priority changes afterwards.
    """
    require_sla_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ActionError(_("Name is required."))
    if len(name) > 120:
        raise ActionError(_("Name is too long (at most 120 characters)."))
    if priority not in Priority.values:
        raise ActionError(_("Unknown priority."))
    if service_level not in ServiceLevel.values:
        raise ActionError(_("Unknown service level."))
    if contract is not None and service_level:
        raise ActionError(
            _("A contract's policy takes the contract's service level: leave it empty.")
        )
    _validate_targets(response_minutes, resolution_minutes, warning_percent)
    if steps is not None:
        _validate_steps(steps)
    clash = SlaPolicy.objects.filter(priority=priority)
    clash = (
        clash.filter(contract=contract)
        if contract is not None
        else clash.filter(contract__isnull=True, service_level=service_level)
    )
    if policy is not None:
        clash = clash.exclude(pk=policy.pk)
    if clash.exists():
        raise ActionError(_("There is already a policy for this service level and priority."))
    created = policy is None
    policy = policy or SlaPolicy()
    policy.name, policy.priority, policy.calendar = name, priority, calendar
    policy.service_level, policy.contract = service_level, contract
    policy.response_minutes, policy.resolution_minutes = response_minutes, resolution_minutes
    policy.warning_percent = warning_percent
    policy.pause_when_waiting_customer = pause_when_waiting_customer
    policy.pause_when_waiting_vendor = pause_when_waiting_vendor
    policy.save()
    if steps is not None:
        policy.steps.all().delete()
        EscalationStep.objects.bulk_create(
            EscalationStep(policy=policy, **vars(step)) for step in steps
        )
    record(
        actor=actor,
        action="sla.policy_created" if created else "sla.policy_changed",
        target=policy,
        data={
            "name": name,
            "priority": priority,
            "service_level": service_level,
            "contract": contract.pk if contract else None,
            "response_minutes": response_minutes,
            "resolution_minutes": resolution_minutes,
            "calendar": calendar.pk,
            "warning_percent": warning_percent,
            "steps": len(steps) if steps is not None else None,
        },
    )
    return policy


@transaction.atomic
def delete_policy(actor: User, policy: SlaPolicy) -> None:
    require_sla_admin(actor)
    from erpcare.sla.models import TicketSla

    if TicketSla.objects.filter(policy=policy).exists():
        raise ActionError(
            _("Tickets are measured against this policy; change its targets instead.")
        )
    record(actor=actor, action="sla.policy_deleted", target=policy, data={"name": policy.name})
    policy.delete()
