"""Who hears about an event: rule and subscription matching, recipients by role, and
the customer boundary.

Customers only ever hear about their own organization's tickets, and only about the
conversation with them and its status: never internal notes, assignment, escalation
or SLA events (``CUSTOMER_EVENTS``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from erpcare.accounts.models import RoleCode, TeamMembership, User
from erpcare.channels.models import Destination, Event, EventName, NotificationRule
from erpcare.channels.models.outbox import EventFilter
from erpcare.customers.models import Organization
from erpcare.tickets.models import Ticket

CUSTOMER_EVENTS = frozenset(
    {
        EventName.TICKET_CREATED,
        EventName.TICKET_COMMENTED,
        EventName.TICKET_STATUS,
        EventName.TICKET_RESOLVED,
        EventName.TICKET_REOPENED,
        EventName.SURVEY_REQUESTED,
    }
)


def matches(subject: EventFilter, event: Event) -> bool:
    """A rule's or a destination's filter against an event; empty lists mean all."""
    if subject.events and event.name not in subject.events:
        return False
    if subject.priorities:
        wanted = {int(p) for p in subject.priorities}
        if event.priority is None or event.priority not in wanted:
            return False
    if subject.organization_id is not None and subject.organization_id != event.organization_id:
        return False
    return subject.team_id is None or subject.team_id == event.team_id


def customer_may_receive(user: User, event: Event) -> bool:
    if event.organization_id is None or user.organization_id != event.organization_id:
        return False
    if event.name not in CUSTOMER_EVENTS:
        return False
    comment = (event.data or {}).get("comment")
    return not (isinstance(comment, dict) and comment.get("internal"))


@dataclass
class RuleSet:
    """The active rules and destinations, loaded once per dispatch run."""

    rules: list[NotificationRule]
    rule_users: dict[int, list[int]]
    rule_destinations: dict[int, list[int]]
    destinations: dict[int, Destination]

    @classmethod
    def load(cls) -> RuleSet:
        rules = list(NotificationRule.objects.filter(is_active=True).order_by("position", "pk"))
        rule_ids = [rule.pk for rule in rules]
        rule_users: dict[int, list[int]] = {}
        for rule_id, user_id in NotificationRule.users.through.objects.filter(
            notificationrule_id__in=rule_ids
        ).values_list("notificationrule_id", "user_id"):
            rule_users.setdefault(rule_id, []).append(user_id)
        rule_destinations: dict[int, list[int]] = {}
        for rule_id, destination_id in NotificationRule.destinations.through.objects.filter(
            notificationrule_id__in=rule_ids
        ).values_list("notificationrule_id", "destination_id"):
            rule_destinations.setdefault(rule_id, []).append(destination_id)
        destinations = {d.pk: d for d in Destination.objects.filter(is_active=True)}
        return cls(rules, rule_users, rule_destinations, destinations)

    def matching_rules(self, event: Event) -> list[NotificationRule]:
        return [rule for rule in self.rules if matches(rule, event)]

    def destinations_for(self, event: Event, rules: Iterable[NotificationRule]) -> list[int]:
        """Destinations reached by a matching rule or subscribed directly, each once.

        A destination subscribes directly when it lists events of its own; one with an
        empty event list is only reached through rules.
        """
        found: dict[int, None] = {}
        for rule in rules:
            for destination_id in self.rule_destinations.get(rule.pk, []):
                if destination_id in self.destinations:
                    found[destination_id] = None
        for destination in self.destinations.values():
            if destination.events and matches(destination, event):
                found[destination.pk] = None
        return list(found)


@dataclass
class TicketPeople:
    """The people around an event's ticket, each role loaded only when a rule asks."""

    event: Event
    _cache: dict[str, list[int]] = field(default_factory=dict)

    def _ticket_person(self, key: str) -> list[int]:
        ticket = (self.event.data or {}).get("ticket") or {}
        person: Any = ticket.get(key)
        return [int(person["id"])] if isinstance(person, dict) and person.get("id") else []

    def role(self, role: str) -> list[int]:
        if role not in self._cache:
            self._cache[role] = self._load(role)
        return self._cache[role]

    def _load(self, role: str) -> list[int]:
        event = self.event
        if role == "requester":
            return self._ticket_person("requester")
        if role == "assignee":
            return self._ticket_person("assignee")
        if role == "watchers":
            if event.ticket_id is None:
                return []
            return list(
                Ticket.watchers.through.objects.filter(ticket_id=event.ticket_id).values_list(
                    "user_id", flat=True
                )
            )
        if role in ("team", "team_leads"):
            if event.team_id is None:
                return []
            members = TeamMembership.objects.filter(team_id=event.team_id)
            if role == "team_leads":
                members = members.filter(is_lead=True)
            return list(members.values_list("user_id", flat=True))
        if role == "account_manager":
            if event.organization_id is None:
                return []
            manager = (
                Organization.objects.filter(pk=event.organization_id)
                .values_list("account_manager_id", flat=True)
                .first()
            )
            return [manager] if manager else []
        if role == "managers":
            return list(
                User.objects.filter(role__code=RoleCode.MANAGER, is_active=True).values_list(
                    "pk", flat=True
                )
            )
        return []


def staff_who_see(users: Iterable[User], event: Event) -> set[int]:
    """Of these staff users, those who may see the event's ticket (one query for agents).

    Mirrors ``Ticket.objects.visible_to`` for agents: a team of theirs serves every
    customer or this one, the ticket is their team's, or it is assigned to them.
    """
    users = list(users)
    seeing = {u.pk for u in users if u.sees_all_tickets}
    agents = [u.pk for u in users if u.is_agent and u.pk not in seeing]
    if not agents:
        return seeing
    if event.ticket_id is None:
        return seeing | set(agents)
    condition = Q(team__serves_all_customers=True)
    if event.organization_id is not None:
        condition |= Q(team__customers=event.organization_id)
    if event.team_id is not None:
        condition |= Q(team_id=event.team_id)
    seeing.update(
        TeamMembership.objects.filter(condition, user_id__in=agents).values_list(
            "user_id", flat=True
        )
    )
    assignee = (event.data or {}).get("ticket", {}).get("assignee")
    if isinstance(assignee, dict) and assignee.get("id") in agents:
        seeing.add(int(assignee["id"]))
    return seeing
