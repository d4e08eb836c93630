"""Change management: changes (``CHG-2026-000001``) with their risk, window, plans, approvals
and timeline; templates of pre-approved standard changes; freeze periods; and the version
and patch history of each ERP instance.

Every state change goes through ``erpcare.changes.services.workflow``; these models hold
no behaviour beyond small derived values.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

NUMBER_PREFIX = "CHG"


class ChangeType(models.TextChoices):
    STANDARD = "standard", _("Standard (pre-approved)")
    NORMAL = "normal", _("Normal")
    EMERGENCY = "emergency", _("Emergency")


class ChangeState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ASSESSMENT = "assessment", _("Assessment")
    APPROVAL = "approval", _("Awaiting approval")
    SCHEDULED = "scheduled", _("Scheduled")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    ROLLED_BACK = "rolled_back", _("Rolled back")
    FAILED = "failed", _("Failed")
    REVIEWED = "reviewed", _("Reviewed")
    CANCELLED = "cancelled", _("Cancelled")


class Risk(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")


class FreezePolicy(models.TextChoices):
    WARN = "warn", _("Warn (flag the change)")
    BLOCK = "block", _("Block (refuse scheduling)")


#: States in which a change still occupies its window (conflict checks, the calendar).
ACTIVE_STATES = frozenset(
    {
        ChangeState.ASSESSMENT,
        ChangeState.APPROVAL,
        ChangeState.SCHEDULED,
        ChangeState.IN_PROGRESS,
    }
)
#: States after the work ended; a post-implementation review follows.
FINISHED_STATES = frozenset({ChangeState.COMPLETED, ChangeState.ROLLED_BACK, ChangeState.FAILED})


class ChangeTemplate(models.Model):
    """A standard change: done often, low risk, pre-approved once. A change created from an
    active template skips assessment and approval (its timeline says so)."""

    name = models.CharField(_("name"), max_length=150, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    modules = models.JSONField(_("modules"), default=list, blank=True)
    implementation_plan = models.TextField(_("implementation plan"))
    rollback_plan = models.TextField(_("rollback plan"))
    communication_plan = models.TextField(_("communication plan"), blank=True)
    test_evidence = models.TextField(_("test evidence"), blank=True)
    expected_downtime_minutes = models.PositiveIntegerField(
        _("expected downtime (minutes)"), default=0
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("standard change template")
        verbose_name_plural = _("standard change templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ChangeQuerySet(models.QuerySet["Change"]):
    def visible_to(self, user: Any) -> ChangeQuerySet:
        """Staff and auditors only (customers see no changes yet). Managers, admins and
        auditors see all; agents see changes touching a customer their teams serve, and
        changes without instances."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.sees_all_tickets:
            return self.all()
        if not user.is_agent:
            return self.none()
        from erpcare.customers.services import visible_organizations

        orgs = visible_organizations(user)
        return self.filter(
            models.Q(erp_instances__organization__in=orgs) | models.Q(erp_instances__isnull=True)
        ).distinct()


