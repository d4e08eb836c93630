"""Every action on a change. Each one, in one transaction: checks the actor (support staff
write; auditors only read; customers never see changes yet), locks the change row,
validates, writes, and records one ``ChangeEvent`` and one audit entry
(``change.<kind>``).

The workflow::

    draft → assessment → approval → scheduled → in_progress → completed / rolled_back / failed
          → reviewed                                 (and cancelled before the work starts)

* **Rollback plan**: no request for approval (nor a pre-approved schedule, nor an emergency
  start) without one.
* **Approvers by risk** (constants below, not settings): low → one team lead, manager or
  admin; medium → one manager or admin; high → the CAB, two distinct managers or admins.
  Neither the requester nor the owner approves their own change. A rejection sends the
  change back to draft with the reason; approvals of an earlier round no longer count.
* **Standard** changes come from an active ``ChangeTemplate``: pre-approved, so they go
  from draft straight to scheduled (the event says so).
* **Emergency** changes may start from draft (a window opening now) and are never blocked
  by a freeze period (they are flagged); before ``reviewed`` they need retrospective
  approval by the same rule (an unassessed emergency counts as medium).
* **Scheduling** refuses a window inside a blocking freeze period (named in the error) and
  flags the change with overlapping changes and warning freeze periods
  (``Change.warnings``). Scheduling creates the monitoring maintenance windows; ending the
  change ends them at that moment.
* **Review** needs the outcome and the lessons learned.
* **Customers** are told a day ahead (job ``changes.announce``) and when the work ends
  (``services/notify.py``); rescheduling announces the new window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from erpcare.accounts.models import RoleCode, TeamMembership, User
from erpcare.audit.services import record
from erpcare.changes.models import (
    FINISHED_STATES,
    NUMBER_PREFIX,
    Change,
    ChangeApproval,
    ChangeEvent,
    ChangeState,
    ChangeTemplate,
    ChangeType,
    Decision,
    PatchRecord,
    Risk,
)
from erpcare.changes.services import maintenance, notify
from erpcare.changes.services import risk as risk_service
from erpcare.changes.services.conflicts import find_conflicts
from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.customers.models import ErpInstance, ErpModule

State = ChangeState

#: How many distinct approvals each risk needs.
REQUIRED_APPROVALS: dict[str, int] = {Risk.LOW: 1, Risk.MEDIUM: 1, Risk.HIGH: 2}
#: Risks a team lead (not only a manager or admin) may approve.
TEAM_LEAD_APPROVES: frozenset[str] = frozenset({Risk.LOW})
#: Roles that approve any change (the CAB for high risk).
APPROVER_ROLES: frozenset[str] = frozenset({RoleCode.MANAGER, RoleCode.ADMIN})
#: Risk assumed for the retrospective approval of an emergency that was never assessed.
UNASSESSED_EMERGENCY_RISK = Risk.MEDIUM

MAX_TITLE = 200
MAX_TEXT = 100_000

#: Fields ``update_change`` accepts (in draft and assessment only).
EDITABLE = (
    "title",
    "description",
    "instances",
    "modules",
    "planned_start",
    "planned_end",
    "expected_downtime_minutes",
    "implementation_plan",
    "test_evidence",
    "tested_at",
    "rollback_plan",
    "communication_plan",
    "owner",
)


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------


def _require_writer(actor: User) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise NotAllowed(_("Sign in first."))
    if actor.is_read_only:
        raise NotAllowed(_("Your role is read-only."))
    if not actor.is_support_staff:
        raise NotAllowed(_("Only support staff can manage changes."))


def _log(
    change: Change,
    actor: User | None,
    kind: str,
    *,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    **data: Any,
) -> ChangeEvent:
    event = ChangeEvent.objects.create(
        change=change,
        at=clock.now(),
        actor=actor,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=data,
    )
    record(
        actor=actor,
        action=f"change.{kind}",
        target=change,
        data={"number": change.number, "from": from_state, "to": to_state, **data},
    )
    return event


def _move(change: Change, actor: User, to: str, kind: str, note: str = "", **data: Any) -> None:
    before = change.state
    change.state = to
    change.updated_at = clock.now()
    change.save()
    _log(change, actor, kind, from_state=before, to_state=to, note=note, **data)


def _locked(change: Change) -> Change:
    return Change.objects.select_for_update().get(pk=change.pk)


def _expect(change: Change, *states: str) -> None:
    if change.state not in states:
        raise Conflict(
            _("%(number)s is %(state)s; this needs it to be %(expected)s.")
            % {
                "number": change.number,
                "state": change.get_state_display(),
                "expected": _(" or ").join(str(State(s).label) for s in states),
            }
        )


def _text(value: Any, *, label: str, required: bool = False, limit: int = MAX_TEXT) -> str:
    if value is not None and not isinstance(value, str):
        raise ActionError(_("%(field)s must be text.") % {"field": label})
    text = (value or "").strip()
    if required and not text:
        raise ActionError(_("%(field)s is required.") % {"field": label})
    if len(text) > limit:
        raise ActionError(
            _("%(field)s is too long (at most %(limit)d characters).")
            % {"field": label, "limit": limit}
        )
    return text


def _instant(value: Any, *, label: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ActionError(_("%(field)s must be a date and time.") % {"field": label})
    if timezone.is_naive(value):
        raise ActionError(_("%(field)s needs a time zone.") % {"field": label})
    return value


def _instances(values: Iterable[Any]) -> list[ErpInstance]:
    found: list[ErpInstance] = []
    for value in values:
        if isinstance(value, ErpInstance):
            instance = value
        else:
            try:
                instance = ErpInstance.objects.get(pk=int(value))
            except (TypeError, ValueError, ErpInstance.DoesNotExist):
                raise ActionError(_("No ERP instance %(ref)s.") % {"ref": value}) from None
        if not instance.is_active:
            raise ActionError(_("The ERP instance %(name)s is inactive.") % {"name": instance})
        if instance not in found:
            found.append(instance)
    return found


def _modules(values: Iterable[Any]) -> list[str]:
    if isinstance(values, str):
        raise ActionError(_("Modules must be a list."))
    chosen: list[str] = []
    for value in values:
        if value not in ErpModule.values:
            raise ActionError(
                _("“%(module)s” is not an ERP module (choose %(choices)s).")
                % {"module": value, "choices": ", ".join(ErpModule.values)}
            )
        if value not in chosen:
            chosen.append(str(value))
    return chosen


def _check_window(change: Change) -> None:
    start, end = change.planned_start, change.planned_end
    emergency_now = change.type == ChangeType.EMERGENCY and start is None  # starts when begun
    if (start is None) != (end is None) and not emergency_now:
        raise ActionError(_("Give both the planned start and the planned end."))
    if start is not None and end is not None:
        if end <= start:
            raise ActionError(_("The planned end must be after the planned start."))
        if timedelta(minutes=change.expected_downtime_minutes) > end - start:
            raise ActionError(_("The expected downtime is longer than the planned window."))
    if change.tested_at is not None and change.tested_at > clock.now():
        raise ActionError(_("The test run cannot be in the future."))


def _label(name: str) -> str:
    return str(getattr(Change._meta.get_field(name), "verbose_name", name))


def _owner(value: Any) -> User | None:
    if value is None:
        return None
    if not isinstance(value, User):
        raise ActionError(_("The owner must be a user."))
    if not value.is_active or not value.is_support_staff:
        raise ActionError(_("The owner must be an active member of the support staff."))
    return value


def _number(moment: datetime) -> str:
    from erpcare.tickets.services.numbers import next_in_sequence

    year = timezone.localtime(moment, timezone.get_default_timezone()).year
    return f"{NUMBER_PREFIX}-{year}-{next_in_sequence(NUMBER_PREFIX, year):06d}"


def get_change_for(user: User, ref: str | int) -> Change:
    """The change with this number (``CHG-2026-000001``) or id, if ``user`` may see it; the
    same NotFound for "does not exist" and "not yours". The actions lock the row."""
    text = str(ref).strip()
    queryset = Change.objects.visible_to(user)
    if not text or len(text) > 24 or "\x00" in text or (text.isdigit() and len(text) > 18):
        raise NotFound(_("Change not found."))
    lookup: dict[str, Any] = {"pk": int(text)} if text.isdigit() else {"number": text.upper()}
    try:
        return queryset.get(**lookup)
    except Change.DoesNotExist:
        raise NotFound(_("Change not found.")) from None


# ---------------------------------------------------------------------------
# Approval rules
# ---------------------------------------------------------------------------


def _effective_risk(change: Change) -> str:
    if change.risk:
        return change.risk
    return UNASSESSED_EMERGENCY_RISK


def approvals_needed(change: Change) -> int:
    return REQUIRED_APPROVALS[_effective_risk(change)]


def may_approve(user: User, change: Change) -> bool:
    """The approver rule for this change's risk (not counting own-change refusal)."""
    if not user.is_active or user.is_read_only:
        return False
    if user.role_code in APPROVER_ROLES:
        return True
    return (
        _effective_risk(change) in TEAM_LEAD_APPROVES
        and user.is_support_staff
        and TeamMembership.objects.filter(user=user, is_lead=True).exists()
    )


