"""Channel helpers for templates: ``{% load channel_tags %}``, then
``{% if user|can_manage_channels %}``, ``{{ state|state_badge }}`` and the like."""

from __future__ import annotations

from typing import Any

from django import template

from erpcare.accounts.models import User
from erpcare.channels.models import DeliveryState
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
