"""The channel admin's actions: robots and webhooks, chat intakes, notification rules,
deliveries, and the overview's counts.

Every function takes the actor first, checks the role before anything else, validates
(raising ``ActionError`` with a translated message; nothing changes then), writes its rows
and an audit entry in one transaction. Sending, retrying and cancelling belong to the
delivery runner (``channels.delivery``), reprocessing a chat message to the chat intake
(``channels.chat.intake``) and personal preferences to ``channels.preferences``; the
functions here check the role and call them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from erpcare.accounts.models import Team, User
from erpcare.audit.services import record
from erpcare.channels import delivery as runner
from erpcare.channels import preferences
from erpcare.channels.chat import intake as chat_intake
from erpcare.channels.http import check_url
from erpcare.channels.models import (
    ChatIntake,
    ChatMessage,
    Delivery,
    DeliveryState,
    Destination,
    DestinationKind,
    EventName,
    InboundEmail,
    IntakeState,
    Mailbox,
    NotificationPreference,
    NotificationRule,
    PersonalChannel,
    RecipientRole,
)
from erpcare.channels.permissions import can_allow_private_network, require_channel_admin
from erpcare.channels.transports import transport_for
from erpcare.core import clock
from erpcare.core.crypto import mask
from erpcare.core.errors import ActionError, NotAllowed
from erpcare.customers.models import Organization

PRIORITIES = (0, 1, 2, 3)
REDACTED = "••••••••"
# Keys whose values are credentials wherever they appear in a rendered payload.
SECRET_KEYS = {"url", "secret", "password", "authorization", "token", "access_token", "key"}


# ---------------------------------------------------------------------------
# Overview
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    mailboxes: int
    mailboxes_active: int
    mailboxes_failing: int
    destinations: int
    destinations_active: int
    destinations_failing: int
    chat_intakes: int
    chat_intakes_active: int
    rules: int
    rules_active: int
    pending: int
    retry: int
    dead_24h: int
    sent_24h: int
    mail_failed: int
    mail_held: int


def overview() -> Overview:
    since = clock.now() - timedelta(hours=24)
    boxes = Mailbox.objects.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(is_active=True)),
        failing=Count("id", filter=~Q(last_error="")),
    )
    robots = Destination.objects.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(is_active=True)),
        failing=Count("id", filter=~Q(last_error="")),
    )
    intakes = ChatIntake.objects.aggregate(
        total=Count("id"), active=Count("id", filter=Q(is_active=True))
    )
    rules = NotificationRule.objects.aggregate(
        total=Count("id"), active=Count("id", filter=Q(is_active=True))
    )
    # Each count reads the partial or state index; none scans the whole outbox.
    pending = Delivery.objects.filter(state=DeliveryState.PENDING).count()
    retry = Delivery.objects.filter(state=DeliveryState.RETRY).count()
    dead = Delivery.objects.filter(state=DeliveryState.DEAD, created_at__gte=since).count()
    sent = Delivery.objects.filter(state=DeliveryState.SENT, sent_at__gte=since).count()
    mail_failed = InboundEmail.objects.filter(state=IntakeState.FAILED).count()
    mail_held = InboundEmail.objects.filter(state=IntakeState.HELD).count()
    return Overview(
        mailboxes=boxes["total"],
        mailboxes_active=boxes["active"],
        mailboxes_failing=boxes["failing"],
        destinations=robots["total"],
        destinations_active=robots["active"],
        destinations_failing=robots["failing"],
        chat_intakes=intakes["total"],
        chat_intakes_active=intakes["active"],
        rules=rules["total"],
        rules_active=rules["active"],
        pending=pending,
        retry=retry,
        dead_24h=dead,
        sent_24h=sent,
        mail_failed=mail_failed,
        mail_held=mail_held,
    )


# ---------------------------------------------------------------------------
# Robots and webhooks
# ---------------------------------------------------------------------------


def url_hint(url: str) -> str:
    """What the pages show of a robot URL: scheme and host, never the key in path or query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    hint = f"{parts.scheme}://{host}"
    if (parts.path and parts.path != "/") or parts.query:
        hint += "/…"
    return hint[:200]


def check_destination_url(url: str, *, allow_private: bool) -> None:
    """The transports' SSRF guard (``channels.http.check_url``): ActionError if the URL
    may not be used."""
    check_url(url, allow_private=allow_private)


