"""Fan-out: turn each new event into notifications and deliveries, once.

``dispatch_pending`` takes undispatched events in id order. Each event is claimed and
fanned out in its own transaction: on PostgreSQL with ``FOR UPDATE SKIP LOCKED`` (other
dispatchers move on to the next event), on SQLite with a conditional UPDATE of
``dispatched_at`` (transactions there take the write lock at BEGIN, so the second
dispatcher finds the event already taken).

Per event: the matching rules give people by role and by name, with channels; the
matching destinations (by rule or direct subscription) each get one delivery. People
are filtered (active, may see the ticket, customers only their own organization's
conversation events, the actor only when a rule says so), then their preferences
decide: muted events, e-mail or in-app switched off, quiet hours (e-mail held until
they end, except P0), and the P3 digest (e-mail held as a digest item until the digest
hour). One delivery per person and channel per event, however many rules matched.

``release_held`` lets held e-mail go when its time comes and turns due digest items
into one digest e-mail per person.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.channels.models import (
    Delivery,
    DeliveryChannel,
    DeliveryState,
    Event,
    EventName,
    Notification,
    NotificationPreference,
    PersonalChannel,
)
from erpcare.channels.rules import RuleSet, TicketPeople, customer_may_receive, staff_who_see
from erpcare.channels.services import Message, notify_many
from erpcare.core import clock
from erpcare.core.bulk import insert_rows

DELIVERY_FIELDS = (
    "event",
    "channel",
    "recipient",
    "address",
    "destination",
    "language",
    "payload",
    "state",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
)

_NOTIFICATION_KINDS: dict[str, str] = {
    EventName.SLA_WARNING: Notification.Kind.SLA_WARNING,
    EventName.SLA_BREACHED: Notification.Kind.SLA_BREACH,
    EventName.SLA_ESCALATED: Notification.Kind.SLA_ESCALATION,
}
_PERSONAL = {PersonalChannel.IN_APP.value, PersonalChannel.EMAIL.value}


# ---------------------------------------------------------------------------
# Claiming
# ---------------------------------------------------------------------------


def dispatch_pending(*, limit: int = 500) -> int:
    """Fan out up to ``limit`` undispatched events; returns how many this call took."""
    ruleset = RuleSet.load()
    skip_locked = connection.features.has_select_for_update_skip_locked
    done = 0
    last_id = 0
    while done < limit:
        with transaction.atomic():
            now = clock.now()
            pending = Event.objects.filter(dispatched_at__isnull=True, pk__gt=last_id)
            if skip_locked:
                event = pending.select_for_update(skip_locked=True).order_by("pk").first()
                if event is None:
                    break
                last_id = event.pk
                Event.objects.filter(pk=event.pk).update(dispatched_at=now)
            else:
                event = pending.order_by("pk").first()
                if event is None:
                    break
                last_id = event.pk
                taken = Event.objects.filter(pk=event.pk, dispatched_at__isnull=True).update(
                    dispatched_at=now
                )
                if not taken:
                    continue
            fan_out(event, ruleset, now)
            done += 1
    return done


# ---------------------------------------------------------------------------
# Fan-out of one event
# ---------------------------------------------------------------------------


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def quiet_until(pref: NotificationPreference, zone: tzinfo, now: datetime) -> datetime | None:
    """When the person's quiet hours end, if ``now`` is inside them (else None)."""
    start, end = pref.quiet_start, pref.quiet_end
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(zone)
    current = local.time().replace(tzinfo=None)
    inside = start <= current < end if start < end else (current >= start or current < end)
    if not inside:
        return None
    ends = datetime.combine(local.date(), end, tzinfo=zone)
    if ends <= local:
        ends += timedelta(days=1)
    return ends


def next_digest_at(pref: NotificationPreference, zone: tzinfo, now: datetime) -> datetime:
    local = now.astimezone(zone)
    at = datetime.combine(local.date(), time(pref.digest_hour % 24), tzinfo=zone)
    if at <= local:
        at += timedelta(days=1)
    return at


def _language(user: User) -> str:
    return user.language or settings.LANGUAGE_CODE


def _in_app_message(event: Event, user: User) -> Message:
    ticket = (event.data or {}).get("ticket") or {}
    number = str(ticket.get("number") or "")
    comment = (event.data or {}).get("comment")
    with translation.override(_language(user)):
        label = str(EventName(event.name).label)
        title = _("%(number)s: %(event)s") % {"number": number, "event": label}
    body = str(ticket.get("title") or "")
    if isinstance(comment, dict) and comment.get("body"):
        body = str(comment["body"])[:1000]
    return Message(
        recipient_id=user.pk,
        kind=_NOTIFICATION_KINDS.get(event.name, Notification.Kind.TICKET),
        title=title if number else label,
        body=body,
        ticket_id=event.ticket_id,
    )


