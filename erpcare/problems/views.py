"""Problem pages, to be included at ``desk/problems/``: the list, a new problem (also from a
recurring-incident cluster), a problem with its incidents, analysis, actions and workflow
forms, the recurring-incident candidates, and the post-incident review of a ticket. Staff
and auditors see them (auditors without forms); customers get 404 like every desk page.
Each form posts to one URL and calls one service; an ActionError re-renders the page with
its message and status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from erpcare.accounts.models import User
from erpcare.core.errors import ActionError, NotFound
from erpcare.customers.models import ErpModule
from erpcare.problems import services
from erpcare.problems.models import (
    REVIEW_FIELDS,
    ActionKind,
    FishboneCategory,
    Problem,
    ProblemAction,
    ProblemStatus,
)
from erpcare.problems.services.reviews import field_labels
from erpcare.tickets.services import get_ticket_for
from erpcare.tickets.views.common import (
    current_user,
    fetch_ticket,
    page_number,
    paginate,
    staff_view,
)

WHY_ROWS = 5


def _problem(request: HttpRequest, ref: str) -> Problem:
    try:
        return services.get_problem_for(current_user(request), ref)
    except NotFound:
        raise Http404 from None


def _staff_choices() -> Any:
    return (
        User.objects.filter(is_active=True, role__code__in=["l1_agent", "l2_engineer",
                                                           "l3_expert", "manager", "admin"])
        .order_by("display_name")
    )  # fmt: skip


def _staff_by_id(value: str) -> User | None:
    if not value:
        return None
    if not value.isdigit():
        raise ActionError(_("Choose an owner from the list."))
    user = _staff_choices().filter(pk=int(value)).first()
    if user is None:
        raise ActionError(_("Choose an owner from the list."))
    return user


@staff_view
@require_GET
def problem_list(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    problems = services.visible_problems(user).select_related("owner")
    status = request.GET.get("status", "")
    error = ""
    if status:
        if status in ProblemStatus.values:
            problems = problems.filter(status=status)
        else:
            error = _("Unknown status “%(status)s”.") % {"status": status}
    context = {
        "page": paginate(problems.order_by("-id"), page_number(request)),
        "statuses": ProblemStatus.choices,
        "status": status,
        "error": error,
    }
    return render(request, "problems/list.html", context, status=400 if error else 200)


@staff_view
def problem_new(request: HttpRequest) -> HttpResponse:
    """The new-problem form; from the candidates page it arrives pre-filled (``from=1``)
    with the cluster's title, module and incident numbers."""
    user = current_user(request)
    data = request.POST if request.method == "POST" else request.GET
    context: dict[str, Any] = {
        "modules": ErpModule.choices,
        "values": {
            "title": data.get("title", ""),
            "description": data.get("description", ""),
            "module": data.get("module", ""),
            "incidents": " ".join(data.getlist("incidents")),
        },
        "error": "",
    }
    if request.method == "POST" and not data.get("from"):
        try:
            refs = data.get("incidents", "").replace(",", " ").split()
            tickets = []
            for ref in refs:
                try:
                    tickets.append(get_ticket_for(user, ref))
                except NotFound:
                    raise NotFound(_("Ticket %(number)s not found.") % {"number": ref}) from None
            problem = services.create_problem(
                user,
                title=data.get("title", ""),
                description=data.get("description", ""),
                module=data.get("module", ""),
                incidents=tickets,
            )
        except ActionError as exc:
            context["error"] = exc.message
            return render(request, "problems/new.html", context, status=exc.status_code)
        messages.success(request, _("%(number)s created.") % {"number": problem.number})
        return redirect("problems:detail", ref=problem.number)
    return render(request, "problems/new.html", context)


def _detail(
    request: HttpRequest, problem: Problem, *, error: str = "", status: int = 200
) -> HttpResponse:
    user = current_user(request)
    whys = list(problem.five_whys) + [{"question": "", "answer": ""}] * max(
        0, WHY_ROWS - len(problem.five_whys)
    )
    context = {
        "problem": problem,
        "incidents": services.incidents_of(user, problem),
        "customers": problem.organizations(),
        "actions": problem.actions.select_related("owner"),
        "whys": whys,
        "fishbone": [
            (value, label, value in problem.fishbone) for value, label in FishboneCategory.choices
        ],
        "fishbone_labels": [FishboneCategory(value).label for value in problem.fishbone],
        "action_kinds": ActionKind.choices,
        "staff": _staff_choices(),
        "can_write": user.is_support_staff and user.is_active,
        "error": error,
    }
    return render(request, "problems/detail.html", context, status=status)


@staff_view
@require_GET
def problem_detail(request: HttpRequest, ref: str) -> HttpResponse:
    return _detail(request, _problem(request, ref))


