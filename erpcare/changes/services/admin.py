"""Freeze periods and standard change templates: managers and administrators keep them;
each write is audited."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from erpcare.accounts.models import RoleCode, User
from erpcare.audit.services import record
from erpcare.changes.models import ChangeTemplate, FreezePeriod, FreezePolicy
from erpcare.changes.services.workflow import _instances, _instant, _modules, _text
from erpcare.core import clock
from erpcare.core.errors import ActionError, NotAllowed
from erpcare.customers.models import Organization

KEEPERS = frozenset({RoleCode.MANAGER, RoleCode.ADMIN})


def _require_keeper(actor: User) -> None:
    if not actor.is_active or actor.role_code not in KEEPERS:
        raise NotAllowed(_("Only managers and administrators keep freeze periods and templates."))


@transaction.atomic
def create_freeze_period(
    actor: User,
    *,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    policy: str = FreezePolicy.WARN,
    organization: Organization | None = None,
    instances: Iterable[Any] = (),
    reason: str = "",
) -> FreezePeriod:
    """A freeze period between two instants (give them with their time zone: "from 00:00
    Shanghai time" is ``…T00:00+08:00``). Instances must belong to the customer given."""
    _require_keeper(actor)
    start = _instant(starts_at, label=_("From"))
    end = _instant(ends_at, label=_("Until"))
    if start is None or end is None:
        raise ActionError(_("Give both the start and the end of the freeze period."))
    if end <= start:
        raise ActionError(_("The freeze period must end after it starts."))
    if policy not in FreezePolicy.values:
        raise ActionError(
            _("“%(policy)s” is not a freeze policy (choose %(choices)s).")
            % {"policy": policy, "choices": ", ".join(FreezePolicy.values)}
        )
    chosen = _instances(instances)
    if chosen and organization is None:
        raise ActionError(_("Name the customer whose instances are frozen."))
    for instance in chosen:
        if organization is not None and instance.organization_id != organization.pk:
            raise ActionError(
                _("The ERP instance %(name)s does not belong to %(customer)s.")
                % {"name": instance, "customer": organization}
            )
    freeze = FreezePeriod.objects.create(
        name=_text(name, label=_("Name"), required=True, limit=150),
        organization=organization,
        starts_at=start,
        ends_at=end,
        policy=policy,
        reason=_text(reason, label=_("Reason")),
        created_by=actor,
        created_at=clock.now(),
    )
    freeze.erp_instances.set(chosen)
    record(
        actor=actor,
        action="change.freeze_created",
        target=freeze,
        data={"name": freeze.name, "policy": policy, "from": start.isoformat(),
              "until": end.isoformat()},
    )  # fmt: skip
    return freeze


@transaction.atomic
def end_freeze_period(actor: User, freeze: FreezePeriod) -> FreezePeriod:
    """Switch a freeze period off (kept for the record)."""
    _require_keeper(actor)
    freeze = FreezePeriod.objects.select_for_update().get(pk=freeze.pk)
    if freeze.is_active:
        freeze.is_active = False
        freeze.save(update_fields=["is_active"])
        record(actor=actor, action="change.freeze_ended", target=freeze, data={"name": freeze.name})
    return freeze


@transaction.atomic
def create_template(
    actor: User,
    *,
    name: str,
    title: str,
    implementation_plan: str,
    rollback_plan: str,
    description: str = "",
    modules: Iterable[Any] = (),
    communication_plan: str = "",
    test_evidence: str = "",
    expected_downtime_minutes: int = 0,
) -> ChangeTemplate:
    """A pre-approved standard change; the rollback plan is required, as for any change."""
    _require_keeper(actor)
    label = _text(name, label=_("Name"), required=True, limit=150)
    if ChangeTemplate.objects.filter(name=label).exists():
        raise ActionError(_("A template named “%(name)s” exists already.") % {"name": label})
    if not isinstance(expected_downtime_minutes, int) or expected_downtime_minutes < 0:
        raise ActionError(_("The expected downtime must be a whole number of minutes, 0 or more."))
    template = ChangeTemplate.objects.create(
        name=label,
        title=_text(title, label=_("Title"), required=True, limit=200),
        description=_text(description, label=_("Description")),
        modules=_modules(modules),
        implementation_plan=_text(
            implementation_plan, label=_("Implementation plan"), required=True
        ),
        rollback_plan=_text(rollback_plan, label=_("Rollback plan"), required=True),
        communication_plan=_text(communication_plan, label=_("Communication plan")),
        test_evidence=_text(test_evidence, label=_("Test evidence")),
        expected_downtime_minutes=expected_downtime_minutes,
        created_by=actor,
        created_at=clock.now(),
    )
    record(actor=actor, action="change.template_created", target=template, data={"name": label})
    return template
