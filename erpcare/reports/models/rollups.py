"""Daily rollups: one row per local day × customer × team × ERP module × priority with the
day's counts and sums, kept by the worker, so dashboards read thousands of rows instead of
millions of tickets."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DailyRollup(models.Model):
    """What happened on ``day`` (a local date in ``settings.TIME_ZONE``) to the tickets of
    one customer, team, module and priority — their attributes when the day was rolled up.
    Durations are wall-clock seconds; each measure counts on the day of its event."""

    day = models.DateField(_("day"))
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    module = models.CharField(_("ERP module"), max_length=16, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"))

    created = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    resolved_at_l1 = models.PositiveIntegerField(default=0)  # tier 1, never escalated
    resolution_seconds = models.BigIntegerField(default=0)  # sum over ``resolved``
    responded = models.PositiveIntegerField(default=0)  # first responses given that day
    response_seconds = models.BigIntegerField(default=0)  # sum over ``responded``
    reopened = models.PositiveIntegerField(default=0)
    escalated = models.PositiveIntegerField(default=0)
    response_met = models.PositiveIntegerField(default=0)
    response_breached = models.PositiveIntegerField(default=0)
    resolution_met = models.PositiveIntegerField(default=0)
    resolution_breached = models.PositiveIntegerField(default=0)
    backlog = models.PositiveIntegerField(default=0)  # open at the end of the day

    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("daily rollup")
        verbose_name_plural = _("daily rollups")
        indexes = [
            models.Index(fields=["day", "organization"], name="rollup_day_org"),
            models.Index(fields=["organization", "day"], name="rollup_org_day"),
            models.Index(fields=["team", "day"], name="rollup_team_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.organization_id} {self.team_id} {self.module} P{self.priority}"
