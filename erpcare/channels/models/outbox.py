"""The outbox: events that happened, and the deliveries they fan out to.

An action writes one ``Event`` row inside its own transaction (so an event exists exactly
when the change it describes committed). The worker fans each event out into
``Delivery`` rows by the notification rules and subscriptions, and sends each delivery
with retries; every try is kept as a ``DeliveryAttempt``. Nothing is sent from inside a
request or a transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from erpcare.core.crypto import EncryptedTextField


class EventName(models.TextChoices):
    """Every event ERPCare publishes. Webhook payloads carry these names verbatim."""

    TICKET_CREATED = "ticket.created", _("Ticket created")
    TICKET_UPDATED = "ticket.updated", _("Ticket updated")
    TICKET_COMMENTED = "ticket.commented", _("Public reply added")
    TICKET_NOTE = "ticket.note", _("Internal note added")
    TICKET_ASSIGNED = "ticket.assigned", _("Ticket assigned")
    TICKET_ESCALATED = "ticket.escalated", _("Ticket escalated")
    TICKET_STATUS = "ticket.status_changed", _("Ticket status changed")
    TICKET_RESOLVED = "ticket.resolved", _("Ticket resolved")
    TICKET_REOPENED = "ticket.reopened", _("Ticket reopened")
    SLA_WARNING = "sla.warning", _("SLA warning")
    SLA_BREACHED = "sla.breached", _("SLA breached")
    SLA_ESCALATED = "sla.escalated", _("SLA escalation")
    INCIDENT_OPENED = "incident.opened", _("Incident opened")
    SURVEY_REQUESTED = "survey.requested", _("Satisfaction survey")
    TEST = "test", _("Test message")


class Event(models.Model):
    """Something that happened, recorded in the transaction that made it happen."""

    name = models.CharField(_("event"), max_length=40, choices=EventName.choices)
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    organization = models.ForeignKey(
        "customers.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    priority = models.PositiveSmallIntegerField(_("priority"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # A snapshot of what the event is about, taken at the moment it happened: the
    # webhook payload's "data" and the placeholders of every message are built from it.
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"))
    dispatched_at = models.DateTimeField(_("fanned out"), null=True, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["id"], condition=Q(dispatched_at__isnull=True), name="event_undispatched"
            ),
            models.Index(fields=["ticket", "-id"], name="event_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"


class DestinationKind(models.TextChoices):
    WECOM = "wecom", _("WeCom group robot")
    DINGTALK = "dingtalk", _("DingTalk custom robot")
    FEISHU = "feishu", _("Feishu / Lark custom bot")
    SLACK = "slack", _("Slack incoming webhook")
    TEAMS = "teams", _("Microsoft Teams incoming webhook")
    WEBHOOK = "webhook", _("Webhook (JSON, signed)")


class EventFilter(models.Model):
    """Which events a rule or subscription takes: empty lists mean "all"."""

    events = models.JSONField(_("events"), default=list, blank=True)
    priorities = models.JSONField(_("priorities"), default=list, blank=True)
    organization = models.ForeignKey(
        "customers.Organization",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Only this customer's events; empty for all customers."),
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Only this team's tickets; empty for all teams."),
    )

    class Meta:
        abstract = True


class Destination(EventFilter):
    """A chat robot or a webhook endpoint that receives the events it subscribes to."""

    kind = models.CharField(_("kind"), max_length=16, choices=DestinationKind.choices)
    name = models.CharField(_("name"), max_length=100)
    # The URL is a secret too: a WeCom robot's key is in its query string.
    url = EncryptedTextField(_("URL"))
    url_hint = models.CharField(_("address"), max_length=200, blank=True, editable=False)
    secret = EncryptedTextField(_("signing secret"), blank=True)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )
    allow_private_network = models.BooleanField(
        _("allow private addresses"),
        default=False,
        help_text=_(
            "Send to loopback, private or link-local addresses. Only for receivers inside "
            "your own network that you trust."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))
    last_success_at = models.DateTimeField(_("last delivered"), null=True, blank=True)
    last_failure_at = models.DateTimeField(_("last failed"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("destination")
        verbose_name_plural = _("destinations")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WECOM = "wecom", _("WeCom")
    DINGTALK = "dingtalk", _("DingTalk")
    FEISHU = "feishu", _("Feishu / Lark")
    SLACK = "slack", _("Slack")
    TEAMS = "teams", _("Microsoft Teams")
    WEBHOOK = "webhook", _("Webhook")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting to send")
    SENDING = "sending", _("Sending")
    RETRY = "retry", _("Failed, will retry")
    SENT = "sent", _("Sent")
    DEAD = "dead", _("Failed, gave up")
    HELD = "held", _("Held for a digest or quiet hours")
    CANCELLED = "cancelled", _("Cancelled")


class Delivery(models.Model):
    """One message to one recipient or destination, sent by the worker with retries."""

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=DeliveryChannel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    address = models.CharField(_("address"), max_length=254, blank=True)
    destination = models.ForeignKey(
        Destination,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    # What is (or was) sent, rendered once so every retry sends the same message:
    # e-mail {"subject","text","html","headers"}; HTTP {"body", "headers"}.
    payload = models.JSONField(_("message"), default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    locked_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=["pending", "retry", "sending"]),
                name="delivery_due",
            ),
            models.Index(fields=["destination", "-id"], name="delivery_destination"),
            models.Index(fields=["recipient", "state"], name="delivery_recipient"),
            models.Index(fields=["state", "-id"], name="delivery_state"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.pk}"


class DeliveryAttempt(models.Model):
    """One try at sending a delivery: what came back, how long it took."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(_("started"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    ok = models.BooleanField(_("succeeded"), default=False)
    status_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    response = models.TextField(_("response"), blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["delivery", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.started_at:%Y-%m-%d %H:%M:%S}"