def _validate_filter(
    events: Iterable[str], priorities: Iterable[int]
) -> tuple[list[str], list[int]]:
    event_list = sorted(set(events))
    unknown = [e for e in event_list if e not in EventName.values]
    if unknown:
        raise ActionError(_("Unknown event: %(name)s.") % {"name": ", ".join(unknown)})
    priority_list = sorted({int(p) for p in priorities})
    if any(p not in PRIORITIES for p in priority_list):
        raise ActionError(_("Priorities are P0 to P3."))
    return event_list, priority_list


def save_destination(
    actor: User,
    destination: Destination | None,
    *,
    kind: str,
    name: str,
    url: str,
    secret: str,
    clear_secret: bool = False,
    language: str,
    events: Iterable[str] = (),
    priorities: Iterable[int] = (),
    organization: Organization | None = None,
    team: Team | None = None,
    is_active: bool = True,
    allow_private_network: bool | None = None,
) -> Destination:
    """Create or change a robot or webhook. Empty ``url``/``secret`` on a change keep the
    saved ones (the pages never show them back).

    ``allow_private_network`` is an administrator's decision: ``None`` (a manager's form)
    keeps the saved value — unless the URL changes, which drops the exception, so a manager
    cannot point an admin's trusted internal receiver somewhere else inside the network.
    """
    require_channel_admin(actor)
    name = name.strip()
    url = url.strip()
    if kind not in DestinationKind.values:
        raise ActionError(_("Choose the kind of robot or webhook."))
    if not name:
        raise ActionError(_("Enter a name."))
    if language not in {code for code, _label in settings.LANGUAGES}:
        raise ActionError(_("Choose a language."))
    if destination is None and not url:
        raise ActionError(_("Enter the robot's or webhook's URL."))
    event_list, priority_list = _validate_filter(events, priorities)
    is_admin = can_allow_private_network(actor)
    if allow_private_network and not is_admin:
        raise NotAllowed(_("Only administrators can allow private network addresses."))
    url_changes = bool(url) and (destination is None or url != destination.url)
    if allow_private_network is None or not is_admin:
        allow_private = bool(destination and destination.allow_private_network and not url_changes)
    else:
        allow_private = allow_private_network
    if url_changes:
        check_destination_url(url, allow_private=allow_private)
    elif destination is not None and allow_private != destination.allow_private_network:
        # An admin withdrawing the exception: the saved URL must pass the guard without it.
        check_destination_url(destination.url, allow_private=allow_private)

    with transaction.atomic():
        created = destination is None
        if destination is None:
            destination = Destination(created_by=actor, created_at=clock.now())
        else:
            destination = Destination.objects.select_for_update().get(pk=destination.pk)
        changed: list[str] = []

        def put(field: str, value: Any) -> None:
            if getattr(destination, field) != value:
                setattr(destination, field, value)
                changed.append(field)

        put("kind", kind)
        put("name", name)
        if url_changes:
            put("url", url)
            put("url_hint", url_hint(url))
        if secret:
            put("secret", secret)
        elif clear_secret and destination.secret:
            put("secret", "")
        put("language", language)
        put("events", event_list)
        put("priorities", priority_list)
        put("organization", organization)
        put("team", team)
        put("is_active", is_active)
        put("allow_private_network", allow_private)
        destination.save()
        record(
            actor=actor,
            action="channels.destination.created" if created else "channels.destination.changed",
            target=destination,
            # Field names only: URL and secret never go into the audit log.
            data={"name": destination.name, "kind": destination.kind, "fields": changed},
        )
    return destination


def delete_destination(actor: User, destination: Destination) -> None:
    require_channel_admin(actor)
    with transaction.atomic():
        record(
            actor=actor,
            action="channels.destination.deleted",
            target=destination,
            data={"name": destination.name, "kind": destination.kind},
        )
        destination.delete()


def mask_secret(secret: str) -> str:
    return mask(secret)


def send_test(actor: User, destination: Destination) -> Delivery:
    """A test message to the destination now, through the delivery runner.

    A destination kind without a registered transport is refused here, before a test
    delivery is written that no transport could ever send.
    """
    require_channel_admin(actor)
    try:
        transport_for(destination.kind)
    except LookupError as exc:
        raise ActionError(
            _("No transport can send this: %(reason)s") % {"reason": str(exc)}
        ) from None
    return runner.send_test(actor, destination)


