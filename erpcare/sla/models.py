"""SLA data: calendars, policies, escalation steps, and each ticket's clocks."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from erpcare.customers.models import Contract
from erpcare.tickets.models import Priority, Ticket


class BusinessCalendar(models.Model):
    """When SLA time counts: always (24×7), or working hours with holidays."""

    class Kind(models.TextChoices):
        ALWAYS = "24x7", _("24×7 (every hour counts)")
        BUSINESS = "business", _("Working hours")

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.BUSINESS)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    holiday_country = models.CharField(
        _("public holidays of"),
        max_length=8,
        blank=True,
        help_text=_("ISO country code; CN includes make-up working days (调休)."),
    )
    holiday_subdivision = models.CharField(_("region"), max_length=16, blank=True)
    makeup_weekday = models.PositiveSmallIntegerField(
        _("a make-up working day has the hours of"),
        default=0,
        help_text=_("0 = Monday … 6 = Sunday"),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WorkingPeriod(models.Model):
    """One stretch of working time on a weekday, in the calendar's time zone."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="periods")
    weekday = models.PositiveSmallIntegerField(_("weekday"))  # 0 = Monday
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"), help_text=_("00:00 means midnight at the end of the day"))

    class Meta:
        verbose_name = _("working period")
        verbose_name_plural = _("working periods")
        ordering = ["weekday", "starts"]

    def __str__(self) -> str:
        return f"{self.weekday} {self.starts:%H:%M}–{self.ends:%H:%M}"


class CalendarDay(models.Model):
    """An admin override: a holiday, or a working day, on one date."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    is_working = models.BooleanField(_("working day"), default=False)
    name = models.CharField(_("name"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="unique_calendar_day")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class ServiceLevel(models.TextChoices):
    DEFAULT = "", _("Default (no contract)")
    VIP = Contract.ServiceLevel.VIP.value, Contract.ServiceLevel.VIP.label
    STANDARD = Contract.ServiceLevel.STANDARD.value, Contract.ServiceLevel.STANDARD.label
    BASIC = Contract.ServiceLevel.BASIC.value, Contract.ServiceLevel.BASIC.label


class SlaPolicy(models.Model):
    """Targets for one priority, for a service level (or one contract, which wins)."""

    name = models.CharField(_("name"), max_length=120)
    service_level = models.CharField(
        _("service level"), max_length=16, choices=ServiceLevel.choices, blank=True
    )
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        help_text=_("Only for this contract; overrides its service level."),
    )
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    response_minutes = models.PositiveIntegerField(_("first response within (minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution within (minutes)"))
    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.PROTECT, related_name="+"
    )
    # xgettext:no-python-format
    warning_percent = models.PositiveSmallIntegerField(_("warn at (% of target)"), default=75)
    pause_when_waiting_customer = models.BooleanField(
        _("pause while waiting for the customer"), default=True
    )
    pause_when_waiting_vendor = models.BooleanField(
        _("pause while waiting for the vendor"), default=False
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["contract", "service_level", "priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_level", "priority"],
                condition=Q(contract__isnull=True),
                name="unique_sla_policy_level",
            ),
            models.UniqueConstraint(
                fields=["contract", "priority"],
                condition=Q(contract__isnull=False),
                name="unique_sla_policy_contract",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def pause_statuses(self) -> frozenset[str]:
        statuses = set()
        if self.pause_when_waiting_customer:
            statuses.add("waiting_customer")
        if self.pause_when_waiting_vendor:
            statuses.add("waiting_vendor")
        return frozenset(statuses)


class Metric(models.TextChoices):
    RESPONSE = "response", _("First response")
    RESOLUTION = "resolution", _("Resolution")


class EscalationStep(models.Model):
    """What happens when a clock reaches a share of its target (100 % = the due time)."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="steps")
    metric = models.CharField(_("clock"), max_length=16, choices=Metric.choices)
    # xgettext:no-python-format
    percent = models.PositiveSmallIntegerField(_("at (% of target)"))
    notify_assignee = models.BooleanField(_("notify the assignee"), default=True)
    notify_team_lead = models.BooleanField(_("notify the team lead"), default=False)
    notify_managers = models.BooleanField(_("notify the support managers"), default=False)
    notify_account_manager = models.BooleanField(
        _("notify the customer's account manager"), default=False
    )
    raise_tier = models.BooleanField(_("raise to the next support tier"), default=False)
    raise_priority = models.BooleanField(_("raise the priority one step"), default=False)

    class Meta:
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        ordering = ["policy", "metric", "percent"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "metric", "percent"], name="unique_escalation_step"
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric}@{self.percent}%"