def _whys(data: Any) -> list[dict[str, str]]:
    questions = data.getlist("why_question")
    answers = data.getlist("why_answer")
    rows = []
    for question, answer in zip(questions, answers, strict=False):
        if question.strip() or answer.strip():
            rows.append({"question": question, "answer": answer})
    return rows


def _due(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ActionError(_("The due date must be a date (YYYY-MM-DD).")) from None


@staff_view
@require_POST
def problem_act(request: HttpRequest, ref: str) -> HttpResponse:
    """One form of the detail page: ``action`` names the service to call."""
    user = current_user(request)
    problem = _problem(request, ref)
    data = request.POST

    def link() -> Any:
        refs = data.get("tickets", "").replace(",", " ").split()
        return services.link_incidents(user, problem, [get_ticket_for(user, r) for r in refs])

    def done() -> Any:
        found = ProblemAction.objects.filter(problem=problem, pk=data.get("action_id") or 0)
        action = found.first() if str(data.get("action_id", "")).isdigit() else None
        if action is None:
            raise NotFound(_("Action not found."))
        return services.complete_action(user, action)

    calls: dict[str, Callable[[], Any]] = {
        "link": link,
        "unlink": lambda: services.unlink_incident(
            user, problem, get_ticket_for(user, data.get("ticket", ""))
        ),
        "rca": lambda: services.record_rca(
            user,
            problem,
            five_whys=_whys(data),
            fishbone=data.getlist("fishbone"),
            root_cause=data.get("root_cause", ""),
        ),
        "known_error": lambda: services.mark_known_error(
            user, problem, workaround=data.get("workaround", "")
        ),
        "investigate": lambda: services.start_investigation(
            user, problem, note=data.get("note", "")
        ),
        "resolve": lambda: services.resolve_problem(
            user,
            problem,
            resolution=data.get("resolution", ""),
            change_number=data.get("change", ""),
        ),
        "close": lambda: services.close_problem(user, problem, note=data.get("note", "")),
        "add_action": lambda: services.add_action(
            user,
            problem,
            kind=data.get("kind", ""),
            description=data.get("description", ""),
            owner=_staff_by_id(data.get("owner", "")),  # type: ignore[arg-type]
            due_on=_due(data.get("due_on", "")),
        ),
        "done": done,
        "publish": lambda: services.publish_to_kb(user, problem),
    }
    action = data.get("action", "")
    call = calls.get(action)
    if call is None:
        return _detail(
            request,
            problem,
            error=_("Unknown action “%(action)s”.") % {"action": action},
            status=400,
        )
    try:
        call()
    except ActionError as exc:
        return _detail(
            request, Problem.objects.get(pk=problem.pk), error=exc.message, status=exc.status_code
        )
    messages.success(request, _("%(number)s: done.") % {"number": problem.number})
    return redirect("problems:detail", ref=problem.number)


@staff_view
@require_GET
def candidates(request: HttpRequest) -> HttpResponse:
    """Recurring incidents: clusters of similar incident titles per module."""
    error = ""
    try:
        days = int(request.GET.get("days", "30"))
        min_incidents = int(request.GET.get("min", "3"))
        clusters = services.candidates(
            days=days, min_incidents=min_incidents, user=current_user(request)
        )
    except ValueError:
        days, min_incidents, clusters = 30, 3, []
        error = _("Days and the minimum must be whole numbers.")
    except ActionError as exc:
        days, min_incidents, clusters = 30, 3, []
        error = exc.message
    context = {"clusters": clusters, "days": days, "min": min_incidents, "error": error}
    return render(request, "problems/candidates.html", context, status=400 if error else 200)


@staff_view
def review(request: HttpRequest, number: str) -> HttpResponse:
    """The post-incident review of ``number``: save the sections, or save and complete."""
    user = current_user(request)
    ticket = fetch_ticket(request, number)
    error, status = "", 200
    if request.method == "POST":
        try:
            fields = {name: request.POST.get(name, "") for name in REVIEW_FIELDS}
            services.save_review(user, ticket, **fields)
            if request.POST.get("complete"):
                services.complete_review(user, ticket)
        except ActionError as exc:
            error, status = exc.message, exc.status_code
        else:
            messages.success(request, _("Review of %(number)s saved.") % {"number": ticket.number})
            return redirect("problems:review", number=ticket.number)
    current = services.review_of(user, ticket)
    labels = field_labels()
    posted = request.POST if request.method == "POST" else None
    sections = [
        (
            name,
            labels[name],
            posted.get(name, "") if posted is not None else getattr(current, name, ""),
        )
        for name in REVIEW_FIELDS
    ]
    context = {
        "ticket": ticket,
        "review": current,
        "required": services.review_required(ticket),
        "sections": sections,
        "can_write": user.is_support_staff and user.is_active,
        "error": error,
    }
    return render(request, "problems/review.html", context, status=status)