def approvals_given(change: Change, *, retrospective: bool = False) -> int:
    """Distinct approvers of the current round (or retrospective approvers)."""
    approvals = change.approvals.filter(decision=Decision.APPROVE, retrospective=retrospective)
    if not retrospective:
        approvals = approvals.filter(round=change.approval_round)
    return approvals.values("approver").distinct().count()


def is_approved(change: Change) -> bool:
    """Standard: always (pre-approved). Otherwise the current round's approvals suffice;
    an emergency that started without them needs as many retrospective approvals."""
    if change.type == ChangeType.STANDARD:
        return True
    needed = approvals_needed(change)
    if approvals_given(change) >= needed:
        return True
    retrospective = change.type == ChangeType.EMERGENCY and change.started_at is not None
    return retrospective and approvals_given(change, retrospective=True) >= needed


# ---------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------


@transaction.atomic
def create_change(
    actor: User,
    *,
    type: str,
    title: str = "",
    description: str = "",
    instances: Iterable[Any] = (),
    modules: Iterable[Any] = (),
    planned_start: datetime | None = None,
    planned_end: datetime | None = None,
    expected_downtime_minutes: int | None = None,
    implementation_plan: str = "",
    test_evidence: str = "",
    tested_at: datetime | None = None,
    rollback_plan: str = "",
    communication_plan: str = "",
    owner: User | None = None,
    template: ChangeTemplate | None = None,
) -> Change:
    """A new change in draft. A standard change needs an active template, whose plans and
    modules fill what is not given, and is low risk by definition."""
    _require_writer(actor)
    if type not in ChangeType.values:
        raise ActionError(
            _("“%(type)s” is not a change type (choose %(choices)s).")
            % {"type": type, "choices": ", ".join(ChangeType.values)}
        )
    if type == ChangeType.STANDARD:
        if template is None:
            raise ActionError(_("A standard change is made from a standard change template."))
        if not template.is_active:
            raise ActionError(
                _("The template “%(name)s” is no longer active.") % {"name": template.name}
            )
    elif template is not None:
        raise ActionError(_("Only standard changes are made from a template."))
    now = clock.now()
    if expected_downtime_minutes is None:
        expected_downtime_minutes = template.expected_downtime_minutes if template else 0
    if not isinstance(expected_downtime_minutes, int) or expected_downtime_minutes < 0:
        raise ActionError(_("The expected downtime must be a whole number of minutes, 0 or more."))

    def given(value: str, name: str) -> str:
        return value or (str(getattr(template, name)) if template is not None else "")

    change = Change(
        number="",
        type=type,
        template=template,
        title=_text(given(title, "title"), label=_("Title"), required=True, limit=MAX_TITLE),
        description=_text(given(description, "description"), label=_("Description")),
        modules=_modules(modules or (template.modules if template else [])),
        planned_start=_instant(planned_start, label=_("Planned start")),
        planned_end=_instant(planned_end, label=_("Planned end")),
        expected_downtime_minutes=expected_downtime_minutes,
        implementation_plan=_text(
            given(implementation_plan, "implementation_plan"), label=_("Implementation plan")
        ),
        test_evidence=_text(given(test_evidence, "test_evidence"), label=_("Test evidence")),
        tested_at=_instant(tested_at, label=_("Tested at")),
        rollback_plan=_text(given(rollback_plan, "rollback_plan"), label=_("Rollback plan")),
        communication_plan=_text(
            given(communication_plan, "communication_plan"), label=_("Communication plan")
        ),
        requester=actor,
        owner=_owner(owner) or actor,
        created_at=now,
        updated_at=now,
    )
    if template is not None:
        change.likelihood, change.impact, change.risk = 1, 1, Risk.LOW
    _check_window(change)
    chosen = _instances(instances)
    change.number = _number(now)
    change.save()
    change.erp_instances.set(chosen)
    _log(change, actor, "created", to_state=change.state, type=type)
    return change


