"""Telling the affected customers: before a change's window (``ANNOUNCE_BEFORE`` ahead,
by the job ``changes.announce``) and when it ends (completed, rolled back, failed, or
cancelled after it was announced). Each active customer user of an affected organization
gets an in-app notification and an e-mail through the channels outbox (pre-rendered
``Delivery``: retries and the attempt log come with it), in their language, with times in
their organization's time zone and only their own ERP instances named.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import override

from erpcare.accounts.models import RoleCode, User
from erpcare.changes.models import Change, ChangeState
from erpcare.core import clock
from erpcare.customers.models import ErpInstance, Organization

#: How long before a window the customers are told.
ANNOUNCE_BEFORE = timedelta(hours=24)
#: The in-app notification kind (``channels.Notification.kind``).
NOTIFICATION_KIND = "change"

ANNOUNCE = "announce"
END_MESSAGES = {
    ChangeState.COMPLETED: "completed",
    ChangeState.ROLLED_BACK: "rolled_back",
    ChangeState.FAILED: "failed",
    ChangeState.CANCELLED: "cancelled",
}


def _zone(organization: Organization) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(organization.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Asia/Shanghai")


def _when(moment: datetime | None, zone: zoneinfo.ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "?"


def compose(
    change: Change, organization: Organization, instances: list[ErpInstance], kind: str
) -> tuple[str, str]:
    """(subject, text) in the active language for one customer."""
    zone = _zone(organization)
    names = ", ".join(i.name for i in instances)
    values = {
        "number": change.number,
        "title": change.title,
        "instances": names,
        "start": _when(change.planned_start, zone),
        "end": _when(change.planned_end, zone),
        "zone": str(zone),
        "downtime": change.expected_downtime_minutes,
    }
    if kind == ANNOUNCE:
        subject = _("Planned maintenance %(number)s: %(title)s") % values
        text = (
            _("We will work on %(instances)s from %(start)s to %(end)s (%(zone)s) for: %(title)s.")
            % values
        )
        if change.expected_downtime_minutes:
            text += " " + _("Expected downtime: %(downtime)d minutes.") % values
        else:
            text += " " + _("No downtime is expected.")
        return subject, text
    subject = _("Maintenance %(number)s ended: %(title)s") % values
    texts = {
        "completed": _("The maintenance %(number)s on %(instances)s is finished."),
        "rolled_back": _(
            "The maintenance %(number)s on %(instances)s has ended; the change was rolled "
            "back and your system is as it was before."
        ),
        "failed": _(
            "The maintenance %(number)s on %(instances)s has ended without completing the "
            "change; our team is following up."
        ),
        "cancelled": _(
            "The maintenance %(number)s on %(instances)s announced for %(start)s has been "
            "cancelled; no work will take place."
        ),
    }
    if kind == "cancelled":
        subject = _("Maintenance %(number)s cancelled: %(title)s") % values
    return subject, texts[kind] % values


def _recipients(org_ids: set[int]) -> dict[int, list[User]]:
    people: dict[int, list[User]] = defaultdict(list)
    for user in User.objects.filter(
        organization_id__in=org_ids, is_active=True, role__code=RoleCode.CUSTOMER
    ).order_by("id"):
        assert user.organization_id is not None
        people[user.organization_id].append(user)
    return people


def send(change: Change, kind: str) -> int:
    """Notify every customer user of the change's organizations; returns the recipients.
    Runs inside the caller's transaction (nothing is sent if it rolls back)."""
    from erpcare.channels.email.outbound import loop_headers, new_message_id, sender_mailbox
    from erpcare.channels.email.templates import SITE_NAME, layout
    from erpcare.channels.events import wake_on_commit
    from erpcare.channels.models import Delivery, DeliveryChannel, DeliveryState
    from erpcare.channels.services import Message, notify_many

    by_org: dict[int, list[ErpInstance]] = defaultdict(list)
    for instance in change.erp_instances.select_related("organization").order_by("name"):
        by_org[instance.organization_id].append(instance)
    if not by_org:
        return 0
    people = _recipients(set(by_org))
    mailbox = sender_mailbox(None)
    sender = (
        f"{mailbox.name} <{mailbox.email}>" if mailbox is not None else settings.DEFAULT_FROM_EMAIL
    )
    now = clock.now()
    messages: list[Message] = []
    deliveries: list[Delivery] = []
    for org_id, instances in by_org.items():
        organization = instances[0].organization
        for user in people.get(org_id, []):
            language = user.language or settings.LANGUAGE_CODE
            with override(language):
                subject, text = compose(change, organization, instances, kind)
                html = layout(
                    subject,
                    f"<p>{escape(text)}</p>",
                    _("Sent by %(site)s for %(customer)s.")
                    % {"site": SITE_NAME, "customer": organization.name},
                    language,
                )
            messages.append(Message(user.pk, NOTIFICATION_KIND, subject, text))
            if user.email:
                deliveries.append(
                    Delivery(
                        channel=DeliveryChannel.EMAIL,
                        recipient=user,
                        address=user.email,
                        language=language,
                        payload={
                            "subject": f"[{change.number}] {subject}",
                            "text": text,
                            "html": html,
                            "headers": {"Message-ID": new_message_id(None), **loop_headers()},
                            "from": sender,
                            "to": [user.email],
                            "reply_to": [mailbox.email] if mailbox is not None else [],
                            "mailbox_id": mailbox.pk if mailbox is not None else None,
                        },
                        state=DeliveryState.PENDING,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
    notify_many(messages)
    Delivery.objects.bulk_create(deliveries)
    if deliveries:
        wake_on_commit()
    return len(messages)


def announce_due(now: datetime | None = None) -> dict[str, int]:
    """Announce every scheduled (or already running emergency) change whose window starts
    within ``ANNOUNCE_BEFORE`` and has not ended; each change is claimed by a conditional
    UPDATE, so two workers never both announce it."""
    now = now or clock.now()
    due = Change.objects.filter(
        Q(state=ChangeState.SCHEDULED) | Q(state=ChangeState.IN_PROGRESS),
        announced_at__isnull=True,
        planned_start__lte=now + ANNOUNCE_BEFORE,
        planned_end__gt=now,
    ).values_list("pk", flat=True)
    changes = people = 0
    for pk in list(due[:500]):
        with transaction.atomic():
            claimed = Change.objects.filter(pk=pk, announced_at__isnull=True).update(
                announced_at=now
            )
            if not claimed:
                continue
            changes += 1
            people += send(Change.objects.get(pk=pk), ANNOUNCE)
    return {"changes": changes, "recipients": people}


def notify_end(change: Change) -> int:
    """At the end of the work (or a cancellation after the announcement); once."""
    kind = END_MESSAGES.get(ChangeState(change.state))
    if kind is None or change.end_notified_at is not None:
        return 0
    if kind == "cancelled" and change.announced_at is None:
        return 0  # nobody was told, nobody needs telling
    change.end_notified_at = clock.now()
    Change.objects.filter(pk=change.pk).update(end_notified_at=change.end_notified_at)
    return send(change, kind)
