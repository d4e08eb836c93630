"""The ticket actions. See the package docstring for the contract every action keeps."""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from erpcare.accounts.models import SupportTier, Team, User
from erpcare.audit.services import record
from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.customers.models import ErpInstance, ErpModule, Organization
from erpcare.customers.services import visible_organizations
from erpcare.tickets.models import (
    NUMBER_PREFIX,
    OPEN_STATUSES,
    TRANSITIONS,
    Attachment,
    Category,
    Channel,
    Comment,
    Impact,
    LinkKind,
    Priority,
    ResolutionCode,
    Status,
    Tag,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketType,
    Urgency,
    priority_for,
)
from erpcare.tickets.models.ticket import agent_team_scope
from erpcare.tickets.services.numbers import next_in_sequence
from erpcare.tickets.signals import ticket_changed, ticket_recorded

MAX_TITLE = 200
MAX_TEXT = 100_000
MAX_TAGS = 20

Kind = TicketEvent.Kind


# ---------------------------------------------------------------------------
# Building blocks shared by the actions
# ---------------------------------------------------------------------------


@dataclass
class _Change:
    """Collects the events of one action so they are written and announced together."""

    ticket: Ticket
    actor: User | None
    events: list[TicketEvent] = field(default_factory=list)

    def add(
        self,
        kind: str,
        *,
        field_name: str = "",
        old: Any = "",
        new: Any = "",
        note: str = "",
        internal: bool = False,
        comment: Comment | None = None,
    ) -> None:
        self.events.append(
            TicketEvent(
                ticket=self.ticket,
                created_at=clock.now(),
                actor=self.actor,
                kind=kind,
                field=field_name,
                old_value=_as_text(old),
                new_value=_as_text(new),
                note=note,
                is_internal=internal,
                comment=comment,
            )
        )

    def commit(self, action: str, **audit_data: Any) -> None:
        TicketEvent.objects.bulk_create(self.events)
        ticket_recorded.send(sender=Ticket, ticket=self.ticket, events=self.events, action=action)
        record(
            actor=self.actor,
            action=action,
            target=self.ticket,
            data={"number": self.ticket.number, **audit_data},
        )
        ticket_id = self.ticket.pk
        kinds = sorted({event.kind for event in self.events})
        actor_id = self.actor.pk if self.actor is not None else None
        transaction.on_commit(
            lambda: ticket_changed.send(
                sender=Ticket, ticket_id=ticket_id, event_kinds=kinds, actor_id=actor_id
            )
        )


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, User | Team | Organization | ErpInstance):
        return str(value)
    return str(value)


def _require_worker(actor: User) -> None:
    """Staff who work tickets: agents, managers, admins."""
    if not actor.is_support_staff:
        raise NotAllowed(_("Only support staff can do this."))


def _require_writer(actor: User) -> None:
    if actor.is_read_only or not actor.is_active:
        raise NotAllowed(_("Your role is read-only."))


