"""The delivery runner: claim due deliveries, send them, retry with back-off, log each try.

Claiming is one conditional UPDATE per delivery (state -> SENDING with a lease in
``locked_until``), so two workers never send the same delivery; a worker that dies while
sending leaves a lease that runs out, and the next run takes the delivery again (and
counts the lost try, so a message that kills workers cannot loop for ever). The lease
value is also the claim's token: only the holder of the current lease may finish it.

Nothing here runs inside a request except ``send_test``, which an admin asks for and
waits on. Transports render and send; state, retries and the attempt log live here.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import override

from erpcare.accounts.models import User
from erpcare.audit.services import record
from erpcare.channels.email import outbound  # noqa: F401  (registers the e-mail transport)
from erpcare.channels.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Destination,
    Event,
    EventName,
)
from erpcare.channels.permissions import require_channel_admin
from erpcare.channels.transports import SendResult, transport_for
from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
RESPONSE_LIMIT = 2048
_WAITING = (DeliveryState.PENDING, DeliveryState.RETRY)


def _due(now: datetime) -> Q:
    return Q(state__in=_WAITING, next_attempt_at__lte=now) | Q(
        state=DeliveryState.SENDING, locked_until__lt=now
    )


def backoff(attempts: int) -> timedelta:
    """Wait before try ``attempts + 1``: base × 2^(attempts-1), capped, ±10 % jitter so
    that deliveries failing together do not come back together."""
    base = settings.ERPCARE_DELIVERY_BACKOFF_SECONDS
    cap = settings.ERPCARE_DELIVERY_BACKOFF_MAX_SECONDS
    seconds = min(cap, base * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=seconds * random.uniform(0.9, 1.1))  # noqa: S311 (jitter, not a secret)


# What a dispatcher may leave in a payload for the transport (not a rendered message).
INSTRUCTION_KEYS = frozenset({"digest", "digest_items"})


def needs_render(payload: dict[str, Any]) -> bool:
    return not payload or set(payload) <= INSTRUCTION_KEYS


def deliver_due(*, limit: int = 200) -> dict[str, int]:
    """Send what is due, oldest first. Returns counts by outcome."""
    counts = {"claimed": 0, "sent": 0, "retry": 0, "dead": 0, "lost": 0}
    now = clock.now()
    candidates = list(
        Delivery.objects.filter(_due(now))
        .order_by("next_attempt_at", "id")[:limit]
        .values_list("pk", flat=True)
    )
    for pk in candidates:
        claimed = _claim(pk, Q(pk=pk) & _due(clock.now()))
        if claimed is None:
            counts["lost"] += 1  # another worker took it first
            continue
        counts["claimed"] += 1
        outcome = _process(*claimed)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def deliver_one(delivery_id: int) -> Delivery:
    """Send this delivery now if it is waiting (whatever its next_attempt_at) or its
    sender died. Returns it as it is afterwards; a delivery in another state is left alone."""
    now = clock.now()
    condition = Q(pk=delivery_id) & (
        Q(state__in=_WAITING) | Q(state=DeliveryState.SENDING, locked_until__lt=now)
    )
    claimed = _claim(delivery_id, condition)
    if claimed is not None:
        _process(*claimed)
    return Delivery.objects.get(pk=delivery_id)


def _claim(pk: int, condition: Q) -> tuple[Delivery, datetime] | None:
    """Take the delivery with a conditional UPDATE; None when someone else has it."""
    now = clock.now()
    lease = now + LEASE
    stale = (
        Delivery.objects.filter(condition, state=DeliveryState.SENDING).update(locked_until=lease)
        == 1
    )
    if not stale:
        updated = Delivery.objects.filter(condition, state__in=_WAITING).update(
            state=DeliveryState.SENDING, locked_until=lease
        )
        if updated != 1:
            return None
    delivery = Delivery.objects.select_related("event", "recipient", "destination").get(pk=pk)
    if stale and not _count_lost_try(delivery, lease, now):
        return None
    return delivery, lease


def _count_lost_try(delivery: Delivery, lease: datetime, now: datetime) -> bool:
    """The previous holder died mid-send: we cannot know whether the message went out.
    Count the lost try; False when that was the last one allowed (the delivery is dead)."""
    error = _("The worker stopped while sending; the message may or may not have gone out.")
    DeliveryAttempt.objects.create(delivery=delivery, started_at=now, ok=False, error=error)
    delivery.attempts += 1
    if delivery.attempts < settings.ERPCARE_DELIVERY_MAX_ATTEMPTS:
        Delivery.objects.filter(pk=delivery.pk, locked_until=lease).update(
            attempts=delivery.attempts
        )
        return True
    _finish(delivery, lease, SendResult(ok=False, error=error, retryable=False), now, count=False)
    return False


def _process(delivery: Delivery, lease: datetime) -> str:
    """Render if needed, send, log the try and settle the state. Never raises."""
    started = clock.now()
    tick = time.monotonic()
    try:
        transport = transport_for(delivery.channel)
        if needs_render(delivery.payload):
            # Rendered once and kept, so every retry sends the same message (and Message-ID).
            with override(delivery.language or settings.LANGUAGE_CODE):
                payload = transport.render(delivery)
            delivery.payload = payload
            Delivery.objects.filter(pk=delivery.pk, locked_until=lease).update(payload=payload)
        result = transport.send(delivery)
    except ActionError as exc:
        result = SendResult(ok=False, error=exc.message, retryable=False)
    except Exception as exc:  # a transport bug must not stop the other deliveries
        log.exception("delivery %s failed in its transport", delivery.pk)
        result = SendResult(ok=False, error=f"{type(exc).__name__}: {exc}", retryable=True)
    duration_ms = int((time.monotonic() - tick) * 1000)
    DeliveryAttempt.objects.create(
        delivery=delivery,
        started_at=started,
        duration_ms=duration_ms,
        ok=result.ok,
        status_code=result.status_code,
        response=(result.response or "")[:RESPONSE_LIMIT],
        error=result.error,
    )
    return _finish(delivery, lease, result, clock.now())


def _finish(
    delivery: Delivery, lease: datetime, result: SendResult, now: datetime, *, count: bool = True
) -> str:
    fields: dict[str, Any] = {"locked_until": None}
    if result.ok:
        outcome = "sent"
        fields.update(state=DeliveryState.SENT, sent_at=now, last_error="")
    else:
        if count:
            delivery.attempts += 1
        attempts = delivery.attempts
        give_up = not result.retryable or attempts >= settings.ERPCARE_DELIVERY_MAX_ATTEMPTS
        outcome = "dead" if give_up else "retry"
        fields.update(
            state=DeliveryState.DEAD if give_up else DeliveryState.RETRY,
            attempts=attempts,
            last_error=result.error[:4000],
        )
        if not give_up:
            fields["next_attempt_at"] = now + backoff(attempts)
    # Only the current lease holder settles the delivery: a cancel, or a worker that
    # reclaimed it after our lease ran out, wins over us.
    Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.SENDING, locked_until=lease).update(
        **fields
    )
    if delivery.destination_id is not None:
        if result.ok:
            Destination.objects.filter(pk=delivery.destination_id).update(last_success_at=now)
        else:
            Destination.objects.filter(pk=delivery.destination_id).update(
                last_failure_at=now, last_error=result.error[:4000]
            )
    return outcome


# ---------------------------------------------------------------------------
# Admin actions
# ---------------------------------------------------------------------------


def retry_now(actor: User, delivery: Delivery) -> Delivery:
    """Send a failed or waiting-to-retry delivery again at the next run, with a fresh
    set of tries (the admin has presumably fixed what was wrong)."""
    require_channel_admin(actor)
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.state not in (DeliveryState.DEAD, DeliveryState.RETRY):
            raise Conflict(_("Only failed deliveries can be retried."))
        previous = locked.state
        locked.state = DeliveryState.PENDING
        locked.next_attempt_at = clock.now()
        locked.attempts = 0
        locked.locked_until = None
        locked.save(update_fields=["state", "next_attempt_at", "attempts", "locked_until"])
        record(
            actor=actor,
            action="channels.delivery.retried",
            target=locked,
            data={"channel": locked.channel, "from_state": previous},
        )
    return locked


def cancel(actor: User, delivery: Delivery) -> Delivery:
    """Stop a delivery that has not gone out yet."""
    require_channel_admin(actor)
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.state in (DeliveryState.SENT, DeliveryState.DEAD, DeliveryState.CANCELLED):
            raise Conflict(_("This delivery is finished and cannot be cancelled."))
        previous = locked.state
        locked.state = DeliveryState.CANCELLED
        locked.locked_until = None
        locked.save(update_fields=["state", "locked_until"])
        record(
            actor=actor,
            action="channels.delivery.cancelled",
            target=locked,
            data={"channel": locked.channel, "from_state": previous},
        )
    return locked


def sample_snapshot(actor: User | None, language: str) -> dict[str, Any]:
    """A made-up ticket for test messages, shaped like the real event snapshot."""
    now = clock.now()
    site = settings.SITE_URL
    with override(language):
        title = _("Test message: the invoice posting job is slow")
    return {
        "ticket": {
            "id": 0,
            "number": "INC-0000-000000",
            "title": title,
            "type": "incident",
            "priority": 2,
            "status": "open",
            "channel": "portal",
            "module": "gl",
            "category": "performance",
            "organization": {"id": 0, "code": "example", "name": "Example Co."},
            "team": None,
            "assignee": None,
            "requester": None,
            "response_due_at": (now + timedelta(hours=4)).isoformat(),
            "resolution_due_at": (now + timedelta(days=1)).isoformat(),
            "sla_state": "ok",
            "created_at": now.isoformat(),
            "desk_url": f"{site}/desk/",
            "portal_url": f"{site}/portal/",
        },
        "actor": {"id": actor.pk, "name": actor.display_name} if actor is not None else None,
        "test": True,
    }


def send_test(actor: User, destination: Destination) -> Delivery:
    """Create a TEST delivery for this destination and send it now; returns the result.
    The test event is born dispatched, so the rules never fan it out to anyone else."""
    require_channel_admin(actor)
    now = clock.now()
    with transaction.atomic():
        event = Event.objects.create(
            name=EventName.TEST,
            actor=actor,
            data=sample_snapshot(actor, destination.language),
            created_at=now,
            dispatched_at=now,
        )
        delivery = Delivery.objects.create(
            event=event,
            channel=destination.kind,
            destination=destination,
            language=destination.language,
            next_attempt_at=now,
            created_at=now,
        )
        record(
            actor=actor,
            action="channels.destination.tested",
            target=destination,
            data={"delivery": delivery.pk},
        )
    return deliver_one(delivery.pk)
