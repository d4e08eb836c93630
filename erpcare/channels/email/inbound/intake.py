"""A stored message → a ticket, a public comment, or a reason why not.

Every message is stored (``store_raw``) before it is parsed. ``process_message`` claims
a row with a conditional UPDATE, so two workers never handle one message, and does the
ticket work in one transaction: on any error that transaction rolls back and the row is
marked FAILED with the reason, in its own transaction, ready for ``reprocess``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import traceback
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from erpcare.accounts.models import RoleCode, User
from erpcare.accounts.services import create_user
from erpcare.audit.services import record
from erpcare.channels.email.inbound.loops import FLOOD, is_flood, loop_reason, mail_domain
from erpcare.channels.email.inbound.parse import (
    ParsedMessage,
    parse_headers_only,
    parse_message,
)
from erpcare.channels.email.inbound.trim import is_forward, trim_reply
from erpcare.channels.models import (
    CustomerMailDomain,
    InboundEmail,
    IntakeState,
    Mailbox,
    MessageReference,
    UnknownSenderPolicy,
)
from erpcare.channels.permissions import require_channel_admin
from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict
from erpcare.customers.models import Organization
from erpcare.tickets.models import NUMBER_PREFIX, Channel, Comment, Status, Ticket, TicketEvent
from erpcare.tickets.services import actions
from erpcare.tickets.services.actions import add_attachment, add_comment, create_ticket

log = logging.getLogger(__name__)


UNKNOWN_SENDER = "unknown_sender"
NOT_A_PARTICIPANT = "not_a_participant"
NO_CUSTOMER = "no_customer"
OTHER_CUSTOMER = "other_customer"
SENDER_NOT_ALLOWED = "sender_not_allowed"
DUPLICATE = "duplicate"
TOO_LARGE = "too_large"
PARSE_ERROR = "parse_error"
UNVERIFIED_STAFF = "unverified_staff"

_PREFIXES = "|".join(sorted({re.escape(p) for p in NUMBER_PREFIX.values()}))
_SUBJECT_TOKEN = re.compile(rf"\[\s*((?:{_PREFIXES})-\d{{4}}-\d{{4,}})\s*\]")
_ROOT_ID = re.compile(r"^<erpcare\.ticket\.([A-Z]+-\d{4}-\d+)@", re.I)
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|fw|fwd|答复|回复|回覆|转发|轉寄)\s*[:：]\s*)+", re.I)


def max_bytes() -> int:
    return int(settings.ERPCARE_MAIL_MAX_BYTES)


# ---------------------------------------------------------------------------
# Storing
# ---------------------------------------------------------------------------


def store_raw(
    raw: bytes,
    *,
    mailbox: Mailbox | None = None,
    folder: str = "",
    uidvalidity: int | None = None,
    uid: int | None = None,
) -> InboundEmail | None:
    """Keep the message as it arrived. None when another worker stored this UID first."""
    try:
        message_id, from_address, subject = parse_headers_only(raw)
    except Exception:
        message_id, from_address, subject = "", "", ""
    message = InboundEmail(
        mailbox=mailbox,
        folder=folder,
        uidvalidity=uidvalidity,
        uid=uid,
        message_id=message_id,
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        from_address=from_address,
        subject=subject,
        received_at=clock.now(),
    )
    if len(raw) > max_bytes():
        message.state = IntakeState.FAILED
        message.reason = TOO_LARGE
        message.error = _too_large_error(len(raw))
    message.raw.save(f"{uuid.uuid4().hex}.eml", ContentFile(raw), save=False)
    stored_name = message.raw.name or ""
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        message.raw.storage.delete(stored_name)
        return None
    return message


def _too_large_error(size: int) -> str:
    return _(
        "The message is too large (%(size).1f MB, at most %(limit).1f MB); it is stored "
        "but was not turned into a ticket."
    ) % {"size": size / 1024 / 1024, "limit": max_bytes() / 1024 / 1024}


def import_eml(raw: bytes, *, mailbox: Mailbox | None = None) -> InboundEmail:
    """Store and process a message given as a file (``erpcare mail import``)."""
    message = store_raw(raw, mailbox=mailbox)
    assert message is not None  # without a UID there is no unique constraint to hit
    if message.state == IntakeState.RECEIVED:
        return process_message(message.pk)
    return message


# ---------------------------------------------------------------------------
# Processing
# ---------------------------------------------------------------------------


def process_stale(
    *,
    older_than: timedelta = timedelta(minutes=5),
    stuck_after: timedelta = timedelta(minutes=15),
    limit: int = 200,
) -> int:
    """Process messages stored but never processed (the worker that stored them stopped
    before processing), and messages whose processing worker died mid-way.

    A claim writes its time into ``processed_at``; processing and its ticket work commit in
    one transaction, so a message still PROCESSING long after its claim was left by a dead
    worker and nothing of it was written. The claim in ``process_message`` keeps this safe
    to run anywhere.
    """
    now = clock.now()
    stuck = InboundEmail.objects.filter(
        state=IntakeState.PROCESSING, processed_at__lt=now - stuck_after
    )
    # Back to RECEIVED only if still the same stuck claim (another sweeper may have it).
    for pk, claimed_at in stuck.values_list("pk", "processed_at")[:limit]:
        InboundEmail.objects.filter(
            pk=pk, state=IntakeState.PROCESSING, processed_at=claimed_at
        ).update(state=IntakeState.RECEIVED)
    ids = list(
        InboundEmail.objects.filter(state=IntakeState.RECEIVED, received_at__lt=now - older_than)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        process_message(pk)
    return len(ids)


@dataclass
class _Outcome:
    state: str
    reason: str = ""
    ticket: Ticket | None = None
    comment: Comment | None = None


def process_message(
    inbound_email_id: int,
    *,
    allow_flood: bool = False,
    organization: Organization | None = None,
) -> InboundEmail:
    """Turn one stored message into a ticket or a comment (or ignore/hold it), once."""
    claimed = InboundEmail.objects.filter(
        pk=inbound_email_id, state__in=[IntakeState.RECEIVED, IntakeState.FAILED]
    ).update(state=IntakeState.PROCESSING, processed_at=clock.now())  # the claim's time
    message = InboundEmail.objects.select_related("mailbox").get(pk=inbound_email_id)
    if not claimed:
        return message  # another worker has it, or it is done
    try:
        with transaction.atomic():
            outcome = _process(message, allow_flood=allow_flood, organization=organization)
            InboundEmail.objects.filter(pk=message.pk).update(
                state=outcome.state,
                reason=outcome.reason,
                error="",
                ticket=outcome.ticket,
                comment=outcome.comment,
                attempts=message.attempts + 1,
                processed_at=clock.now(),
            )
    except Exception as exc:
        error = _describe(exc)
        log.warning("inbound mail %s failed: %s", message.pk, error)
        with transaction.atomic():
            InboundEmail.objects.filter(pk=message.pk).update(
                state=IntakeState.FAILED,
                reason=getattr(exc, "reason", "") or "error",
                error=error,
                attempts=message.attempts + 1,
                processed_at=clock.now(),
            )
    message.refresh_from_db()
    return message


def _describe(exc: Exception) -> str:
    if isinstance(exc, ActionError):
        return exc.message
    lines = traceback.format_exception(exc)
    return "".join(lines[-3:]).strip()[-4000:]


class IntakeError(Exception):
    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason

    def __str__(self) -> str:
        return str(self.args[0])


def _process(
    message: InboundEmail, *, allow_flood: bool, organization: Organization | None
) -> _Outcome:
    if message.size > max_bytes():
        raise IntakeError(_too_large_error(message.size), TOO_LARGE)
    with message.raw.open("rb") as handle:
        raw = handle.read()
    try:
        parsed = parse_message(raw)
    except Exception as exc:
        raise IntakeError(
            _("The message could not be parsed: %(error)s") % {"error": exc}, PARSE_ERROR
        ) from exc
    reason = loop_reason(parsed)
    if reason:
        return _Outcome(IntakeState.IGNORED, reason)
    if parsed.message_id and MessageReference.objects.filter(message_id=parsed.message_id).exists():
        return _Outcome(IntakeState.IGNORED, DUPLICATE)
    if not allow_flood and is_flood(message):
        return _Outcome(IntakeState.HELD, FLOOD)
    mailbox = message.mailbox
    sender = User.objects.select_related("role").filter(email__iexact=parsed.from_address).first()
    if sender is not None and (not sender.is_active or sender.is_read_only):
        return _Outcome(IntakeState.HELD, SENDER_NOT_ALLOWED)
    ticket = find_ticket(parsed)
    if ticket is not None:
        return _reply(parsed, ticket, sender, mailbox, organization)
    return _new_ticket(parsed, sender, mailbox, organization)


def find_ticket(parsed: ParsedMessage) -> Ticket | None:
    """The ticket a reply belongs to: its threading headers first, then the subject token."""
    ids = parsed.thread_ids
    if ids:
        refs = {
            ref.message_id: ref.ticket_id
            for ref in MessageReference.objects.filter(message_id__in=ids)
        }
        for mid in ids:
            if mid in refs:
                return Ticket.objects.get(pk=refs[mid])
        for mid in ids:
            match = _ROOT_ID.match(mid)
            if match and mid.lower().endswith(f"@{mail_domain()}>"):
                found = Ticket.objects.filter(number=match.group(1).upper()).first()
                if found is not None:
                    return found
    match = _SUBJECT_TOKEN.search(parsed.subject)
    if match:
        return Ticket.objects.filter(number=match.group(1)).first()
    return None


def _is_participant(user: User, ticket: Ticket) -> bool:
    if user.is_customer:
        return user.pk == ticket.requester_id or user.organization_id == ticket.organization_id
    if user.is_support_staff:
        return Ticket.objects.visible_to(user).filter(pk=ticket.pk).exists()
    return False


def _answers_our_mail(parsed: ParsedMessage, ticket: Ticket) -> bool:
    ids = parsed.thread_ids
    return bool(ids) and (
        MessageReference.objects.filter(
            message_id__in=ids, ticket=ticket, direction=MessageReference.Direction.OUT
        ).exists()
    )


def _reply(
    parsed: ParsedMessage,
    ticket: Ticket,
    sender: User | None,
    mailbox: Mailbox | None,
    organization: Organization | None,
) -> _Outcome:
    if sender is None:
        sender = _contact_for(parsed, mailbox, organization, required=ticket.organization)
        if sender is None:
            return _Outcome(IntakeState.HELD, NOT_A_PARTICIPANT, ticket=ticket)
    if not _is_participant(sender, ticket):
        return _Outcome(IntakeState.HELD, NOT_A_PARTICIPANT, ticket=ticket)
    if sender.is_support_staff and not _answers_our_mail(parsed, ticket):
        # A From header is trivially forged, and a forged staff reply would reach the
        # customer as the support team's word. Staff reply by answering a mail we sent
        # them about this ticket: its random Message-ID is the proof.
        return _Outcome(IntakeState.HELD, UNVERIFIED_STAFF, ticket=ticket)
    if ticket.status == Status.CLOSED:
        return _follow_up(parsed, ticket, sender, mailbox)
    body = trim_reply(parsed.body) or _("(No text)")
    try:
        comment = add_comment(sender, ticket, body=body, internal=False, channel=Channel.EMAIL)
    except Conflict:
        # Closed between our read and the lock: a new ticket, as for any closed one.
        return _follow_up(parsed, ticket, sender, mailbox)
    _attach(parsed, ticket, sender, comment)
    _reference(parsed, ticket)
    return _Outcome(IntakeState.PROCESSED, ticket=ticket, comment=comment)


def _follow_up(
    parsed: ParsedMessage, old: Ticket, sender: User, mailbox: Mailbox | None
) -> _Outcome:
    body = trim_reply(parsed.body)
    note = _("Follow-up to the closed ticket %(number)s.") % {"number": old.number}
    ticket = _create(
        sender,
        title=_title(parsed, body),
        description=f"{note}\n\n{body}".strip(),
        organization=old.organization,
        requester=sender if sender.is_customer else old.requester,
        mailbox=mailbox,
    )
    if sender.is_support_staff:
        actions.link_tickets(sender, ticket, old, kind="related_to")
    _attach(parsed, ticket, sender, None)
    _reference(parsed, ticket)
    return _Outcome(IntakeState.PROCESSED, ticket=ticket)


def _new_ticket(
    parsed: ParsedMessage,
    sender: User | None,
    mailbox: Mailbox | None,
    organization: Organization | None,
) -> _Outcome:
    if sender is None:
        sender = _contact_for(parsed, mailbox, organization)
        if sender is None:
            return _Outcome(IntakeState.HELD, UNKNOWN_SENDER)
    if sender.is_customer:
        target = mailbox.organization if mailbox and mailbox.organization_id else None
        if target is not None and target.pk != sender.organization_id:
            return _Outcome(IntakeState.HELD, OTHER_CUSTOMER)
        target = sender.organization
        requester: User | None = sender
    else:
        target = organization or (mailbox.organization if mailbox else None)
        if target is None:
            return _Outcome(IntakeState.HELD, NO_CUSTOMER)
        requester = None
    body = parsed.body if is_forward(parsed.subject) else trim_reply(parsed.body)
    ticket = _create(
        sender,
        title=_title(parsed, body),
        description=body,
        organization=target,
        requester=requester,
        mailbox=mailbox,
    )
    _attach(parsed, ticket, sender, None)
    _reference(parsed, ticket)
    return _Outcome(IntakeState.PROCESSED, ticket=ticket)


def _create(
    sender: User,
    *,
    title: str,
    description: str,
    organization: Organization | None,
    requester: User | None,
    mailbox: Mailbox | None,
) -> Ticket:
    team = mailbox.team if mailbox is not None else None
    if sender.is_customer:
        ticket = create_ticket(
            sender,
            title=title,
            description=description[: actions.MAX_TEXT],
            organization=organization,
            channel=Channel.EMAIL,
        )
        if team is not None:
            _route_to_queue(ticket, team)
        return ticket
    if team is not None and not actions._team_serves(team, organization.pk if organization else 0):
        team = None
    return create_ticket(
        sender,
        title=title,
        description=description[: actions.MAX_TEXT],
        organization=organization,
        channel=Channel.EMAIL,
        requester=requester,
        team=team,
    )


def _route_to_queue(ticket: Ticket, team: object) -> None:
    """Put a customer's mail into the mailbox's queue. Customers may not choose a team,
    so the mailbox (configured by a manager) does it, recorded with no actor."""
    from erpcare.accounts.models import Team

    assert isinstance(team, Team)
    if not actions._team_serves(team, ticket.organization_id):
        return
    Ticket.objects.filter(pk=ticket.pk).update(team=team, tier=team.tier)
    ticket.team, ticket.tier = team, team.tier
    change = actions._Change(ticket, None)
    change.add(TicketEvent.Kind.ASSIGNED, field_name="team", new=team, note="email")
    change.commit("ticket.assigned", team=team.code, via="mailbox")


def _title(parsed: ParsedMessage, body: str) -> str:
    title = _REPLY_PREFIX.sub("", parsed.subject).strip()
    if not title:
        first = next((line.strip() for line in body.splitlines() if line.strip()), "")
        title = first or _("E-mail from %(sender)s") % {"sender": parsed.from_address}
    return title[: actions.MAX_TITLE]


def _contact_for(
    parsed: ParsedMessage,
    mailbox: Mailbox | None,
    organization: Organization | None,
    *,
    required: Organization | None = None,
) -> User | None:
    """Create a customer user for an unknown sender when policy and domain allow it."""
    if organization is None:
        policy = mailbox.unknown_sender_policy if mailbox else UnknownSenderPolicy.HOLD
        if policy != UnknownSenderPolicy.CONTACT_IN_DOMAIN:
            return None
        domain = parsed.from_address.rsplit("@", 1)[-1].lower()
        match = CustomerMailDomain.objects.select_related("organization").filter(
            domain__iexact=domain
        )
        found = match.first()
        if found is None:
            return None
        organization = found.organization
    if not organization.is_active:
        return None
    if required is not None and required.pk != organization.pk:
        return None
    if mailbox is not None and mailbox.organization_id not in (None, organization.pk):
        return None
    name = parsed.from_name or parsed.from_address.split("@", 1)[0]
    return create_user(
        email=parsed.from_address,
        display_name=name[:150],
        role_code=RoleCode.CUSTOMER,
        password=None,
        organization=organization,
    )


def _attach(parsed: ParsedMessage, ticket: Ticket, sender: User, comment: Comment | None) -> None:
    refused: list[str] = []
    for part in parsed.attachments:
        upload = SimpleUploadedFile(part.filename, part.data, content_type=part.content_type)
        try:
            with transaction.atomic():
                add_attachment(sender, ticket, upload, comment=comment)
        except ActionError as exc:
            refused.append(f"- {part.filename}: {exc.message}")
    if refused:
        _internal_note(
            ticket,
            _("Files from the e-mail that were not attached (the stored message still has them):")
            + "\n"
            + "\n".join(refused),
        )


def _internal_note(ticket: Ticket, body: str) -> None:
    """A note by the system: the mail's sender may be a customer, who cannot write one."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    note = Comment.objects.create(
        ticket=ticket,
        author=None,
        body=body,
        is_internal=True,
        channel=Channel.EMAIL,
        created_at=clock.now(),
    )
    change = actions._Change(ticket, None)
    change.add(TicketEvent.Kind.COMMENTED, internal=True, comment=note)
    change.commit("ticket.commented", internal=True, comment=note.pk)