@transaction.atomic
def update_change(actor: User, change: Change, **fields: Any) -> Change:
    """Edit a change in draft or assessment (later, reject it back to draft first)."""
    _require_writer(actor)
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise ActionError(
            _("These fields cannot be edited: %(fields)s.") % {"fields": ", ".join(unknown)}
        )
    change = _locked(change)
    _expect(change, State.DRAFT, State.ASSESSMENT)
    changed: list[str] = []
    for name, value in fields.items():
        if name == "instances":
            chosen = _instances(value)
            if {i.pk for i in chosen} != set(change.erp_instances.values_list("pk", flat=True)):
                change.erp_instances.set(chosen)
                changed.append(name)
            continue
        if name == "title":
            value = _text(value, label=_("Title"), required=True, limit=MAX_TITLE)
        elif name == "modules":
            value = _modules(value)
        elif name in ("planned_start", "planned_end", "tested_at"):
            value = _instant(value, label=_label(name))
        elif name == "expected_downtime_minutes":
            if not isinstance(value, int) or value < 0:
                raise ActionError(
                    _("The expected downtime must be a whole number of minutes, 0 or more.")
                )
        elif name == "owner":
            value = _owner(value)
        else:
            value = _text(value, label=_label(name))
        if getattr(change, name) != value:
            setattr(change, name, value)
            changed.append(name)
    _check_window(change)
    if changed:
        change.updated_at = clock.now()
        change.save()
        _log(change, actor, "updated", fields=changed)
    return change


