"""E-mail wordings: a fixed set of placeholders, filled in by plain substitution.

Admin-written text (``EmailTemplate``) is parsed by the small parser below and never
run as code: no ``str.format`` (it follows attribute access) and no Django templates.
Values are inserted as data after parsing, so a ticket title such as ``{ticket_url}`` or
``{{ settings.SECRET_KEY }}`` arrives in the mail exactly as typed.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import override

from erpcare.accounts.models import User
from erpcare.channels.email.defaults import WORDINGS
from erpcare.channels.models import EmailTemplate, EventName
from erpcare.core.errors import ActionError
from erpcare.core.markdown import render_markdown
from erpcare.customers.models import ErpModule
from erpcare.tickets.models import Category, Priority, Status, TicketType

SITE_NAME = "ERPCare"

PLACEHOLDERS: tuple[str, ...] = (
    "ticket_number",
    "ticket_title",
    "ticket_url",
    "ticket_type",
    "priority",
    "status",
    "module",
    "category",
    "customer",
    "requester",
    "assignee",
    "team",
    "due_at",
    "sla_target",
    "comment",
    "changes",
    "actor",
    "recipient",
    "survey_url",
    "digest",
    "site_name",
)
_KNOWN = frozenset(PLACEHOLDERS)
_TOKEN = re.compile(r"\{([^{}]*)\}")

MESSAGE_KEYS: tuple[str, ...] = tuple(WORDINGS)

# Event -> (wording for customers, wording for staff). None: customers are not told.
EVENT_KEYS: dict[str, tuple[str | None, str]] = {
    EventName.TICKET_CREATED: ("ticket_created", "ticket_created_staff"),
    EventName.TICKET_UPDATED: ("updated", "updated"),
    EventName.TICKET_COMMENTED: ("reply", "reply"),
    EventName.TICKET_NOTE: (None, "note"),
    EventName.TICKET_ASSIGNED: ("assigned", "assigned"),
    EventName.TICKET_ESCALATED: (None, "escalated"),
    EventName.TICKET_STATUS: ("status_changed", "status_changed"),
    EventName.TICKET_RESOLVED: ("resolved", "resolved"),
    EventName.TICKET_REOPENED: ("reopened", "reopened"),
    EventName.SLA_WARNING: (None, "sla_warning"),
    EventName.SLA_BREACHED: (None, "sla_breached"),
    EventName.SLA_ESCALATED: (None, "sla_escalated"),
    EventName.INCIDENT_OPENED: (None, "incident_opened"),
    EventName.SURVEY_REQUESTED: ("survey", "survey"),
    EventName.TEST: ("test", "test"),
}

# Fields whose changes a customer may read; the rest (queue, tier, internal tags) stay inside.
_CUSTOMER_FIELDS = frozenset({"title", "status", "priority", "type", "assignee"})


def message_key(event_name: str, *, for_customer: bool) -> str:
    """The wording for this event and audience; ActionError when customers are not told."""
    try:
        customer_key, staff_key = EVENT_KEYS[event_name]
    except KeyError:
        message = _("There is no e-mail for the event “%(event)s”.") % {"event": event_name}
        raise ActionError(message) from None
    if not for_customer:
        return staff_key
    if customer_key is None:
        raise ActionError(_("This event is for staff only and is not sent to customers."))
    return customer_key


# ---------------------------------------------------------------------------
# The placeholder parser
# ---------------------------------------------------------------------------


def _parse(text: str) -> tuple[list[str | tuple[str]], list[str]]:
    """Split text into literal strings and ``(name,)`` placeholders; collect problems."""
    parts: list[str | tuple[str]] = []
    problems: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        literal = text[pos : match.start()]
        problems.extend(_stray_braces(literal, pos))
        parts.append(literal)
        name = match.group(1).strip()
        if name in _KNOWN and match.group(1) == name:
            parts.append((name,))
        else:
            problems.append(_("unknown placeholder {%(name)s}") % {"name": match.group(1)})
        pos = match.end()
    tail = text[pos:]
    problems.extend(_stray_braces(tail, pos))
    parts.append(tail)
    return parts, problems


def _stray_braces(literal: str, offset: int) -> list[str]:
    return [
        _("unbalanced “%(brace)s” at character %(position)d")
        % {"brace": char, "position": offset + index + 1}
        for index, char in enumerate(literal)
        if char in "{}"
    ]


def validate_template(subject: str, body: str) -> None:
    """Raise ActionError naming every unknown placeholder and unbalanced brace."""
    messages = []
    for label, text in ((_("Subject"), subject), (_("Text"), body)):
        _parts, problems = _parse(text)
        if problems:
            messages.append(f"{label}: {'; '.join(problems)}")
    if "\n" in subject or "\r" in subject:
        messages.append(_("Subject: must be one line"))
    if messages:
        allowed = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        raise ActionError(
            _("The template cannot be used. %(problems)s. Allowed placeholders: %(allowed)s.")
            % {"problems": ". ".join(messages), "allowed": allowed}
        )


def fill(text: str, values: dict[str, str]) -> str:
    """Substitute placeholders; ActionError if the text is not a valid template."""
    parts, problems = _parse(text)
    if problems:
        raise ActionError("; ".join(problems))
    return "".join(values.get(part[0], "") if isinstance(part, tuple) else part for part in parts)


# ---------------------------------------------------------------------------
# Values from the event snapshot
# ---------------------------------------------------------------------------


def _label(choices: Any, code: Any) -> str:
    if code is None or code == "":
        return ""
    try:
        return str(choices(code).label)
    except ValueError:
        return str(code)


def _name(person: Any) -> str:
    return str(person.get("name", "")) if isinstance(person, dict) else ""


def format_time(value: Any, tz_name: str) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value))
        zone = zoneinfo.ZoneInfo(tz_name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return str(value)
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} ({tz_name})"


def _changes(changes: Any, *, for_customer: bool) -> str:
    field_labels = {
        "title": _("Title"),
        "status": _("Status"),
        "priority": _("Priority"),
        "type": _("Type"),
        "assignee": _("Assignee"),
        "team": _("Queue"),
        "tier": _("Support tier"),
        "module": _("ERP module"),
        "category": _("Category"),
    }
    lines = []
    for change in changes if isinstance(changes, list) else []:
        if not isinstance(change, dict):
            continue
        field = str(change.get("field", ""))
        if for_customer and field not in _CUSTOMER_FIELDS:
            continue
        old, new = str(change.get("old", "")), str(change.get("new", ""))
        if field == "status":
            old, new = _label(Status, old), _label(Status, new)
        elif field == "priority":
            old, new = _label(Priority, _int(old)), _label(Priority, _int(new))
        label = field_labels.get(field, field)
        lines.append(f"- {label}: {old or '–'} → {new or '–'}")
    return "\n".join(lines)


def _int(value: str) -> int | str:
    try:
        return int(value)
    except ValueError:
        return value


def placeholder_values(
    snapshot: dict[str, Any], *, language: str, for_customer: bool, recipient: User | None = None
) -> dict[str, str]:
    """Every placeholder's text for one recipient, in their language and time zone.
    Customers get the portal link and never internal notes, queues or internal fields."""
    ticket = snapshot.get("ticket") or {}
    comment = snapshot.get("comment") or {}
    sla = snapshot.get("sla") or {}
    tz_name = (recipient.time_zone if recipient is not None else "") or settings.TIME_ZONE
    with override(language):
        show_comment = isinstance(comment, dict) and not (
            for_customer and comment.get("internal", True)
        )
        due = sla.get("due_at") or ticket.get("resolution_due_at") or ticket.get("response_due_at")
        target = sla.get("target", "")
        sla_target = {"response": _("first response"), "resolution": _("resolution")}.get(
            target, str(target)
        )
        url_key = "portal_url" if for_customer else "desk_url"
        team = ticket.get("team")
        return {
            "ticket_number": str(ticket.get("number", "")),
            "ticket_title": str(ticket.get("title", "")),
            "ticket_url": str(ticket.get(url_key, "")),
            "ticket_type": _label(TicketType, ticket.get("type")),
            "priority": _label(Priority, ticket.get("priority")),
            "status": _label(Status, ticket.get("status")),
            "module": _label(ErpModule, ticket.get("module")),
            "category": _label(Category, ticket.get("category")),
            "customer": _name(ticket.get("organization")),
            "requester": _name(ticket.get("requester")),
            "assignee": _name(ticket.get("assignee")) or _("not assigned yet"),
            "team": "" if for_customer else (_name(team) or _("no queue")),
            "due_at": format_time(due, tz_name),
            "sla_target": sla_target,
            "comment": str(comment.get("body", "")) if show_comment else "",
            "changes": _changes(snapshot.get("changes"), for_customer=for_customer),
            "actor": _name(snapshot.get("actor")) or SITE_NAME,
            "recipient": recipient.display_name if recipient is not None else "",
            "survey_url": str(snapshot.get("survey_url") or ticket.get("portal_url", "")),
            "digest": str(snapshot.get("digest", "")),
            "site_name": SITE_NAME,
        }


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------


def normalise_language(language: str) -> str:
    return "zh-hans" if (language or "").lower().startswith("zh") else "en"


def wording(key: str, language: str) -> tuple[str, str]:
    """The admin's wording for this key and language, else the built-in one."""
    language = normalise_language(language)
    row = EmailTemplate.objects.filter(key=key, language=language).first()
    if row is not None:
        return row.subject, row.body
    try:
        return WORDINGS[key][language]
    except KeyError:
        raise ActionError(_("There is no e-mail wording “%(key)s”.") % {"key": key}) from None


