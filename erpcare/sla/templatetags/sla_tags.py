"""SLA helpers for templates: the countdown badge, durations and permissions.

``{% load sla_tags %}`` then ``{% sla_badge ticket %}``. The badge reads only the
ticket's own columns (``sla_state``, ``sla_due_at``, ``created_at``), so a queue page
costs no extra query for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.core import clock
from erpcare.sla.services.permissions import can_manage_sla as _can_manage_sla
from erpcare.tickets.models import SlaState

register = template.Library()

# level → CSS classes (and an inline colour for orange, which Bootstrap has no class for)
LEVELS: dict[str, tuple[str, str]] = {
    "green": ("text-bg-success", ""),
    "yellow": ("text-bg-warning", ""),
    "orange": ("text-bg-warning", "background-color: var(--bs-orange, #fd7e14) !important;"),
    "red": ("text-bg-danger", ""),
    "grey": ("text-bg-secondary", ""),
    "muted": ("bg-body-secondary text-body-secondary border", ""),
}


def format_duration(value: timedelta | None) -> str:
    """ "2 d 3 h", "1 h 20 min", "35 min", "< 1 min" — rounded down to the minute."""
    if value is None:
        return "—"
    minutes = int(abs(value).total_seconds() // 60)
    if not value:
        return _("0 min")
    if minutes < 1:
        return _("< 1 min")
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        if hours:
            return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
        return _("%(days)d d") % {"days": days}
    if hours:
        if mins:
            return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": mins}
        return _("%(hours)d h") % {"hours": hours}
    return _("%(minutes)d min") % {"minutes": mins}


def badge_level(
    state: str, due_at: datetime | None, created_at: datetime | None, now: datetime
) -> str:
    """The colour of the badge: by the share of the window that remains, and the state."""
    if state == SlaState.PAUSED:
        return "grey"
    if state in (SlaState.MET, SlaState.MISSED):
        return "muted"
    if state == SlaState.BREACHED or (due_at is not None and due_at <= now):
        return "red"
    if due_at is None:
        return "orange" if state == SlaState.WARNING else "green"
    remaining = due_at - now
    window = due_at - created_at if created_at is not None else remaining
    share = remaining / window if window.total_seconds() > 0 else 0.0
    if state == SlaState.WARNING or share < 0.25:
        return "orange"
    if share <= 0.5:
        return "yellow"
    return "green"


def badge_text(state: str, due_at: datetime | None, now: datetime) -> str:
    if state == SlaState.PAUSED:
        return _("paused")
    if state == SlaState.MET:
        return _("SLA met")
    if state == SlaState.MISSED:
        return _("SLA missed")
    if due_at is None:
        return str(SlaState(state).label) if state in SlaState.values else state
    if due_at <= now:
        return _("overdue %(time)s") % {"time": format_duration(now - due_at)}
    text = _("due in %(time)s") % {"time": format_duration(due_at - now)}
    if state == SlaState.BREACHED:
        return _("breached, %(due)s") % {"due": text}
    return text


def due_title(due_at: datetime | None) -> str:
    if due_at is None:
        return ""
    local = timezone.localtime(due_at)
    return _("Due %(when)s (%(zone)s)") % {
        "when": date_format(local, "Y-m-d H:i"),
        "zone": timezone.get_current_timezone_name(),
    }


@register.simple_tag
def sla_badge(ticket: Any, now: datetime | None = None) -> SafeString:
    """The countdown badge of a ticket; empty for a ticket without an SLA."""
    state = getattr(ticket, "sla_state", "") or ""
    if not state:
        return SafeString("")
    now = now or clock.now()
    due_at = getattr(ticket, "sla_due_at", None)
    level = badge_level(state, due_at, getattr(ticket, "created_at", None), now)
    css, style = LEVELS[level]
    title = due_title(due_at) or str(SlaState(state).label if state in SlaState.values else state)
    return format_html(
        '<span class="badge sla-badge {}"{} title="{}" data-testid="sla-badge" '
        'data-sla-state="{}" data-sla-level="{}"><i class="bi bi-stopwatch me-1" '
        'aria-hidden="true"></i>{}</span>',
        css,
        format_html(' style="{}"', style) if style else "",
        title,
        state,
        level,
        badge_text(state, due_at, now),
    )


@register.filter
def duration(value: timedelta | None) -> str:
    """``{{ clock.used|duration }}`` → "3 h 30 min"."""
    return format_duration(value)


@register.filter
def bar_width(percent: int | float | None) -> int:
    """A progress bar's width: the percentage clamped to 0–100."""
    return max(0, min(100, int(percent or 0)))


@register.filter
def can_manage_sla(user: Any) -> bool:
    return isinstance(user, User) and user.is_authenticated and _can_manage_sla(user)
