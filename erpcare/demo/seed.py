"""Replay the demo plan through the real service functions.

Customers, contracts and ERP instances have no service functions yet and are written
with the ORM; users go through ``accounts.services.create_user`` and
``add_team_member``; every ticket change goes through ``erpcare.tickets.services``
inside ``clock.frozen_at(step time)``, so ticket events and audit rows carry the
historical times. Audit rows say ``channel = "demo"``.

The whole seed is one transaction: either the complete demo exists or none of it does.
The first demo organization is the marker: when it exists, seeding does nothing.
"""

from __future__ import annotations

import time as timer
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from erpcare.accounts.models import Team, User
from erpcare.accounts.services import add_team_member, create_user
from erpcare.core import clock
from erpcare.core.context import ActionOrigin, origin
from erpcare.customers.models import Contact, Contract, ErpInstance, Organization
from erpcare.demo import DEMO_PASSWORD, data
from erpcare.demo.backups import seed_backups
from erpcare.demo.channels import seed_channels
from erpcare.demo.inspections import seed_inspections
from erpcare.demo.kb import seed_knowledge_base
from erpcare.demo.monitoring import seed_monitoring
from erpcare.demo.plan import (
    AUTO_CLOSE_DAYS,
    DEFAULT_TICKETS,
    HISTORY_DAYS,
    LOCAL,
    SEED,
    DemoPlan,
    Step,
    TicketPlan,
    build_plan,
)
from erpcare.demo.problems import review_before_closure
from erpcare.demo.reports import seed_reports
from erpcare.sla.services.evaluator import evaluate_due
from erpcare.tickets.models import Ticket
from erpcare.tickets.services import (
    add_comment,
    assign_ticket,
    auto_close_resolved,
    create_ticket,
    escalate_ticket,
    link_tickets,
    merge_tickets,
    reopen_ticket,
    transition_ticket,
    update_ticket,
)

DEMO_ORIGIN = ActionOrigin(channel="demo")
ACCOUNT_MANAGER = "manager@erpcare.demo"
SLA_PASS_EVERY = timedelta(minutes=5)

__all__ = ["DEFAULT_TICKETS", "DemoConflict", "SeedResult", "demo_exists", "seed_demo"]


class DemoConflict(Exception):
    """The database already holds rows the demo would create (but not the demo itself)."""


@dataclass(frozen=True)
class SeedResult:
    created: bool  # False when the demo already existed
    tickets: int  # demo tickets in the database now
    seconds: float


def demo_exists() -> bool:
    return Organization.objects.filter(code=data.MARKER_ORGANIZATION).exists()


def seed_demo(
    *,
    tickets: int = DEFAULT_TICKETS,
    now: datetime | None = None,
    seed: int = SEED,
    progress: Callable[[str], None] | None = None,
) -> SeedResult:
    """Create the demo data set unless it exists; safe to call any number of times."""
    started = timer.perf_counter()
    if demo_exists():
        return SeedResult(False, _demo_ticket_count(), timer.perf_counter() - started)
    now = now or timezone.now()
    plan = build_plan(tickets, now=now, seed=seed)
    with transaction.atomic(), origin(DEMO_ORIGIN):
        # Checked again under the write lock: a concurrent seed may have won the race.
        if demo_exists():
            return SeedResult(False, _demo_ticket_count(), timer.perf_counter() - started)
        _check_conflicts()
        world = _World.build(plan)
        if progress:
            progress(
                f"{len(world.users)} users, {len(world.teams)} teams, "
                f"{len(world.orgs)} customers created"
            )
        world.replay(plan, progress)
        seed_knowledge_base(plan, {slot: t.pk for slot, t in world.tickets.items()}, progress)
        seed_channels(list(world.orgs.values()))
        seed_monitoring(list(world.orgs.values()))
        seed_inspections(list(world.orgs.values()))
        seed_backups(list(world.orgs.values()))
        seed_reports([org.pk for org in world.orgs.values()], now)
    return SeedResult(True, len(plan.tickets), timer.perf_counter() - started)


def _check_conflicts() -> None:
    emails = [p.email for p in data.STAFF]
    emails += [u.email for org in data.ORGANIZATIONS for u in org.users]
    taken = [
        *User.objects.filter(email__in=emails).values_list("email", flat=True),
        *Team.objects.filter(code__in=[t.code for t in data.TEAMS]).values_list("code", flat=True),
        *Organization.objects.filter(code__in=[o.code for o in data.ORGANIZATIONS]).values_list(
            "code", flat=True
        ),
    ]
    if taken:
        raise DemoConflict(
            "This database already has users, teams or customers the demo would create: "
            f"{', '.join(sorted(taken))}. Seed the demo into an empty database."
        )