@transaction.atomic
def assess_change(actor: User, change: Change, answers: Mapping[str, str]) -> Change:
    """Answer the risk questionnaire: likelihood × impact → risk."""
    _require_writer(actor)
    change = _locked(change)
    _expect(change, State.DRAFT, State.ASSESSMENT)
    if change.type == ChangeType.STANDARD:
        raise Conflict(_("A standard change is pre-approved; its risk comes from its template."))
    result = risk_service.assess(dict(answers) if isinstance(answers, Mapping) else answers)
    change.risk_answers = result.answers
    change.likelihood, change.impact, change.risk = result.likelihood, result.impact, result.risk
    change.updated_at = clock.now()
    change.save()
    _log(
        change,
        actor,
        "assessed",
        likelihood=result.likelihood,
        impact=result.impact,
        risk=result.risk,
    )
    return change


@transaction.atomic
def submit_for_assessment(actor: User, change: Change) -> Change:
    _require_writer(actor)
    change = _locked(change)
    _expect(change, State.DRAFT)
    if change.type == ChangeType.STANDARD:
        raise Conflict(_("A standard change is pre-approved: schedule it directly."))
    if not change.erp_instances.exists():
        raise ActionError(_("Name the ERP instances the change affects."))
    _move(change, actor, State.ASSESSMENT, "submitted")
    return change


