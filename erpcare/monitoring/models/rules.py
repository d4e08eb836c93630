"""Routing, correlation and maintenance: how an alert finds its customer, priority and
incident, and when it must not open one."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RoutingRule(models.Model):
    """Evaluated in order: when the matchers match an alert's labels, set these fields.

    ``matchers``: a list of ``{"label": str, "op": "=" | "!=" | "=~" | "!~", "value": str}``
    (Alertmanager's matcher semantics; regexes are anchored). Later rules may override
    earlier ones unless a matching rule has ``stop``.
    """

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    integration = models.ForeignKey(
        "monitoring.Integration",
        verbose_name=_("only for integration"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="routing_rules",
    )
    matchers = models.JSONField(_("matchers"), default=list, blank=True)
    set_organization = models.ForeignKey(
        "customers.Organization",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    set_erp_instance = models.ForeignKey(
        "customers.ErpInstance",
        verbose_name=_("ERP instance"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    # Take the instance from a label instead (its value matched against ErpInstance names).
    instance_label = models.CharField(_("instance from label"), max_length=100, blank=True)
    set_module = models.CharField(_("ERP module"), max_length=20, blank=True)
    set_priority = models.PositiveSmallIntegerField(_("priority"), null=True, blank=True)
    # {"critical": 0, "high": 1, "warning": 2, "info": 3}: severity → priority.
    severity_map = models.JSONField(_("severity to priority"), default=dict, blank=True)
    set_team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    set_tier = models.PositiveSmallIntegerField(_("support tier"), null=True, blank=True)
    # Business impact: raise the priority one step in the last N days of a month for these
    # modules (month-end close), 0 = off.
    month_end_days = models.PositiveSmallIntegerField(_("month-end days"), default=0)
    month_end_modules = models.JSONField(_("month-end modules"), default=list, blank=True)
    stop = models.BooleanField(_("stop after this rule"), default=False)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class CorrelationKind(models.TextChoices):
    GROUP = "group", _("Same customer, instance and group labels within a time window")
    TOPOLOGY = "topology", _("While a parent alert fires, dependent alerts join its incident")


class CorrelationRule(models.Model):
    """How alerts are grouped into one incident."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    kind = models.CharField(_("kind"), max_length=10, choices=CorrelationKind.choices)
    group_by = models.JSONField(_("group labels"), default=list, blank=True)
    window_minutes = models.PositiveIntegerField(_("window (minutes)"), default=60)
    # Topology: the parent ("database down") and its dependents ("ERP job failed"), as
    # matcher lists; both must be on the same ERP instance.
    parent_matchers = models.JSONField(_("parent alert"), default=list, blank=True)
    child_matchers = models.JSONField(_("dependent alerts"), default=list, blank=True)

    class Meta:
        verbose_name = _("correlation rule")
        verbose_name_plural = _("correlation rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class MaintenanceWindow(models.Model):
    """While a window is open, alerts for its instances are recorded but open no incident.

    One-off (``starts_at``–``ends_at``) or recurring (``cron`` + ``duration_minutes`` in
    the window's time zone, between ``starts_at`` and ``ends_at``). The change-management
    issue creates windows from approved changes (``change_ref``).
    """

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
    cron = models.CharField(_("repeats (cron)"), max_length=100, blank=True)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), default=0)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    reason = models.TextField(_("reason"), blank=True)
    change_ref = models.CharField(_("change"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")
        ordering = ["-starts_at", "id"]

    def __str__(self) -> str:
        return self.name
