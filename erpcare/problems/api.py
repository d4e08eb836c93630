"""Problem management API (mounted at ``/api/v1/problems``): thin endpoints over
``erpcare.problems.services``. Support staff write; auditors read; customers get 404."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja import Status as HttpStatus
from pydantic import Field

from erpcare.accounts.models import User
from erpcare.core.errors import ActionError, NotFound
from erpcare.core.pagination import page_of
from erpcare.core.schemas import ERRORS
from erpcare.customers.models import ErpModule
from erpcare.problems import services
from erpcare.problems.models import (
    Problem,
    ProblemAction,
    ProblemStatus,
)
from erpcare.tickets.models import Ticket
from erpcare.tickets.schemas import StrictIn
from erpcare.tickets.services import get_ticket_for

router = Router(tags=["problems"])

RULE = (
    "Support staff read and write, auditors read; customers see no problems (404). "
    "Errors name the rule that refused the action."
)
REVIEW_RULE = (
    "Support staff read and write, auditors read; customers see no reviews (reading: 404, "
    "writing: 403). Errors name the rule that refused the action."
)

Text = Annotated[str, Field(max_length=20_000)]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _reader(request: HttpRequest) -> User:
    user = _user(request)
    if not services.problems.can_read(user):
        raise NotFound(_("Problem not found."))
    return user


def _problem(request: HttpRequest, ref: str) -> Problem:
    return services.get_problem_for(_user(request), ref)


def _staff(email: str | None) -> User | None:
    if email is None:
        return None
    user = User.objects.select_related("role").filter(email__iexact=email.strip()).first()
    if user is None or not user.is_active or not user.is_support_staff:
        raise ActionError(
            _("%(value)s is not an active member of the support staff.") % {"value": email}
        )
    return user


def _tickets(request: HttpRequest, refs: list[str]) -> list[Ticket]:
    return [get_ticket_for(_user(request), ref) for ref in refs]


# ---------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------


class ProblemPersonOut(Schema):
    id: int
    email: str
    name: str = Field(alias="display_name")


class ProblemIncidentOut(Schema):
    number: str
    title: str
    priority: int
    status: str
    customer: str
    created_at: datetime

    @staticmethod
    def resolve_customer(obj: Ticket) -> str:
        return obj.organization.code


class ProblemActionOut(Schema):
    id: int
    kind: str
    description: str
    owner: ProblemPersonOut
    due_on: date | None
    done_at: datetime | None


class ProblemWhyIn(StrictIn):
    question: Annotated[str, Field(min_length=1, max_length=1000)]
    answer: Annotated[str, Field(min_length=1, max_length=2000)]


class ProblemWhyOut(Schema):
    question: str
    answer: str


class ProblemSummaryOut(Schema):
    id: int
    number: str
    title: str
    module: str
    status: str
    known_error: bool
    owner: ProblemPersonOut | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None


class ProblemOut(ProblemSummaryOut):
    description: str
    workaround: str
    five_whys: list[ProblemWhyOut]
    fishbone: list[str]
    root_cause: str
    resolution: str
    resolving_change: str
    closed_at: datetime | None
    article: str | None
    customers: list[str]
    incidents: list[ProblemIncidentOut]
    actions: list[ProblemActionOut]


class ProblemPageOut(Schema):
    items: list[ProblemSummaryOut]
    page: int
    page_size: int
    has_next: bool


class ProblemIn(StrictIn):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Text = ""
    module: str = Field("", description="ERP module code")
    owner: str | None = Field(None, description="E-mail of a support staff member")
    incidents: list[str] = Field(default_factory=list, max_length=200)


class ProblemUpdateIn(StrictIn):
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    description: Text | None = None
    module: str | None = None
    owner: str | None = None


class ProblemIncidentsIn(StrictIn):
    tickets: list[str] = Field(min_length=1, max_length=200, description="Numbers or ids")


class ProblemRcaIn(StrictIn):
    five_whys: list[ProblemWhyIn] | None = Field(None, max_length=10)
    fishbone: list[str] | None = Field(
        None, description="people, process, data, code, configuration, infrastructure, vendor"
    )
    root_cause: Text | None = None


class ProblemActionIn(StrictIn):
    kind: str = Field(description="corrective or preventive")
    description: Annotated[str, Field(min_length=1, max_length=4000)]
    owner: str = Field(description="E-mail of a support staff member")
    due_on: date | None = None


class ProblemTransitionIn(StrictIn):
    to: str = Field(description="investigating, known_error, resolved, closed")
    workaround: Text = Field("", description="Required for known_error")
    resolution: Text = ""
    change: str = Field("", max_length=24, description="The resolving change, CHG-…")
    note: Annotated[str, Field(max_length=2000)] = ""


class ProblemArticleRefOut(Schema):
    number: str
    status: str


class ProblemClusterOut(Schema):
    module: str
    size: int
    suggested_title: str
    terms: list[str]
    tickets: list[ProblemIncidentOut]


class ProblemCandidatesQuery(Schema):
    days: int = Field(30, ge=1, le=366)
    min_incidents: int = Field(3, ge=2, le=1000)


class ProblemReviewIn(StrictIn):
    timeline: Text | None = None
    impact: Text | None = None
    detection: Text | None = None
    response: Text | None = None
    root_cause: Text | None = None
    went_well: Text | None = None
    actions: Text | None = None


class ProblemReviewOut(Schema):
    ticket: str
    required: bool
    timeline: str = ""
    impact: str = ""
    detection: str = ""
    response: str = ""
    root_cause: str = ""
    went_well: str = ""
    actions: str = ""
    author: ProblemPersonOut | None = None
    completed_at: datetime | None = None


class ProblemListQuery(Schema):
    status: str | None = Field(None, description="new, investigating, known_error, ...")
    module: str | None = None
    open: bool | None = Field(None, description="true: new, investigating, known error")
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(25, ge=1, le=100)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


DETAIL_FIELDS = (
    "id", "number", "title", "module", "status", "known_error", "owner", "created_at",
    "updated_at", "resolved_at", "description", "workaround", "five_whys", "fishbone",
    "root_cause", "resolution", "resolving_change", "closed_at",
)  # fmt: skip


def _detail(request: HttpRequest, problem: Problem) -> dict[str, Any]:
    user = _user(request)
    problem = Problem.objects.select_related("owner", "article").get(pk=problem.pk)
    return {
        **{name: getattr(problem, name) for name in DETAIL_FIELDS},
        "article": problem.article.number if problem.article else None,
        "customers": [org.code for org in problem.organizations()],
        "incidents": list(services.incidents_of(user, problem)),
        "actions": list(problem.actions.select_related("owner")),
    }


def _review(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    review = services.review_of(_user(request), ticket)
    data: dict[str, Any] = {"ticket": ticket.number, "required": services.review_required(ticket)}
    if review is not None:
        for name in (
            "timeline", "impact", "detection", "response", "root_cause", "went_well",
            "actions", "author", "completed_at",
        ):  # fmt: skip
            data[name] = getattr(review, name)
    return data


# ---------------------------------------------------------------------------
# Endpoints (fixed paths before /{ref})
# ---------------------------------------------------------------------------


@router.get(
    "/candidates",
    response={200: list[ProblemClusterOut], **ERRORS},
    summary="Recurring incidents",
    description="Clusters of similar incident titles in one module, not yet linked to a "
    "problem, of the tickets the caller may see in the last `days`. " + RULE,
)
def candidates(request: HttpRequest, query: Query[ProblemCandidatesQuery]) -> Any:
    user = _reader(request)
    clusters = services.candidates(days=query.days, min_incidents=query.min_incidents, user=user)
    return [
        {
            "module": c.module,
            "size": c.size,
            "suggested_title": c.suggested_title,
            "terms": c.terms,
            "tickets": c.tickets,
        }
        for c in clusters
    ]


@router.get(
    "/reviews/{ticket_ref}",
    response={200: ProblemReviewOut, **ERRORS},
    summary="An incident's post-incident review",
    description="Empty when none was written; `required` says whether closing the incident "
    "needs a completed review. " + REVIEW_RULE,
)
def get_review(request: HttpRequest, ticket_ref: str) -> Any:
    _reader(request)
    return _review(request, get_ticket_for(_user(request), ticket_ref))


@router.put(
    "/reviews/{ticket_ref}",
    response={200: ProblemReviewOut, **ERRORS},
    summary="Write an incident's post-incident review",
    description="Fields left out keep their value. " + REVIEW_RULE,
)
def save_review(request: HttpRequest, ticket_ref: str, body: ProblemReviewIn) -> Any:
    ticket = get_ticket_for(_user(request), ticket_ref)
    services.save_review(_user(request), ticket, **body.model_dump(exclude_none=True))
    return _review(request, ticket)


@router.post(
    "/reviews/{ticket_ref}/complete",
    response={200: ProblemReviewOut, **ERRORS},
    summary="Complete an incident's post-incident review",
    description="Every section must be written. " + REVIEW_RULE,
)
def complete_review(request: HttpRequest, ticket_ref: str) -> Any:
    ticket = get_ticket_for(_user(request), ticket_ref)
    services.complete_review(_user(request), ticket)
    return _review(request, ticket)


@router.get(
    "",
    response={200: ProblemPageOut, **ERRORS},
    summary="List problems",
    description="Newest first, filtered by `status`, `module` (ERP module code) and `open`. "
    + RULE,
)
def list_problems(request: HttpRequest, query: Query[ProblemListQuery]) -> Any:
    user = _reader(request)
    queryset = services.visible_problems(user).select_related("owner")
    if query.status is not None:
        if query.status not in ProblemStatus.values:
            raise ActionError(
                _("%(value)s is not a valid %(field)s.")
                % {"value": query.status, "field": _("status")}
            )
        queryset = queryset.filter(status=query.status)
    if query.module is not None:
        if query.module not in ErpModule.values:
            raise ActionError(
                _("%(value)s is not a valid %(field)s.")
                % {"value": query.module, "field": _("ERP module")}
            )
        queryset = queryset.filter(module=query.module)
    if query.open is not None:
        opened = sorted(services.problems.OPEN_PROBLEM_STATUSES)
        queryset = (
            queryset.filter(status__in=opened)
            if query.open
            else queryset.exclude(status__in=opened)
        )
    return page_of(queryset.order_by("-id"), query.page, query.page_size)


@router.post(
    "",
    response={201: ProblemOut, **ERRORS},
    summary="Create a problem",
    description="Optionally with an owner (support staff e-mail) and the incidents it "
    "explains. " + RULE,
)
def create_problem(request: HttpRequest, body: ProblemIn) -> Any:
    problem = services.create_problem(
        _user(request),
        title=body.title,
        description=body.description,
        module=body.module,
        owner=_staff(body.owner),
        incidents=_tickets(request, body.incidents),
    )
    return HttpStatus(201, _detail(request, problem))


@router.get(
    "/{ref}",
    response={200: ProblemOut, **ERRORS},
    summary="A problem",
    description="With its analysis, incidents, customers and actions. " + RULE,
)
def get_problem(request: HttpRequest, ref: str) -> Any:
    return _detail(request, _problem(request, ref))


@router.patch(
    "/{ref}",
    response={200: ProblemOut, **ERRORS},
    summary="Update a problem",
    description="Title, description, module or owner; fields left out keep their value. " + RULE,
)
def update_problem(request: HttpRequest, ref: str, body: ProblemUpdateIn) -> Any:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if "owner" in changes:
        changes["owner"] = _staff(changes["owner"])
    problem = services.update_problem(_user(request), _problem(request, ref), **changes)
    return _detail(request, problem)


@router.post(
    "/{ref}/incidents",
    response={200: ProblemOut, **ERRORS},
    summary="Link incidents to a problem",
    description="Tickets by number or id; only incidents. " + RULE,
)
def link_incidents(request: HttpRequest, ref: str, body: ProblemIncidentsIn) -> Any:
    problem = _problem(request, ref)
    services.link_incidents(_user(request), problem, _tickets(request, body.tickets))
    return _detail(request, problem)


@router.delete(
    "/{ref}/incidents/{ticket_ref}",
    response={200: ProblemOut, **ERRORS},
    summary="Unlink an incident from a problem",
    description=RULE,
)
def unlink_incident(request: HttpRequest, ref: str, ticket_ref: str) -> Any:
    problem = _problem(request, ref)
    services.unlink_incident(_user(request), problem, get_ticket_for(_user(request), ticket_ref))
    return _detail(request, problem)


@router.post(
    "/{ref}/rca",
    response={200: ProblemOut, **ERRORS},
    summary="Record the root cause analysis",
    description="Five whys, fishbone categories and the root cause; fields left out keep "
    "their value. A new problem moves to investigating. " + RULE,
)
def record_rca(request: HttpRequest, ref: str, body: ProblemRcaIn) -> Any:
    problem = services.record_rca(
        _user(request),
        _problem(request, ref),
        five_whys=[why.model_dump() for why in body.five_whys]
        if body.five_whys is not None
        else None,
        fishbone=body.fishbone,
        root_cause=body.root_cause,
    )
    return _detail(request, problem)


@router.post(
    "/{ref}/actions",
    response={201: ProblemActionOut, **ERRORS},
    summary="Add a corrective or preventive action",
    description="With an owner (support staff e-mail) and an optional due date. " + RULE,
)
def add_action(request: HttpRequest, ref: str, body: ProblemActionIn) -> Any:
    owner = _staff(body.owner)
    assert owner is not None
    action = services.add_action(
        _user(request),
        _problem(request, ref),
        kind=body.kind,
        description=body.description,
        owner=owner,
        due_on=body.due_on,
    )
    return HttpStatus(201, action)


@router.post(
    "/{ref}/actions/{action_id}/done",
    response={200: ProblemActionOut, **ERRORS},
    summary="Mark an action done",
    description=RULE,
)
def complete_action(request: HttpRequest, ref: str, action_id: int) -> Any:
    problem = _problem(request, ref)
    action = ProblemAction.objects.filter(problem=problem, pk=action_id).first()
    if action is None:
        raise NotFound(_("Action not found."))
    return services.complete_action(_user(request), action)


@router.post(
    "/{ref}/transitions",
    response={200: ProblemOut, **ERRORS},
    summary="Move a problem through its workflow",
    description="`to`: investigating (start or reopen the investigation), known_error (needs "
    "`workaround`), resolved (needs a recorded root cause; `change` = CHG-…), closed "
    "(final). " + RULE,
)
def transition(request: HttpRequest, ref: str, body: ProblemTransitionIn) -> Any:
    user = _user(request)
    problem = _problem(request, ref)
    if body.to == ProblemStatus.INVESTIGATING:
        problem = services.start_investigation(user, problem, note=body.note)
    elif body.to == ProblemStatus.KNOWN_ERROR:
        problem = services.mark_known_error(user, problem, workaround=body.workaround)
    elif body.to == ProblemStatus.RESOLVED:
        problem = services.resolve_problem(
            user, problem, resolution=body.resolution, change_number=body.change
        )
    elif body.to == ProblemStatus.CLOSED:
        problem = services.close_problem(user, problem, note=body.note)
    else:
        raise ActionError(
            _("%(value)s is not a valid %(field)s.") % {"value": body.to, "field": _("status")}
        )
    return _detail(request, problem)


@router.post(
    "/{ref}/publish",
    response={201: ProblemArticleRefOut, **ERRORS},
    summary="Publish the analysis to the knowledge base",
    description="As a draft knowledge-base case linked to the incidents; needs a "
    "workaround or a resolution. " + RULE,
)
def publish(request: HttpRequest, ref: str) -> Any:
    article = services.publish_to_kb(_user(request), _problem(request, ref))
    return HttpStatus(201, {"number": article.number, "status": article.status})
