"""Post-incident reviews (PIR) and the policy that requires one before closing a major
incident.

Policy: an incident ticket whose priority is in ``ERPCARE_PIR_REQUIRED_PRIORITIES``
(comma-separated priority numbers, default ``"0,1"``: P0 and P1; ``""`` switches the rule
off) cannot be closed — by a person or by the auto-close job — until its review is
completed. ``erpcare.tickets.services.actions`` calls ``check_closure`` and
``review_required`` through a small hook.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.audit.services import record
from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.problems.models import REVIEW_FIELDS, PostIncidentReview
from erpcare.tickets.models import Priority, Ticket, TicketType

DEFAULT_REQUIRED_PRIORITIES = "0,1"
# A review can always be written for P0/P1 incidents, and for any priority the policy names.
REVIEWABLE_PRIORITIES = frozenset({Priority.P0, Priority.P1})
MAX_TEXT = 20_000


def required_priorities() -> frozenset[int]:
    """The priorities whose incidents need a completed review before closure."""
    raw = getattr(settings, "ERPCARE_PIR_REQUIRED_PRIORITIES", DEFAULT_REQUIRED_PRIORITIES)
    values: set[int] = set()
    for part in str(raw).split(","):
        part = part.strip().upper().removeprefix("P")
        if not part:
            continue
        if not part.isdigit() or int(part) not in Priority.values:
            raise ImproperlyConfigured(
                f"ERPCARE_PIR_REQUIRED_PRIORITIES: {raw!r} is not a list of priorities 0-3 "
                "such as '0,1' (or '' for none)."
            )
        values.add(int(part))
    return frozenset(values)


def review_required(ticket: Ticket) -> bool:
    """Whether ``ticket`` needs a completed post-incident review before it is closed."""
    return ticket.type == TicketType.INCIDENT and ticket.priority in required_priorities()


def has_completed_review(ticket: Ticket) -> bool:
    return PostIncidentReview.objects.filter(ticket=ticket, completed_at__isnull=False).exists()


def closure_blocked(ticket: Ticket) -> bool:
    """True when the policy refuses to close ``ticket`` now."""
    return review_required(ticket) and not has_completed_review(ticket)


def blocked_filter() -> Q:
    """The tickets ``closure_blocked`` refuses, as a filter (for the auto-close query)."""
    priorities = sorted(required_priorities())
    if not priorities:
        return Q(pk__in=[])
    return Q(type=TicketType.INCIDENT, priority__in=priorities) & ~Q(
        post_incident_review__completed_at__isnull=False
    )


def check_closure(ticket: Ticket) -> None:
    """Raise Conflict when ``ticket`` may not be closed yet for want of a review."""
    if closure_blocked(ticket):
        raise Conflict(
            _(
                "%(number)s is a %(priority)s incident: complete its post-incident review "
                "before closing it."
            )
            % {"number": ticket.number, "priority": ticket.priority_short}
        )


def _clean(value: Any, label: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ActionError(_("%(field)s must be text.") % {"field": label})
    text = value.strip()
    if len(text) > MAX_TEXT:
        raise ActionError(
            _("%(field)s is too long (at most %(limit)d characters).")
            % {"field": label, "limit": MAX_TEXT}
        )
    if "\x00" in text:
        raise ActionError(_("%(field)s contains a NUL character.") % {"field": label})
    return text


def field_labels() -> dict[str, str]:
    return {
        name: str(getattr(PostIncidentReview._meta.get_field(name), "verbose_name", name))
        for name in REVIEW_FIELDS
    }


def _ticket_for_review(actor: User, ticket: Ticket) -> Ticket:
    if not actor.is_active or actor.is_read_only:
        raise NotAllowed(_("Your role is read-only."))
    if not actor.is_support_staff:
        raise NotAllowed(_("Only support staff can do this."))
    found = (
        Ticket.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .filter(pk=ticket.pk)
        .first()
    )
    if found is None:
        raise NotFound(_("Ticket not found."))
    if found.type != TicketType.INCIDENT or not (
        found.priority in REVIEWABLE_PRIORITIES or found.priority in required_priorities()
    ):
        raise ActionError(
            _("%(number)s is not a major incident; post-incident reviews are for P0/P1 incidents.")
            % {"number": found.number}
        )
    return found


@transaction.atomic
def save_review(actor: User, ticket: Ticket, **fields: Any) -> PostIncidentReview:
    """Create or edit the review of ``ticket`` (fields: timeline, impact, detection,
    response, root_cause, went_well, actions; Markdown). A completed review can still be
    corrected; it stays completed."""
    unknown = set(fields) - set(REVIEW_FIELDS)
    if unknown:
        raise ActionError(_("Unknown field: %(field)s.") % {"field": ", ".join(sorted(unknown))})
    ticket = _ticket_for_review(actor, ticket)
    labels = field_labels()
    cleaned = {name: _clean(value, labels[name]) for name, value in fields.items()}
    now = clock.now()
    review = PostIncidentReview.objects.select_for_update().filter(ticket=ticket).first()
    created = review is None
    if review is None:
        review = PostIncidentReview(ticket=ticket, author=actor, created_at=now)
    for name, value in cleaned.items():
        setattr(review, name, value)
    review.updated_at = now
    review.save()
    record(
        actor=actor,
        action="problem.pir_created" if created else "problem.pir_updated",
        target=ticket,
        data={"number": ticket.number, "fields": sorted(cleaned)},
    )
    return review


@transaction.atomic
def complete_review(actor: User, ticket: Ticket) -> PostIncidentReview:
    """Mark the review complete: every section of the template must be written."""
    ticket = _ticket_for_review(actor, ticket)
    review = PostIncidentReview.objects.select_for_update().filter(ticket=ticket).first()
    if review is None:
        raise ActionError(
            _("Write the post-incident review of %(number)s first.") % {"number": ticket.number}
        )
    if review.completed_at is not None:
        raise Conflict(
            _("The review of %(number)s is already completed.") % {"number": ticket.number}
        )
    labels = field_labels()
    missing = [labels[name] for name in REVIEW_FIELDS if not getattr(review, name)]
    if missing:
        raise ActionError(
            _("Fill in every section before completing the review; missing: %(fields)s.")
            % {"fields": ", ".join(missing)}
        )
    review.completed_at = clock.now()
    review.updated_at = review.completed_at
    review.save(update_fields=["completed_at", "updated_at"])
    record(
        actor=actor,
        action="problem.pir_completed",
        target=ticket,
        data={"number": ticket.number},
    )
    return review


def review_of(user: User, ticket: Ticket) -> PostIncidentReview | None:
    """The review of a ticket ``user`` may see (staff and auditors), else NotFound."""
    if not user.is_active or not (user.is_support_staff or user.is_read_only):
        raise NotFound(_("Ticket not found."))
    if not Ticket.objects.visible_to(user).filter(pk=ticket.pk).exists():
        raise NotFound(_("Ticket not found."))
    return PostIncidentReview.objects.filter(ticket=ticket).first()
