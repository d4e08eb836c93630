"""Problem management data: problems behind incidents, their root-cause analysis,
corrective and preventive actions, and post-incident reviews of P0/P1 incidents.

State changes go through ``erpcare.problems.services``; models hold data, invariants and
small derived properties only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from erpcare.customers.models import ErpModule

if TYPE_CHECKING:
    from erpcare.customers.models import Organization

NUMBER_PREFIX = "PRB"


class ProblemStatus(models.TextChoices):
    NEW = "new", _("New")
    INVESTIGATING = "investigating", _("Investigating")
    KNOWN_ERROR = "known_error", _("Known error")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_PROBLEM_STATUSES = frozenset(
    {ProblemStatus.NEW, ProblemStatus.INVESTIGATING, ProblemStatus.KNOWN_ERROR}
)

# Allowed moves. "known_error" is reached by ``mark_known_error`` (it needs a workaround),
# "resolved" by ``resolve_problem`` (it needs a root cause), "closed" by ``close_problem``.
PROBLEM_TRANSITIONS: dict[str, frozenset[str]] = {
    ProblemStatus.NEW: frozenset({ProblemStatus.INVESTIGATING, ProblemStatus.KNOWN_ERROR,
                                  ProblemStatus.RESOLVED, ProblemStatus.CLOSED}),
    ProblemStatus.INVESTIGATING: frozenset({ProblemStatus.KNOWN_ERROR, ProblemStatus.RESOLVED,
                                            ProblemStatus.CLOSED}),
    ProblemStatus.KNOWN_ERROR: frozenset({ProblemStatus.INVESTIGATING, ProblemStatus.RESOLVED,
                                          ProblemStatus.CLOSED}),
    ProblemStatus.RESOLVED: frozenset({ProblemStatus.INVESTIGATING, ProblemStatus.CLOSED}),
    ProblemStatus.CLOSED: frozenset(),
}  # fmt: skip


class FishboneCategory(models.TextChoices):
    PEOPLE = "people", _("People")
    PROCESS = "process", _("Process")
    DATA = "data", _("Data")
    CODE = "code", _("Code")
    CONFIGURATION = "configuration", _("Configuration")
    INFRASTRUCTURE = "infrastructure", _("Infrastructure")
    VENDOR = "vendor", _("Vendor")


class ActionKind(models.TextChoices):
    CORRECTIVE = "corrective", _("Corrective")
    PREVENTIVE = "preventive", _("Preventive")


class Problem(models.Model):
    """The unknown (then known) cause behind one or more incidents."""

    number = models.CharField(_("number"), max_length=24, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    module = models.CharField(_("ERP module"), max_length=16, choices=ErpModule.choices, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ProblemStatus.choices, default=ProblemStatus.NEW
    )
    known_error = models.BooleanField(_("known error"), default=False)
    workaround = models.TextField(_("workaround"), blank=True)
    # Root-cause analysis: [{"question": "...", "answer": "..."}, ...] in order.
    five_whys = models.JSONField(_("five whys"), default=list, blank=True)
    fishbone = models.JSONField(_("fishbone categories"), default=list, blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    # The change that fixed it, by number (CHG-…), as typed.
    resolving_change = models.CharField(_("resolving change"), max_length=24, blank=True)
    # The same change as a row, when it exists in the changes app (set by resolve_problem).
    change = models.ForeignKey(
        "changes.Change",
        verbose_name=_("resolved by change"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resolved_problems",
    )
    resolution = models.TextField(_("resolution"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_problems",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="created_problems",
    )
    article = models.ForeignKey(
        "kb.Article",
        verbose_name=_("knowledge article"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="problems",
    )
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "-id"], name="problem_status_recent"),
            models.Index(fields=["module", "status"], name="problem_module_status"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_PROBLEM_STATUSES

    def organizations(self) -> models.QuerySet[Organization]:
        """The customers affected: those of the linked incidents."""
        from erpcare.customers.models import Organization

        return (
            Organization.objects.filter(tickets__problem_link__problem=self)
            .distinct()
            .order_by("name")
        )


class ProblemIncident(models.Model):
    """An incident ticket linked to a problem. A ticket is linked to at most one problem
    (``ticket`` is unique): unlink it first to move it elsewhere."""

    problem = models.ForeignKey(
        Problem, verbose_name=_("problem"), on_delete=models.CASCADE, related_name="incidents"
    )
    ticket = models.OneToOneField(
        "tickets.Ticket",
        verbose_name=_("incident"),
        on_delete=models.CASCADE,
        related_name="problem_link",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("linked by"), on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("linked"))

    class Meta:
        verbose_name = _("problem incident")
        verbose_name_plural = _("problem incidents")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.problem_id} ← {self.ticket_id}"


class ProblemAction(models.Model):
    """A corrective or preventive action with an owner and a due date."""

    problem = models.ForeignKey(
        Problem, verbose_name=_("problem"), on_delete=models.CASCADE, related_name="actions"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ActionKind.choices)
    description = models.TextField(_("description"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="problem_actions",
    )
    due_on = models.DateField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("problem action")
        verbose_name_plural = _("problem actions")
        ordering = ["id"]
        indexes = [models.Index(fields=["owner", "done_at"], name="problem_action_owner")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.description[:40]}"


REVIEW_FIELDS = (
    "timeline",
    "impact",
    "detection",
    "response",
    "root_cause",
    "went_well",
    "actions",
)


class PostIncidentReview(models.Model):
    """The review of a P0/P1 incident (Markdown fields), required before closure per
    policy (``ERPCARE_PIR_REQUIRED_PRIORITIES``)."""

    ticket = models.OneToOneField(
        "tickets.Ticket",
        verbose_name=_("incident"),
        on_delete=models.CASCADE,
        related_name="post_incident_review",
    )
    timeline = models.TextField(_("timeline"), blank=True)
    impact = models.TextField(_("impact"), blank=True)
    detection = models.TextField(_("detection"), blank=True)
    response = models.TextField(_("response"), blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    went_well = models.TextField(_("what went well"), blank=True)
    actions = models.TextField(_("actions"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="post_incident_reviews",
    )
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("post-incident review")
        verbose_name_plural = _("post-incident reviews")

    def __str__(self) -> str:
        return f"PIR {self.ticket_id}"

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None