# ---------------------------------------------------------------------------
# Chat intakes
# ---------------------------------------------------------------------------


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def create_chat_intake(
    actor: User,
    *,
    slug: str,
    name: str,
    organization: Organization | None = None,
    team: Team | None = None,
) -> tuple[ChatIntake, str]:
    """A new chat intake and its shared secret (returned once; only its owner sees it)."""
    require_channel_admin(actor)
    slug = slug.strip().lower()
    name = name.strip()
    if not slug or not name:
        raise ActionError(_("Enter a code and a name."))
    with transaction.atomic():
        if ChatIntake.objects.filter(slug=slug).exists():
            raise ActionError(_("A chat intake with the code “%(slug)s” exists.") % {"slug": slug})
        secret = new_secret()
        intake = ChatIntake.objects.create(
            slug=slug,
            name=name,
            secret=secret,
            organization=organization,
            team=team,
            created_by=actor,
            created_at=clock.now(),
        )
        record(
            actor=actor,
            action="channels.chat_intake.created",
            target=intake,
            data={"slug": slug, "name": name},
        )
    return intake, secret


def update_chat_intake(
    actor: User,
    intake: ChatIntake,
    *,
    name: str,
    organization: Organization | None = None,
    team: Team | None = None,
    is_active: bool = True,
) -> ChatIntake:
    require_channel_admin(actor)
    name = name.strip()
    if not name:
        raise ActionError(_("Enter a name."))
    with transaction.atomic():
        intake = ChatIntake.objects.select_for_update().get(pk=intake.pk)
        intake.name = name
        intake.organization = organization
        intake.team = team
        intake.is_active = is_active
        intake.save(update_fields=["name", "organization", "team", "is_active"])
        record(
            actor=actor,
            action="channels.chat_intake.changed",
            target=intake,
            data={"slug": intake.slug, "name": name, "active": is_active},
        )
    return intake


def rotate_chat_secret(actor: User, intake: ChatIntake) -> tuple[ChatIntake, str]:
    """A new shared secret; the old one stops working at once."""
    require_channel_admin(actor)
    with transaction.atomic():
        intake = ChatIntake.objects.select_for_update().get(pk=intake.pk)
        secret = new_secret()
        intake.secret = secret
        intake.save(update_fields=["secret"])
        record(
            actor=actor,
            action="channels.chat_intake.secret_rotated",
            target=intake,
            data={"slug": intake.slug},
        )
    return intake, secret


def reprocess_chat_message(actor: User, message: ChatMessage) -> ChatMessage:
    """A failed or held chat message, processed again (the chat intake part does it)."""
    require_channel_admin(actor)
    return chat_intake.reprocess(actor, message)


def set_chat_intake_active(actor: User, intake: ChatIntake, *, active: bool) -> ChatIntake:
    require_channel_admin(actor)
    with transaction.atomic():
        intake = ChatIntake.objects.select_for_update().get(pk=intake.pk)
        if intake.is_active != active:
            intake.is_active = active
            intake.save(update_fields=["is_active"])
            record(
                actor=actor,
                action="channels.chat_intake.activated"
                if active
                else "channels.chat_intake.deactivated",
                target=intake,
                data={"slug": intake.slug},
            )
    return intake


def chat_endpoint(intake: ChatIntake) -> str:
    return f"{settings.SITE_URL}/api/v1/intake/chat/{intake.slug}"


def chat_curl_example(intake: ChatIntake, secret: str) -> str:
    """A shell snippet that signs and posts one message, for the bot's author to copy.

    The recipe: HMAC-SHA256 over ``<timestamp>.<body>`` with the shared secret, hex, sent
    with the Unix timestamp (``channels.chat.intake.verify``).
    """
    body = json.dumps(
        {
            "message_id": "msg-0001",
            "sender": {"email": "zhang.san@customer.example", "name": "张三"},
            "text": "月结时总账过账报错 / GL posting fails at month end",
        },
        ensure_ascii=False,
    )
    return (
        f"SECRET='{secret}'\n"
        f"BODY='{body}'\n"
        "TS=$(date +%s)\n"
        'SIG=$(printf \'%s.%s\' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -hex'
        " | sed 's/^.* //')\n"
        f"curl -sS -X POST '{chat_endpoint(intake)}' \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        '  -H "X-ERPCare-Timestamp: $TS" \\\n'
        '  -H "X-ERPCare-Signature: sha256=$SIG" \\\n'
        '  --data-binary "$BODY"'
    )


# ---------------------------------------------------------------------------
# Notification rules
# ---------------------------------------------------------------------------


