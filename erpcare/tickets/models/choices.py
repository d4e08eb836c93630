"""The ticket vocabulary: types, channels, priorities, categories, workflow states."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketType(models.TextChoices):
    INCIDENT = "incident", _("Incident")
    REQUEST = "request", _("Service request")
    QUESTION = "question", _("Question")


NUMBER_PREFIX = {
    TicketType.INCIDENT: "INC",
    TicketType.REQUEST: "REQ",
    TicketType.QUESTION: "QST",
}


class Channel(models.TextChoices):
    PORTAL = "portal", _("Portal")
    WEB = "web", _("Agent desk")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    API = "api", _("API")
    MONITORING = "monitoring", _("Monitoring")


class Priority(models.IntegerChoices):
    P0 = 0, _("P0 – ERP down or core business stopped")
    P1 = 1, _("P1 – major function broken, no workaround")
    P2 = 2, _("P2 – function impaired, workaround exists")
    P3 = 3, _("P3 – how-to, minor or cosmetic")


PRIORITY_SHORT = {0: "P0", 1: "P1", 2: "P2", 3: "P3"}


class Impact(models.IntegerChoices):
    HIGH = 1, _("Whole company or a core business process")
    MEDIUM = 2, _("A department or several users")
    LOW = 3, _("One user")


class Urgency(models.IntegerChoices):
    HIGH = 1, _("Work has stopped now")
    MEDIUM = 2, _("Work is slowed, a workaround exists")
    LOW = 3, _("It can wait")


# impact × urgency → priority; the ITIL matrix used by most service desks.
PRIORITY_MATRIX: dict[tuple[int, int], Priority] = {
    (Impact.HIGH, Urgency.HIGH): Priority.P0,
    (Impact.HIGH, Urgency.MEDIUM): Priority.P1,
    (Impact.MEDIUM, Urgency.HIGH): Priority.P1,
    (Impact.HIGH, Urgency.LOW): Priority.P2,
    (Impact.MEDIUM, Urgency.MEDIUM): Priority.P2,
    (Impact.LOW, Urgency.HIGH): Priority.P2,
    (Impact.MEDIUM, Urgency.LOW): Priority.P3,
    (Impact.LOW, Urgency.MEDIUM): Priority.P3,
    (Impact.LOW, Urgency.LOW): Priority.P3,
}


def priority_for(impact: int, urgency: int) -> Priority:
    return PRIORITY_MATRIX[(Impact(impact), Urgency(urgency))]


class Category(models.TextChoices):
    SYSTEM_FAILURE = "system_failure", _("System failure")
    DATA_ISSUE = "data_issue", _("Data issue")
    BUSINESS_PROCESS = "business_process", _("Business process")
    HOW_TO = "how_to", _("How-to")
    ACCESS = "access", _("Access and permission")
    CHANGE_REQUEST = "change_request", _("Change request")
    PERFORMANCE = "performance", _("Performance")


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting for customer")
    WAITING_VENDOR = "waiting_vendor", _("Waiting for vendor")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class SlaState(models.TextChoices):
    """The worst of a ticket's running SLA clocks, for queues and badges."""

    NONE = "", _("No SLA")
    OK = "ok", _("On track")
    WARNING = "warning", _("Breaching soon")
    BREACHED = "breached", _("Breached")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    MISSED = "missed", _("Missed")


OPEN_STATUSES = frozenset(
    {
        Status.NEW,
        Status.OPEN,
        Status.IN_PROGRESS,
        Status.WAITING_CUSTOMER,
        Status.WAITING_VENDOR,
    }
)

# Allowed workflow moves for staff. Reopening (resolved → open) is handled separately
# because it has its own window and counter; closed is final.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset(
        {Status.OPEN, Status.IN_PROGRESS, Status.WAITING_CUSTOMER, Status.WAITING_VENDOR,
         Status.RESOLVED}
    ),
    Status.OPEN: frozenset(
        {Status.IN_PROGRESS, Status.WAITING_CUSTOMER, Status.WAITING_VENDOR, Status.RESOLVED}
    ),
    Status.IN_PROGRESS: frozenset(
        {Status.OPEN, Status.WAITING_CUSTOMER, Status.WAITING_VENDOR, Status.RESOLVED}
    ),
    Status.WAITING_CUSTOMER: frozenset({Status.OPEN, Status.IN_PROGRESS, Status.RESOLVED}),
    Status.WAITING_VENDOR: frozenset({Status.OPEN, Status.IN_PROGRESS, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.OPEN}),
    Status.CLOSED: frozenset(),
}  # fmt: skip


class ResolutionCode(models.TextChoices):
    FIXED = "fixed", _("Fixed")
    WORKAROUND = "workaround", _("Workaround provided")
    ANSWERED = "answered", _("Question answered")
    CONFIGURATION = "configuration", _("Configuration changed")
    DATA_CORRECTED = "data_corrected", _("Data corrected")
    USER_ERROR = "user_error", _("User error, explained")
    DUPLICATE = "duplicate", _("Duplicate")
    NOT_REPRODUCIBLE = "not_reproducible", _("Cannot reproduce")
    WONT_FIX = "wont_fix", _("Will not fix")


class LinkKind(models.TextChoices):
    DUPLICATE_OF = "duplicate_of", _("Duplicate of")
    RELATED_TO = "related_to", _("Related to")
    CAUSED_BY = "caused_by", _("Caused by")


# How a link reads from its target's side: A "duplicate of" B shows on B as "has duplicate" A.
REVERSE_LINK_LABELS = {
    LinkKind.DUPLICATE_OF: _("Has duplicate"),
    LinkKind.RELATED_TO: _("Related to"),
    LinkKind.CAUSED_BY: _("Causes"),
}
