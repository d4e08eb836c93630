"""Inviting people: CSAT when a ticket is resolved, NPS once a quarter per contact.

Invitations are rows; the mails are ``channels.Delivery`` rows rendered here (one-click
links differ per person, so they cannot be a shared outbox event) and sent by the
channels worker with its retries, attempt log and sender mailbox, like the inspection
report mails. A person who switched e-mail off or muted "Satisfaction survey" in their
notification preferences gets no mail: a CSAT invitation is still written (the portal
shows the rating buttons on the ticket), an NPS invitation is not (nothing would reach
them, and the response rate would count people we never asked).
"""

from __future__ import annotations

import logging
import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import override

from erpcare.accounts.models import RoleCode, User
from erpcare.core import clock
from erpcare.surveys.models import SCORE_RANGE, AnswerChannel, Invitation, SurveyKind
from erpcare.surveys.services.tokens import link_url
from erpcare.tickets.models import Status, Ticket

log = logging.getLogger(__name__)

CSAT_FACES = {1: "😞", 2: "🙁", 3: "😐", 4: "🙂", 5: "😀"}
SURVEY_EVENT = "survey.requested"


def link_days() -> int:
    return int(getattr(settings, "ERPCARE_SURVEY_LINK_DAYS", 14))


def quarter_cycle(when: datetime) -> int:
    """``year * 10 + quarter`` in the server's time zone (2026-11-05 → 20264)."""
    local = timezone.localtime(when)
    return local.year * 10 + (local.month - 1) // 3 + 1


def _local_date(invitation: Invitation) -> str:
    try:
        zone = zoneinfo.ZoneInfo(invitation.user.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return timezone.localtime(invitation.expires_at, zone).strftime("%Y-%m-%d")


def _wants_mail(user: User) -> bool:
    """E-mail on and "Satisfaction survey" not muted (the preference is read from the
    user's cache when the caller selected it with ``notification_preference``)."""
    from erpcare.channels.models import NotificationPreference

    if not user.email:
        return False
    try:
        pref = user.notification_preference
    except NotificationPreference.DoesNotExist:
        return True
    return bool(pref.email_enabled) and SURVEY_EVENT not in (pref.muted_events or [])


# ---------------------------------------------------------------------------
# CSAT
# ---------------------------------------------------------------------------


def invite_csat(ticket_id: int) -> Invitation | None:
    """Invite the requester of a resolved ticket, once per resolution; None when there is
    nobody to ask (no customer requester, not resolved now, or the link would already
    have expired: a replayed history such as the demo's)."""
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_related("requester__role", "organization")
            .filter(pk=ticket_id)
            .first()
        )
        if ticket is None or ticket.status != Status.RESOLVED or ticket.resolved_at is None:
            return None
        requester = ticket.requester
        if (
            requester is None
            or not requester.is_active
            or not requester.is_customer
            or requester.organization_id != ticket.organization_id
        ):
            return None
        # Times come from the ticket (receivers of ticket_changed may run long after).
        sent_at = ticket.resolved_at
        expires_at = sent_at + timedelta(days=link_days())
        if expires_at <= clock.now():
            return None
        cycle = ticket.reopen_count
        if Invitation.objects.filter(kind=SurveyKind.CSAT, ticket=ticket, cycle=cycle).exists():
            return None
        mail = _wants_mail(requester)
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    kind=SurveyKind.CSAT,
                    ticket=ticket,
                    user=requester,
                    organization_id=ticket.organization_id,
                    cycle=cycle,
                    mailed=mail,
                    sent_at=sent_at,
                    expires_at=expires_at,
                )
        except IntegrityError:
            return None  # another process invited for this resolution first
        if mail:
            _queue_mail(invitation, *csat_mail(invitation))
        return invitation