@transaction.atomic
def request_approval(actor: User, change: Change) -> Change:
    """Assessment → approval: needs the risk, the window and a rollback plan."""
    _require_writer(actor)
    change = _locked(change)
    _expect(change, State.ASSESSMENT)
    if not change.rollback_plan.strip():
        raise ActionError(_("Write the rollback plan before asking for approval."))
    if not change.risk:
        raise ActionError(_("Answer the risk questionnaire before asking for approval."))
    if change.planned_start is None or change.planned_end is None:
        raise ActionError(_("Plan the change window before asking for approval."))
    if not change.implementation_plan.strip():
        raise ActionError(_("Write the implementation plan before asking for approval."))
    change.approval_round += 1
    _move(
        change,
        actor,
        State.APPROVAL,
        "approval_requested",
        risk=change.risk,
        needed=approvals_needed(change),
    )
    return change


@transaction.atomic
def approve_change(actor: User, change: Change, *, comment: str = "") -> ChangeApproval:
    """Approve a change awaiting approval, or (retrospectively) an emergency that started."""
    _require_writer(actor)
    change = _locked(change)
    retrospective = change.type == ChangeType.EMERGENCY and change.started_at is not None
    if not retrospective:
        _expect(change, State.APPROVAL)
    elif change.state not in (State.IN_PROGRESS, *FINISHED_STATES):
        raise Conflict(_("%(number)s is not awaiting approval.") % {"number": change.number})
    if actor.pk in (change.requester_id, change.owner_id):
        raise NotAllowed(_("You cannot approve your own change."))
    if not may_approve(actor, change):
        if _effective_risk(change) in TEAM_LEAD_APPROVES:
            raise NotAllowed(_("A team lead, a manager or an administrator approves this change."))
        raise NotAllowed(_("A manager or an administrator approves a change of this risk."))
    approvals = change.approvals.filter(
        approver=actor, decision=Decision.APPROVE, retrospective=retrospective
    )
    if not retrospective:
        approvals = approvals.filter(round=change.approval_round)
    if approvals.exists():
        raise Conflict(_("You have already approved this change."))
    approval = ChangeApproval.objects.create(
        change=change,
        approver=actor,
        decision=Decision.APPROVE,
        comment=_text(comment, label=_("Comment")),
        at=clock.now(),
        retrospective=retrospective,
        round=change.approval_round,
    )
    given = approvals_given(change, retrospective=retrospective)
    _log(
        change,
        actor,
        "retrospectively_approved" if retrospective else "approved",
        note=approval.comment,
        given=given,
        needed=approvals_needed(change),
    )
    return approval


@transaction.atomic
def reject_change(actor: User, change: Change, *, reason: str) -> Change:
    """Send a change awaiting approval back to draft with the reason."""
    _require_writer(actor)
    change = _locked(change)
    _expect(change, State.APPROVAL)
    if actor.pk in (change.requester_id, change.owner_id):
        raise NotAllowed(_("You cannot decide on your own change."))
    if not may_approve(actor, change):
        raise NotAllowed(_("Only an approver of this change can reject it."))
    text = _text(reason, label=_("Reason"), required=True)
    ChangeApproval.objects.create(
        change=change, approver=actor, decision=Decision.REJECT, comment=text,
        at=clock.now(), round=change.approval_round,
    )  # fmt: skip
    _move(change, actor, State.DRAFT, "rejected", note=text)
    return change


