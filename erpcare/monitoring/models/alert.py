"""Alerts: one row per alert identity while it is open, linked to its incident ticket."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from erpcare.monitoring.models.integration import AlertPayload, Integration


class AlertStatus(models.TextChoices):
    FIRING = "firing", _("Firing")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    HIGH = "high", _("High")
    WARNING = "warning", _("Warning")
    INFO = "info", _("Info")


class Alert(models.Model):
    """An alert while it lives: repeated firings update it, they never add rows."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="alerts")
    # What makes two events the same alert, as the source says it (Alertmanager's
    # fingerprint, PagerDuty's dedup_key, Zabbix's trigger + host, …).
    identity = models.CharField(_("identity"), max_length=255)
    status = models.CharField(
        _("status"), max_length=12, choices=AlertStatus.choices, default=AlertStatus.FIRING
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.WARNING
    )
    name = models.CharField(_("alert"), max_length=200)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    description = models.TextField(_("description"), blank=True)
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    annotations = models.JSONField(_("annotations"), default=dict, blank=True)
    source_url = models.CharField(_("link"), max_length=500, blank=True)
    starts_at = models.DateTimeField(_("started"))
    ends_at = models.DateTimeField(_("ended"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"))
    last_seen_at = models.DateTimeField(_("last seen"))
    count = models.PositiveIntegerField(_("times received"), default=1)
    reopen_count = models.PositiveIntegerField(_("times reopened"), default=0)
    # Routing's result, kept on the alert so the incident and reports can use it.
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    erp_instance = models.ForeignKey(
        "customers.ErpInstance", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    module = models.CharField(_("ERP module"), max_length=20, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), null=True, blank=True)
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The correlation group this alert joined (customer + instance + group labels).
    group_key = models.CharField(_("group"), max_length=255, blank=True)
    incident = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("incident"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
    )
    suppressed_by = models.ForeignKey(
        "monitoring.MaintenanceWindow",
        verbose_name=_("suppressed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="suppressed_alerts",
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    last_payload = models.ForeignKey(
        AlertPayload, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            # One open alert per identity: a second web worker's insert of the same new
            # alert fails here and becomes an update.
            models.UniqueConstraint(
                fields=["integration", "identity"],
                condition=~Q(status="resolved"),
                name="alert_one_open_per_identity",
            ),
        ]
        indexes = [
            models.Index(fields=["integration", "identity", "-resolved_at"], name="alert_identity"),
            models.Index(fields=["incident", "status"], name="alert_incident"),
            models.Index(fields=["group_key", "-last_seen_at"], name="alert_group_recent"),
            models.Index(fields=["status", "-last_seen_at"], name="alert_status"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class AlertTransition(models.Model):
    """A status change of an alert: the history shown on the incident."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="transitions")
    at = models.DateTimeField(_("at"))
    old_status = models.CharField(max_length=12, blank=True)
    new_status = models.CharField(max_length=12)
    note = models.CharField(_("note"), max_length=200, blank=True)
    payload = models.ForeignKey(
        AlertPayload, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["alert", "id"]

    def __str__(self) -> str:
        return f"{self.alert_id}: {self.old_status} → {self.new_status}"
