"""What a chat robot says about an event, built from the event snapshot.

Every robot shows the same facts (event, ticket number and title, priority, customer,
status, assignee, SLA due, a link to the desk); only the vendor's wire format differs.
The card is built in the destination's language: codes in the snapshot (priority,
status) become labels under ``translation.override``, and due times are shown in the
customer's time zone (the installation's when the customer is unknown).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from erpcare.channels.models import EventName
from erpcare.customers.models import Organization
from erpcare.tickets.models import Priority, Status

if TYPE_CHECKING:
    from erpcare.channels.models import Delivery

EXCERPT_CHARS = 500


@dataclass(frozen=True)
class Card:
    title: str  # "Ticket created · INC-2026-000123"
    heading: str  # the ticket's title (or the test message's)
    facts: list[tuple[str, str]] = field(default_factory=list)
    text: str = ""  # a comment's body or the list of changes, already shortened
    url: str = ""
    link_label: str = ""
    severe: bool = False  # P0/P1 or an SLA breach: vendors that can, colour the card

    @property
    def fallback(self) -> str:
        """One line for notifications that show no card (Slack's ``text``, push previews)."""
        return f"{self.title}: {self.heading}" if self.heading else self.title


def one_line(value: Any, limit: int = 200) -> str:
    """User text as a single line: a title must not break the card's layout."""
    text = " ".join(str(value or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shorten(value: Any, limit: int = EXCERPT_CHARS) -> str:
    text = str(value or "").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def truncate_utf8(text: str, limit: int) -> str:
    """At most ``limit`` bytes of UTF-8, cut on a character boundary (vendors count bytes)."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    marker = "…".encode()
    return data[: limit - len(marker)].decode("utf-8", errors="ignore") + "…"


def _zone(snapshot_ticket: dict[str, Any]) -> zoneinfo.ZoneInfo:
    org = snapshot_ticket.get("organization") or {}
    name = settings.TIME_ZONE
    if isinstance(org, dict) and org.get("id"):
        found = Organization.objects.filter(pk=org["id"]).values_list("time_zone", flat=True)
        name = next(iter(found), "") or name
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _when(value: Any, zone: zoneinfo.ZoneInfo) -> str:
    moment = parse_datetime(str(value)) if value else None
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo("UTC"))
    local: datetime = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} ({zone.key})"


def _label(choices: Any, value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _event_label(name: str) -> str:
    try:
        return str(EventName(name).label)
    except ValueError:
        return name


def build(event_name: str, snapshot: dict[str, Any], language: str) -> Card:
    """The card for one event in ``language``."""
    with translation.override(language):
        return _build(event_name, snapshot or {})


def _build(event_name: str, snapshot: dict[str, Any]) -> Card:
    ticket = snapshot.get("ticket") or {}
    event_label = _event_label(event_name)
    if not ticket:
        return Card(
            title=f"ERPCare · {event_label}",
            heading=_("This is a test message from ERPCare. The robot is set up correctly."),
            url=settings.SITE_URL + "/",
            link_label=_("Open ERPCare"),
        )
    zone = _zone(ticket)
    priority = ticket.get("priority")
    facts: list[tuple[str, str]] = [
        (_("Priority"), _label(Priority, priority)),
        (_("Customer"), one_line((ticket.get("organization") or {}).get("name"))),
        (_("Status"), _label(Status, ticket.get("status"))),
        (_("Assignee"), one_line((ticket.get("assignee") or {}).get("name")) or _("Unassigned")),
    ]
    sla = snapshot.get("sla") or {}
    if sla.get("due_at"):
        target = _("Response due") if sla.get("target") == "response" else _("Resolution due")
        facts.append((target, _when(sla["due_at"], zone)))
    else:
        for key, label in (
            ("response_due_at", _("Response due")),
            ("resolution_due_at", _("Resolution due")),
        ):
            if ticket.get(key):
                facts.append((label, _when(ticket[key], zone)))
    actor = snapshot.get("actor") or {}
    if actor.get("name"):
        facts.append((_("By"), one_line(actor["name"])))

    text = ""
    comment = snapshot.get("comment") or {}
    if comment.get("body"):
        text = shorten(comment["body"])
    elif snapshot.get("changes"):
        text = "\n".join(
            f"{one_line(c.get('field'), 40)}: {one_line(c.get('old'), 80) or '—'} → "
            f"{one_line(c.get('new'), 80) or '—'}"
            for c in snapshot["changes"][:10]
        )
    return Card(
        title=f"{event_label} · {one_line(ticket.get('number'), 40)}",
        heading=one_line(ticket.get("title")),
        facts=[(label, value) for label, value in facts if value],
        text=text,
        url=str(ticket.get("desk_url") or settings.SITE_URL + "/"),
        link_label=_("Open ticket %(number)s") % {"number": one_line(ticket.get("number"), 40)},
        severe=priority in (0, 1) or event_name == EventName.SLA_BREACHED,
    )


def for_delivery(delivery: Delivery) -> Card:
    event = delivery.event
    language = delivery.destination.language if delivery.destination else delivery.language
    if event is None:
        return build(EventName.TEST, {}, language)
    return build(event.name, event.data, language)


def markdown(card: Card, *, bold: str = "**", quote: bool = True) -> str:
    """Plain Markdown that WeCom, DingTalk and Slack-like renderers agree on."""
    lines = [f"{bold}{card.title}{bold}", "", card.heading, ""]
    lines += [f"- {label}: {value}" for label, value in card.facts]
    if card.text:
        lines.append("")
        prefix = "> " if quote else ""
        lines += [f"{prefix}{line}" for line in card.text.splitlines() if line.strip()]
    if card.url:
        lines += ["", f"[{card.link_label}]({card.url})"]
    return "\n".join(lines)