def render_email(
    key: str,
    language: str,
    snapshot: dict[str, Any],
    recipient: User | None,
    *,
    for_customer: bool | None = None,
) -> tuple[str, str, str]:
    """(subject, text, html) of one message. The audience defaults to the recipient's role;
    a recipient we do not know as staff is treated as a customer."""
    language = normalise_language(language)
    if for_customer is None:
        for_customer = recipient is None or recipient.is_customer
    values = placeholder_values(
        snapshot, language=language, for_customer=for_customer, recipient=recipient
    )
    subject_text, body_text = wording(key, language)
    try:
        subject, text = fill(subject_text, values), fill(body_text, values)
    except ActionError:
        # An admin's wording that no longer parses must not stop the mail: built-in text.
        builtin_subject, builtin_body = WORDINGS[key][language]
        subject, text = fill(builtin_subject, values), fill(builtin_body, values)
    subject = " ".join(subject.split())
    with override(language):
        footer = _("This message was sent by %(site)s.") % {"site": SITE_NAME}
    html = layout(subject, render_markdown(text), footer, language)
    return subject, f"{text}\n\n-- \n{footer}\n", html


def layout(subject: str, body_html: str, footer: str, language: str) -> str:
    # Inline styles only and no remote resources: mail clients strip <style> and block images.
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(language)}"><head><meta charset="utf-8">'
        f"<title>{escape(subject)}</title></head>\n"
        '<body style="margin:0;padding:0;background:#f4f5f7;">'
        '<div style="max-width:640px;margin:0 auto;padding:24px;'
        "font-family:-apple-system,'Segoe UI','PingFang SC','Microsoft YaHei',sans-serif;"
        'font-size:14px;line-height:1.6;color:#1f2937;">'
        '<div style="background:#ffffff;border:1px solid #e5e7eb;border-radius:6px;'
        f'padding:24px;">{body_html}</div>'
        f'<p style="color:#6b7280;font-size:12px;margin:16px 0 0;">{escape(footer)}</p>'
        "</div></body></html>\n"
    )
