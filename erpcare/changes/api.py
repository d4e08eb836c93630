"""Changes over the API (mounted at ``/api/v1/changes``): list with filters, detail
with approvals and timeline, create, update, risk assessment, transitions, reschedule,
approvals, the calendar and an ERP instance's patch history.

Support staff read and write; auditors read; customers see no change (lists are empty,
a change answers 404). Every rule is the workflow service's (``services/workflow.py``):
the same errors and status codes as the desk.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja import Status as HttpStatus
from pydantic import Field

from erpcare.accounts.models import User
from erpcare.changes.models import Change, ChangeState, ChangeType, FreezePeriod, Risk
from erpcare.changes.services import workflow
from erpcare.changes.services.calendar import calendar as calendar_data
from erpcare.core.errors import ActionError, NotFound
from erpcare.core.pagination import MAX_PAGE, page_of
from erpcare.core.schemas import ERRORS
from erpcare.customers.models import ErpInstance
from erpcare.customers.services import visible_organizations
from erpcare.tickets.schemas import StrictIn

router = Router(tags=["changes"])

RULE = (
    "Support staff read and write, auditors read; customers see no changes (404). "
    "Errors name the rule that refused the action."
)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


class ChangeWarningOut(Schema):
    kind: str
    text: str


class ChangeApprovalOut(Schema):
    approver: str
    decision: str
    comment: str
    at: datetime
    retrospective: bool
    round: int


class ChangeEventOut(Schema):
    at: datetime
    actor: str | None
    kind: str
    from_state: str
    to_state: str
    note: str


class ChangeInstanceOut(Schema):
    id: int
    name: str
    customer: str
    version: str


class ChangeOut(Schema):
    id: int
    number: str
    type: str
    state: str
    title: str
    risk: str
    likelihood: int | None
    impact: int | None
    planned_start: datetime | None
    planned_end: datetime | None
    expected_downtime_minutes: int
    instances: list[ChangeInstanceOut]
    customers: list[str]
    modules: list[str]
    requester: str
    owner: str | None
    warnings: list[ChangeWarningOut]
    approvals_needed: int
    approvals_given: int
    created_at: datetime
    updated_at: datetime


class ChangeDetailOut(ChangeOut):
    description: str
    template: str | None
    risk_answers: dict[str, str]
    implementation_plan: str
    test_evidence: str
    tested_at: datetime | None
    rollback_plan: str
    communication_plan: str
    started_at: datetime | None
    ended_at: datetime | None
    outcome: str
    lessons: str
    reviewed_at: datetime | None
    approvals: list[ChangeApprovalOut]
    events: list[ChangeEventOut]


class ChangePageOut(Schema):
    items: list[ChangeOut]
    page: int
    page_size: int
    has_next: bool


class ChangeIn(StrictIn):
    type: Literal["standard", "normal", "emergency"]
    template: int | None = None
    title: str = Field("", max_length=200)
    description: str = ""
    instances: list[int] = []
    modules: list[str] = []
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    expected_downtime_minutes: int | None = Field(None, ge=0)
    implementation_plan: str = ""
    test_evidence: str = ""
    tested_at: datetime | None = None
    rollback_plan: str = ""
    communication_plan: str = ""
    owner: int | None = None


class ChangePatch(StrictIn):
    title: str | None = Field(None, max_length=200)
    description: str | None = None
    instances: list[int] | None = None
    modules: list[str] | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    expected_downtime_minutes: int | None = Field(None, ge=0)
    implementation_plan: str | None = None
    test_evidence: str | None = None
    tested_at: datetime | None = None
    rollback_plan: str | None = None
    communication_plan: str | None = None
    owner: int | None = None


class ChangeAssessmentIn(StrictIn):
    answers: dict[str, str]


class ChangeTransitionIn(StrictIn):
    action: Literal[
        "submit",
        "request_approval",
        "schedule",
        "start",
        "complete",
        "roll_back",
        "fail",
        "cancel",
        "review",
    ]
    note: str = ""
    reason: str = ""
    outcome: str = ""
    lessons: str = ""
    versions: dict[int, str] = {}
    patch_name: str = Field("", max_length=200)
    kb_article_ids: list[int] = []


class ChangeRescheduleIn(StrictIn):
    planned_start: datetime
    planned_end: datetime


class ChangeApprovalIn(StrictIn):
    decision: Literal["approve", "reject"]
    comment: str = ""


class FreezePeriodOut(Schema):
    id: int
    name: str
    customer: str | None
    instances: list[int]
    starts_at: datetime
    ends_at: datetime
    policy: str
    reason: str


class ChangeCalendarOut(Schema):
    start: datetime
    end: datetime
    changes: list[ChangeOut]
    freeze_periods: list[FreezePeriodOut]


class PatchRecordOut(Schema):
    id: int
    version_before: str
    version_after: str
    patch_name: str
    applied_at: datetime
    change: str | None
    notes: str
    kb_articles: list[str]


def _name(user: User | None) -> str | None:
    return user.display_name or user.email if user is not None else None


def _change_out(change: Change) -> dict[str, Any]:
    instances = list(change.erp_instances.all())
    customers = sorted({i.organization.code for i in instances})
    retrospective = change.type == ChangeType.EMERGENCY and change.started_at is not None
    return {
        "id": change.pk,
        "number": change.number,
        "type": change.type,
        "state": change.state,
        "title": change.title,
        "risk": change.risk,
        "likelihood": change.likelihood,
        "impact": change.impact,
        "planned_start": change.planned_start,
        "planned_end": change.planned_end,
        "expected_downtime_minutes": change.expected_downtime_minutes,
        "instances": [
            {"id": i.pk, "name": i.name, "customer": i.organization.code, "version": i.version}
            for i in instances
        ],
        "customers": customers,
        "modules": [str(m) for m in change.modules or []],
        "requester": _name(change.requester) or "",
        "owner": _name(change.owner),
        "warnings": [
            {"kind": str(w.get("kind", "")), "text": str(w.get("text", ""))}
            for w in change.warnings or []
            if isinstance(w, dict)
        ],
        "approvals_needed": 0
        if change.type == ChangeType.STANDARD
        else workflow.approvals_needed(change),
        "approvals_given": workflow.approvals_given(change, retrospective=retrospective),
        "created_at": change.created_at,
        "updated_at": change.updated_at,
    }


def _detail_out(change: Change) -> dict[str, Any]:
    out = _change_out(change)
    out.update(
        {
            "description": change.description,
            "template": change.template.name if change.template else None,
            "risk_answers": {str(k): str(v) for k, v in (change.risk_answers or {}).items()},
            "implementation_plan": change.implementation_plan,
            "test_evidence": change.test_evidence,
            "tested_at": change.tested_at,
            "rollback_plan": change.rollback_plan,
            "communication_plan": change.communication_plan,
            "started_at": change.started_at,
            "ended_at": change.ended_at,
            "outcome": change.outcome,
            "lessons": change.lessons,
            "reviewed_at": change.reviewed_at,
            "approvals": [
                {
                    "approver": _name(a.approver) or "",
                    "decision": a.decision,
                    "comment": a.comment,
                    "at": a.at,
                    "retrospective": a.retrospective,
                    "round": a.round,
                }
                for a in change.approvals.select_related("approver").order_by("at", "id")
            ],
            "events": [
                {
                    "at": e.at,
                    "actor": _name(e.actor),
                    "kind": e.kind,
                    "from_state": e.from_state,
                    "to_state": e.to_state,
                    "note": e.note,
                }
                for e in change.events.select_related("actor").order_by("at", "id")
            ],
        }
    )
    return out


def _freeze_out(freeze: FreezePeriod) -> dict[str, Any]:
    return {
        "id": freeze.pk,
        "name": freeze.name,
        "customer": freeze.organization.code if freeze.organization else None,
        "instances": [i.pk for i in freeze.erp_instances.all()],
        "starts_at": freeze.starts_at,
        "ends_at": freeze.ends_at,
        "policy": freeze.policy,
        "reason": freeze.reason,
    }


def _owner(owner_id: int | None) -> User | None:
    if owner_id is None:
        return None
    owner = User.objects.filter(pk=owner_id).select_related("role").first()
    if owner is None:
        raise ActionError(_("No user %(id)s.") % {"id": owner_id})
    return owner


def _instance_for(user: User, instance_id: int) -> ErpInstance:
    instance = (
        ErpInstance.objects.filter(pk=instance_id, organization__in=visible_organizations(user))
        .select_related("organization")
        .first()
    )
    if instance is None or user.is_customer:
        raise NotFound(_("ERP instance not found."))
    return instance


def _fresh(user: User, change: Change) -> dict[str, Any]:
    return _detail_out(workflow.get_change_for(user, change.pk))


@router.get(
    "",
    response={200: ChangePageOut, **ERRORS},
    summary="Changes",
    description="Newest first, paged. Filters: `state`, `type`, `risk`, `customer` (code), "
    "`instance` (id), `flagged` (with warnings). " + RULE,
)
def list_changes(
    request: HttpRequest,
    state: ChangeState | None = None,
    type: ChangeType | None = None,
    risk: Risk | None = None,
    customer: str | None = None,
    instance: int | None = None,
    flagged: bool | None = None,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(50, ge=1, le=200),
) -> object:
    changes = Change.objects.visible_to(_user(request))
    if state:
        changes = changes.filter(state=state)
    if type:
        changes = changes.filter(type=type)
    if risk:
        changes = changes.filter(risk=risk)
    if customer:
        changes = changes.filter(erp_instances__organization__code=customer)
    if instance is not None:
        changes = changes.filter(erp_instances=instance)
    if flagged is True:
        changes = changes.exclude(warnings=[])
    elif flagged is False:
        changes = changes.filter(warnings=[])
    changes = (
        changes.distinct()
        .select_related("requester", "owner")
        .prefetch_related("erp_instances__organization")
        .order_by("-created_at", "-id")
    )
    found = page_of(changes, page, page_size)
    found["items"] = [_change_out(change) for change in found["items"]]
    return found


@router.get(
    "/calendar",
    response={200: ChangeCalendarOut, **ERRORS},
    summary="The change calendar",
    description="Changes (not cancelled) and active freeze periods overlapping the local "
    "days `first`–`last` (inclusive, at most 366, in the service's time zone), for one "
    "`customer` (code) or `instance` (id) if given. " + RULE,
)
def get_calendar(
    request: HttpRequest,
    first: date,
    last: date,
    customer: str | None = None,
    instance: int | None = None,
) -> object:
    user = _user(request)
    organization = None
    chosen = None
    if instance is not None:
        chosen = _instance_for(user, instance)
    elif customer:
        organization = visible_organizations(user).filter(code=customer).first()
        if organization is None:
            raise NotFound(_("Customer not found."))
    data = calendar_data(user, first, last, organization=organization, instance=chosen)
    return {
        "start": data.start,
        "end": data.end,
        "changes": [_change_out(c) for c in data.changes],
        "freeze_periods": [_freeze_out(f) for f in data.freezes],
    }


@router.get(
    "/instances/{instance_id}/patches",
    response={200: list[PatchRecordOut], **ERRORS},
    summary="An ERP instance's version and patch history",
    description="Newest first: version before and after, the patch, when, the change that "
    "applied it and the linked upgrade notes (knowledge article numbers). " + RULE,
)
def list_patches(request: HttpRequest, instance_id: int) -> object:
    instance = _instance_for(_user(request), instance_id)
    return [
        {
            "id": p.pk,
            "version_before": p.version_before,
            "version_after": p.version_after,
            "patch_name": p.patch_name,
            "applied_at": p.applied_at,
            "change": p.change.number if p.change else None,
            "notes": p.notes,
            "kb_articles": [a.number for a in p.kb_articles.all()],
        }
        for p in workflow.patch_history(instance)
    ]


@router.post(
    "",
    response={201: ChangeDetailOut, **ERRORS},
    summary="Create a change",
    description="A new change in draft. A standard change names its `template` (an active "
    "standard change template) and is pre-approved. " + RULE,
)
def create(request: HttpRequest, body: ChangeIn) -> HttpStatus[dict[str, Any]]:
    from erpcare.changes.models import ChangeTemplate

    user = _user(request)
    template = None
    if body.template is not None:
        template = ChangeTemplate.objects.filter(pk=body.template).first()
        if template is None:
            raise ActionError(_("No standard change template %(id)s.") % {"id": body.template})
    fields = body.model_dump(exclude={"template", "owner"})
    change = workflow.create_change(user, template=template, owner=_owner(body.owner), **fields)
    return HttpStatus(201, _fresh(user, change))


@router.get(
    "/{ref}",
    response={200: ChangeDetailOut, **ERRORS},
    summary="A change with its approvals and timeline",
    description="`ref` is the number (CHG-2026-000001) or the id. " + RULE,
)
def get_change(request: HttpRequest, ref: str) -> object:
    return _detail_out(workflow.get_change_for(_user(request), ref))


@router.patch(
    "/{ref}",
    response={200: ChangeDetailOut, **ERRORS},
    summary="Edit a change (draft or assessment)",
    description="Only the fields sent change. " + RULE,
)
def update(request: HttpRequest, ref: str, body: ChangePatch) -> object:
    user = _user(request)
    change = workflow.get_change_for(user, ref)
    fields = body.model_dump(exclude_unset=True)
    if "owner" in fields:
        fields["owner"] = _owner(fields["owner"])
    workflow.update_change(user, change, **fields)
    return _fresh(user, change)


@router.post(
    "/{ref}/assessment",
    response={200: ChangeDetailOut, **ERRORS},
    summary="Answer the risk questionnaire",
    description="`answers` maps every question code to an answer code; the likelihood × "
    "impact matrix gives the risk. " + RULE,
)
def assess(request: HttpRequest, ref: str, body: ChangeAssessmentIn) -> object:
    user = _user(request)
    change = workflow.get_change_for(user, ref)
    workflow.assess_change(user, change, body.answers)
    return _fresh(user, change)


@router.post(
    "/{ref}/transitions",
    response={200: ChangeDetailOut, **ERRORS},
    summary="Move a change through its workflow",
    description="`action`: submit, request_approval (needs the rollback plan), schedule "
    "(needs the approvals; refused in a blocking freeze period), start, complete "
    "(`versions`: instance id → new version), roll_back / fail (`note`), cancel "
    "(`reason`), review (`outcome`, `lessons`; an emergency needs its retrospective "
    "approval). " + RULE,
)
def transition(request: HttpRequest, ref: str, body: ChangeTransitionIn) -> object:
    user = _user(request)
    change = workflow.get_change_for(user, ref)
    action = body.action
    if action == "submit":
        workflow.submit_for_assessment(user, change)
    elif action == "request_approval":
        workflow.request_approval(user, change)
    elif action == "schedule":
        workflow.schedule_change(user, change)
    elif action == "start":
        workflow.start_change(user, change)
    elif action == "complete":
        workflow.complete_change(
            user, change, note=body.note, versions=body.versions or None,
            patch_name=body.patch_name, kb_article_ids=body.kb_article_ids,
        )  # fmt: skip
    elif action == "roll_back":
        workflow.roll_back_change(user, change, note=body.note)
    elif action == "fail":
        workflow.fail_change(user, change, note=body.note)
    elif action == "cancel":
        workflow.cancel_change(user, change, reason=body.reason)
    else:
        workflow.review_change(user, change, outcome=body.outcome, lessons=body.lessons)
    return _fresh(user, change)


@router.post(
    "/{ref}/reschedule",
    response={200: ChangeDetailOut, **ERRORS},
    summary="Move a scheduled change's window",
    description="Conflicts are checked again and the maintenance windows move. " + RULE,
)
def reschedule(request: HttpRequest, ref: str, body: ChangeRescheduleIn) -> object:
    user = _user(request)
    change = workflow.get_change_for(user, ref)
    workflow.reschedule_change(
        user, change, planned_start=body.planned_start, planned_end=body.planned_end
    )
    return _fresh(user, change)


@router.post(
    "/{ref}/approvals",
    response={200: ChangeDetailOut, **ERRORS},
    summary="Approve or reject a change",
    description="Approvers by risk: low → a team lead, manager or administrator; medium → "
    "a manager or administrator; high → two distinct managers or administrators (CAB). "
    "Nobody decides on their own change. A rejection (with `comment` as the reason) sends "
    "the change back to draft. An emergency that started is approved retrospectively. " + RULE,
)
def decide(request: HttpRequest, ref: str, body: ChangeApprovalIn) -> object:
    user = _user(request)
    change = workflow.get_change_for(user, ref)
    if body.decision == "approve":
        workflow.approve_change(user, change, comment=body.comment)
    else:
        workflow.reject_change(user, change, reason=body.comment)
    return _fresh(user, change)
