"""Tickets API: thin endpoints over the ticket actions."""

from __future__ import annotations

from typing import Any

from django.db.models import prefetch_related_objects
from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema
from ninja import Status as HttpStatus
from ninja.files import UploadedFile
from pydantic import Field

from erpcare.accounts.models import User
from erpcare.core.errors import ActionError, NotFound
from erpcare.core.exports import XLSX_CONTENT_TYPE
from erpcare.core.pagination import page_of
from erpcare.core.schemas import ERRORS
from erpcare.tickets import services
from erpcare.tickets.models import Status, Ticket
from erpcare.tickets.schemas import (
    AssignIn,
    AttachmentOut,
    CommentIn,
    CommentOut,
    CommentPageOut,
    EscalateIn,
    EventOut,
    LinkIn,
    LinkOut,
    MergeIn,
    TicketCreateIn,
    TicketOut,
    TicketPageOut,
    TicketUpdateIn,
    TransitionIn,
)
from erpcare.tickets.services import exporting, lookups
from erpcare.tickets.services.access import comments_of, events_of, files_of
from erpcare.tickets.services.listing import TicketFilters, filter_tickets

router = Router(tags=["tickets"])

# The columns TicketSummaryOut shows: the list does not load descriptions, resolutions,
# nor every column of the customer, team and assignee rows.
SUMMARY_FIELDS = (
    "id", "number", "type", "title", "status", "priority", "category", "module", "channel",
    "tier", "created_at", "updated_at", "organization_id", "team_id", "assignee_id",
    "organization__code", "organization__name", "team__code", "team__name",
    "assignee__id", "assignee__display_name", "assignee__email",
    "sla_state", "sla_due_at", "response_due_at", "resolution_due_at",
)  # fmt: skip

DETAIL_RELATED = ("organization", "erp_instance", "requester", "team", "assignee", "merged_into")


def _ticket(request: HttpRequest, ref: str, *, for_update: bool = False) -> Ticket:
    return services.get_ticket_for(request.user, ref, for_update=for_update)  # type: ignore[arg-type]


def _public_only(request: HttpRequest) -> bool:
    return bool(request.user.is_customer)  # type: ignore[union-attr]


def _detail(ticket_id: int) -> Ticket:
    return Ticket.objects.select_related(*DETAIL_RELATED).prefetch_related("tags").get(pk=ticket_id)


class TicketListQuery(Schema):
    status: str | None = Field(
        None, description="One status or several, comma-separated; 'open' means every open status"
    )
    priority: str | None = Field(None, description="P0–P3, comma-separated")
    customer: str | None = None
    module: str | None = None
    category: str | None = None
    type: str | None = None
    team: str | None = None
    tier: int | None = Field(None, ge=1, le=3)
    assignee: str | None = Field(None, description="E-mail address, 'me' or 'none'")
    q: str | None = Field(None, max_length=200, description="Ticket number or words in the title")
    created_from: str | None = Field(
        None,
        max_length=10,
        description="Created on or after this day (YYYY-MM-DD, service time zone)",
    )
    created_to: str | None = Field(
        None,
        max_length=10,
        description="Created on or before this day (YYYY-MM-DD, service time zone)",
    )
    ordering: str = "-created"
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(25, ge=1, le=100)


@router.get("", response={200: TicketPageOut, **ERRORS})
def list_tickets(request: HttpRequest, query: Query[TicketListQuery]) -> Any:
    """Tickets the caller may see, newest first, filtered and paginated."""
    filters = TicketFilters(**query.dict(exclude={"page", "page_size"}))
    queryset = filter_tickets(request.user, filters)  # type: ignore[arg-type]
    queryset = (
        queryset.select_related("organization", "team", "assignee")
        .only(*SUMMARY_FIELDS)
        .prefetch_related("tags")
    )
    return page_of(queryset, query.page, query.page_size)


class TicketExportQuery(TicketListQuery):
    format: str = Field("csv", description="csv (streamed, UTF-8 with BOM) or xlsx")


