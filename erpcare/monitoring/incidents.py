"""Incidents written by the monitoring service account through the ordinary ticket actions
(so the SLA, events, audit and notifications apply exactly as for a person's ticket)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.utils.translation import gettext as _

from erpcare.accounts.models import Role, RoleCode, User
from erpcare.core.errors import ActionError
from erpcare.customers.models import ErpModule
from erpcare.monitoring.models import Alert
from erpcare.monitoring.routing import Route, team_for_tier
from erpcare.tickets.models import TRANSITIONS, Category, Channel, Status, Ticket, TicketType
from erpcare.tickets.services import add_comment, create_ticket, reopen_ticket, transition_ticket

log = logging.getLogger(__name__)

MONITORING_EMAIL = "monitoring@erpcare.invalid"
MAX_NOTE_LINES = 50


def monitoring_actor() -> User:
    """The service account incidents are written by: a manager (sees every customer) whose
    password is unusable, so nobody can sign in as it."""
    user = User.objects.select_related("role").filter(email=MONITORING_EMAIL).first()
    if user is not None:
        return user
    user = User(
        email=MONITORING_EMAIL,
        display_name="Monitoring",
        role=Role.objects.get_or_create(code=RoleCode.MANAGER)[0],
    )
    user.set_unusable_password()
    user.save()
    return user


def alert_line(alert: Alert) -> str:
    where = alert.labels.get("instance") or (alert.erp_instance.name if alert.erp_instance else "")
    text = f"{alert.name} ({where})" if where else alert.name
    return f"{text}: {alert.summary}" if alert.summary else text


def _description(alert: Alert) -> str:
    lines = [alert.summary or alert.name, ""]
    if alert.description:
        lines += [alert.description, ""]
    lines.append(_("Severity: %(severity)s") % {"severity": alert.severity})
    lines.append(_("Started: %(at)s") % {"at": alert.starts_at.isoformat()})
    if alert.source_url:
        lines.append(_("Link: %(url)s") % {"url": alert.source_url})
    if alert.labels:
        lines += ["", _("Labels:")]
        lines += [f"- {key}={value}" for key, value in sorted(alert.labels.items())]
    return "\n".join(lines)


def open_incident(actor: User, alert: Alert, route: Route) -> Ticket:
    """A new incident ticket for ``alert``'s group (raises ActionError when the ticket
    actions refuse, e.g. an inactive customer)."""
    assert route.organization is not None
    where = alert.labels.get("instance") or (route.erp_instance.name if route.erp_instance else "")
    title = f"{alert.name} — {where}" if where else alert.name
    team = route.team
    if team is None and route.tier is not None:
        team = team_for_tier(route.tier, route.organization)
    module = route.module if route.module in ErpModule.values else ""
    kwargs = {
        "title": title[:200],
        "description": _description(alert),
        "organization": route.organization,
        "type": TicketType.INCIDENT,
        "channel": Channel.MONITORING,
        "priority": route.priority,
        "category": Category.SYSTEM_FAILURE,
        "module": module,
        "erp_instance": route.erp_instance,
        "tags": ["monitoring"],
    }
    try:
        return create_ticket(actor, team=team, **kwargs)  # type: ignore[arg-type]
    except ActionError:
        if team is None:
            raise
        # A routed team that does not serve this customer must not cost the incident.
        log.warning("monitoring: team %s refused for %s", team, route.organization)
        return create_ticket(actor, team=None, **kwargs)  # type: ignore[arg-type]


def annotate(actor: User, ticket: Ticket, lines: Iterable[str]) -> bool:
    """One internal note with ``lines``; False when the ticket takes no more notes."""
    lines = list(lines)
    if not lines:
        return False
    if len(lines) > MAX_NOTE_LINES:
        more = len(lines) - MAX_NOTE_LINES
        lines = [*lines[:MAX_NOTE_LINES], _("… and %(n)d more") % {"n": more}]
    try:
        add_comment(actor, ticket, body="\n".join(lines), internal=True, counts_as_response=False)
    except ActionError as error:
        log.info("monitoring: note on %s refused: %s", ticket.number, error.message)
        return False
    return True


def resolve(actor: User, ticket: Ticket, lines: Iterable[str]) -> bool:
    """Resolve the incident because all its alerts resolved at the source."""
    if Status.RESOLVED not in TRANSITIONS[Status(ticket.status)]:
        return False
    text = "\n".join([_("All alerts of this incident resolved at the source."), *lines])
    try:
        transition_ticket(
            actor, ticket, to=Status.RESOLVED, resolution_code="fixed", resolution=text
        )
    except ActionError as error:
        log.info("monitoring: resolving %s refused: %s", ticket.number, error.message)
        return False
    return True


def reopen(actor: User, ticket: Ticket, alert: Alert) -> bool:
    """Reopen a resolved incident because one of its alerts fires again (flapping)."""
    if ticket.status != Status.RESOLVED:
        return ticket.status != Status.CLOSED
    try:
        reopen_ticket(
            actor,
            ticket,
            reason=_("Alert firing again: %(alert)s") % {"alert": alert_line(alert)},
        )
    except ActionError as error:
        log.info("monitoring: reopening %s refused: %s", ticket.number, error.message)
        return False
    return True
