"""Monitoring helpers for templates: ``{% load monitoring_tags %}``, then
``{% if user|can_manage_monitoring %}``, ``{{ alert.status|alert_badge }}``,
``{{ seconds|lag }}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.monitoring.admin_services import format_matchers
from erpcare.monitoring.permissions import can_manage_monitoring as _can_manage

register = template.Library()

BADGES = {
    "firing": "text-bg-danger",
    "acknowledged": "text-bg-warning",
    "resolved": "text-bg-success",
    "critical": "text-bg-danger",
    "high": "text-bg-warning",
    "warning": "text-bg-info",
    "info": "text-bg-light border",
    "received": "text-bg-secondary",
    "processing": "text-bg-info",
    "processed": "text-bg-success",
    "duplicate": "text-bg-light border",
    "failed": "text-bg-danger",
}


@register.filter
def can_manage_monitoring(user: Any) -> bool:
    return isinstance(user, User) and user.is_authenticated and _can_manage(user)


@register.filter
def alert_badge(value: str) -> str:
    return BADGES.get(value, "text-bg-secondary")


@register.filter
def lag(seconds: float | None) -> str:
    """Pipeline lag in words a duty engineer reads at a glance."""
    value = float(seconds or 0)
    if value < 1:
        return _("none")
    if value < 120:
        return _("%(n)d s") % {"n": round(value)}
    if value < 7200:
        return _("%(n)d min") % {"n": round(value / 60)}
    return _("%(n).1f h") % {"n": value / 3600}


@register.filter
def matcher_text(matchers: list[Mapping[str, Any]] | None) -> str:
    return format_matchers(matchers or []).replace("\n", ", ")


@register.filter
def label_items(labels: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    return sorted((str(k), str(v)) for k, v in (labels or {}).items())


@register.filter
def http_url(value: str | None) -> str:
    """A source's link only if it is http(s): a payload must not plant ``javascript:``."""
    text = (value or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else ""
