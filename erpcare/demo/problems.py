"""The demo's post-incident reviews: a P0/P1 incident is closed only after its review is
completed (``ERPCARE_PIR_REQUIRED_PRIORITIES``), so the replay writes and completes the
review through ``erpcare.problems.services`` just before each closure step — the
customer's confirmation or the auto-close run — at that step's historical time.
"""

from __future__ import annotations

from erpcare.accounts.models import User
from erpcare.problems.models import PostIncidentReview
from erpcare.problems.services import (
    complete_review,
    required_priorities,
    review_required,
    save_review,
)
from erpcare.tickets.models import Status, Ticket, TicketType


def _author(ticket: Ticket) -> User:
    assignee = ticket.assignee
    if assignee is not None and assignee.is_active and assignee.is_support_staff:
        return assignee
    manager = User.objects.filter(role__code="manager", is_active=True).order_by("pk").first()
    assert manager is not None, "the demo has a manager"
    return manager


def _write(ticket: Ticket) -> None:
    chinese = any("\u4e00" <= char <= "\u9fff" for char in ticket.title)
    created = ticket.created_at.strftime("%Y-%m-%d %H:%M")
    resolved = ticket.resolved_at.strftime("%Y-%m-%d %H:%M") if ticket.resolved_at else "—"
    if chinese:
        text = {
            "timeline": f"- {created} 创建 {ticket.number}\n- {resolved} 已解决",
            "impact": f"{ticket.organization}：{ticket.title}",
            "detection": "客户报障或监控告警。",
            "response": f"按 {ticket.priority_short} 响应，逐级升级处理。",
            "root_cause": ticket.resolution or "见工单解决说明。",
            "went_well": "升级及时，客户沟通顺畅。",
            "actions": "- 将处理过程整理进知识库\n- 检查同类客户是否存在同样隐患",
        }
    else:
        text = {
            "timeline": f"- {created} {ticket.number} opened\n- {resolved} resolved",
            "impact": f"{ticket.organization}: {ticket.title}",
            "detection": "Reported by the customer or raised by a monitoring alert.",
            "response": f"Handled as {ticket.priority_short}, escalated through the tiers.",
            "root_cause": ticket.resolution or "See the ticket's resolution.",
            "went_well": "Quick escalation and clear updates to the customer.",
            "actions": "- Write the fix up in the knowledge base\n- Check other customers",
        }
    author = _author(ticket)
    save_review(author, ticket, **text)
    complete_review(author, ticket)


def review_before_closure(ticket: Ticket | None) -> int:
    """Complete the review of ``ticket`` if it is about to be closed and needs one; with
    ``None`` (the auto-close run), of every resolved ticket that needs one. Returns how
    many reviews were written."""
    if ticket is not None:
        ticket.refresh_from_db()
        if ticket.status != Status.RESOLVED or not review_required(ticket):
            return 0
        if PostIncidentReview.objects.filter(ticket=ticket, completed_at__isnull=False).exists():
            return 0
        _write(ticket)
        return 1
    pending = (
        Ticket.objects.filter(
            status=Status.RESOLVED,
            type=TicketType.INCIDENT,
            priority__in=sorted(required_priorities()),
        )
        .exclude(post_incident_review__completed_at__isnull=False)
        .select_related("organization", "assignee__role")
        .order_by("pk")
    )
    written = 0
    for each in pending:
        _write(each)
        written += 1
    return written
