"""Channel helpers for templates: ``{% load channel_tags %}``, then
``{% if user|can_manage_channels %}``, ``{{ state|state_badge }}`` and the like."""

from __future__ import annotations

from typing import Any

from django import template

from erpcare.accounts.models import User
from erpcare.channels.models import DeliveryState, EventName, PersonalChannel, RecipientRole
from erpcare.channels.permissions import can_manage_channels as _can_manage_channels
from erpcare.channels.reasons import reason_label

register = template.Library()

STATE_BADGES = {
    DeliveryState.PENDING: "text-bg-secondary",
    DeliveryState.SENDING: "text-bg-info",
    DeliveryState.RETRY: "text-bg-warning",
    DeliveryState.SENT: "text-bg-success",
    DeliveryState.DEAD: "text-bg-danger",
    DeliveryState.HELD: "text-bg-light border",
    DeliveryState.CANCELLED: "text-bg-light border",
}


@register.filter
def can_manage_channels(user: Any) -> bool:
    return isinstance(user, User) and user.is_authenticated and _can_manage_channels(user)


@register.filter
def state_badge(state: str) -> str:
    return STATE_BADGES.get(state, "text-bg-secondary")  # type: ignore[call-overload]


@register.filter
def priority_labels(values: list[int] | None) -> str:
    return ", ".join(f"P{v}" for v in values or [])


@register.filter
def intake_reason(code: str) -> str:
    """``{{ message.reason|intake_reason }}``: the words for a held/ignored/failed reason."""
    return reason_label(code or "")


def _labels(values: list[str] | None, choices: Any) -> list[str]:
    known = dict(choices)
    return [str(known.get(value, value)) for value in values or []]


@register.filter
def event_label(code: str) -> str:
    """``{{ "ticket.created"|event_label }}``: the event's name in the reader's language."""
    return _labels([code], EventName.choices)[0]


@register.filter
def role_labels(values: list[str] | None) -> str:
    return ", ".join(_labels(values, RecipientRole.choices))


@register.filter
def channel_labels(values: list[str] | None) -> str:
    return ", ".join(_labels(values, PersonalChannel.choices))
