"""Recording an answer, the reopen offer after a low CSAT rating, and who hears about it.

Answering is single-use by one conditional UPDATE (``answered_at IS NULL`` → now): of two
simultaneous submissions exactly one writes the response; the other gets "already
answered" and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import override

from erpcare.accounts.models import RoleCode, TeamMembership, User
from erpcare.audit.services import record
from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict
from erpcare.surveys.models import Invitation, Response, SurveyKind, is_low
from erpcare.surveys.services.tokens import Link, check_score, read_token
from erpcare.tickets.models import Status, Ticket

COMMENT_LIMIT = 2000


def answer(link: Link, score: object, comment: str = "") -> Response:
    """Record the answer of the invitation behind ``link`` (read with ``read_token``).

    The score submitted wins over the one in the link (the person may change their mind
    on the confirmation page). Low ratings notify the team lead (or the managers)."""
    invitation = link.invitation
    if isinstance(score, str):
        score = score.strip()
        if not score.lstrip("-").isdigit():
            raise ActionError(_("Please choose a score."))
        score = int(score)
    if not isinstance(score, int):
        raise ActionError(_("Please choose a score."))
    check_score(invitation.kind, score)
    comment = (comment or "").strip()
    if len(comment) > COMMENT_LIMIT:
        raise ActionError(
            _("The comment may have at most %(limit)d characters.") % {"limit": COMMENT_LIMIT}
        )
    now = clock.now()
    with transaction.atomic():
        taken = Invitation.objects.filter(
            pk=invitation.pk, answered_at__isnull=True, expires_at__gt=now
        ).update(answered_at=now)
        if taken != 1:
            raise Conflict(_("This survey has already been answered. Thank you!"))
        invitation.answered_at = now
        response = Response.objects.create(
            invitation=invitation,
            kind=invitation.kind,
            score=score,
            comment=comment,
            channel=link.channel,
            ticket_id=invitation.ticket_id,
            organization_id=invitation.organization_id,
            user_id=invitation.user_id,
            created_at=now,
        )
        record(
            actor=invitation.user,
            action=f"survey.{invitation.kind}.answered",
            target=response,
            data={"score": score, "ticket": invitation.ticket_id, "channel": link.channel},
        )
        if is_low(invitation.kind, score):
            notify_low_rating(response)
    return response


def can_reopen(response: Response) -> bool:
    """A low CSAT answer whose ticket is still resolved and within the reopen window."""
    ticket = response.ticket
    if response.kind != SurveyKind.CSAT or not response.is_low or ticket is None:
        return False
    if ticket.status != Status.RESOLVED or ticket.resolved_at is None:
        return False
    window = timedelta(days=settings.ERPCARE_REOPEN_WINDOW_DAYS)
    return clock.now() - ticket.resolved_at <= window


def reopen_from_survey(token: str, reason: str) -> Ticket:
    """Reopen the ticket of an answered low CSAT rating, as its requester (the ticket
    action checks the window, the state and the requester's rights)."""
    from erpcare.tickets.services import reopen_ticket

    link = read_token(token, for_answer=False)
    invitation = link.invitation
    response = Response.objects.select_related("ticket").filter(invitation=invitation).first()
    if response is None or not response.is_low or response.kind != SurveyKind.CSAT:
        raise Conflict(_("Reopening is offered after a low rating only."))
    assert response.ticket is not None
    if response.ticket.status != Status.RESOLVED:
        raise Conflict(_("This ticket is no longer resolved; it cannot be reopened from here."))
    return reopen_ticket(invitation.user, response.ticket, reason=reason)


def leads_for(response: Response) -> list[int]:
    """Who hears about a low rating: the leads of the ticket's team; for NPS (no ticket)
    the leads of teams serving only a list of customers that includes this one; when
    there are none, the active managers."""
    members = TeamMembership.objects.filter(is_lead=True, user__is_active=True)
    if response.ticket_id is not None:
        team_id = Ticket.objects.filter(pk=response.ticket_id).values_list("team_id", flat=True)
        members = members.filter(team_id__in=team_id)
    else:
        members = members.filter(
            team__serves_all_customers=False, team__customers=response.organization_id
        )
    ids = sorted(set(members.values_list("user_id", flat=True)))
    if ids:
        return ids
    return list(
        User.objects.filter(is_active=True, role__code=RoleCode.MANAGER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def notify_low_rating(response: Response) -> int:
    """In-app notification of a low rating to the team lead(s) or managers."""
    from erpcare.channels.models import Notification
    from erpcare.channels.services import Message, notify_many

    recipients = User.objects.filter(pk__in=leads_for(response)).only("pk", "language")
    ticket = response.ticket
    messages = []
    for user in recipients:
        with override(user.language or settings.LANGUAGE_CODE):
            if ticket is not None:
                title = _("%(number)s: low satisfaction rating %(score)d/5") % {
                    "number": ticket.number,
                    "score": response.score,
                }
            else:
                title = _("%(customer)s: NPS detractor (%(score)d/10)") % {
                    "customer": response.organization.name,
                    "score": response.score,
                }
        body = f"{response.user.display_name or response.user.email}: {response.comment}".strip()
        messages.append(
            Message(
                recipient_id=user.pk,
                kind=Notification.Kind.TICKET,
                title=title,
                body=body.rstrip(":"),
                ticket_id=response.ticket_id,
            )
        )
    return notify_many(messages) if messages else 0