def _apply_conflicts(change: Change, *, refuse_blocks: bool) -> None:
    assert change.planned_start is not None
    assert change.planned_end is not None
    found = find_conflicts(change, change.planned_start, change.planned_end)
    if found.block_freezes and refuse_blocks:
        freeze = found.block_freezes[0]
        raise Conflict(
            _(
                "The window falls in the freeze period “%(name)s” (%(start)s – %(end)s), "
                "which blocks changes."
            )
            % {
                "name": freeze.name,
                "start": timezone.localtime(freeze.starts_at).strftime("%Y-%m-%d %H:%M"),
                "end": timezone.localtime(freeze.ends_at).strftime("%Y-%m-%d %H:%M"),
            }
        )
    warnings = found.warnings()
    for freeze in found.block_freezes:  # only reached for emergencies: flagged, not refused
        warnings.append(
            {
                "kind": "freeze",
                "freeze_period": freeze.pk,
                "text": _("Inside the blocking freeze period “%(name)s” (emergency).")
                % {"name": freeze.name},
            }
        )
    change.warnings = warnings


@transaction.atomic
def schedule_change(actor: User, change: Change) -> Change:
    """Approval (fully approved) → scheduled; a standard change from draft (pre-approved).
    Refused inside a blocking freeze period; flagged for overlaps and warning freezes. The
    maintenance windows are created."""
    _require_writer(actor)
    change = _locked(change)
    if change.type == ChangeType.STANDARD:
        _expect(change, State.DRAFT)
        if not change.rollback_plan.strip():
            raise ActionError(_("Write the rollback plan before scheduling the change."))
        if change.template is None or not change.template.is_active:
            raise Conflict(_("The change's template is no longer active; make it a normal change."))
    else:
        _expect(change, State.APPROVAL)
        if not is_approved(change):
            raise Conflict(
                _("%(number)s has %(given)d of the %(needed)d approvals it needs.")
                % {
                    "number": change.number,
                    "given": approvals_given(change),
                    "needed": approvals_needed(change),
                }
            )
    if change.planned_start is None or change.planned_end is None:
        raise ActionError(_("Plan the change window before scheduling the change."))
    if not change.erp_instances.exists():
        raise ActionError(_("Name the ERP instances the change affects."))
    _apply_conflicts(change, refuse_blocks=True)
    note = ""
    if change.type == ChangeType.STANDARD:
        assert change.template is not None
        note = _(
            "Pre-approved by the standard change template “%(name)s”: "
            "assessment and approval skipped."
        ) % {"name": change.template.name}
    _move(
        change,
        actor,
        State.SCHEDULED,
        "scheduled",
        note=note,
        warnings=[w["text"] for w in change.warnings],
    )
    maintenance.sync_windows(change, actor=actor)
    return change


@transaction.atomic
def reschedule_change(
    actor: User, change: Change, *, planned_start: datetime, planned_end: datetime
) -> Change:
    """Move a scheduled change's window (conflicts checked again, windows moved)."""
    _require_writer(actor)
    change = _locked(change)
    _expect(change, State.SCHEDULED)
    before = (change.planned_start, change.planned_end)
    change.planned_start = _instant(planned_start, label=_("Planned start"))
    change.planned_end = _instant(planned_end, label=_("Planned end"))
    if change.planned_start is None or change.planned_end is None:
        raise ActionError(_("Give both the planned start and the planned end."))
    _check_window(change)
    _apply_conflicts(change, refuse_blocks=True)
    if (change.planned_start, change.planned_end) != before:
        change.announced_at = None  # the customers hear of the new window
    change.updated_at = clock.now()
    change.save()
    _log(
        change, actor, "rescheduled",
        old=[d.isoformat() if d else "" for d in before],
        new=[change.planned_start.isoformat(), change.planned_end.isoformat()],
        warnings=[w["text"] for w in change.warnings],
    )  # fmt: skip
    maintenance.sync_windows(change, actor=actor)
    return change


