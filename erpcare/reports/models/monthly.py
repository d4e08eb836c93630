"""Monthly service reports (服务月报): one per customer and month. The figures are computed
from the tickets whenever the report is shown or printed (``reports.monthly``); this row
keeps what people add and decide — the language, the manager's commentary, whether and to
whom it was sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MonthlyReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")


class MonthlyReport(models.Model):
    organization = models.ForeignKey(
        "customers.Organization",
        on_delete=models.CASCADE,
        related_name="monthly_reports",
        verbose_name=_("customer"),
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    language = models.CharField(_("language"), max_length=16, choices=settings.LANGUAGES)
    commentary = models.TextField(
        _("improvements made"),
        blank=True,
        help_text=_("Markdown: what the support team improved this month and what comes next."),
    )
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=MonthlyReportStatus.choices,
        default=MonthlyReportStatus.DRAFT,
    )
    generated_at = models.DateTimeField(_("generated"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    sent_to = models.JSONField(_("sent to"), default=list, blank=True)
    sent_pdf = models.CharField(_("PDF sent"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("monthly service report")
        verbose_name_plural = _("monthly service reports")
        ordering = ["-month", "organization_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month"], name="reports_monthly_one_per_customer_month"
            ),
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="reports_monthly_month_is_first_day"
            ),
        ]
        indexes = [models.Index(fields=["status", "-month"], name="reports_monthly_status")]

    def __str__(self) -> str:
        return f"{self.organization} {self.month:%Y-%m}"

    @property
    def is_sent(self) -> bool:
        return self.status == MonthlyReportStatus.SENT