def _clean_text(value: str | None, *, label: str, required: bool, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ActionError(_("%(field)s is required.") % {"field": label})
    if len(text) > limit:
        raise ActionError(
            _("%(field)s is too long (at most %(limit)d characters).")
            % {"field": label, "limit": limit}
        )
    if "\x00" in text:
        raise ActionError(_("%(field)s contains a NUL character.") % {"field": label})
    return text


def _choice(value: Any, choices: Any, *, label: str) -> Any:
    if value not in choices.values:
        raise ActionError(
            _("%(value)s is not a valid %(field)s.") % {"value": value, "field": label}
        )
    return value


def _next_number(ticket_type: str, moment: datetime) -> str:
    prefix = NUMBER_PREFIX[TicketType(ticket_type)]
    year = timezone.localtime(moment, timezone.get_default_timezone()).year
    return f"{prefix}-{year}-{next_in_sequence(prefix, year):06d}"


def _set_tags(ticket: Ticket, names: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in names:
        name = str(raw).strip().lower()[:50]
        if "\x00" in name:
            raise ActionError(_("%(field)s contains a NUL character.") % {"field": _("Tag")})
        if name and name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > MAX_TAGS:
        raise ActionError(_("A ticket has at most %(n)d tags.") % {"n": MAX_TAGS})
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=cleaned)}
    missing = [Tag(name=name) for name in cleaned if name not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {tag.name: tag for tag in Tag.objects.filter(name__in=cleaned)}
    ticket.tags.set([existing[name] for name in cleaned])
    return cleaned


def _team_serves(team: Team, organization_id: int) -> bool:
    return team.serves_all_customers or team.customers.filter(pk=organization_id).exists()


def _can_see(user: User, ticket: Ticket) -> bool:
    if user.sees_all_tickets or (user.is_agent and agent_team_scope(user)[1]):
        return True  # their scope is every ticket: no query needed
    return Ticket.objects.visible_to(user).filter(pk=ticket.pk).exists()


def _lock(actor: User, ticket: Ticket) -> Ticket:
    """Re-read and lock ``ticket`` through the actor's scope.

    Callers normally fetched the ticket with ``get_ticket_for``; checking again here means
    no channel (e-mail intake, chat, a future view) can act on a ticket its actor may not
    see, and the answer is the same NotFound as for a ticket that does not exist.
    """
    try:
        return Ticket.objects.visible_to(actor).select_for_update().get(pk=ticket.pk)
    except Ticket.DoesNotExist:
        raise NotFound(_("Ticket not found.")) from None


def _touch(ticket: Ticket, *fields: str) -> None:
    ticket.updated_at = clock.now()
    ticket.save(update_fields=[*fields, "updated_at"])


# ---------------------------------------------------------------------------
# Create and update
# ---------------------------------------------------------------------------


@transaction.atomic
def create_ticket(
    actor: User,
    *,
    title: str,
    description: str = "",
    organization: Organization | None = None,
    type: str = TicketType.INCIDENT,
    channel: str = Channel.PORTAL,
    impact: int = Impact.LOW,
    urgency: int = Urgency.MEDIUM,
    priority: int | None = None,
    category: str = Category.HOW_TO,
    module: str = "",
    erp_instance: ErpInstance | None = None,
    requester: User | None = None,
    team: Team | None = None,
    assignee: User | None = None,
    tags: Iterable[str] = (),
    watchers: Iterable[User] = (),
) -> Ticket:
    """Open a ticket. Customers open tickets for their own organization only, and their
    priority always comes from impact × urgency; staff may set the priority directly."""
    _require_writer(actor)
    title = _clean_text(title, label=_("Title"), required=True, limit=MAX_TITLE)
    description = _clean_text(description, label=_("Description"), required=False)
    _choice(type, TicketType, label=_("type"))
    _choice(channel, Channel, label=_("channel"))
    _choice(impact, Impact, label=_("impact"))
    _choice(urgency, Urgency, label=_("urgency"))
    _choice(category, Category, label=_("category"))
    if module:
        _choice(module, ErpModule, label=_("ERP module"))

    if actor.is_customer:
        if organization is not None and organization.pk != actor.organization_id:
            raise NotFound(_("Customer not found."))
        organization = actor.organization
        if requester is not None and requester.pk != actor.pk:
            raise NotAllowed(_("Customers open tickets in their own name."))
        requester = actor
        if priority is not None or team is not None or assignee is not None:
            raise NotAllowed(_("Priority, team and assignee are set by the support team."))
    else:
        _require_worker(actor)
    if organization is None:
        raise ActionError(_("Choose the customer this ticket is for."))
    if not organization.is_active:
        raise ActionError(_("This customer is inactive."))
    if priority is None:
        priority = priority_for(impact, urgency)
    else:
        _choice(priority, Priority, label=_("priority"))
    if erp_instance is not None and erp_instance.organization_id != organization.pk:
        raise ActionError(_("The ERP instance belongs to another customer."))
    if requester is not None and requester.organization_id not in (None, organization.pk):
        raise ActionError(_("The requester works for another customer."))
    if team is not None and not _team_serves(team, organization.pk):
        raise ActionError(_("%(team)s does not serve this customer.") % {"team": team})
    if assignee is not None:
        if not assignee.is_support_staff or not assignee.is_active:
            raise ActionError(_("Tickets can only be assigned to active support staff."))
        if team is not None and not team.members.filter(pk=assignee.pk).exists():
            raise ActionError(
                _("%(user)s is not a member of %(team)s.") % {"user": assignee, "team": team}
            )
        if (
            team is None
            and not assignee.sees_all_tickets
            and not visible_organizations(assignee).filter(pk=organization.pk).exists()
        ):
            raise ActionError(_("%(user)s does not serve this customer.") % {"user": assignee})

    now = clock.now()
    ticket = Ticket.objects.create(
        number=_next_number(type, now),
        type=type,
        title=title,
        description=description,
        channel=channel,
        impact=impact,
        urgency=urgency,
        priority=priority,
        category=category,
        module=module,
        organization=organization,
        erp_instance=erp_instance,
        requester=requester,
        team=team,
        tier=team.tier if team is not None else SupportTier.L1,
        assignee=assignee,
        status=Status.OPEN if assignee is not None else Status.NEW,
        created_at=now,
        updated_at=now,
    )
    if not _can_see(actor, ticket):
        # An agent may only open tickets for customers their teams serve.
        raise NotFound(_("Customer not found."))
    tag_names = _set_tags(ticket, tags) if tags else []
    watcher_ids = {w.pk for w in watchers}
    if requester is not None:
        watcher_ids.add(requester.pk)
    if watcher_ids:
        ticket.watchers.add(*watcher_ids)
    change = _Change(ticket, actor)
    change.add(Kind.CREATED, new=ticket.number, note=channel)
    if team is not None:
        change.add(Kind.ASSIGNED, field_name="team", new=team)
    if assignee is not None:
        change.add(Kind.ASSIGNED, field_name="assignee", new=assignee)
    change.commit("ticket.created", channel=channel, priority=priority, tags=tag_names)
    return ticket


UPDATABLE_FIELDS = {
    "title",
    "description",
    "type",
    "category",
    "module",
    "impact",
    "urgency",
    "priority",
    "erp_instance",
    "tags",
}


@transaction.atomic
def update_ticket(actor: User, ticket: Ticket, **changes: Any) -> Ticket:
    """Change descriptive fields (not status, tier or assignee: they have their own
    actions). Changing impact or urgency recomputes the priority unless a priority is
    given too."""
    _require_writer(actor)
    _require_worker(actor)
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ActionError(
            _("These fields cannot be changed here: %(fields)s")
            % {"fields": ", ".join(sorted(unknown))}
        )
    ticket = _lock(actor, ticket)
    if ticket.status == Status.CLOSED:
        raise Conflict(_("A closed ticket cannot be changed."))
    change = _Change(ticket, actor)
    changed: list[str] = []

    def set_field(name: str, value: Any) -> None:
        old = getattr(ticket, name)
        if old != value:
            setattr(ticket, name, value)
            change.add(Kind.CHANGED, field_name=name, old=old, new=value)
            changed.append(name)

    if "title" in changes:
        set_field(
            "title", _clean_text(changes["title"], label=_("Title"), required=True, limit=MAX_TITLE)
        )
    if "description" in changes:
        set_field(
            "description",
            _clean_text(changes["description"], label=_("Description"), required=False),
        )
    if "type" in changes:
        set_field("type", _choice(changes["type"], TicketType, label=_("type")))
    if "category" in changes:
        set_field("category", _choice(changes["category"], Category, label=_("category")))
    if "module" in changes:
        module = changes["module"] or ""
        if module:
            _choice(module, ErpModule, label=_("ERP module"))
        set_field("module", module)
    if "impact" in changes:
        set_field("impact", _choice(changes["impact"], Impact, label=_("impact")))
    if "urgency" in changes:
        set_field("urgency", _choice(changes["urgency"], Urgency, label=_("urgency")))
    if "priority" in changes and changes["priority"] is not None:
        set_field("priority", _choice(changes["priority"], Priority, label=_("priority")))
    elif "impact" in changed or "urgency" in changed:
        set_field("priority", priority_for(ticket.impact, ticket.urgency))
    if "erp_instance" in changes:
        instance = changes["erp_instance"]
        if instance is not None and instance.organization_id != ticket.organization_id:
            raise ActionError(_("The ERP instance belongs to another customer."))
        old_instance = ticket.erp_instance
        if (old_instance.pk if old_instance else None) != (instance.pk if instance else None):
            ticket.erp_instance = instance
            change.add(Kind.CHANGED, field_name="erp_instance", old=old_instance, new=instance)
            changed.append("erp_instance")
    if "tags" in changes:
        old_tags = sorted(ticket.tags.values_list("name", flat=True))
        new_tags = sorted(_set_tags(ticket, changes["tags"] or []))
        if old_tags != new_tags:
            change.add(
                Kind.CHANGED, field_name="tags", old=", ".join(old_tags), new=", ".join(new_tags)
            )
    if not change.events:
        return ticket
    model_fields = [name for name in changed if name != "tags"]
    _touch(ticket, *model_fields)
    change.commit("ticket.updated", fields=sorted({e.field for e in change.events}))
    return ticket


# ---------------------------------------------------------------------------
# Conversation
# ---------------------------------------------------------------------------


@transaction.atomic
def add_comment(
    actor: User,
    ticket: Ticket,
    *,
    body: str,
    internal: bool = False,
    channel: str = Channel.PORTAL,
    counts_as_response: bool = True,
) -> Comment:
    """Add a public reply or an internal note.

    The first public reply by staff stops the first-response clock, and so does a
    phone call staff record (``channel="phone"``, public or internal). A customer's reply
    to a ticket waiting for the customer puts it back to open.
    """
    _require_writer(actor)
    body = _clean_text(body, label=_("Text"), required=True)
    _choice(channel, Channel, label=_("channel"))
    if actor.is_customer and internal:
        raise NotAllowed(_("Customers cannot write internal notes."))
    ticket = _lock(actor, ticket)
    if ticket.status == Status.CLOSED:
        raise Conflict(
            _("This ticket is closed. Please open a new ticket and mention %(number)s.")
            % {"number": ticket.number}
        )
    now = clock.now()
    comment = Comment.objects.create(
        ticket=ticket,
        author=actor,
        body=body,
        is_internal=internal,
        channel=channel,
        created_at=now,
    )
    change = _Change(ticket, actor)
    change.add(Kind.COMMENTED, internal=internal, comment=comment)
    fields: list[str] = []
    if (
        actor.is_support_staff
        and (not internal or channel == Channel.PHONE)
        and counts_as_response
        and ticket.first_response_at is None
    ):
        ticket.first_response_at = now
        fields.append("first_response_at")
    if actor.is_customer and ticket.status == Status.WAITING_CUSTOMER:
        change.add(Kind.STATUS, field_name="status", old=ticket.status, new=Status.OPEN)
        ticket.status = Status.OPEN
        fields.append("status")
    _touch(ticket, *fields)
    change.commit("ticket.commented", internal=internal, comment=comment.pk)
    return comment


def _detect_content_type(upload: UploadedFile) -> str:
    guessed, _encoding = mimetypes.guess_type(upload.name or "")
    return (guessed or upload.content_type or "application/octet-stream").split(";")[0].strip()


@transaction.atomic
def add_attachment(
    actor: User,
    ticket: Ticket,
    upload: UploadedFile,
    *,
    comment: Comment | None = None,
    internal: bool = False,
) -> Attachment:
    """Store a file on the ticket through Django's storage after checking size and type."""
    _require_writer(actor)
    if actor.is_customer and internal:
        raise NotAllowed(_("Customers cannot add internal files."))
    name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        raise ActionError(_("The file has no name."))
    size = upload.size or 0
    if size == 0:
        raise ActionError(_("The file is empty."))
    limit = settings.ERPCARE_MAX_ATTACHMENT_BYTES
    if size > limit:
        raise ActionError(
            _("The file is too large (at most %(mb).1f MB).") % {"mb": limit / 1024 / 1024}
        )
    content_type = _detect_content_type(upload)
    if content_type not in settings.ERPCARE_ATTACHMENT_TYPES:
        raise ActionError(_("Files of type %(type)s are not accepted.") % {"type": content_type})
    ticket = _lock(actor, ticket)
    if ticket.status == Status.CLOSED:
        raise Conflict(_("A closed ticket cannot be changed."))
    if comment is not None and comment.ticket_id != ticket.pk:
        raise ActionError(_("The comment belongs to another ticket."))
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(
        ticket=ticket,
        comment=comment,
        filename=name[:255],
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
        is_internal=internal,
        uploaded_by=actor,
        created_at=clock.now(),
    )
    attachment.file.save(name, upload, save=False)
    # If writing the rows fails, the stored file must not stay behind.
    stored_name = attachment.file.name or ""
    storage = attachment.file.storage
    try:
        attachment.save()
        change = _Change(ticket, actor)
        change.add(Kind.ATTACHED, new=name, internal=internal)
        _touch(ticket)
        change.commit("ticket.attached", filename=name, size=size, sha256=attachment.sha256)
    except Exception:
        storage.delete(stored_name)
        raise
    return attachment


# ---------------------------------------------------------------------------
# Assignment, escalation and workflow
# ---------------------------------------------------------------------------


@transaction.atomic
def assign_ticket(
    actor: User, ticket: Ticket, *, assignee: User | None, team: Team | None = None
) -> Ticket:
    """Give the ticket to a person (and optionally a team); None unassigns."""
    _require_writer(actor)
    _require_worker(actor)
    ticket = _lock(actor, ticket)
    if ticket.status == Status.CLOSED:
        raise Conflict(_("A closed ticket cannot be changed."))
    if assignee is not None:
        if not assignee.is_active or not assignee.is_support_staff:
            raise ActionError(_("Tickets can only be assigned to active support staff."))
        if team is not None and not team.members.filter(pk=assignee.pk).exists():
            raise ActionError(
                _("%(user)s is not a member of %(team)s.") % {"user": assignee, "team": team}
            )
        if not _can_see(assignee, ticket) and (
            team is None or not _team_serves(team, ticket.organization_id)
        ):
            raise ActionError(_("%(user)s does not serve this customer.") % {"user": assignee})
    change = _Change(ticket, actor)
    fields = []
    if team is not None and team.pk != ticket.team_id:
        if not _team_serves(team, ticket.organization_id):
            raise ActionError(_("%(team)s does not serve this customer.") % {"team": team})
        if team.tier != ticket.tier:
            # Moving between tiers needs a reason and its own history: that is escalation.
            raise ActionError(
                _("%(team)s works at another support tier; escalate the ticket instead.")
                % {"team": team}
            )
        change.add(Kind.ASSIGNED, field_name="team", old=ticket.team, new=team)
        ticket.team = team
        fields.append("team")
    if (assignee.pk if assignee else None) != ticket.assignee_id:
        change.add(Kind.ASSIGNED, field_name="assignee", old=ticket.assignee, new=assignee)
        ticket.assignee = assignee
        fields.append("assignee")
    if not fields:
        return ticket
    if ticket.status == Status.NEW and assignee is not None:
        change.add(Kind.STATUS, field_name="status", old=ticket.status, new=Status.OPEN)
        ticket.status = Status.OPEN
        fields.append("status")
    _touch(ticket, *fields)
    change.commit(
        "ticket.assigned",
        assignee=assignee.email if assignee else None,
        team=team.code if team else None,
    )
    return ticket


def _default_team(tier: int, organization_id: int) -> Team | None:
    return (
        Team.objects.filter(tier=tier)
        .filter(Q(serves_all_customers=True) | Q(customers__id=organization_id))
        .order_by("-serves_all_customers", "name")
        .first()
    )


@transaction.atomic
def escalate_ticket(
    actor: User,
    ticket: Ticket,
    *,
    tier: int,
    reason: str,
    team: Team | None = None,
    assignee: User | None = None,
) -> Ticket:
    """Move the ticket to another support tier (up or back down); a reason is required.

    The ticket goes to ``team`` (or the first team of that tier serving the customer)
    and is unassigned unless ``assignee`` is given.
    """
    _require_writer(actor)
    _require_worker(actor)
    reason = _clean_text(reason, label=_("Reason"), required=True, limit=2000)
    _choice(tier, SupportTier, label=_("support tier"))
    ticket = _lock(actor, ticket)
    if not ticket.is_open:
        raise Conflict(_("Only open tickets can be escalated."))
    if tier == ticket.tier:
        raise ActionError(_("The ticket is already at this tier."))
    if team is None:
        team = _default_team(tier, ticket.organization_id)
    elif team.tier != tier:
        raise ActionError(_("%(team)s does not work at this tier.") % {"team": team})
    elif not _team_serves(team, ticket.organization_id):
        raise ActionError(_("%(team)s does not serve this customer.") % {"team": team})
    if assignee is not None:
        if not assignee.is_support_staff or not assignee.is_active:
            raise ActionError(_("Tickets can only be assigned to active support staff."))
        if team is not None and not team.members.filter(pk=assignee.pk).exists():
            raise ActionError(
                _("%(user)s is not a member of %(team)s.") % {"user": assignee, "team": team}
            )
    change = _Change(ticket, actor)
    kind = Kind.ESCALATED if tier > ticket.tier else Kind.DE_ESCALATED
    change.add(kind, field_name="tier", old=ticket.tier, new=tier, note=reason)
    old_team, old_assignee = ticket.team, ticket.assignee
    ticket.tier = tier
    ticket.team = team
    ticket.assignee = assignee
    if (old_team.pk if old_team else None) != (team.pk if team else None):
        change.add(Kind.ASSIGNED, field_name="team", old=old_team, new=team)
    if (old_assignee.pk if old_assignee else None) != (assignee.pk if assignee else None):
        change.add(Kind.ASSIGNED, field_name="assignee", old=old_assignee, new=assignee)
    fields = ["tier", "team", "assignee"]
    # Unassigned at the new tier, nobody is working on it yet: it waits in that queue as open.
    if ticket.status == Status.NEW or (assignee is None and ticket.status == Status.IN_PROGRESS):
        change.add(Kind.STATUS, field_name="status", old=ticket.status, new=Status.OPEN)
        ticket.status = Status.OPEN
        fields.append("status")
    _touch(ticket, *fields)
    change.commit("ticket.escalated", tier=tier, reason=reason, team=team.code if team else None)
    return ticket


def apply_sla_escalation(
    ticket_id: int, *, raise_tier: bool, raise_priority: bool, note: str
) -> Ticket | None:
    """The SLA engine's escalation: one tier up (to that tier's team) and/or one priority
    step up, written as system events with ``note`` saying which step did it.

    Runs inside the caller's transaction; the caller holds the ticket's lock. Returns
    None when nothing could be raised (already L3 and P0, or the ticket is closed).
    """
    ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    if not ticket.is_open:
        return None
    change = _Change(ticket, None)
    fields: list[str] = []
    if raise_tier and ticket.tier < SupportTier.L3:
        new_tier = ticket.tier + 1
        team = _default_team(new_tier, ticket.organization_id)
        change.add(Kind.ESCALATED, field_name="tier", old=ticket.tier, new=new_tier, note=note)
        if (ticket.team_id or None) != (team.pk if team else None):
            change.add(Kind.ASSIGNED, field_name="team", old=ticket.team, new=team)
        if ticket.assignee_id is not None:
            change.add(Kind.ASSIGNED, field_name="assignee", old=ticket.assignee, new=None)
        ticket.tier, ticket.team, ticket.assignee = new_tier, team, None
        fields += ["tier", "team", "assignee"]
        if ticket.status in (Status.NEW, Status.IN_PROGRESS):
            change.add(Kind.STATUS, field_name="status", old=ticket.status, new=Status.OPEN)
            ticket.status = Status.OPEN
            fields.append("status")
    if raise_priority and ticket.priority > Priority.P0:
        new_priority = ticket.priority - 1
        change.add(
            Kind.CHANGED, field_name="priority", old=ticket.priority, new=new_priority, note=note
        )
        ticket.priority = new_priority
        fields.append("priority")
    if not fields:
        return None
    _touch(ticket, *fields)
    change.commit("ticket.sla_escalated", note=note)
    return ticket


@transaction.atomic
def transition_ticket(
    actor: User,
    ticket: Ticket,
    *,
    to: str,
    resolution_code: str = "",
    resolution: str = "",
    note: str = "",
) -> Ticket:
    """Move the ticket through the workflow.

    Staff may take any move in TRANSITIONS; resolving needs a resolution code and text.
    Customers may only confirm a resolution (resolved → closed) or reopen it.
    """
    _require_writer(actor)
    _choice(to, Status, label=_("status"))
    note = _clean_text(note, label=_("Note"), required=False, limit=2000)
    locked = _lock(actor, ticket)
    if locked.status == Status.RESOLVED and to == Status.OPEN:
        return reopen_ticket(actor, locked, reason=note or _("Reopened"))
    if actor.is_customer:
        if not (locked.status == Status.RESOLVED and to == Status.CLOSED):
            raise NotAllowed(
                _("You can confirm a resolved ticket or reopen it; the support team does the rest.")
            )
    else:
        _require_worker(actor)
    if to not in TRANSITIONS[locked.status]:
        raise Conflict(
            _("A ticket cannot go from %(old)s to %(new)s.")
            % {"old": Status(locked.status).label, "new": Status(to).label}
        )
    if to == Status.CLOSED:
        # Problem management hook (issue 10): a P0/P1 incident (ERPCARE_PIR_REQUIRED_PRIORITIES)
        # is closed only after its post-incident review is completed.
        from erpcare.problems.services.reviews import check_closure

        check_closure(locked)
    now = clock.now()
    change = _Change(locked, actor)
    change.add(Kind.STATUS, field_name="status", old=locked.status, new=to, note=note)
    fields = ["status"]
    if to == Status.RESOLVED:
        _choice(resolution_code, ResolutionCode, label=_("resolution code"))
        resolution = _clean_text(resolution, label=_("Resolution"), required=True)
        locked.resolution_code = resolution_code
        locked.resolution = resolution
        locked.resolved_at = now
        fields += ["resolution_code", "resolution", "resolved_at"]
        change.add(Kind.CHANGED, field_name="resolution_code", new=resolution_code, note=resolution)
    if to == Status.CLOSED:
        locked.closed_at = now
        fields.append("closed_at")
    locked.status = to
    _touch(locked, *fields)
    change.commit("ticket.transitioned", to=to, resolution_code=resolution_code or None)
    return locked


@transaction.atomic
def reopen_ticket(actor: User, ticket: Ticket, *, reason: str) -> Ticket:
    """Reopen a resolved ticket within the reopen window (ERPCARE_REOPEN_WINDOW_DAYS)."""
    _require_writer(actor)
    if not actor.is_customer:
        _require_worker(actor)
    reason = _clean_text(reason, label=_("Reason"), required=True, limit=2000)
    ticket = _lock(actor, ticket)
    if ticket.status != Status.RESOLVED:
        raise Conflict(_("Only a resolved ticket can be reopened."))
    window = timedelta(days=settings.ERPCARE_REOPEN_WINDOW_DAYS)
    if ticket.resolved_at is not None and clock.now() - ticket.resolved_at > window:
        raise Conflict(
            _("The reopen window of %(days)d days has passed; please open a new ticket.")
            % {"days": settings.ERPCARE_REOPEN_WINDOW_DAYS}
        )
    change = _Change(ticket, actor)
    change.add(Kind.REOPENED, field_name="status", old=ticket.status, new=Status.OPEN, note=reason)
    ticket.status = Status.OPEN
    ticket.reopen_count += 1
    # The old resolution did not hold; it stays in the timeline, not on the ticket.
    ticket.resolved_at = None
    ticket.resolution_code = ""
    ticket.resolution = ""
    _touch(ticket, "status", "reopen_count", "resolved_at", "resolution_code", "resolution")
    change.commit("ticket.reopened", reason=reason)
    return ticket


# ---------------------------------------------------------------------------
# Links and merge
# ---------------------------------------------------------------------------


@transaction.atomic
def link_tickets(actor: User, source: Ticket, target: Ticket, *, kind: str) -> TicketLink:
    _require_writer(actor)
    _require_worker(actor)
    _choice(kind, LinkKind, label=_("link"))
    if source.pk == target.pk:
        raise ActionError(_("A ticket cannot be linked to itself."))
    if not _can_see(actor, source) or not _can_see(actor, target):
        raise NotFound(_("Ticket not found."))
    if TicketLink.objects.filter(source=source, target=target, kind=kind).exists():
        raise Conflict(_("These tickets are already linked this way."))
    link = TicketLink.objects.create(
        source=source, target=target, kind=kind, created_by=actor, created_at=clock.now()
    )
    change = _Change(source, actor)
    change.add(Kind.LINKED, field_name=kind, new=target.number)
    _touch(source)
    change.commit("ticket.linked", kind=kind, target=target.number)
    other = _Change(target, actor)
    other.add(Kind.LINKED, field_name=f"{kind}:reverse", new=source.number)
    TicketEvent.objects.bulk_create(other.events)
    return link


@transaction.atomic
def merge_tickets(actor: User, source: Ticket, target: Ticket, *, reason: str = "") -> Ticket:
    """Merge ``source`` into ``target``: its comments, files and watchers move over, and
    the source is closed as a duplicate. Both must belong to the same customer."""
    _require_writer(actor)
    _require_worker(actor)
    reason = _clean_text(reason, label=_("Reason"), required=False, limit=2000)
    if source.pk == target.pk:
        raise ActionError(_("A ticket cannot be merged into itself."))
    locked = {
        t.pk: t
        for t in Ticket.objects.visible_to(actor)
        .select_for_update()
        .filter(pk__in=[source.pk, target.pk])
    }
    if source.pk not in locked or target.pk not in locked:
        raise NotFound(_("Ticket not found."))
    source, target = locked[source.pk], locked[target.pk]
    if source.organization_id != target.organization_id:
        raise ActionError(_("Only tickets of the same customer can be merged."))
    if source.status == Status.CLOSED:
        raise Conflict(_("%(number)s is closed and cannot be merged.") % {"number": source.number})
    if target.status == Status.CLOSED:
        raise Conflict(
            _("%(number)s is closed; merge into an open ticket.") % {"number": target.number}
        )
    now = clock.now()
    moved_comments = Comment.objects.filter(ticket=source).update(ticket=target)
    moved_files = Attachment.objects.filter(ticket=source).update(ticket=target)
    target.watchers.add(*source.watchers.all())
    if source.requester_id:
        target.watchers.add(source.requester_id)
    TicketLink.objects.get_or_create(
        source=source,
        target=target,
        kind=LinkKind.DUPLICATE_OF,
        defaults={"created_by": actor, "created_at": now},
    )
    change = _Change(source, actor)
    change.add(Kind.MERGED, field_name="merged_into", new=target.number, note=reason)
    change.add(Kind.STATUS, field_name="status", old=source.status, new=Status.CLOSED)
    source.status = Status.CLOSED
    source.merged_into = target
    source.resolution_code = ResolutionCode.DUPLICATE
    source.resolution = reason or _("Merged into %(number)s") % {"number": target.number}
    source.closed_at = now
    source.resolved_at = source.resolved_at or now
    _touch(
        source, "status", "merged_into", "resolution_code", "resolution", "closed_at", "resolved_at"
    )
    change.commit("ticket.merged", into=target.number, comments=moved_comments, files=moved_files)
    other = _Change(target, actor)
    other.add(Kind.MERGED, field_name="merged_from", new=source.number, note=reason)
    _touch(target)
    other.commit("ticket.merge_received", source=source.number)
    return target


# ---------------------------------------------------------------------------
# Periodic
# ---------------------------------------------------------------------------


class AutoCloseResult(int):
    """How many tickets ``auto_close_resolved`` closed (an int, as before), plus
    ``awaiting_review``: the numbers of the tickets it left resolved because their
    post-incident review is not completed yet (problem management, issue 10)."""

    awaiting_review: list[str]

    def __new__(cls, closed: int, awaiting_review: list[str]) -> AutoCloseResult:
        result = super().__new__(cls, closed)
        result.awaiting_review = awaiting_review
        return result


def auto_close_resolved(*, older_than_days: int | None = None, batch: int = 500) -> AutoCloseResult:
    """Close tickets resolved longer ago than the auto-close period; returns how many.

    Each ticket is closed in its own small transaction through the same rules as a
    person would follow, so a failure on one ticket does not stop the others. Tickets that
    need a completed post-incident review first are skipped and listed in the result.
    """
    # Issue 10 hook: incidents awaiting their post-incident review are left resolved.
    from erpcare.problems.services.reviews import blocked_filter, closure_blocked

    days = settings.ERPCARE_AUTO_CLOSE_DAYS if older_than_days is None else older_than_days
    cutoff = clock.now() - timedelta(days=days)
    due = Ticket.objects.filter(status=Status.RESOLVED, resolved_at__lt=cutoff)
    blocked = blocked_filter()
    ids = list(due.exclude(blocked).order_by("resolved_at").values_list("pk", flat=True)[:batch])
    awaiting_review = list(
        due.filter(blocked).order_by("resolved_at").values_list("number", flat=True)[:batch]
    )
    closed = 0
    for ticket_id in ids:
        with transaction.atomic():
            ticket = (
                Ticket.objects.select_for_update()
                .filter(pk=ticket_id, status=Status.RESOLVED)
                .first()
            )
            if ticket is None:
                continue
            if closure_blocked(ticket):  # its priority was raised since the query
                awaiting_review.append(ticket.number)
                continue
            change = _Change(ticket, None)
            change.add(
                Kind.STATUS,
                field_name="status",
                old=ticket.status,
                new=Status.CLOSED,
                note="auto-close",
            )
            ticket.status = Status.CLOSED
            ticket.closed_at = clock.now()
            _touch(ticket, "status", "closed_at")
            change.commit("ticket.auto_closed", after_days=days)
            closed += 1
    return AutoCloseResult(closed, awaiting_review)


OPEN_STATUS_VALUES = sorted(OPEN_STATUSES)