@transaction.atomic
def start_change(actor: User, change: Change) -> Change:
    """Scheduled → in progress; an emergency also from draft or assessment (its window
    opens now and ends at the planned end)."""
    _require_writer(actor)
    change = _locked(change)
    now = clock.now()
    if change.type == ChangeType.EMERGENCY and change.state in (State.DRAFT, State.ASSESSMENT):
        if not change.rollback_plan.strip():
            raise ActionError(_("Write the rollback plan before starting the change."))
        if not change.erp_instances.exists():
            raise ActionError(_("Name the ERP instances the change affects."))
        if change.planned_end is None or change.planned_end <= now:
            raise ActionError(_("Give the planned end of the emergency window (in the future)."))
        if change.planned_start is None or change.planned_start > now:
            change.planned_start = now
        _apply_conflicts(change, refuse_blocks=False)
        change.started_at = now
        _move(
            change,
            actor,
            State.IN_PROGRESS,
            "started",
            note=_("Emergency change: approval follows retrospectively."),
            emergency=True,
            warnings=[w["text"] for w in change.warnings],
        )
        maintenance.sync_windows(change, actor=actor)
        return change
    _expect(change, State.SCHEDULED)
    change.started_at = now
    _move(change, actor, State.IN_PROGRESS, "started")
    maintenance.start_windows(change, now)
    return change


def _validate_versions(
    change: Change, versions: Mapping[Any, str] | None
) -> dict[ErpInstance, str]:
    if not versions:
        return {}
    own = {i.pk: i for i in change.erp_instances.all()}
    chosen: dict[ErpInstance, str] = {}
    for key, version in versions.items():
        pk = key.pk if isinstance(key, ErpInstance) else key
        instance = own.get(pk) if isinstance(pk, int) else None
        if instance is None:
            raise ActionError(_("ERP instance %(ref)s is not part of this change.") % {"ref": key})
        text = _text(version, label=_("Version"), required=True, limit=40)
        chosen[instance] = text
    return chosen


@transaction.atomic
def complete_change(
    actor: User,
    change: Change,
    *,
    note: str = "",
    versions: Mapping[Any, str] | None = None,
    patch_name: str = "",
    kb_article_ids: Iterable[int] = (),
) -> Change:
    """In progress → completed. ``versions`` (instance or id → new version) records a
    ``PatchRecord`` per instance and keeps ``ErpInstance.version`` current."""
    _require_writer(actor)
    change = _locked(change)
    _expect(change, State.IN_PROGRESS)
    new_versions = _validate_versions(change, versions)
    now = clock.now()
    change.ended_at = now
    _move(change, actor, State.COMPLETED, "completed", note=_text(note, label=_("Note")),
          versions={str(i.pk): v for i, v in new_versions.items()})  # fmt: skip
    for instance, version in new_versions.items():
        record_patch(
            actor, instance, version_after=version, patch_name=patch_name, applied_at=now,
            change=change, kb_article_ids=kb_article_ids,
        )  # fmt: skip
    maintenance.end_windows(change, now)
    notify.notify_end(change)
    return change


@transaction.atomic
def roll_back_change(actor: User, change: Change, *, note: str) -> Change:
    _require_writer(actor)
    change = _locked(change)
    _expect(change, State.IN_PROGRESS)
    text = _text(note, label=_("What was rolled back and why"), required=True)
    now = clock.now()
    change.ended_at = now
    _move(change, actor, State.ROLLED_BACK, "rolled_back", note=text)
    maintenance.end_windows(change, now)
    notify.notify_end(change)
    return change


@transaction.atomic
def fail_change(actor: User, change: Change, *, note: str) -> Change:
    _require_writer(actor)
    change = _locked(change)
    _expect(change, State.IN_PROGRESS)
    text = _text(note, label=_("What failed"), required=True)
    now = clock.now()
    change.ended_at = now
    _move(change, actor, State.FAILED, "failed", note=text)
    maintenance.end_windows(change, now)
    notify.notify_end(change)
    return change