@router.get(
    "/export",
    response=ERRORS,
    openapi_extra={
        "responses": {
            200: {
                "description": "The file: every matching ticket (no pagination).",
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    XLSX_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}},
                },
            }
        }
    },
)
def export_tickets(request: HttpRequest, query: Query[TicketExportQuery]) -> Any:
    """The tickets the caller may see, filtered as the list is, as one CSV or XLSX file.
    ``page`` and ``page_size`` are ignored; an unknown format is a 400."""
    filters = TicketFilters(**query.dict(exclude={"page", "page_size", "format"}))
    queryset = filter_tickets(request.user, filters)  # type: ignore[arg-type]
    return exporting.export_tickets(request.user, queryset, filters, query.format)  # type: ignore[arg-type]


@router.post("", response={201: TicketOut, **ERRORS})
def create_ticket(request: HttpRequest, payload: TicketCreateIn) -> Any:
    actor = request.user
    organization = lookups.customer_for(actor, payload.customer)  # type: ignore[arg-type]
    if organization is None:
        raise ActionError(_("Choose the customer this ticket is for."))
    ticket = services.create_ticket(
        actor,  # type: ignore[arg-type]
        title=payload.title,
        description=payload.description,
        organization=organization,
        type=payload.type,
        channel=payload.channel,
        impact=payload.impact,
        urgency=payload.urgency,
        priority=payload.priority,
        category=payload.category,
        module=payload.module,
        erp_instance=lookups.erp_instance_for(organization, payload.erp_instance),
        requester=lookups.requester_by_email(organization, payload.requester),
        team=lookups.team_by_code(payload.team),
        assignee=lookups.staff_by_email(payload.assignee),
        tags=payload.tags,
    )
    # Every relation is already on the object; only given tags need reading back.
    if not payload.tags:
        ticket._prefetched_objects_cache = {"tags": ticket.tags.none()}  # type: ignore[attr-defined]
        return HttpStatus(201, ticket)
    return HttpStatus(201, _with_tags(ticket))


@router.get("/{ref}", response={200: TicketOut, **ERRORS})
def get_ticket(request: HttpRequest, ref: str) -> Any:
    """One ticket by number (INC-2026-000123) or id."""
    ticket = _ticket(request, ref)
    return _detail(ticket.pk) if ticket.merged_into_id else _with_tags(ticket)


def _with_tags(ticket: Ticket) -> Ticket:
    # One query for the tags instead of refetching the ticket.
    prefetch_related_objects([ticket], "tags")
    return ticket


@router.patch("/{ref}", response={200: TicketOut, **ERRORS})
def update_ticket(request: HttpRequest, ref: str, payload: TicketUpdateIn) -> Any:
    ticket = _ticket(request, ref)
    changes = payload.dict(exclude_unset=True)
    if "erp_instance" in changes:
        changes["erp_instance"] = lookups.erp_instance_for(
            ticket.organization, changes["erp_instance"]
        )
    for name in ("title", "type", "category", "impact", "urgency"):
        if name in changes and changes[name] is None:
            raise ActionError(_("%(field)s cannot be empty.") % {"field": name})
    services.update_ticket(request.user, ticket, **changes)  # type: ignore[arg-type]
    return _detail(ticket.pk)


@router.get("/{ref}/comments", response={200: CommentPageOut, **ERRORS})
def list_comments(
    request: HttpRequest,
    ref: str,
    page: int = Query(1, ge=1, le=10_000),
    page_size: int = Query(50, ge=1, le=200),
) -> Any:
    """Replies and, for staff, internal notes, oldest first."""
    ticket = _ticket(request, ref)
    return page_of(comments_of(ticket, public_only=_public_only(request)), page, page_size)


@router.post("/{ref}/comments", response={201: CommentOut, **ERRORS})
def add_comment(request: HttpRequest, ref: str, payload: CommentIn) -> Any:
    ticket = _ticket(request, ref)
    comment = services.add_comment(
        request.user,  # type: ignore[arg-type]
        ticket,
        body=payload.body,
        internal=payload.internal,
        channel="api",
    )
    return HttpStatus(201, comment)


@router.get("/{ref}/events", response={200: list[EventOut], **ERRORS})
def list_events(request: HttpRequest, ref: str) -> Any:
    """The ticket's history: who changed what, when. Customers see the workflow steps,
    not the desk's internal moves."""
    ticket = _ticket(request, ref)
    return list(events_of(ticket, public_only=_public_only(request))[:1000])


