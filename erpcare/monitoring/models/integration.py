"""Where alerts come from: one integration per sending system, with its own URL and secret,
and every payload it sent, kept raw before anything parses it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from erpcare.core.crypto import EncryptedTextField


class SourceKind(models.TextChoices):
    ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")
    GRAFANA = "grafana", _("Grafana alerting")
    ZABBIX = "zabbix", _("Zabbix")
    PAGERDUTY = "pagerduty", _("PagerDuty Events API v2")
    GENERIC = "generic", _("Generic JSON")
    CLOUDEVENTS = "cloudevents", _("CloudEvents")


class AuthMode(models.TextChoices):
    BEARER = "bearer", _("Bearer token (Authorization header)")
    HMAC = "hmac", _("HMAC-SHA256 signature of the body")


class ResolveAction(models.TextChoices):
    RESOLVE = "resolve", _("Resolve the incident when all its alerts are resolved")
    ANNOTATE = "annotate", _("Only note it on the incident")


class Integration(models.Model):
    """``POST /api/v1/alerts/<source>/<key>``, authenticated by this integration's secret."""

    name = models.CharField(_("name"), max_length=100)
    source = models.CharField(_("source"), max_length=16, choices=SourceKind.choices)
    key = models.CharField(_("key"), max_length=64, unique=True)
    secret = EncryptedTextField(_("secret"))
    auth_mode = models.CharField(
        _("authentication"), max_length=8, choices=AuthMode.choices, default=AuthMode.BEARER
    )
    # Generic sources: where each field is in the JSON (dotted paths), see sources/generic.
    field_mapping = models.JSONField(_("field mapping"), default=dict, blank=True)
    organization = models.ForeignKey(
        "customers.Organization",
        verbose_name=_("customer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Alerts are for this customer unless a routing rule says otherwise."),
    )
    erp_instance = models.ForeignKey(
        "customers.ErpInstance",
        verbose_name=_("ERP instance"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    on_resolve = models.CharField(
        _("when alerts resolve"),
        max_length=10,
        choices=ResolveAction.choices,
        default=ResolveAction.RESOLVE,
    )
    flap_window_minutes = models.PositiveIntegerField(
        _("flap window (minutes)"),
        default=30,
        help_text=_("An alert firing again within this time reopens its incident."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))
    last_received_at = models.DateTimeField(_("last received"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert integration")
        verbose_name_plural = _("alert integrations")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class PayloadState(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSING = "processing", _("Processing")
    PROCESSED = "processed", _("Processed")
    DUPLICATE = "duplicate", _("Duplicate (re-sent)")
    FAILED = "failed", _("Failed")


class AlertPayload(models.Model):
    """One request body as it arrived; the worker parses it. Replayable."""

    # No index of its own: the two composite indexes below start with it, and every index
    # is written on each alert post.
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="payloads", db_index=False
    )
    received_at = models.DateTimeField(_("received"))
    body = models.TextField(_("body"))
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    sha256 = models.CharField(max_length=64)
    state = models.CharField(
        _("state"), max_length=12, choices=PayloadState.choices, default=PayloadState.RECEIVED
    )
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    alerts_count = models.PositiveIntegerField(_("alerts"), default=0)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert payload")
        verbose_name_plural = _("alert payloads")
        ordering = ["-id"]
        indexes = [
            # The worker's queue: only unprocessed rows are in this index.
            models.Index(
                fields=["id"],
                condition=Q(state__in=["received", "processing"]),
                name="alertpayload_queue",
            ),
            models.Index(fields=["integration", "sha256"], name="alertpayload_resend"),
            models.Index(fields=["integration", "-id"], name="alertpayload_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.integration_id}#{self.pk}"