@transaction.atomic
def cancel_change(actor: User, change: Change, *, reason: str) -> Change:
    """Cancel before the work starts; its maintenance windows end (or never open)."""
    _require_writer(actor)
    change = _locked(change)
    _expect(change, State.DRAFT, State.ASSESSMENT, State.APPROVAL, State.SCHEDULED)
    text = _text(reason, label=_("Reason"), required=True)
    now = clock.now()
    change.ended_at = now
    _move(change, actor, State.CANCELLED, "cancelled", note=text)
    maintenance.end_windows(change, now)
    notify.notify_end(change)
    return change


@transaction.atomic
def review_change(actor: User, change: Change, *, outcome: str, lessons: str) -> Change:
    """The post-implementation review; an emergency needs its retrospective approval."""
    _require_writer(actor)
    change = _locked(change)
    _expect(change, *FINISHED_STATES)
    if change.type == ChangeType.EMERGENCY and not is_approved(change):
        raise Conflict(
            _(
                "%(number)s is an emergency change: it needs its retrospective approval "
                "(%(given)d of %(needed)d) before the review."
            )
            % {
                "number": change.number,
                "given": approvals_given(change, retrospective=True),
                "needed": approvals_needed(change),
            }
        )
    change.outcome = _text(outcome, label=_("Outcome"), required=True)
    change.lessons = _text(lessons, label=_("Lessons learned"), required=True)
    change.reviewed_at = clock.now()
    _move(change, actor, State.REVIEWED, "reviewed", note=change.outcome)
    return change


@transaction.atomic
def record_patch(
    actor: User | None,
    instance: ErpInstance,
    *,
    version_after: str,
    patch_name: str = "",
    applied_at: datetime | None = None,
    change: Change | None = None,
    notes: str = "",
    kb_article_ids: Iterable[int] = (),
) -> PatchRecord:
    """One step in an instance's version history; ``ErpInstance.version`` follows it when
    it is the newest step. A patch without a change may be recorded by staff (history
    taken over from before ERPCare)."""
    if actor is not None:
        _require_writer(actor)
    from erpcare.kb.models import Article

    version = _text(version_after, label=_("Version"), required=True, limit=40)
    applied = _instant(applied_at, label=_("Applied at")) or clock.now()
    if applied > clock.now():
        raise ActionError(_("A patch cannot be applied in the future."))
    ids = list(kb_article_ids)
    articles = list(Article.objects.filter(pk__in=ids))
    if len(articles) != len(set(ids)):
        missing = sorted(set(ids) - {a.pk for a in articles})
        raise ActionError(
            _("No knowledge article %(ids)s.") % {"ids": ", ".join(map(str, missing))}
        )
    instance = ErpInstance.objects.select_for_update().get(pk=instance.pk)
    newest = (
        PatchRecord.objects.filter(erp_instance=instance).order_by("-applied_at", "-id").first()
    )
    is_newest = newest is None or applied >= newest.applied_at
    patch = PatchRecord.objects.create(
        erp_instance=instance,
        version_before=instance.version if is_newest else "",
        version_after=version,
        patch_name=_text(patch_name, label=_("Patch"), limit=200),
        applied_at=applied,
        change=change,
        notes=_text(notes, label=_("Notes")),
        recorded_by=actor,
    )
    patch.kb_articles.set(articles)
    if is_newest and instance.version != version:
        instance.version = version
        instance.save(update_fields=["version"])
    record(
        actor=actor,
        action="change.patch_recorded",
        target=instance,
        data={"version_before": patch.version_before, "version_after": version,
              "change": change.number if change else "", "patch": patch.patch_name},
    )  # fmt: skip
    return patch


def patch_history(instance: ErpInstance) -> list[PatchRecord]:
    """The instance's versions, newest first, with the change that applied each."""
    return list(
        PatchRecord.objects.filter(erp_instance=instance)
        .select_related("change")
        .prefetch_related("kb_articles")
        .order_by("-applied_at", "-id")
    )