class Outcome(models.TextChoices):
    PENDING = "pending", _("Running")
    MET = "met", _("Met")
    RESPONSE_BREACHED = "response", _("First response breached")
    RESOLUTION_BREACHED = "resolution", _("Resolution breached")
    BOTH_BREACHED = "both", _("Both breached")


class TicketSla(models.Model):
    """A ticket's two clocks under its policy: the state the evaluator reads and writes.

    Targets, calendar and warning share are copied from the policy when the clock
    starts (and on a re-target), so editing a policy never silently moves the due times
    of tickets already promised. ``next_check_at`` is the earliest instant at which
    something (warning, breach, escalation step) can happen; the evaluator reads only
    rows whose ``next_check_at`` has passed, through its index.
    """

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="sla"
    )
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="+")
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("clock started"))
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()
    warning_percent = models.PositiveSmallIntegerField()

    response_due_at = models.DateTimeField(null=True)
    response_stopped_at = models.DateTimeField(null=True)
    response_warned_at = models.DateTimeField(null=True)
    response_breached_at = models.DateTimeField(null=True)
    response_last_step = models.PositiveSmallIntegerField(default=0)  # % of the last step run
    response_overrun = models.DurationField(null=True)
    # Working time the clock ran, by the calendar, when it stopped: what business-hours
    # KPIs aggregate in SQL (the calendar cannot be evaluated in a query).
    response_elapsed = models.DurationField(null=True)

    resolution_due_at = models.DateTimeField(null=True)  # null while paused or stopped
    resolution_stopped_at = models.DateTimeField(null=True)
    resolution_warned_at = models.DateTimeField(null=True)
    resolution_breached_at = models.DateTimeField(null=True)
    resolution_last_step = models.PositiveSmallIntegerField(default=0)
    resolution_overrun = models.DurationField(null=True)
    resolution_elapsed = models.DurationField(null=True)  # pauses left out

    paused_since = models.DateTimeField(null=True)
    paused_time = models.DurationField(default=timedelta(0))  # working time in closed pauses
    next_check_at = models.DateTimeField(null=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING)

    class Meta:
        verbose_name = _("ticket SLA")
        verbose_name_plural = _("ticket SLAs")
        indexes = [
            models.Index(
                fields=["next_check_at"],
                condition=Q(next_check_at__isnull=False),
                name="sla_next_check",
            ),
            models.Index(fields=["outcome"], name="sla_outcome"),
        ]

    def __str__(self) -> str:
        return f"SLA {self.ticket_id}"


class SlaPause(models.Model):
    """A stretch during which the resolution clock stood still, and why."""

    class Reason(models.TextChoices):
        WAITING_CUSTOMER = "waiting_customer", _("Waiting for customer")
        WAITING_VENDOR = "waiting_vendor", _("Waiting for vendor")
        RESOLVED = "resolved", _("Resolved (until reopened)")

    ticket_sla = models.ForeignKey(TicketSla, on_delete=models.CASCADE, related_name="pauses")
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("until"), null=True)
    working_time = models.DurationField(_("working time"), null=True)

    class Meta:
        verbose_name = _("SLA pause")
        verbose_name_plural = _("SLA pauses")
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.reason} {self.started_at:%Y-%m-%d %H:%M}"


class SlaEvent(models.Model):
    """A warning, breach, escalation step or re-target: recorded once per clock.

    The unique constraint is the last guard of "exactly once": the evaluator claims rows
    with SELECT … FOR UPDATE SKIP LOCKED, and a second evaluator that still reached the
    same threshold would fail on this constraint and roll back its notifications too.
    """

    class Kind(models.TextChoices):
        WARNING = "warning", _("Warning")
        BREACH = "breach", _("Breach")
        ESCALATION = "escalation", _("Escalation")
        RETARGETED = "retargeted", _("Targets changed")

    ticket_sla = models.ForeignKey(TicketSla, on_delete=models.CASCADE, related_name="events")
    metric = models.CharField(max_length=16, choices=Metric.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    step = models.PositiveSmallIntegerField(default=0)  # escalation: the step's percent
    threshold_at = models.DateTimeField(_("due"))  # when the threshold was reached
    recorded_at = models.DateTimeField(_("recorded"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("SLA event")
        verbose_name_plural = _("SLA events")
        ordering = ["threshold_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket_sla", "metric", "kind", "step"],
                condition=~Q(kind="retargeted"),
                name="unique_sla_threshold_event",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.metric}"
