"""Template helpers for tickets: Markdown, badges and readable history values."""

from __future__ import annotations

from typing import Any

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from erpcare.accounts.models import SupportTier
from erpcare.core.markdown import render_markdown
from erpcare.customers.models import ErpModule
from erpcare.tickets.models import (
    PRIORITY_SHORT,
    Category,
    Channel,
    Impact,
    LinkKind,
    Priority,
    ResolutionCode,
    Status,
    Ticket,
    TicketEvent,
    TicketType,
    Urgency,
)

register = template.Library()

# Which choices translate the raw value stored in TicketEvent.old_value/new_value.
FIELD_CHOICES: dict[str, type[models.Choices]] = {
    "status": Status,
    "priority": Priority,
    "tier": SupportTier,
    "impact": Impact,
    "urgency": Urgency,
    "category": Category,
    "type": TicketType,
    "module": ErpModule,
    "resolution_code": ResolutionCode,
    "channel": Channel,
}

STATUS_COLOURS: dict[str, str] = {
    Status.NEW: "text-bg-info",
    Status.OPEN: "text-bg-primary",
    Status.IN_PROGRESS: "text-bg-primary",
    Status.WAITING_CUSTOMER: "text-bg-warning",
    Status.WAITING_VENDOR: "text-bg-warning",
    Status.RESOLVED: "text-bg-success",
    Status.CLOSED: "text-bg-secondary",
}


@register.filter(is_safe=True)
def markdown(text: str | None) -> SafeString:
    """User Markdown rendered, then sanitised by nh3 (erpcare.core.markdown)."""
    return mark_safe(render_markdown(text or ""))  # noqa: S308 - sanitised by nh3


def choice_label(field_name: str, value: Any) -> str:
    """The translated label of ``value`` for ``field_name``, or the value itself."""
    if value in (None, ""):
        return ""
    choices = FIELD_CHOICES.get(field_name)
    if choices is None:
        return str(value)
    raw: Any = value
    if issubclass(choices, models.IntegerChoices):
        try:
            raw = int(value)
        except (TypeError, ValueError):
            return str(value)
    try:
        return str(choices(raw).label)
    except ValueError:
        return str(value)


@register.simple_tag
def priority_badge(priority: int | None) -> SafeString:
    if priority is None or priority not in PRIORITY_SHORT:
        return format_html("")
    return format_html(
        '<span class="badge priority-{}" title="{}" data-priority="{}">{}</span>',
        priority,
        Priority(priority).label,
        PRIORITY_SHORT[priority],
        PRIORITY_SHORT[priority],
    )


@register.simple_tag
def status_badge(status: str) -> SafeString:
    return format_html(
        '<span class="badge {}" data-status="{}">{}</span>',
        STATUS_COLOURS.get(status, "text-bg-light"),
        status,
        choice_label("status", status),
    )


@register.filter
def tier_short(tier: int | None) -> str:
    return f"L{tier}" if tier else ""


@register.filter
def event_field_label(event: TicketEvent) -> str:
    """A readable name for the field an event changed."""
    name = event.field or ""
    if not name:
        return ""
    if event.kind == TicketEvent.Kind.LINKED:
        kind, _sep, reverse = name.partition(":")
        label = choice_label_link(kind)
        if reverse:
            return _("%(link)s (from the other ticket)") % {"link": label}
        return label
    if name == "merged_into":
        return _("merged into")
    if name == "merged_from":
        return _("merged from")
    try:
        model_field = Ticket._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return str(getattr(model_field, "verbose_name", name))


def choice_label_link(kind: str) -> str:
    try:
        return str(LinkKind(kind).label)
    except ValueError:
        return kind


@register.filter
def event_old(event: TicketEvent) -> str:
    return choice_label(event.field, event.old_value)


@register.filter
def event_new(event: TicketEvent) -> str:
    return choice_label(event.field, event.new_value)


@register.filter
def event_links_ticket(event: TicketEvent) -> bool:
    """Whether the event's new value is another ticket's number (links and merges)."""
    return event.kind in (TicketEvent.Kind.LINKED, TicketEvent.Kind.MERGED)


@register.filter
def label_for(value: Any, field_name: str) -> str:
    """``{{ value|label_for:"status" }}``: the translated label of a raw choice value."""
    return choice_label(field_name, value)