def csat_mail(invitation: Invitation) -> tuple[str, str, str]:
    """(subject, text, html): the admin-editable "survey" wording of the channels app,
    its ``{survey_url}`` the neutral link, followed by the five one-click links."""
    from erpcare.channels.email.templates import (
        SITE_NAME,
        fill,
        layout,
        normalise_language,
        placeholder_values,
        wording,
    )
    from erpcare.channels.events import ticket_snapshot
    from erpcare.core.markdown import render_markdown

    ticket = invitation.ticket
    assert ticket is not None
    user = invitation.user
    language = normalise_language(user.language or settings.LANGUAGE_CODE)
    snapshot = {"ticket": ticket_snapshot(ticket), "survey_url": link_url(invitation, None)}
    values = placeholder_values(snapshot, language=language, for_customer=True, recipient=user)
    subject_text, body_text = wording("survey", language)
    subject, text = " ".join(fill(subject_text, values).split()), fill(body_text, values)
    with override(language):
        labels = {
            1: _("Very dissatisfied"),
            2: _("Dissatisfied"),
            3: _("Neutral"),
            4: _("Satisfied"),
            5: _("Very satisfied"),
        }
        question = _("How satisfied are you with how we handled %(number)s?") % {
            "number": ticket.number
        }
        footer = _("This message was sent by %(site)s.") % {"site": SITE_NAME}
        expires = _("The links work without signing in until %(date)s.") % {
            "date": _local_date(invitation)
        }
    links = [(score, link_url(invitation, score)) for score in range(1, 6)]
    text += "\n\n" + question + "\n\n"
    text += "\n".join(f"{CSAT_FACES[s]} {s} – {labels[s]}: {url}" for s, url in links)
    text += f"\n\n{expires}"
    buttons = "".join(
        f'<a href="{escape(url)}" title="{escape(labels[s])}" data-score="{s}" '
        'style="display:inline-block;margin:0 6px 6px 0;padding:8px 12px;border:1px solid '
        '#d1d5db;border-radius:6px;text-decoration:none;color:#1f2937;font-size:16px;">'
        f"{CSAT_FACES[s]} {s}</a>"
        for s, url in links
    )
    body_html = (
        render_markdown(fill(body_text, values))
        + f"<p><strong>{escape(question)}</strong></p><p>{buttons}</p>"
        + f'<p style="color:#6b7280;font-size:12px;">{escape(expires)}</p>'
    )
    html = layout(subject, body_html, footer, language)
    return subject, f"{text}\n\n-- \n{footer}\n", html


# ---------------------------------------------------------------------------
# NPS
# ---------------------------------------------------------------------------


def nps_mail(invitation: Invitation) -> tuple[str, str, str]:
    from erpcare.channels.email.templates import SITE_NAME, layout, normalise_language

    user = invitation.user
    language = normalise_language(user.language or settings.LANGUAGE_CODE)
    low, high = SCORE_RANGE[SurveyKind.NPS]
    links = [(score, link_url(invitation, score)) for score in range(low, high + 1)]
    with override(language):
        subject = _("%(site)s: how likely are you to recommend us?") % {"site": SITE_NAME}
        greeting = _("Hello %(name)s,") % {"name": user.display_name or user.email}
        question = _(
            "How likely are you to recommend %(site)s's support to a colleague or a partner? "
            "Click a number from 0 (not at all likely) to 10 (extremely likely)."
        ) % {"site": SITE_NAME}
        footer = _("This message was sent by %(site)s.") % {"site": SITE_NAME}
        expires = _("The links work without signing in until %(date)s.") % {
            "date": _local_date(invitation)
        }
    text = f"{greeting}\n\n{question}\n\n"
    text += "\n".join(f"{score}: {url}" for score, url in links)
    text += f"\n\n{expires}\n\n-- \n{footer}\n"
    buttons = "".join(
        f'<a href="{escape(url)}" data-score="{score}" style="display:inline-block;'
        "min-width:28px;text-align:center;margin:0 4px 6px 0;padding:6px 8px;border:1px solid "
        f'#d1d5db;border-radius:6px;text-decoration:none;color:#1f2937;">{score}</a>'
        for score, url in links
    )
    body_html = (
        f"<p>{escape(greeting)}</p><p>{escape(question)}</p><p>{buttons}</p>"
        f'<p style="color:#6b7280;font-size:12px;">{escape(expires)}</p>'
    )
    return subject, text, layout(subject, body_html, footer, language)


def nps_candidates(cycle: int) -> Any:
    """Active customer contacts with an e-mail address not yet invited in this quarter."""
    invited = Invitation.objects.filter(kind=SurveyKind.NPS, cycle=cycle, user=OuterRef("pk"))
    return (
        User.objects.filter(
            is_active=True, role__code=RoleCode.CUSTOMER, organization__isnull=False
        )
        .exclude(email="")
        .exclude(Exists(invited))
        .order_by("pk")
    )