def save_rule(
    actor: User,
    rule: NotificationRule | None,
    *,
    name: str,
    position: int = 100,
    is_active: bool = True,
    events: Iterable[str] = (),
    priorities: Iterable[int] = (),
    organization: Organization | None = None,
    team: Team | None = None,
    recipient_roles: Iterable[str] = (),
    users: Iterable[User] = (),
    channels: Iterable[str] = (),
    destinations: Iterable[Destination] = (),
    include_actor: bool = False,
) -> NotificationRule:
    require_channel_admin(actor)
    name = name.strip()
    if not name:
        raise ActionError(_("Enter a name."))
    if position < 0:
        raise ActionError(_("The order is a number from 0 up."))
    event_list, priority_list = _validate_filter(events, priorities)
    roles = sorted(set(recipient_roles))
    if any(r not in RecipientRole.values for r in roles):
        raise ActionError(_("Unknown recipient."))
    channel_list = [c for c in PersonalChannel.values if c in set(channels)]
    if len(channel_list) != len(set(channels)):
        raise ActionError(_("Unknown channel."))
    people = list(users)
    if any(not person.is_staff or not person.is_active for person in people):
        raise ActionError(_("Only active staff members can be told by a rule."))
    robots = list(destinations)
    if not roles and not people and not robots:
        raise ActionError(_("Choose who is told: recipients, people, or robots and webhooks."))
    if (roles or people) and not channel_list:
        raise ActionError(_("Choose how people are told: in the app, by e-mail, or both."))

    with transaction.atomic():
        created = rule is None
        if rule is None:
            rule = NotificationRule()
        else:
            rule = NotificationRule.objects.select_for_update().get(pk=rule.pk)
        rule.name = name
        rule.position = position
        rule.is_active = is_active
        rule.events = event_list
        rule.priorities = priority_list
        rule.organization = organization
        rule.team = team
        rule.recipient_roles = roles
        rule.channels = channel_list
        rule.include_actor = include_actor
        rule.save()
        rule.users.set(people)
        rule.destinations.set(robots)
        record(
            actor=actor,
            action="channels.rule.created" if created else "channels.rule.changed",
            target=rule,
            data={
                "name": name,
                "events": event_list,
                "priorities": priority_list,
                "roles": roles,
                "users": sorted(p.pk for p in people),
                "channels": channel_list,
                "destinations": sorted(d.pk for d in robots),
            },
        )
    return rule


def delete_rule(actor: User, rule: NotificationRule) -> None:
    require_channel_admin(actor)
    with transaction.atomic():
        record(actor=actor, action="channels.rule.deleted", target=rule, data={"name": rule.name})
        rule.delete()


# ---------------------------------------------------------------------------
# Deliveries
# ---------------------------------------------------------------------------


RETRYABLE_STATES = {DeliveryState.RETRY, DeliveryState.DEAD}
CANCELLABLE_STATES = {DeliveryState.PENDING, DeliveryState.RETRY, DeliveryState.HELD}


def retry_delivery(actor: User, delivery: Delivery) -> Delivery:
    require_channel_admin(actor)
    return runner.retry_now(actor, delivery)


def cancel_delivery(actor: User, delivery: Delivery) -> Delivery:
    require_channel_admin(actor)
    return runner.cancel(actor, delivery)


def _redact(value: Any, secrets_: set[str]) -> Any:
    if isinstance(value, dict):
        return {
            key: (
                REDACTED
                if str(key).lower() in SECRET_KEYS and value[key]
                else _redact(value[key], secrets_)
            )
            for key in value
        }
    if isinstance(value, list):
        return [_redact(item, secrets_) for item in value]
    if isinstance(value, str):
        for secret in secrets_:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    return value


def redacted_payload(delivery: Delivery) -> str:
    """The rendered message as the admin may read it: the destination's URL and signing
    secret replaced wherever they appear, credential-named keys masked."""
    known: set[str] = set()
    if delivery.destination_id is not None and delivery.destination is not None:
        for value in (delivery.destination.url, delivery.destination.secret):
            # Very short values would blank ordinary words; they are no real secret anyway.
            if value and len(value) >= 8:
                known.add(value)
        if delivery.destination.url:
            query = urlsplit(delivery.destination.url).query
            known.update(part for part in query.split("&") if len(part) >= 8)
    return json.dumps(_redact(delivery.payload, known), ensure_ascii=False, indent=2)


def delivery_target(delivery: Delivery) -> str:
    if delivery.destination_id is not None and delivery.destination is not None:
        return delivery.destination.name
    return delivery.address or (str(delivery.recipient) if delivery.recipient else "")


# ---------------------------------------------------------------------------
# Personal preferences
# ---------------------------------------------------------------------------


def save_my_preferences(user: User, **choices: Any) -> NotificationPreference:
    """A staff member's own choices, through ``channels.preferences.save_preferences``."""
    if not user.is_staff:
        raise NotAllowed(_("Only staff members have notification preferences here."))
    return preferences.save_preferences(user, user, **choices)