def _demo_ticket_count() -> int:
    codes = [org.code for org in data.ORGANIZATIONS]
    return Ticket.objects.filter(organization__code__in=codes).count()


class _World:
    """The demo's organizations, people and teams, and the tickets created so far."""

    def __init__(self) -> None:
        self.orgs: dict[str, Organization] = {}
        self.instances: dict[str, ErpInstance] = {}
        self.users: dict[str, User] = {}
        self.teams: dict[str, Team] = {}
        self.tickets: dict[int, Ticket] = {}

    # -- setup ------------------------------------------------------------------------------

    @classmethod
    def build(cls, plan: DemoPlan) -> _World:
        world = cls()
        today = plan.now.astimezone(LOCAL).date()
        setup_day = today - timedelta(days=HISTORY_DAYS + 30)
        setup_at = timezone.make_aware(datetime.combine(setup_day, datetime.min.time()), LOCAL)
        setup_at += timedelta(hours=9)
        with clock.frozen_at(setup_at):
            world._customers(today)
            world._people()
            world._teams()
        Organization.objects.filter(pk__in=[o.pk for o in world.orgs.values()]).update(
            created_at=setup_at
        )
        # The support manager looks after the VIP accounts: SLA escalations reach her.
        Organization.objects.filter(pk__in=[o.pk for o in world.orgs.values()], tier="vip").update(
            account_manager=world.users[ACCOUNT_MANAGER]
        )
        User.objects.filter(pk__in=[u.pk for u in world.users.values()]).update(
            date_joined=setup_at, password=make_password(DEMO_PASSWORD)
        )
        # Fresh objects: roles loaded, team scope not cached from before the teams existed.
        world.users = {
            u.email: u
            for u in User.objects.select_related("role", "organization").filter(
                pk__in=[u.pk for u in world.users.values()]
            )
        }
        return world

    def _customers(self, today: date) -> None:
        contract_start = (today - timedelta(days=180)).replace(day=1)
        for spec in data.ORGANIZATIONS:
            org = Organization.objects.create(
                code=spec.code,
                name=spec.name,
                tier=spec.tier,
                time_zone=spec.time_zone,
                notes=spec.notes,
            )
            self.orgs[spec.code] = org
            Contract.objects.create(
                organization=org,
                name=spec.contract_name,
                starts_on=contract_start,
                ends_on=contract_start.replace(year=contract_start.year + 1) - timedelta(days=1),
                service_level=spec.service_level,
                support_hours=spec.support_hours,
            )
            if spec.tier == "vip":
                previous_start = contract_start.replace(year=contract_start.year - 1)
                Contract.objects.create(
                    organization=org,
                    name=f"{spec.contract_name}（上一期 / previous term）",
                    starts_on=previous_start,
                    ends_on=contract_start - timedelta(days=1),
                    service_level=spec.service_level,
                    support_hours=spec.support_hours,
                )
            Contact.objects.bulk_create(
                Contact(organization=org, name=c.name, kind=c.kind, email=c.email, phone=c.phone)
                for c in spec.contacts
            )
            for instance in spec.instances:
                self.instances[instance.name] = ErpInstance.objects.create(
                    organization=org,
                    name=instance.name,
                    product=instance.product,
                    version=instance.version,
                    environment=instance.environment,
                    modules=list(instance.modules),
                )

    def _people(self) -> None:
        # The administrator is created by the system; everyone else by the administrator.
        # No password here: one hash of the shared demo password is set for all at the end.
        admin: User | None = None
        for person in data.STAFF:
            user = create_user(
                email=person.email,
                display_name=person.name,
                role_code=person.role,
                actor=admin,
                language=person.language,
            )
            self.users[person.email] = user
            if person.role == "admin" and admin is None:
                admin = user
        for spec in data.ORGANIZATIONS:
            for customer in spec.users:
                self.users[customer.email] = create_user(
                    email=customer.email,
                    display_name=customer.name,
                    role_code="customer",
                    organization=self.orgs[spec.code],
                    actor=admin,
                    language=customer.language,
                    time_zone=spec.time_zone,
                )

    def _teams(self) -> None:
        admin = self.users[data.STAFF[0].email]
        for spec in data.TEAMS:
            team = Team.objects.create(
                code=spec.code, name=spec.name, tier=spec.tier, serves_all_customers=not spec.serves
            )
            if spec.serves:
                team.customers.set([self.orgs[code] for code in spec.serves])
            self.teams[spec.code] = team
        for person in data.STAFF:
            for code in person.teams:
                add_team_member(
                    team=self.teams[code],
                    user=self.users[person.email],
                    is_lead=person.lead,
                    actor=admin,
                )

    # -- tickets ----------------------------------------------------------------------------

    def replay(self, plan: DemoPlan, progress: Callable[[str], None] | None) -> None:
        specs = {ticket.slot: ticket for ticket in plan.tickets}
        created = 0
        evaluated = None
        for at, slot, _index, step in plan.timeline():
            with clock.frozen_at(at):
                # The worker's SLA pass, as it would have run just before this moment (at
                # most every few minutes): warnings, breaches and escalations land in
                # history at their times.
                if evaluated is None or at - evaluated >= SLA_PASS_EVERY:
                    evaluate_due(at)
                    evaluated = at
                if step.action == "auto_close" or step.args.get("to") == "closed":
                    # P0/P1 incidents close only with a completed post-incident review.
                    review_before_closure(self.tickets.get(slot) if slot >= 0 else None)
                if step.action == "auto_close":
                    auto_close_resolved(older_than_days=AUTO_CLOSE_DAYS)
                    continue
                self._run(specs[slot], step)
            if step.action == "create":
                created += 1
                if progress and created % 100 == 0:
                    progress(f"{created} tickets")
        with clock.frozen_at(plan.now):
            evaluate_due(plan.now)

    def _user(self, email: str | None) -> User | None:
        return self.users[email] if email else None

    def _run(self, spec: TicketPlan, step: Step) -> None:
        actor = self.users[step.actor] if step.actor else None
        assert actor is not None
        args = dict(step.args)
        if step.action == "create":
            self.tickets[spec.slot] = create_ticket(
                actor,
                title=spec.title,
                description=spec.description,
                organization=self.orgs[spec.org],
                type=spec.type,
                channel=spec.channel,
                impact=spec.impact,
                urgency=spec.urgency,
                priority=args.get("priority"),
                category=spec.category,
                module=spec.module,
                erp_instance=self.instances[spec.instance],
                requester=None if actor.is_customer else self._user(spec.requester),
                team=self.teams.get(args.get("team", "")),
                assignee=self._user(args.get("assignee")),
                tags=spec.tags,
                watchers=[self.users[email] for email in spec.watchers],
            )
            return
        ticket = self.tickets[spec.slot]
        partner = self.tickets[args["target"]] if args.get("target") is not None else None
        if step.action == "assign":
            assign_ticket(
                actor,
                ticket,
                assignee=self._user(args.get("assignee")),
                team=self.teams.get(args.get("team", "")),
            )
        elif step.action == "update":
            update_ticket(actor, ticket, **args)
        elif step.action == "comment":
            body = args["body"]
            if args.get("partner") is not None:
                body = body.format(number=self.tickets[args["partner"]].number)
            add_comment(
                actor, ticket, body=body, internal=args["internal"], channel=args["channel"]
            )
        elif step.action == "transition":
            transition_ticket(
                actor,
                ticket,
                to=args["to"],
                resolution_code=args.get("resolution_code", ""),
                resolution=args.get("resolution", ""),
            )
        elif step.action == "escalate":
            ticket.refresh_from_db(fields=["tier"])
            if ticket.tier == args["tier"]:
                # The SLA escalation got there first; the engineer takes it from the queue.
                if args.get("assignee"):
                    assign_ticket(
                        actor,
                        ticket,
                        assignee=self._user(args["assignee"]),
                        team=self.teams[args["team"]],
                    )
                return
            escalate_ticket(
                actor,
                ticket,
                tier=args["tier"],
                reason=args["reason"],
                team=self.teams[args["team"]],
                assignee=self._user(args.get("assignee")),
            )
        elif step.action == "reopen":
            reopen_ticket(actor, ticket, reason=args["reason"])
        elif step.action == "link":
            assert partner is not None
            link_tickets(actor, ticket, partner, kind=args["kind"])
        elif step.action == "merge":
            assert partner is not None
            merge_tickets(
                actor, ticket, partner, reason=args["reason"].format(number=partner.number)
            )
        else:  # pragma: no cover - a typo in the plan
            raise ValueError(f"unknown demo step {step.action!r}")