class Change(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True)
    type = models.CharField(_("type"), max_length=16, choices=ChangeType.choices)
    template = models.ForeignKey(
        ChangeTemplate,
        verbose_name=_("template"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="changes",
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    erp_instances = models.ManyToManyField(
        "customers.ErpInstance", verbose_name=_("ERP instances"), blank=True, related_name="changes"
    )
    modules = models.JSONField(_("modules affected"), default=list, blank=True)
    risk_answers = models.JSONField(_("risk questionnaire"), default=dict, blank=True)
    likelihood = models.PositiveSmallIntegerField(_("likelihood"), null=True, blank=True)
    impact = models.PositiveSmallIntegerField(_("impact"), null=True, blank=True)
    risk = models.CharField(_("risk"), max_length=8, choices=Risk.choices, blank=True)
    planned_start = models.DateTimeField(_("planned start"), null=True, blank=True)
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True)
    expected_downtime_minutes = models.PositiveIntegerField(
        _("expected downtime (minutes)"), default=0
    )
    implementation_plan = models.TextField(_("implementation plan"), blank=True)
    test_evidence = models.TextField(_("test evidence"), blank=True)
    tested_at = models.DateTimeField(_("tested in a test environment at"), null=True, blank=True)
    rollback_plan = models.TextField(_("rollback plan"), blank=True)
    communication_plan = models.TextField(_("communication plan"), blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=ChangeState.choices, default=ChangeState.DRAFT
    )
    approval_round = models.PositiveSmallIntegerField(_("approval round"), default=0)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        on_delete=models.PROTECT,
        related_name="requested_changes",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_changes",
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    lessons = models.TextField(_("lessons learned"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    announced_at = models.DateTimeField(_("customers told of the window"), null=True, blank=True)
    end_notified_at = models.DateTimeField(_("customers told of the end"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    objects = ChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "planned_start"], name="change_state_start"),
            models.Index(fields=["planned_start", "planned_end"], name="change_window"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_flagged(self) -> bool:
        return bool(self.warnings)

    def customers_affected(self) -> models.QuerySet[Any]:
        """The organizations owning the affected ERP instances (derived, never stored)."""
        from erpcare.customers.models import Organization

        return Organization.objects.filter(erp_instances__changes=self).distinct().order_by("name")


class ChangeApproval(models.Model):
    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices)
    comment = models.TextField(_("comment"), blank=True)
    at = models.DateTimeField(_("at"))
    retrospective = models.BooleanField(_("retrospective"), default=False)
    round = models.PositiveSmallIntegerField(_("approval round"), default=0)

    class Meta:
        verbose_name = _("change approval")
        verbose_name_plural = _("change approvals")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.change_id}:{self.approver_id}:{self.decision}"


class FreezePeriod(models.Model):
    """No changes (block) or flagged changes (warn) between two instants, for every
    customer, one customer, or some of its instances — e.g. month-end close, annual audit."""

    name = models.CharField(_("name"), max_length=150)
    organization = models.ForeignKey(
        "customers.Organization",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    erp_instances = models.ManyToManyField(
        "customers.ErpInstance", verbose_name=_("ERP instances"), blank=True, related_name="+"
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    policy = models.CharField(
        _("policy"), max_length=8, choices=FreezePolicy.choices, default=FreezePolicy.WARN
    )
    reason = models.TextField(_("reason"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("freeze period")
        verbose_name_plural = _("freeze periods")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["starts_at", "ends_at"], name="freeze_range")]

    def __str__(self) -> str:
        return self.name


class ChangeEvent(models.Model):
    """The timeline: one row per action (a transition has from → to state)."""

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=32)
    from_state = models.CharField(_("from"), max_length=16, blank=True)
    to_state = models.CharField(_("to"), max_length=16, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("change event")
        verbose_name_plural = _("change events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.change_id}:{self.kind}"


class PatchRecord(models.Model):
    """One version step of an ERP instance: what was applied, when, by which change."""

    erp_instance = models.ForeignKey(
        "customers.ErpInstance",
        verbose_name=_("ERP instance"),
        on_delete=models.CASCADE,
        related_name="patch_records",
    )
    version_before = models.CharField(_("version before"), max_length=40, blank=True)
    version_after = models.CharField(_("version after"), max_length=40)
    patch_name = models.CharField(_("patch"), max_length=200, blank=True)
    applied_at = models.DateTimeField(_("applied"))
    change = models.ForeignKey(
        Change,
        verbose_name=_("change"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="patch_records",
    )
    notes = models.TextField(_("notes"), blank=True)
    kb_articles = models.ManyToManyField(
        "kb.Article", verbose_name=_("upgrade notes"), blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("patch record")
        verbose_name_plural = _("patch records")
        ordering = ["-applied_at", "-id"]
        indexes = [
            models.Index(fields=["erp_instance", "-applied_at"], name="patch_instance_applied")
        ]

    def __str__(self) -> str:
        return f"{self.erp_instance_id}: {self.version_before} → {self.version_after}"