def invite_nps(now: datetime | None = None, *, batch: int = 500) -> int:
    """Invite every active customer contact not yet asked this quarter; returns how many.

    Idempotent: a second run in the same quarter invites only contacts added since (the
    unique constraint on user + quarter is the last guard against two workers)."""
    now = now or clock.now()
    cycle = quarter_cycle(now)
    expires_at = now + timedelta(days=link_days())
    invited = 0
    last = 0
    while True:
        users = list(
            nps_candidates(cycle)
            .filter(pk__gt=last)
            .select_related("role", "notification_preference")[:batch]
        )
        if not users:
            return invited
        last = users[-1].pk
        for user in users:
            if not _wants_mail(user):
                continue
            try:
                with transaction.atomic():
                    invitation = Invitation.objects.create(
                        kind=SurveyKind.NPS,
                        user=user,
                        organization_id=user.organization_id,
                        cycle=cycle,
                        mailed=True,
                        sent_at=now,
                        expires_at=expires_at,
                    )
                    _queue_mail(invitation, *nps_mail(invitation))
            except IntegrityError:
                continue  # another worker invited this contact first
            invited += 1


# ---------------------------------------------------------------------------
# Mail
# ---------------------------------------------------------------------------


def _queue_mail(invitation: Invitation, subject: str, text: str, html: str) -> None:
    from erpcare.channels.email.outbound import (
        loop_headers,
        new_message_id,
        sender_mailbox,
        threading_headers,
    )
    from erpcare.channels.events import wake_on_commit
    from erpcare.channels.models import Delivery, DeliveryChannel, DeliveryState

    user = invitation.user
    ticket = invitation.ticket
    mailbox = sender_mailbox(ticket.pk if ticket is not None else None)
    sender = (
        f"{mailbox.name} <{mailbox.email}>" if mailbox is not None else settings.DEFAULT_FROM_EMAIL
    )
    headers = {"Message-ID": new_message_id(None), **loop_headers()}
    if ticket is not None:
        headers.update(threading_headers(ticket.pk, ticket.number))
        headers["X-ERPCare-Ticket"] = ticket.number
        if f"[{ticket.number}]" not in subject:
            subject = f"[{ticket.number}] {subject}"
    now = clock.now()
    Delivery.objects.create(
        channel=DeliveryChannel.EMAIL,
        recipient=user,
        address=user.email,
        language=user.language or settings.LANGUAGE_CODE,
        payload={
            "subject": subject,
            "text": text,
            "html": html,
            "headers": headers,
            "from": sender,
            "to": [user.email],
            "reply_to": [mailbox.email] if mailbox is not None else [],
            "mailbox_id": mailbox.pk if mailbox is not None else None,
        },
        state=DeliveryState.PENDING,
        next_attempt_at=now,
        created_at=now,
    )
    wake_on_commit()


def open_invitation(ticket: Ticket, user: User) -> Invitation | None:
    """The ticket's CSAT invitation for this person that can still be answered."""
    if not user.is_authenticated or ticket.requester_id != user.pk:
        return None
    return (
        Invitation.objects.filter(
            kind=SurveyKind.CSAT,
            ticket=ticket,
            user=user,
            answered_at__isnull=True,
            expires_at__gt=clock.now(),
        )
        .order_by("-id")
        .first()
    )


def portal_links(invitation: Invitation) -> list[dict[str, Any]]:
    return [
        {"score": s, "face": CSAT_FACES[s], "url": link_url(invitation, s, AnswerChannel.PORTAL)}
        for s in range(1, 6)
    ]


def missing_csat(since: datetime) -> QuerySet[Ticket, int]:
    """Resolved tickets since ``since`` whose requester is a customer and that have no
    invitation for their current resolution (the after-commit receiver failed)."""
    from django.db.models import F

    invited = Invitation.objects.filter(
        kind=SurveyKind.CSAT, ticket=OuterRef("pk"), cycle=OuterRef("reopen_count")
    )
    return (
        Ticket.objects.filter(
            status=Status.RESOLVED,
            resolved_at__gte=since,
            requester__role__code=RoleCode.CUSTOMER,
            requester__is_active=True,
            requester__organization=F("organization"),
        )
        .exclude(Exists(invited))
        .values_list("pk", flat=True)
    )