def _email_delivery(
    event: Event, user: User, pref: NotificationPreference, now: datetime
) -> Delivery:
    state = DeliveryState.PENDING
    due = now
    payload: dict[str, Any] = {}
    zone = _zone(user.time_zone)
    if pref.digest_low_priority and event.priority == 3:
        state, due, payload = DeliveryState.HELD, next_digest_at(pref, zone, now), {"digest": True}
    elif event.priority != 0:
        ends = quiet_until(pref, zone, now)
        if ends is not None:
            state, due = DeliveryState.HELD, ends
    return Delivery(
        event=event,
        channel=DeliveryChannel.EMAIL,
        recipient=user,
        address=user.email,
        language=_language(user),
        payload=payload,
        state=state,
        next_attempt_at=due,
        created_at=now,
    )


def _people(event: Event, ruleset: RuleSet, rules: list[Any]) -> dict[int, set[str]]:
    """user id → channels, from every matching rule; the actor only where a rule allows."""
    people = TicketPeople(event)
    wanted: dict[int, set[str]] = defaultdict(set)
    actor_allowed = False
    for rule in rules:
        channels = {str(c) for c in rule.channels} & _PERSONAL
        if not channels:
            continue
        ids: list[int] = list(ruleset.rule_users.get(rule.pk, []))
        for role in rule.recipient_roles:
            ids += people.role(str(role))
        for user_id in ids:
            if user_id == event.actor_id and not rule.include_actor:
                continue
            if user_id == event.actor_id:
                actor_allowed = True
            wanted[user_id] |= channels
    if event.actor_id in wanted and not actor_allowed:
        del wanted[event.actor_id]
    return wanted


def fan_out(event: Event, ruleset: RuleSet, now: datetime) -> tuple[int, int]:
    """Write the event's notifications and deliveries; returns (notifications, deliveries)."""
    if event.name == EventName.TEST:
        return 0, 0
    rules = ruleset.matching_rules(event)
    deliveries: list[Delivery] = []
    for destination_id in ruleset.destinations_for(event, rules):
        destination = ruleset.destinations[destination_id]
        deliveries.append(
            Delivery(
                event=event,
                channel=destination.kind,
                destination=destination,
                language=destination.language,
                state=DeliveryState.PENDING,
                next_attempt_at=now,
                created_at=now,
            )
        )
    wanted = _people(event, ruleset, rules)
    messages: list[Message] = []
    if wanted:
        users = list(
            User.objects.filter(pk__in=list(wanted), is_active=True)
            .select_related("role", "notification_preference")
            .order_by("pk")
        )
        staff = [u for u in users if not u.is_customer]
        seeing = staff_who_see(staff, event)
        for user in users:
            if user.is_customer:
                if not customer_may_receive(user, event):
                    continue
            elif user.pk not in seeing:
                continue
            pref = _preference(user)
            if event.name in (pref.muted_events or []):
                continue
            channels = wanted[user.pk]
            if PersonalChannel.IN_APP in channels and pref.in_app_enabled:
                messages.append(_in_app_message(event, user))
            if PersonalChannel.EMAIL in channels and pref.email_enabled and user.email:
                deliveries.append(_email_delivery(event, user, pref, now))
    insert_rows(Delivery, DELIVERY_FIELDS, deliveries)
    notified = notify_many(messages) if messages else 0
    return notified, len(deliveries)


def _preference(user: User) -> NotificationPreference:
    try:
        return user.notification_preference
    except NotificationPreference.DoesNotExist:
        return NotificationPreference(user=user)


# ---------------------------------------------------------------------------
# Held e-mail
# ---------------------------------------------------------------------------


def release_held(now: datetime | None = None) -> dict[str, int]:
    """Quiet hours that ended → pending; due digest items → one digest e-mail per person."""
    now = now or clock.now()
    with transaction.atomic():
        released = (
            Delivery.objects.filter(state=DeliveryState.HELD, next_attempt_at__lte=now)
            .exclude(payload__has_key="digest")
            .update(state=DeliveryState.PENDING)
        )
    digests = 0
    with transaction.atomic():
        items = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(state=DeliveryState.HELD, next_attempt_at__lte=now, payload__has_key="digest")
            .order_by("pk")
            .values_list("pk", "recipient_id", "address", "language", "event_id")
        )
        by_person: dict[tuple[int | None, str], list[tuple[int, str, int | None]]] = defaultdict(
            list
        )
        for pk, recipient_id, address, language, item_event in items:
            by_person[(recipient_id, address)].append((pk, language, item_event))
        for (person_id, person_address), rows in by_person.items():
            digest = Delivery.objects.create(
                channel=DeliveryChannel.EMAIL,
                recipient_id=person_id,
                address=person_address,
                language=rows[-1][1],
                payload={"digest_items": [e for _pk, _lang, e in rows if e is not None]},
                state=DeliveryState.PENDING,
                next_attempt_at=now,
                created_at=now,
            )
            Delivery.objects.filter(pk__in=[pk for pk, _lang, _event in rows]).update(
                state=DeliveryState.CANCELLED,
                last_error=f"sent in digest delivery #{digest.pk}",
            )
            digests += 1
    return {"released": released, "digests": digests}
