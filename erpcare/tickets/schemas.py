"""Typed request and response shapes of the tickets API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator

from erpcare.tickets.models import PRIORITY_SHORT, Ticket

# Clients coming from other service desks send their own words; P0–P3 and 0–3 are ours.
PRIORITY_ALIASES = {
    "p0": 0, "p1": 1, "p2": 2, "p3": 3,
    "urgent": 0, "critical": 0, "high": 1, "normal": 2, "medium": 2, "low": 3,
}  # fmt: skip


def _parse_priority(value: Any) -> Any:
    if value is None:
        return value
    if isinstance(value, bool):
        raise ValueError("priority must be P0, P1, P2, P3 (or urgent, high, normal, low)")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        key = value.strip().lower()
        if key in PRIORITY_ALIASES:
            return PRIORITY_ALIASES[key]
        if key.isdigit():
            return int(key)
    raise ValueError("priority must be P0, P1, P2, P3 (or urgent, high, normal, low)")


# The document says what is really accepted: 0–3, or a P-code or word (any case).
PriorityIn = Annotated[
    int,
    BeforeValidator(_parse_priority),
    Field(ge=0, le=3),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": 3},
                {"type": "string", "examples": ["P0", "P1", "P2", "P3", "urgent", "high", "low"]},
            ]
        }
    ),
]

Text200 = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=100_000)]


def _refuse_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    if isinstance(value, list | tuple):
        for item in value:
            _refuse_nul(item)
    return value


class StrictIn(Schema):
    """Request bodies: unknown fields are errors, and so is text with NUL characters
    (PostgreSQL cannot store them; refusing here names the field)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return _refuse_nul(value)


class TicketCreateIn(StrictIn):
    title: Text200
    description: LongText = ""
    customer: str | None = Field(
        None, description="Customer code; customers' own tokens may leave it out."
    )
    type: str = "incident"
    channel: str = "api"
    impact: int = Field(3, ge=1, le=3, strict=True, description="1 company-wide … 3 one user")
    urgency: int = Field(2, ge=1, le=3, strict=True, description="1 work stopped … 3 can wait")
    priority: PriorityIn | None = Field(
        None, description="Staff only; otherwise derived from impact × urgency."
    )
    category: str = "how_to"
    module: str = ""
    erp_instance: int | None = Field(None, strict=True)
    requester: str | None = Field(None, description="E-mail address of the customer's user")
    team: str | None = None
    assignee: str | None = Field(None, description="E-mail address of a staff member")
    tags: list[Annotated[str, Field(max_length=50)]] = Field(default_factory=list, max_length=20)


class TicketUpdateIn(StrictIn):
    title: Text200 | None = None
    description: LongText | None = None
    type: str | None = None
    category: str | None = None
    module: str | None = None
    impact: int | None = Field(None, ge=1, le=3, strict=True)
    urgency: int | None = Field(None, ge=1, le=3, strict=True)
    priority: PriorityIn | None = None
    erp_instance: int | None = Field(None, strict=True)
    tags: list[Annotated[str, Field(max_length=50)]] | None = Field(None, max_length=20)


class CommentIn(StrictIn):
    body: Annotated[str, Field(min_length=1, max_length=100_000)]
    internal: bool = False


class AssignIn(StrictIn):
    assignee: str | None = Field(
        None, description="E-mail address or 'me'; null unassigns, left out keeps the assignee"
    )
    team: str | None = None


class TransitionIn(StrictIn):
    to: str
    resolution_code: str = ""
    resolution: LongText = ""
    note: Annotated[str, Field(max_length=2000)] = ""


class EscalateIn(StrictIn):
    tier: int = Field(..., ge=1, le=3, strict=True)
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    team: str | None = None
    assignee: str | None = None


class LinkIn(StrictIn):
    target: Annotated[str, Field(min_length=1, max_length=24)]
    kind: str


class MergeIn(StrictIn):
    into: Annotated[str, Field(min_length=1, max_length=24)]
    reason: Annotated[str, Field(max_length=2000)] = ""


class Ref(Schema):
    code: str
    name: str


class PersonOut(Schema):
    id: int
    name: str
    email: str


def _person(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.display_name, "email": user.email}


class SlaSummaryOut(Schema):
    state: str = Field(description="ok, warning, breached, paused, met, missed; empty: no SLA")
    due_at: datetime | None = Field(description="The next deadline of a running clock")
    response_due_at: datetime | None
    resolution_due_at: datetime | None


class TicketSummaryOut(Schema):
    id: int
    number: str
    type: str
    title: str
    status: str
    priority: str
    category: str
    module: str
    channel: str
    tier: int
    customer: Ref
    team: Ref | None
    assignee: PersonOut | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    sla: SlaSummaryOut

    @staticmethod
    def resolve_sla(obj: Ticket) -> dict[str, Any]:
        return {
            "state": obj.sla_state,
            "due_at": obj.sla_due_at,
            "response_due_at": obj.response_due_at,
            "resolution_due_at": obj.resolution_due_at,
        }

    @staticmethod
    def resolve_priority(obj: Ticket) -> str:
        return PRIORITY_SHORT[obj.priority]

    @staticmethod
    def resolve_customer(obj: Ticket) -> dict[str, str]:
        return {"code": obj.organization.code, "name": obj.organization.name}

    @staticmethod
    def resolve_team(obj: Ticket) -> dict[str, str] | None:
        return {"code": obj.team.code, "name": obj.team.name} if obj.team else None

    @staticmethod
    def resolve_assignee(obj: Ticket) -> dict[str, Any] | None:
        return _person(obj.assignee)

    @staticmethod
    def resolve_tags(obj: Ticket) -> list[str]:
        return [tag.name for tag in obj.tags.all()]


class ErpInstanceRef(Schema):
    id: int
    name: str


class TicketOut(TicketSummaryOut):
    description: str
    impact: int
    urgency: int
    erp_instance: ErpInstanceRef | None
    requester: PersonOut | None
    resolution_code: str
    resolution: str
    merged_into: str | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    reopen_count: int

    @staticmethod
    def resolve_requester(obj: Ticket) -> dict[str, Any] | None:
        return _person(obj.requester)

    @staticmethod
    def resolve_erp_instance(obj: Ticket) -> dict[str, Any] | None:
        if obj.erp_instance is None:
            return None
        return {"id": obj.erp_instance.pk, "name": obj.erp_instance.name}

    @staticmethod
    def resolve_merged_into(obj: Ticket) -> str | None:
        return obj.merged_into.number if obj.merged_into_id else None  # type: ignore[union-attr]


class TicketPageOut(Schema):
    items: list[TicketSummaryOut]
    page: int
    page_size: int
    has_next: bool


class CommentOut(Schema):
    id: int
    author: PersonOut | None
    body: str
    internal: bool
    channel: str
    created_at: datetime

    @staticmethod
    def resolve_author(obj: Any) -> dict[str, Any] | None:
        return _person(obj.author)

    @staticmethod
    def resolve_internal(obj: Any) -> bool:
        return bool(obj.is_internal)


class CommentPageOut(Schema):
    items: list[CommentOut]
    page: int
    page_size: int
    has_next: bool


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    internal: bool
    created_at: datetime

    @staticmethod
    def resolve_internal(obj: Any) -> bool:
        return bool(obj.is_internal)


class EventOut(Schema):
    id: int
    kind: str
    actor: PersonOut | None
    field: str
    old_value: str
    new_value: str
    note: str
    created_at: datetime

    @staticmethod
    def resolve_actor(obj: Any) -> dict[str, Any] | None:
        return _person(obj.actor)


class LinkOut(Schema):
    source: str
    target: str
    kind: str
