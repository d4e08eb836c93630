"""Chat intake: a team's bot posts group messages to ERPCare over a signed webhook."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from erpcare.channels.models.email import IntakeState
from erpcare.core.crypto import EncryptedTextField


class ChatIntake(models.Model):
    """``POST /api/v1/intake/chat/<slug>``, signed with this channel's shared secret."""

    slug = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    secret = EncryptedTextField(_("shared secret"))
    is_active = models.BooleanField(_("active"), default=True)
    organization = models.ForeignKey(
        "customers.Organization",
        verbose_name=_("customer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Messages are for this customer; empty: by the sender's e-mail address."),
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("queue"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))
    last_received_at = models.DateTimeField(_("last received"), null=True, blank=True)

    class Meta:
        verbose_name = _("chat intake")
        verbose_name_plural = _("chat intakes")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ChatMessage(models.Model):
    """One message as the bot posted it; kept raw for replay, processed once."""

    intake = models.ForeignKey(ChatIntake, on_delete=models.CASCADE, related_name="messages")
    external_id = models.CharField(_("message id"), max_length=200)
    body = models.TextField(_("raw request"))
    sender = models.CharField(_("sender"), max_length=254, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=IntakeState.choices, default=IntakeState.RECEIVED
    )
    reason = models.CharField(_("reason"), max_length=32, blank=True)
    error = models.TextField(_("error"), blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    comment = models.ForeignKey(
        "tickets.Comment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(_("received"))
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["intake", "external_id"], name="chat_message_once_per_intake"
            )
        ]

    def __str__(self) -> str:
        return f"{self.intake_id}:{self.external_id}"
