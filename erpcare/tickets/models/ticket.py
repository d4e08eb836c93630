"""The ticket aggregate: a customer's problem or request and everything said about it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from erpcare.accounts.models import SupportTier, Team
from erpcare.customers.models import ErpModule
from erpcare.tickets.models.choices import (
    OPEN_STATUSES,
    PRIORITY_SHORT,
    REVERSE_LINK_LABELS,
    Category,
    Channel,
    Impact,
    LinkKind,
    Priority,
    ResolutionCode,
    SlaState,
    Status,
    TicketType,
    Urgency,
)

if TYPE_CHECKING:
    from erpcare.accounts.models import User


class TicketQuerySet(models.QuerySet["Ticket"]):
    def visible_to(self, user: User) -> TicketQuerySet:
        """The one scoping rule for tickets; every view and endpoint goes through it.

        - customer users: their own organization's tickets;
        - agents: tickets of customers their teams serve, of their teams, or assigned to them;
        - managers, admins, auditors: everything.
        """
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_all_tickets:
            return self
        if user.is_customer:
            if not user.organization_id:
                return self.none()
            return self.filter(organization_id=user.organization_id)
        if user.is_agent:
            team_ids, serves_all = agent_team_scope(user)
            if serves_all:
                return self
            served_orgs = Team.customers.through.objects.filter(team_id__in=team_ids).values(
                "organization_id"
            )
            return self.filter(
                Q(organization_id__in=served_orgs)
                | Q(team_id__in=team_ids)
                | Q(assignee_id=user.pk)
            )
        return self.none()

    def open(self) -> TicketQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


def agent_team_scope(user: User) -> tuple[list[int], bool]:
    """(ids of the agent's teams, whether one of them serves every customer).

    Cached on the user object for the length of a request.
    """
    cached: tuple[list[int], bool] | None = getattr(user, "_erpcare_team_scope", None)
    if cached is None:
        rows = list(user.teams.values_list("id", "serves_all_customers"))
        cached = ([team_id for team_id, _all in rows], any(all_ for _id, all_ in rows))
        user._erpcare_team_scope = cached  # type: ignore[attr-defined]
    return cached


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    """A problem or request from a customer, worked through tiers L1 → L2 → L3.

    State changes go through the action functions in ``erpcare.tickets.services``, which
    validate, write the history event and the audit entry in one transaction.
    """

    number = models.CharField(_("number"), max_length=24, unique=True)
    type = models.CharField(
        _("type"), max_length=16, choices=TicketType.choices, default=TicketType.INCIDENT
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.PORTAL
    )
    impact = models.PositiveSmallIntegerField(
        _("impact"), choices=Impact.choices, default=Impact.LOW
    )
    urgency = models.PositiveSmallIntegerField(
        _("urgency"), choices=Urgency.choices, default=Urgency.MEDIUM
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.P3
    )
    category = models.CharField(
        _("category"), max_length=24, choices=Category.choices, default=Category.HOW_TO
    )
    module = models.CharField(_("ERP module"), max_length=16, choices=ErpModule.choices, blank=True)
    organization = models.ForeignKey(
        "customers.Organization",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    erp_instance = models.ForeignKey(
        "customers.ErpInstance",
        verbose_name=_("ERP instance"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requested_tickets",
    )
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("watchers"),
        blank=True,
        related_name="watched_tickets",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="tickets")
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    tier = models.PositiveSmallIntegerField(
        _("support tier"), choices=SupportTier.choices, default=SupportTier.L1
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    resolution_code = models.CharField(
        _("resolution code"), max_length=24, choices=ResolutionCode.choices, blank=True
    )
    resolution = models.TextField(_("resolution"), blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_tickets",
    )
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reopen_count = models.PositiveIntegerField(_("reopened"), default=0)
    # Kept by the SLA engine (sla.services.clocks); copies of its clocks for queues.
    response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    sla_due_at = models.DateTimeField(_("SLA due"), null=True, blank=True)
    sla_state = models.CharField(
        _("SLA"), max_length=12, choices=SlaState.choices, default=SlaState.NONE, blank=True
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["organization", "-id"], name="ticket_org_recent"),
            models.Index(fields=["status", "-id"], name="ticket_status_recent"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status"),
            models.Index(fields=["team", "status"], name="ticket_team_status"),
            models.Index(
                fields=["priority", "-id"],
                name="ticket_open_by_priority",
                condition=Q(status__in=sorted(OPEN_STATUSES)),
            ),
            models.Index(fields=["created_at"], name="ticket_created"),
            models.Index(fields=["resolved_at"], name="ticket_resolved"),
            models.Index(
                fields=["sla_due_at"], condition=Q(sla_due_at__isnull=False), name="ticket_sla_due"
            ),
            models.Index(fields=["sla_state", "sla_due_at"], name="ticket_sla_state_due"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def priority_short(self) -> str:
        return PRIORITY_SHORT[self.priority]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TicketNumberSequence(models.Model):
    """The last number handed out per prefix and year (INC-2026-000123).

    Incremented with one ``UPDATE … RETURNING`` inside the creating transaction: the row
    lock is held only until that transaction commits, which is milliseconds.
    """

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="unique_number_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


class TicketLink(models.Model):
    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(_("link"), max_length=16, choices=LinkKind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("ticket link")
        verbose_name_plural = _("ticket links")
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="unique_ticket_link"),
            models.CheckConstraint(
                condition=~Q(source=models.F("target")), name="ticket_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"

    @property
    def reverse_label(self) -> str:
        return str(REVERSE_LINK_LABELS[LinkKind(self.kind)])