@router.get("/{ref}/attachments", response={200: list[AttachmentOut], **ERRORS})
def list_attachments(request: HttpRequest, ref: str) -> Any:
    ticket = _ticket(request, ref)
    return list(files_of(ticket, public_only=_public_only(request))[:500])


@router.post("/{ref}/attachments", response={201: AttachmentOut, **ERRORS})
def add_attachment(
    request: HttpRequest, ref: str, file: File[UploadedFile], internal: Form[bool] = False
) -> Any:
    """Upload one file (multipart/form-data, field ``file``; ``internal=true`` for staff
    only files)."""
    ticket = _ticket(request, ref)
    attachment = services.add_attachment(request.user, ticket, file, internal=internal)  # type: ignore[arg-type]
    return HttpStatus(201, attachment)


@router.get(
    "/{ref}/attachments/{attachment_id}/download",
    response={200: None, **ERRORS},
    openapi_extra={"responses": {200: {"description": "The file's bytes"}}},
)
def download_attachment(request: HttpRequest, ref: str, attachment_id: int) -> Any:
    ticket = _ticket(request, ref)
    files = files_of(ticket, public_only=_public_only(request))
    attachment = files.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound(_("Attachment not found."))
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )


@router.post("/{ref}/assign", response={200: TicketOut, **ERRORS})
def assign_ticket(request: HttpRequest, ref: str, payload: AssignIn) -> Any:
    ticket = _ticket(request, ref)
    actor: User = request.user  # type: ignore[assignment]
    assignee: User | None
    if "assignee" not in payload.model_fields_set:
        # Only an explicit null unassigns; leaving the field out keeps the assignee.
        assignee = ticket.assignee
    elif payload.assignee == "me":
        assignee = actor
    else:
        assignee = lookups.staff_by_email(payload.assignee)
    services.assign_ticket(
        actor, ticket, assignee=assignee, team=lookups.team_by_code(payload.team)
    )
    return _detail(ticket.pk)


@router.post("/{ref}/transition", response={200: TicketOut, **ERRORS})
def transition_ticket(request: HttpRequest, ref: str, payload: TransitionIn) -> Any:
    """Move through the workflow: new → open → in_progress → waiting_customer /
    waiting_vendor → resolved → closed; resolved → open reopens."""
    ticket = _ticket(request, ref)
    if payload.to not in Status.values:
        raise ActionError(_("%(value)s is not a valid status.") % {"value": payload.to})
    services.transition_ticket(
        request.user,  # type: ignore[arg-type]
        ticket,
        to=payload.to,
        resolution_code=payload.resolution_code,
        resolution=payload.resolution,
        note=payload.note,
    )
    return _detail(ticket.pk)


@router.post("/{ref}/escalate", response={200: TicketOut, **ERRORS})
def escalate_ticket(request: HttpRequest, ref: str, payload: EscalateIn) -> Any:
    ticket = _ticket(request, ref)
    services.escalate_ticket(
        request.user,  # type: ignore[arg-type]
        ticket,
        tier=payload.tier,
        reason=payload.reason,
        team=lookups.team_by_code(payload.team),
        assignee=lookups.staff_by_email(payload.assignee),
    )
    return _detail(ticket.pk)


@router.post("/{ref}/links", response={201: LinkOut, **ERRORS})
def link_ticket(request: HttpRequest, ref: str, payload: LinkIn) -> Any:
    ticket = _ticket(request, ref)
    target = _ticket(request, payload.target)
    link = services.link_tickets(request.user, ticket, target, kind=payload.kind)  # type: ignore[arg-type]
    return HttpStatus(201, {"source": ticket.number, "target": target.number, "kind": link.kind})


@router.post("/{ref}/merge", response={200: TicketOut, **ERRORS})
def merge_ticket(request: HttpRequest, ref: str, payload: MergeIn) -> Any:
    """Merge this ticket into ``into``; this one is closed as a duplicate."""
    ticket = _ticket(request, ref)
    target = _ticket(request, payload.into)
    merged = services.merge_tickets(request.user, ticket, target, reason=payload.reason)  # type: ignore[arg-type]
    return _detail(merged.pk)
