"""Helpers for the problem tests (on top of the cast in erpcare/conftest.py)."""

from __future__ import annotations

from typing import Any

from erpcare.audit.models import AuditEntry
from erpcare.conftest import Cast
from erpcare.kb.models import Article, ArticleTicketLink
from erpcare.problems.models import PostIncidentReview, Problem, ProblemAction, ProblemIncident
from erpcare.tickets import services as tickets
from erpcare.tickets.models import Ticket
from erpcare.tickets.tests.helpers import state_checks

db_state, refused = state_checks(
    Problem,
    ProblemIncident,
    ProblemAction,
    PostIncidentReview,
    AuditEntry,
    Article,
    ArticleTicketLink,
)

FULL_REVIEW = {
    "timeline": "09:02 alert; 09:05 acknowledged; 09:40 index rebuilt; 09:45 service back.",
    "impact": "Purchasing could not save orders for 43 minutes.",
    "detection": "Monitoring alert on save latency.",
    "response": "L2 took it at 09:05, L3 found the missing index.",
    "root_cause": "A missing index on the order lines table.",
    "went_well": "The alert fired before the first customer call.",
    "actions": "- Add index checks to the inspection pack.",
}


def incident(cast: Cast, title: str = "采购订单保存超时", **fields: Any) -> Ticket:
    fields.setdefault("organization", cast.acme)
    fields.setdefault("module", "purchasing")
    fields.setdefault("priority", 2)
    return tickets.create_ticket(cast.lina, title=title, **fields)


def resolve(cast: Cast, ticket: Ticket) -> Ticket:
    return tickets.transition_ticket(
        cast.lina, ticket, to="resolved", resolution_code="fixed", resolution="Index rebuilt."
    )


def change(cast: Cast) -> Any:
    """A real change of the changes app (a draft is enough to be named as the fix)."""
    from erpcare.changes.services.workflow import create_change

    return create_change(cast.eric, type="normal", title="Recreate the order_id index")


def audit_actions(target: Any) -> list[str]:
    return list(
        AuditEntry.objects.filter(
            target_type=target._meta.label_lower, target_id=str(target.pk)
        ).order_by("id").values_list("action", flat=True)
    )  # fmt: skip
