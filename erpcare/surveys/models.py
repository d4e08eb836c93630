"""Satisfaction surveys: an invitation per person and occasion, at most one response each.

CSAT asks the requester of a resolved ticket (once per resolution: ``cycle`` is the
ticket's ``reopen_count`` when it was resolved); NPS asks each active customer contact
once per calendar quarter (``cycle`` is ``year * 10 + quarter``, e.g. 20264).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SurveyKind(models.TextChoices):
    CSAT = "csat", _("CSAT")
    NPS = "nps", _("NPS")


class AnswerChannel(models.TextChoices):
    MAIL = "mail", _("E-mail link")
    PORTAL = "portal", _("Portal")


SCORE_RANGE: dict[str, tuple[int, int]] = {SurveyKind.CSAT: (1, 5), SurveyKind.NPS: (0, 10)}
# A rating at or below this notifies the team lead (CSAT 1–2, NPS detractors 0–6).
LOW_SCORE: dict[str, int] = {SurveyKind.CSAT: 2, SurveyKind.NPS: 6}


def is_low(kind: str, score: int) -> bool:
    return score <= LOW_SCORE[kind]


class Invitation(models.Model):
    kind = models.CharField(_("kind"), max_length=8, choices=SurveyKind.choices)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="survey_invitations",
    )
    organization = models.ForeignKey(
        "customers.Organization",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    cycle = models.PositiveIntegerField(_("cycle"))
    mailed = models.BooleanField(_("mailed"), default=False)
    sent_at = models.DateTimeField(_("sent"))
    expires_at = models.DateTimeField(_("expires"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "cycle"],
                condition=Q(kind="csat"),
                name="survey_csat_once_per_resolution",
            ),
            models.UniqueConstraint(
                fields=["user", "cycle"],
                condition=Q(kind="nps"),
                name="survey_nps_once_per_quarter",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "sent_at"], name="survey_inv_kind_sent"),
            models.Index(fields=["organization", "sent_at"], name="survey_inv_org_sent"),
            models.Index(fields=["ticket", "-id"], name="survey_inv_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class Response(models.Model):
    invitation = models.OneToOneField(
        Invitation, on_delete=models.CASCADE, related_name="response", verbose_name=_("invitation")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=SurveyKind.choices)
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=AnswerChannel.choices)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    organization = models.ForeignKey(
        "customers.Organization",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="survey_responses",
    )
    created_at = models.DateTimeField(_("answered"))

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "created_at"], name="survey_resp_org_created"),
            models.Index(fields=["kind", "created_at"], name="survey_resp_kind_created"),
            models.Index(fields=["ticket"], name="survey_resp_ticket"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="csat", score__gte=1, score__lte=5) | Q(kind="nps", score__lte=10)
                ),
                name="survey_score_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.score}"

    @property
    def is_low(self) -> bool:
        return is_low(self.kind, self.score)
