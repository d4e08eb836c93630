"""Chat intake: a team's bot posts group messages to ``/api/v1/intake/chat/<slug>``.

The request is authenticated by the intake's shared secret (HMAC over the timestamp and
the raw body), stored raw first (one row per message id, so a re-sent message is
answered from the stored result and never duplicated), then processed in a transaction
of its own: a reply becomes a public comment by the sender, anything else a new ticket
in the intake's queue. A message that cannot be processed keeps its raw body and error
for ``reprocess``: nothing a bot sent is lost.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from erpcare.accounts.models import Team, User
from erpcare.audit.services import record
from erpcare.channels.models import ChatIntake, ChatMessage, IntakeState
from erpcare.channels.permissions import require_channel_admin
from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict, NotFound
from erpcare.tickets.models import NUMBER_PREFIX, Channel, Comment, Ticket, TicketEvent
from erpcare.tickets.services import actions

log = logging.getLogger("erpcare.channels.chat")

MAX_BODY = 256 * 1024
TOLERANCE_SECONDS = 300
TIMESTAMP_HEADER = "X-ERPCare-Timestamp"
SIGNATURE_HEADER = "X-ERPCare-Signature"

UNKNOWN_SENDER = "unknown_sender"
SENDER_NOT_ALLOWED = "sender_not_allowed"
OTHER_CUSTOMER = "other_customer"
NO_CUSTOMER = "no_customer"

_PREFIXES = "|".join(sorted(NUMBER_PREFIX.values()))
_TOKEN = re.compile(rf"\[\s*((?:{_PREFIXES})-\d{{4}}-\d{{6}})\s*\]", re.IGNORECASE)


class Unauthorized(ActionError):
    """The request is not signed with the intake's secret (HTTP 401)."""

    status_code = 401


class TooLarge(ActionError):
    status_code = 413


class Sender(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: str = Field(min_length=3, max_length=254)
    name: str = Field("", max_length=200)
    id: str = Field("", max_length=200)


class ChatPayload(BaseModel):
    """What the bot posts; fields we do not know are ignored (bots add their own)."""

    model_config = ConfigDict(extra="ignore")

    message_id: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=actions.MAX_TEXT)
    sender: Sender
    title: str = Field("", max_length=actions.MAX_TITLE)
    ticket: str = Field("", max_length=40)
    reply_to: str = Field("", max_length=200)


@dataclass(frozen=True)
class Received:
    message: ChatMessage
    replayed: bool  # the message id was seen before: the stored result is the answer


# ---------------------------------------------------------------------------
# Authentication and parsing
# ---------------------------------------------------------------------------


def intake_for(slug: str) -> ChatIntake:
    intake = ChatIntake.objects.filter(slug=slug, is_active=True).first()
    if intake is None:
        raise NotFound(_("There is no active chat intake %(slug)s.") % {"slug": slug[:40]})
    return intake


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    return next((str(v) for k, v in headers.items() if k.lower() == wanted), "").strip()


def verify(intake: ChatIntake, raw_body: bytes, headers: Mapping[str, str]) -> None:
    timestamp = _header(headers, TIMESTAMP_HEADER)
    given = _header(headers, SIGNATURE_HEADER)
    if not timestamp or not given:
        raise Unauthorized(
            _("Sign the request: %(timestamp)s and %(signature)s headers are required.")
            % {"timestamp": TIMESTAMP_HEADER, "signature": SIGNATURE_HEADER}
        )
    if not timestamp.isdigit():
        raise Unauthorized(_("%(header)s must be Unix seconds.") % {"header": TIMESTAMP_HEADER})
    if abs(clock.now().timestamp() - int(timestamp)) > TOLERANCE_SECONDS:
        raise Unauthorized(
            _("The request's timestamp is more than 5 minutes off; check the sender's clock.")
        )
    expected = signature(intake.secret, timestamp, raw_body)
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise Unauthorized(_("The signature does not match the intake's shared secret."))