def _reference(parsed: ParsedMessage, ticket: Ticket) -> None:
    if parsed.message_id:
        MessageReference.objects.bulk_create(
            [
                MessageReference(
                    message_id=parsed.message_id,
                    ticket=ticket,
                    direction=MessageReference.Direction.IN,
                    created_at=clock.now(),
                )
            ],
            ignore_conflicts=True,
        )


# ---------------------------------------------------------------------------
# Review actions
# ---------------------------------------------------------------------------

_REPROCESSABLE = {IntakeState.FAILED, IntakeState.HELD}


def reprocess(actor: User, inbound_email: InboundEmail) -> InboundEmail:
    """Run a failed or held message again (after a fix, or after a person checked it)."""
    require_channel_admin(actor)
    previous = inbound_email.state
    moved = InboundEmail.objects.filter(pk=inbound_email.pk, state__in=_REPROCESSABLE).update(
        state=IntakeState.RECEIVED
    )
    if not moved:
        raise Conflict(_("Only failed or held messages can be processed again."))
    result = process_message(inbound_email.pk, allow_flood=True)
    record(
        actor=actor,
        action="channels.inbound_email.reprocessed",
        target=result,
        data={"previous": previous, "state": result.state, "reason": result.reason},
    )
    return result


def release_held(
    actor: User, inbound_email: InboundEmail, organization: Organization | None = None
) -> InboundEmail:
    """Process a held message, creating the sender as a contact of ``organization``."""
    require_channel_admin(actor)
    if inbound_email.state != IntakeState.HELD:
        raise Conflict(_("Only held messages can be released."))
    if organization is not None and not organization.is_active:
        raise ActionError(_("This customer is inactive."))
    moved = InboundEmail.objects.filter(pk=inbound_email.pk, state=IntakeState.HELD).update(
        state=IntakeState.RECEIVED
    )
    if not moved:
        raise Conflict(_("Only held messages can be released."))
    result = process_message(inbound_email.pk, allow_flood=True, organization=organization)
    record(
        actor=actor,
        action="channels.inbound_email.released",
        target=result,
        data={
            "organization": organization.code if organization else None,
            "state": result.state,
            "reason": result.reason,
        },
    )
    return result
