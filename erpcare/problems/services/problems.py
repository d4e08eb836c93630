"""Problem actions: create, update, link incidents, root-cause analysis, known error,
corrective and preventive actions, resolve, close, publish to the knowledge base.

Each action, in one transaction: checks the actor (support staff write; auditors read),
validates its input (``ActionError`` with a translated message: 400 / 403 NotAllowed /
404 NotFound / 409 Conflict), locks the problem row, writes, and records one audit entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.audit.services import record
from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.customers.models import ErpModule
from erpcare.problems.models import (
    NUMBER_PREFIX,
    OPEN_PROBLEM_STATUSES,
    PROBLEM_TRANSITIONS,
    ActionKind,
    FishboneCategory,
    Problem,
    ProblemAction,
    ProblemIncident,
    ProblemStatus,
)
from erpcare.tickets.models import Ticket, TicketType
from erpcare.tickets.services.numbers import next_in_sequence

MAX_TITLE = 200
MAX_TEXT = 20_000
MAX_WHYS = 10
MAX_LINK = 200
CHANGE_NUMBER = re.compile(r"^CHG-\d{4}-\d{6}$")


# ---------------------------------------------------------------------------
# Who and what
# ---------------------------------------------------------------------------


def can_read(user: User) -> bool:
    """Support staff and auditors see every problem; customers none."""
    return bool(
        user.is_authenticated and user.is_active and (user.is_support_staff or user.is_read_only)
    )


def _require_writer(actor: User) -> None:
    if not actor.is_active or actor.is_read_only:
        raise NotAllowed(_("Your role is read-only."))
    if not actor.is_support_staff:
        raise NotAllowed(_("Only support staff can do this."))


def visible_problems(user: User) -> QuerySet[Problem]:
    if not can_read(user):
        return Problem.objects.none()
    return Problem.objects.all()


def get_problem_for(user: User, ref: str | int) -> Problem:
    """The problem with this number (``PRB-2026-000001``) or id, if ``user`` may see it."""
    text = str(ref).strip()
    if not text or len(text) > 24 or "\x00" in text:
        raise NotFound(_("Problem not found."))
    lookup: dict[str, Any] = (
        {"pk": int(text)} if text.isdigit() and len(text) <= 18 else {"number": text.upper()}
    )
    found = visible_problems(user).select_related("owner", "created_by").filter(**lookup).first()
    if found is None:
        raise NotFound(_("Problem not found."))
    return found


def _clean_text(value: Any, *, label: str, required: bool = False, limit: int = MAX_TEXT) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ActionError(_("%(field)s must be text.") % {"field": label})
    text = value.strip()
    if required and not text:
        raise ActionError(_("%(field)s is required.") % {"field": label})
    if len(text) > limit:
        raise ActionError(
            _("%(field)s is too long (at most %(limit)d characters).")
            % {"field": label, "limit": limit}
        )
    if "\x00" in text:
        raise ActionError(_("%(field)s contains a NUL character.") % {"field": label})
    return text


def _clean_module(value: Any) -> str:
    value = value or ""
    if value and value not in ErpModule.values:
        raise ActionError(
            _("%(value)s is not a valid %(field)s.") % {"value": value, "field": _("ERP module")}
        )
    return str(value)


def _clean_owner(owner: Any) -> User | None:
    if owner is None:
        return None
    if not isinstance(owner, User) or not owner.is_active or not owner.is_support_staff:
        raise ActionError(_("The owner must be an active member of the support staff."))
    return owner


def _lock(actor: User, problem: Problem) -> Problem:
    found = visible_problems(actor).select_for_update().filter(pk=problem.pk).first()
    if found is None:
        raise NotFound(_("Problem not found."))
    return found


def _touch(problem: Problem, *fields: str) -> None:
    problem.updated_at = clock.now()
    problem.save(update_fields=[*fields, "updated_at"])


def _audit(actor: User | None, action: str, problem: Problem, **data: Any) -> None:
    record(actor=actor, action=action, target=problem, data={"number": problem.number, **data})


def _require_open(problem: Problem) -> None:
    if problem.status == ProblemStatus.CLOSED:
        raise Conflict(_("%(number)s is closed.") % {"number": problem.number})


def _move(problem: Problem, to: str) -> None:
    if to not in PROBLEM_TRANSITIONS[problem.status]:
        raise Conflict(
            _("A problem cannot go from %(old)s to %(new)s.")
            % {"old": ProblemStatus(problem.status).label, "new": ProblemStatus(to).label}
        )
    problem.status = to


def _next_number() -> str:
    year = timezone.localtime(clock.now(), timezone.get_default_timezone()).year
    return f"{NUMBER_PREFIX}-{year}-{next_in_sequence(NUMBER_PREFIX, year):06d}"


# ---------------------------------------------------------------------------
# Create and edit
# ---------------------------------------------------------------------------


@transaction.atomic
def create_problem(
    actor: User,
    *,
    title: str,
    description: str = "",
    module: str = "",
    owner: User | None = None,
    incidents: Sequence[Ticket] = (),
) -> Problem:
    """A new problem (status new), owned by ``owner`` (default: the actor), optionally with
    incident tickets linked at once."""
    _require_writer(actor)
    title = _clean_text(title, label=_("Title"), required=True, limit=MAX_TITLE)
    description = _clean_text(description, label=_("Description"))
    module = _clean_module(module)
    owner = _clean_owner(owner) or actor
    now = clock.now()
    problem = Problem.objects.create(
        number=_next_number(),
        title=title,
        description=description,
        module=module,
        owner=owner,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    _audit(actor, "problem.created", problem, title=title, module=module)
    if incidents:
        link_incidents(actor, problem, incidents)
    return problem


@transaction.atomic
def update_problem(actor: User, problem: Problem, **changes: Any) -> Problem:
    """Change title, description, module or owner."""
    _require_writer(actor)
    allowed = {"title", "description", "module", "owner"}
    unknown = set(changes) - allowed
    if unknown:
        raise ActionError(_("Unknown field: %(field)s.") % {"field": ", ".join(sorted(unknown))})
    problem = _lock(actor, problem)
    _require_open(problem)
    changed: dict[str, Any] = {}
    if "title" in changes:
        problem.title = _clean_text(
            changes["title"], label=_("Title"), required=True, limit=MAX_TITLE
        )
        changed["title"] = problem.title
    if "description" in changes:
        problem.description = _clean_text(changes["description"], label=_("Description"))
        changed["description"] = True
    if "module" in changes:
        problem.module = _clean_module(changes["module"])
        changed["module"] = problem.module
    if "owner" in changes:
        problem.owner = _clean_owner(changes["owner"])
        changed["owner"] = problem.owner.email if problem.owner else None
    if changed:
        _touch(problem, *changed)
        _audit(actor, "problem.updated", problem, **changed)
    return problem


# ---------------------------------------------------------------------------
# Incidents
# ---------------------------------------------------------------------------


@transaction.atomic
def link_incidents(actor: User, problem: Problem, tickets: Iterable[Ticket]) -> list[Ticket]:
    """Link incident tickets the actor can see to ``problem``. A ticket belongs to at most
    one problem: one already linked elsewhere is a Conflict naming it."""
    _require_writer(actor)
    problem = _lock(actor, problem)
    _require_open(problem)
    ids = list(dict.fromkeys(ticket.pk for ticket in tickets))
    if not ids:
        raise ActionError(_("Choose at least one incident."))
    if len(ids) > MAX_LINK:
        raise ActionError(_("Link at most %(n)d incidents at once.") % {"n": MAX_LINK})
    found = {
        ticket.pk: ticket
        for ticket in Ticket.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .filter(pk__in=ids)
    }
    linked: list[Ticket] = []
    now = clock.now()
    for pk in ids:
        ticket = found.get(pk)
        if ticket is None:
            raise NotFound(_("Ticket not found."))
        if ticket.type != TicketType.INCIDENT:
            raise ActionError(
                _("%(number)s is not an incident; only incidents can be linked to a problem.")
                % {"number": ticket.number}
            )
        existing = ProblemIncident.objects.filter(ticket=ticket).select_related("problem").first()
        if existing is not None:
            if existing.problem_id == problem.pk:
                raise Conflict(
                    _("%(ticket)s is already linked to %(problem)s.")
                    % {"ticket": ticket.number, "problem": problem.number}
                )
            raise Conflict(
                _("%(ticket)s already belongs to %(problem)s; unlink it there first.")
                % {"ticket": ticket.number, "problem": existing.problem.number}
            )
        ProblemIncident.objects.create(
            problem=problem, ticket=ticket, created_by=actor, created_at=now
        )
        linked.append(ticket)
    _touch(problem)
    _audit(actor, "problem.incidents_linked", problem, tickets=[t.number for t in linked])
    return linked


@transaction.atomic
def unlink_incident(actor: User, problem: Problem, ticket: Ticket) -> None:
    _require_writer(actor)
    problem = _lock(actor, problem)
    _require_open(problem)
    if not Ticket.objects.visible_to(actor).filter(pk=ticket.pk).exists():
        raise NotFound(_("Ticket not found."))
    deleted, _rows = ProblemIncident.objects.filter(problem=problem, ticket=ticket).delete()
    if not deleted:
        raise Conflict(
            _("%(ticket)s is not linked to %(problem)s.")
            % {"ticket": ticket.number, "problem": problem.number}
        )
    _touch(problem)
    _audit(actor, "problem.incident_unlinked", problem, ticket=ticket.number)


def incidents_of(user: User, problem: Problem) -> QuerySet[Ticket]:
    """The linked incidents ``user`` may see."""
    return (
        Ticket.objects.visible_to(user)
        .filter(problem_link__problem=problem)
        .select_related("organization")
        .order_by("created_at")
    )


# ---------------------------------------------------------------------------
# Root cause, known error, actions
# ---------------------------------------------------------------------------


def _clean_whys(five_whys: Any) -> list[dict[str, str]]:
    if not isinstance(five_whys, list | tuple):
        raise ActionError(_("The five whys must be a list of questions and answers."))
    if len(five_whys) > MAX_WHYS:
        raise ActionError(_("At most %(n)d whys.") % {"n": MAX_WHYS})
    cleaned = []
    for index, item in enumerate(five_whys, start=1):
        if not isinstance(item, dict) or set(item) - {"question", "answer"}:
            raise ActionError(
                _("Why %(n)d must have a question and an answer, nothing else.") % {"n": index}
            )
        question = _clean_text(
            item.get("question"), label=_("Why %(n)d: question") % {"n": index}, required=True,
            limit=1000,
        )  # fmt: skip
        answer = _clean_text(
            item.get("answer"), label=_("Why %(n)d: answer") % {"n": index}, required=True,
            limit=2000,
        )  # fmt: skip
        cleaned.append({"question": question, "answer": answer})
    return cleaned


def _clean_fishbone(categories: Any) -> list[str]:
    if not isinstance(categories, list | tuple | set | frozenset):
        raise ActionError(_("The fishbone categories must be a list."))
    cleaned = []
    for value in categories:
        if value not in FishboneCategory.values:
            raise ActionError(
                _("%(value)s is not a valid %(field)s.")
                % {"value": value, "field": _("fishbone category")}
            )
        if value not in cleaned:
            cleaned.append(value)
    order = list(FishboneCategory.values)
    return sorted(cleaned, key=order.index)


@transaction.atomic
def record_rca(
    actor: User,
    problem: Problem,
    *,
    five_whys: Any = None,
    fishbone: Any = None,
    root_cause: str | None = None,
) -> Problem:
    """Record the root-cause analysis (any of its three parts; ``None`` keeps a part).
    A problem still "new" moves to "investigating"."""
    _require_writer(actor)
    problem = _lock(actor, problem)
    _require_open(problem)
    if problem.status == ProblemStatus.RESOLVED:
        raise Conflict(
            _("%(number)s is resolved; reopen the investigation to change its analysis.")
            % {"number": problem.number}
        )
    fields = []
    if five_whys is not None:
        problem.five_whys = _clean_whys(five_whys)
        fields.append("five_whys")
    if fishbone is not None:
        problem.fishbone = _clean_fishbone(fishbone)
        fields.append("fishbone")
    if root_cause is not None:
        problem.root_cause = _clean_text(root_cause, label=_("Root cause"))
        fields.append("root_cause")
    if not fields:
        raise ActionError(_("Nothing to record: give the whys, the categories or the root cause."))
    if problem.status == ProblemStatus.NEW:
        problem.status = ProblemStatus.INVESTIGATING
        fields.append("status")
    _touch(problem, *fields)
    _audit(
        actor,
        "problem.rca_recorded",
        problem,
        whys=len(problem.five_whys),
        fishbone=problem.fishbone,
        root_cause=bool(problem.root_cause),
    )
    return problem


@transaction.atomic
def start_investigation(actor: User, problem: Problem, *, note: str = "") -> Problem:
    """new / known error / resolved → investigating (a resolved problem that came back)."""
    _require_writer(actor)
    note = _clean_text(note, label=_("Note"), limit=2000)
    problem = _lock(actor, problem)
    old = problem.status
    _move(problem, ProblemStatus.INVESTIGATING)
    problem.resolved_at = None
    _touch(problem, "status", "resolved_at")
    _audit(actor, "problem.transitioned", problem, old=old, to=problem.status, note=note)
    return problem


@transaction.atomic
def mark_known_error(actor: User, problem: Problem, *, workaround: str) -> Problem:
    """The cause is known (or not yet) but users can work around it: needs the workaround."""
    _require_writer(actor)
    workaround = _clean_text(workaround, label=_("Workaround"), required=True)
    problem = _lock(actor, problem)
    old = problem.status
    _move(problem, ProblemStatus.KNOWN_ERROR)
    problem.known_error = True
    problem.workaround = workaround
    _touch(problem, "status", "known_error", "workaround")
    _audit(actor, "problem.known_error", problem, old=old)
    return problem


@transaction.atomic
def add_action(
    actor: User,
    problem: Problem,
    *,
    kind: str,
    description: str,
    owner: User,
    due_on: date | None = None,
) -> ProblemAction:
    _require_writer(actor)
    if kind not in ActionKind.values:
        raise ActionError(
            _("%(value)s is not a valid %(field)s.") % {"value": kind, "field": _("action kind")}
        )
    description = _clean_text(description, label=_("Description"), required=True, limit=4000)
    checked_owner = _clean_owner(owner)
    if checked_owner is None:
        raise ActionError(_("An action needs an owner."))
    if due_on is not None and not isinstance(due_on, date):
        raise ActionError(_("The due date must be a date."))
    problem = _lock(actor, problem)
    _require_open(problem)
    action = ProblemAction.objects.create(
        problem=problem,
        kind=kind,
        description=description,
        owner=checked_owner,
        due_on=due_on,
        created_by=actor,
        created_at=clock.now(),
    )
    _touch(problem)
    _audit(
        actor,
        "problem.action_added",
        problem,
        action_id=action.pk,
        kind=kind,
        owner=checked_owner.email,
        due_on=due_on.isoformat() if due_on else None,
    )
    return action


@transaction.atomic
def complete_action(actor: User, action: ProblemAction) -> ProblemAction:
    _require_writer(actor)
    problem = _lock(actor, action.problem)
    action = ProblemAction.objects.select_for_update().get(pk=action.pk)
    if action.done_at is not None:
        raise Conflict(_("This action is already done."))
    action.done_at = clock.now()
    action.save(update_fields=["done_at"])
    _touch(problem)
    _audit(actor, "problem.action_done", problem, action_id=action.pk)
    return action


# ---------------------------------------------------------------------------
# Resolve and close
# ---------------------------------------------------------------------------


@transaction.atomic
def resolve_problem(
    actor: User, problem: Problem, *, resolution: str = "", change_number: str = ""
) -> Problem:
    """Fixed at the root: needs a recorded root cause. ``change_number`` names the change
    that fixed it (``CHG-2026-000001``): it must exist and be visible to the actor; the
    problem keeps the number and a link to the change."""
    _require_writer(actor)
    resolution = _clean_text(resolution, label=_("Resolution"))
    change_number = _clean_text(change_number, label=_("Change"), limit=24).upper()
    if change_number and not CHANGE_NUMBER.match(change_number):
        raise ActionError(
            _("%(value)s is not a change number (like CHG-2026-000001).") % {"value": change_number}
        )
    change = None
    if change_number:
        from erpcare.changes.models import Change

        change = Change.objects.visible_to(actor).filter(number=change_number).first()
        if change is None:
            raise NotFound(_("Change %(number)s not found.") % {"number": change_number})
    problem = _lock(actor, problem)
    if not problem.root_cause:
        raise ActionError(
            _("Record the root cause before resolving %(number)s.") % {"number": problem.number}
        )
    old = problem.status
    _move(problem, ProblemStatus.RESOLVED)
    problem.resolution = resolution
    problem.resolving_change = change_number
    problem.change = change
    problem.resolved_at = clock.now()
    _touch(problem, "status", "resolution", "resolving_change", "change", "resolved_at")
    _audit(actor, "problem.resolved", problem, old=old, change=change_number or None)
    return problem


@transaction.atomic
def close_problem(actor: User, problem: Problem, *, note: str = "") -> Problem:
    """Closed is final. A problem closed without being resolved needs a note saying why."""
    _require_writer(actor)
    note = _clean_text(note, label=_("Note"), limit=2000)
    problem = _lock(actor, problem)
    if problem.status in OPEN_PROBLEM_STATUSES and not note:
        raise ActionError(_("Say why the problem is closed without being resolved."))
    old = problem.status
    _move(problem, ProblemStatus.CLOSED)
    problem.closed_at = clock.now()
    _touch(problem, "status", "closed_at")
    _audit(actor, "problem.closed", problem, old=old, note=note)
    return problem


# ---------------------------------------------------------------------------
# Knowledge
# ---------------------------------------------------------------------------


@transaction.atomic
def publish_to_kb(actor: User, problem: Problem) -> Any:
    """A draft knowledge-base case from the analysis: symptom = the problem and its
    incidents, cause = the root cause, resolution = the fix and the workaround; linked
    ("related") to the incidents the actor can see. The article then follows the KB
    workflow (draft → review → published) like any other. Returns the article."""
    from erpcare.kb.models import ArticleStatus
    from erpcare.kb.models import LinkKind as KbLinkKind
    from erpcare.kb.services.articles import create_article_from_text
    from erpcare.kb.services.links import link_article

    _require_writer(actor)
    problem = _lock(actor, problem)
    article = problem.article
    if article is not None and article.status != ArticleStatus.ARCHIVED:
        raise Conflict(
            _("%(number)s already has the article %(article)s.")
            % {"number": problem.number, "article": article.number}
        )
    if not problem.root_cause:
        raise ActionError(_("Record the root cause before publishing the analysis."))
    fix = problem.resolution
    if not (fix or problem.workaround):
        raise ActionError(_("Write the workaround or the resolution before publishing."))
    incidents = list(incidents_of(actor, problem))
    symptom_lines = [problem.description or problem.title]
    if incidents:
        symptom_lines.append(
            "\n".join(f"- {ticket.number} {ticket.title}" for ticket in incidents[:20])
        )
    resolution_parts = []
    if fix:
        resolution_parts.append(fix)
    if problem.workaround:
        resolution_parts.append(_("Workaround: %(text)s") % {"text": problem.workaround})
    if problem.resolving_change:
        resolution_parts.append(_("Fixed by %(change)s.") % {"change": problem.resolving_change})
    cause = problem.root_cause
    if problem.fishbone:
        labels = ", ".join(str(FishboneCategory(value).label) for value in problem.fishbone)
        cause = f"{cause}\n\n{_('Categories: %(list)s') % {'list': labels}}"
    article = create_article_from_text(
        actor,
        title=problem.title,
        symptom="\n\n".join(symptom_lines),
        cause=cause,
        resolution="\n\n".join(resolution_parts),
        module=problem.module,
        source=problem.number,
    )
    for ticket in incidents:
        link_article(actor, ticket, article, kind=KbLinkKind.RELATED)
    problem.article = article
    _touch(problem, "article")
    _audit(actor, "problem.published", problem, article=article.number)
    return article
