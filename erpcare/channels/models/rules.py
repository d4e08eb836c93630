"""Who is told what: notification rules (by the admins) and preferences (by each person)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from erpcare.channels.models.outbox import Destination, EventFilter


class RecipientRole(models.TextChoices):
    """People a rule reaches through their relation to the ticket."""

    REQUESTER = "requester", _("Requester")
    WATCHERS = "watchers", _("Watchers")
    ASSIGNEE = "assignee", _("Assignee")
    TEAM = "team", _("Members of the ticket's team")
    TEAM_LEADS = "team_leads", _("Leads of the ticket's team")
    ACCOUNT_MANAGER = "account_manager", _("The customer's account manager")
    MANAGERS = "managers", _("Support managers")


class PersonalChannel(models.TextChoices):
    IN_APP = "in_app", _("In the app")
    EMAIL = "email", _("E-mail")


class NotificationRule(EventFilter):
    """For the matching events, tell these people on these channels, and these robots."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    recipient_roles = models.JSONField(_("recipients"), default=list, blank=True)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("people"), blank=True, related_name="+"
    )
    channels = models.JSONField(_("channels"), default=list, blank=True)
    destinations = models.ManyToManyField(
        Destination, verbose_name=_("robots and webhooks"), blank=True, related_name="rules"
    )
    # The actor is not told about their own action unless a rule says so.
    include_actor = models.BooleanField(_("tell the person who acted"), default=False)

    class Meta:
        verbose_name = _("notification rule")
        verbose_name_plural = _("notification rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class NotificationPreference(models.Model):
    """A person's own choices. Missing row = the defaults below."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_enabled = models.BooleanField(_("e-mail"), default=True)
    in_app_enabled = models.BooleanField(_("in the app"), default=True)
    muted_events = models.JSONField(_("muted events"), default=list, blank=True)
    # Quiet hours in the person's own time zone; P0 always gets through.
    quiet_start = models.TimeField(_("quiet from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet until"), null=True, blank=True)
    digest_low_priority = models.BooleanField(
        _("daily digest for P3"),
        default=False,
        help_text=_("Collect e-mails about P3 tickets into one message a day."),
    )
    digest_hour = models.PositiveSmallIntegerField(_("digest hour"), default=9)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user)