def parse(raw_body: bytes) -> ChatPayload:
    try:
        data = json.loads(raw_body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ActionError(_("The body is not valid JSON: %(error)s") % {"error": exc}) from None
    if not isinstance(data, dict):
        raise ActionError(_("The body must be a JSON object."))
    try:
        return ChatPayload.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ActionError(_("Invalid message: %(problems)s") % {"problems": problems}) from None


# ---------------------------------------------------------------------------
# Receive, process, reprocess
# ---------------------------------------------------------------------------


def receive(intake: ChatIntake, raw_body: bytes, headers: Mapping[str, str]) -> Received:
    """Authenticate, store raw, process once. Raises ActionError (401/413/400) for a
    request that must be refused; a message that fails later is kept as FAILED."""
    if len(raw_body) > MAX_BODY:
        raise TooLarge(_("The message is larger than %(limit)d KB.") % {"limit": MAX_BODY // 1024})
    verify(intake, raw_body, headers)
    payload = parse(raw_body)
    now = clock.now()
    ChatIntake.objects.filter(pk=intake.pk).update(last_received_at=now)
    existing = ChatMessage.objects.filter(intake=intake, external_id=payload.message_id).first()
    if existing is None:
        try:
            with transaction.atomic():
                existing = ChatMessage.objects.create(
                    intake=intake,
                    external_id=payload.message_id,
                    body=raw_body.decode("utf-8"),
                    sender=payload.sender.email[:254],
                    received_at=now,
                )
        except IntegrityError:
            # The bot re-sent while the first request was still being stored.
            existing = ChatMessage.objects.get(intake=intake, external_id=payload.message_id)
        else:
            return Received(process(existing.pk), replayed=False)
    if existing.state == IntakeState.RECEIVED:
        # Stored by a request that died before processing it: finish the job now.
        return Received(process(existing.pk), replayed=True)
    return Received(existing, replayed=True)


@dataclass(frozen=True)
class _Outcome:
    state: str
    reason: str = ""
    ticket: Ticket | None = None
    comment: Comment | None = None


def process(chat_message_id: int) -> ChatMessage:
    """Turn a stored message into a ticket or a comment (or hold it), exactly once."""
    claimed = ChatMessage.objects.filter(
        pk=chat_message_id, state__in=[IntakeState.RECEIVED, IntakeState.FAILED]
    ).update(state=IntakeState.PROCESSING)
    message = ChatMessage.objects.select_related("intake").get(pk=chat_message_id)
    if not claimed:
        return message  # done, held, or another request has it
    try:
        with transaction.atomic():
            outcome = _process(message)
            ChatMessage.objects.filter(pk=message.pk).update(
                state=outcome.state,
                reason=outcome.reason,
                error="",
                ticket=outcome.ticket,
                comment=outcome.comment,
                processed_at=clock.now(),
            )
    except Exception as exc:
        error = _describe(exc)
        log.warning("chat message %s failed: %s", message.pk, error)
        ChatMessage.objects.filter(pk=message.pk).update(
            state=IntakeState.FAILED,
            reason="error",
            error=error,
            processed_at=clock.now(),
        )
    message.refresh_from_db()
    return message


@transaction.atomic
def reprocess(actor: User, msg: ChatMessage) -> ChatMessage:
    """Try a failed or held message again (after a fix, or once its sender exists)."""
    require_channel_admin(actor)
    locked = ChatMessage.objects.select_for_update().get(pk=msg.pk)
    if locked.state not in (IntakeState.FAILED, IntakeState.HELD):
        raise Conflict(_("Only failed or held messages can be processed again."))
    previous = locked.state
    ChatMessage.objects.filter(pk=locked.pk).update(state=IntakeState.RECEIVED, error="")
    record(
        actor=actor,
        action="channels.chat_message.reprocessed",
        target=locked,
        data={"intake": locked.intake_id, "message_id": locked.external_id, "was": previous},
    )
    return process(locked.pk)


def _describe(exc: Exception) -> str:
    if isinstance(exc, ActionError):
        return exc.message
    return "".join(traceback.format_exception(exc)[-3:]).strip()[-4000:]


def _process(message: ChatMessage) -> _Outcome:
    payload = parse(message.body.encode("utf-8"))
    intake = message.intake
    sender = (
        User.objects.select_related("role", "organization")
        .filter(email__iexact=payload.sender.email.strip())
        .first()
    )
    if sender is None:
        return _Outcome(IntakeState.HELD, UNKNOWN_SENDER)
    if not sender.is_active or sender.is_read_only:
        return _Outcome(IntakeState.HELD, SENDER_NOT_ALLOWED)
    ticket = _reply_target(intake, payload)
    if ticket is not None:
        comment = actions.add_comment(
            sender, ticket, body=payload.text, internal=False, channel=Channel.CHAT
        )
        return _Outcome(IntakeState.PROCESSED, ticket=ticket, comment=comment)
    return _new_ticket(intake, sender, payload)


def _reply_target(intake: ChatIntake, payload: ChatPayload) -> Ticket | None:
    if payload.ticket:
        number = payload.ticket.strip().upper()
        found = Ticket.objects.filter(number=number).first()
        if found is None:
            raise NotFound(_("Ticket %(number)s not found.") % {"number": number})
        return found
    match = _TOKEN.search(payload.text)
    if match:
        found = Ticket.objects.filter(number=match.group(1).upper()).first()
        if found is not None:
            return found
    if payload.reply_to:
        earlier = (
            ChatMessage.objects.filter(
                intake=intake, external_id=payload.reply_to, ticket__isnull=False
            )
            .select_related("ticket")
            .first()
        )
        if earlier is not None:
            return earlier.ticket
    return None


def _title(payload: ChatPayload) -> str:
    title = " ".join(payload.title.split())
    if not title:
        first = next((line.strip() for line in payload.text.splitlines() if line.strip()), "")
        title = first or _("Chat message from %(sender)s") % {"sender": payload.sender.email}
    return title[: actions.MAX_TITLE]


def _new_ticket(intake: ChatIntake, sender: User, payload: ChatPayload) -> _Outcome:
    title = _title(payload)
    if sender.is_customer:
        if intake.organization_id is not None and intake.organization_id != sender.organization_id:
            return _Outcome(IntakeState.HELD, OTHER_CUSTOMER)
        ticket = actions.create_ticket(
            sender, title=title, description=payload.text, channel=Channel.CHAT
        )
        if intake.team is not None:
            _route_to_queue(ticket, intake.team)
        return _Outcome(IntakeState.PROCESSED, ticket=ticket)
    if intake.organization is None:
        return _Outcome(IntakeState.HELD, NO_CUSTOMER)
    team = intake.team
    if team is not None and not actions._team_serves(team, intake.organization.pk):
        team = None
    ticket = actions.create_ticket(
        sender,
        title=title,
        description=payload.text,
        organization=intake.organization,
        channel=Channel.CHAT,
        team=team,
    )
    return _Outcome(IntakeState.PROCESSED, ticket=ticket)


def _route_to_queue(ticket: Ticket, team: Team) -> None:
    """Customers may not choose a team, so the intake (set up by a manager) puts their
    ticket into its queue, recorded with no actor."""
    if not actions._team_serves(team, ticket.organization_id):
        return
    Ticket.objects.filter(pk=ticket.pk).update(team=team, tier=team.tier)
    ticket.team, ticket.tier = team, team.tier
    change = actions._Change(ticket, None)
    change.add(TicketEvent.Kind.ASSIGNED, field_name="team", new=team, note="chat")
    change.commit("ticket.assigned", team=team.code, via="chat intake")


def answer(received: Received) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body the endpoint answers for a received message."""
    message = received.message
    body: dict[str, Any] = {"state": message.state}
    # A re-sent message id is answered 200 with what the first request produced.
    replay = received.replayed
    if message.ticket_id is not None:
        body["ticket"] = Ticket.objects.values_list("number", flat=True).get(pk=message.ticket_id)
    if message.state == IntakeState.HELD:
        body["reason"] = message.reason
        return (200 if replay else 202), body
    if message.state != IntakeState.PROCESSED:
        body["error"] = message.error
        return (200 if replay else 202), body
    if replay or message.comment_id is not None:
        return 200, body
    return 201, body
