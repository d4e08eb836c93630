"""Backup helpers for templates: ``{% load backup_tags %}``, then
``{% if user|can_read_backups %}``, ``{{ health.rating|health_badge }}``,
``{{ point.started_at|age }}``, ``{{ test.restore_seconds|duration }}``,
``{{ decision|retention_reasons }}``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.backups import permissions
from erpcare.core import clock

register = template.Library()

HEALTH_BADGES = {
    "green": "text-bg-success",
    "yellow": "text-bg-warning",
    "red": "text-bg-danger",
    "grey": "text-bg-secondary",
}
STATUS_BADGES = {
    "ok": "text-bg-success",
    "running": "text-bg-info",
    "failed": "text-bg-danger",
    "timeout": "text-bg-dark",
    "pruned": "text-bg-light border",
    "warn": "text-bg-warning",
    "critical": "text-bg-danger",
    "error": "text-bg-dark",
}


def _user(value: Any) -> User | None:
    return value if isinstance(value, User) and value.is_authenticated else None


@register.filter
def can_read_backups(user: Any) -> bool:
    found = _user(user)
    return found is not None and permissions.can_read_backups(found)


@register.filter
def can_run_backups(user: Any) -> bool:
    found = _user(user)
    return found is not None and permissions.can_run_backups(found)


@register.filter
def can_configure_backups(user: Any) -> bool:
    found = _user(user)
    return found is not None and permissions.can_configure_backups(found)


@register.filter
def health_badge(value: str | None) -> str:
    return HEALTH_BADGES.get(value or "", "text-bg-secondary")


@register.filter
def health_label(value: str | None) -> str:
    labels = {
        "green": _("Green"),
        "yellow": _("Yellow"),
        "red": _("Red"),
        "grey": _("Grey"),
    }
    return labels.get(value or "", labels["grey"])


@register.filter
def backup_status_badge(value: str | None) -> str:
    return STATUS_BADGES.get(value or "", "text-bg-secondary")


def span(delta: timedelta) -> str:
    """A short duration: 45 s, 12 min, 5.3 h, 3 d."""
    seconds = max(0.0, delta.total_seconds())
    if seconds < 90:
        return _("%(n)d s") % {"n": round(seconds)}
    if seconds < 90 * 60:
        return _("%(n)d min") % {"n": round(seconds / 60)}
    if seconds < 48 * 3600:
        return _("%(n)s h") % {"n": f"{seconds / 3600:.1f}"}
    return _("%(n)d d") % {"n": int(seconds // 86400)}


@register.filter
def age(value: datetime | None) -> str:
    """How long ago ``value`` was, or — for nothing."""
    if value is None:
        return "—"
    return span(clock.now() - value)


@register.filter
def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 90:
        return _("%(n)s s") % {"n": f"{seconds:.1f}"}
    return span(timedelta(seconds=seconds))


@register.filter
def filesize(value: int | None) -> str:
    size = float(value or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"  # pragma: no cover


@register.filter
def stats_summary(stats: Any) -> str:
    """Tables and rows recorded at backup time, with the key tables' exact counts."""
    if not isinstance(stats, dict) or not stats.get("tables"):
        return "—"
    counts = {str(k): v for k, v in dict(stats.get("row_counts") or {}).items()}
    exact = [str(t) for t in stats.get("exact") or []]
    text = _("%(tables)d tables, about %(rows)s rows") % {
        "tables": len(stats["tables"]),
        "rows": f"{sum(int(v) for v in counts.values()):,}",
    }
    if exact:
        keys = ", ".join(f"{t} {int(counts.get(t, 0)):,}" for t in exact[:10])
        text += " · " + _("key tables: %(keys)s") % {"keys": keys}
    missing = [str(t) for t in stats.get("missing") or []]
    if missing:
        text += " · " + _("missing: %(tables)s") % {"tables": ", ".join(missing[:10])}
    return text


@register.filter
def retention_reasons(decision: Any) -> str:
    """A retention decision's reasons, translated (``Reason.kind`` and ``period``)."""
    from erpcare.backups.retention import ReasonKind

    texts = []
    for reason in getattr(decision, "reasons", ()):
        match reason.kind:
            case ReasonKind.NEWEST_SUCCESSFUL:
                texts.append(_("the newest successful backup"))
            case ReasonKind.DAILY:
                texts.append(_("the newest of day %(period)s") % {"period": reason.period})
            case ReasonKind.WEEKLY:
                texts.append(_("the newest of ISO week %(period)s") % {"period": reason.period})
            case ReasonKind.MONTHLY:
                texts.append(_("the newest of %(period)s") % {"period": reason.period})
            case ReasonKind.BEYOND_POLICY:
                texts.append(_("beyond the retention policy"))
            case ReasonKind.FAILED_LATEST:
                texts.append(_("failed, the newest attempt: kept until a backup succeeds"))
            case ReasonKind.FAILED_SUPERSEDED:
                texts.append(_("failed, superseded by a newer successful backup"))
            case _:
                texts.append(_("failed, not the newest attempt"))
    return "; ".join(texts)
