"""The service's KPIs: each one defined here, once, and computed in SQL.

Conventions every KPI follows (the glossary page shows each definition):

- **Period**: whole local days in a time zone (``periods.Period``), a half-open UTC range;
  a ticket belongs to the period its event (creation, first response, resolution) falls in.
- **Scope**: customers (organizations), teams and ERP modules; ``None`` means all. The
  caller decides what the viewer may see and passes it in — a customer's scope is always
  their own organization.
- **Merged duplicates** (closed into another ticket) are not counted: the work was done once.
- **Wall-clock** durations run from creation to the event; **business-hours** durations are
  the working time the SLA clock ran by the ticket's business calendar (pauses for waiting
  on the customer or a vendor left out), recorded when the clock stopped.
- **Percentiles** interpolate linearly between the two nearest ranks (PostgreSQL's
  ``percentile_cont``), computed with ``ORDER BY … OFFSET`` so SQLite gives the same.
- A KPI that needs data ERPCare does not collect (yet) is ``NotAvailable`` with the reason,
  never a zero.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.fields import DateTimeField
from django.db.models.functions import Coalesce
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from erpcare.core import clock
from erpcare.reports.periods import Period
from erpcare.tickets.models import OPEN_STATUSES, Comment, Status, Ticket, TicketEvent, TicketType

DONE = (Status.RESOLVED, Status.CLOSED)
P0 = 0


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class NotAvailable:
    """The KPI cannot be computed; ``reason`` says why (shown instead of a number)."""

    reason: str | Promise


@dataclass(frozen=True)
class Durations:
    """How long something took over ``count`` tickets; ``None`` when there were none."""

    count: int
    median: timedelta | None = None
    p90: timedelta | None = None
    mean: timedelta | None = None


@dataclass(frozen=True)
class Ratio:
    """``numerator`` of ``denominator``; ``value`` is ``None`` when nothing was counted."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> float | None:
        value = self.value
        return None if value is None else round(value * 100, 2)


@dataclass(frozen=True)
class Timing:
    wall_clock: Durations
    business: Durations


@dataclass(frozen=True)
class Compliance:
    overall: Ratio
    by_priority: dict[int, Ratio]
    by_customer: dict[int, Ratio]


@dataclass(frozen=True)
class Backlog:
    count: int
    age: Durations
    by_priority: dict[int, int]


@dataclass(frozen=True)
class AgentLoad:
    user_id: int
    name: str
    open_assigned: int
    resolved: int
    public_replies: int


@dataclass(frozen=True)
class Availability:
    erp_instance_id: int
    name: str
    organization_id: int
    downtime: timedelta
    measured: timedelta
    incidents: int

    @property
    def value(self) -> float | None:
        if self.measured <= timedelta(0):
            return None
        return max(0.0, 1 - self.downtime / self.measured)

    @property
    def percent(self) -> float | None:
        value = self.value
        return None if value is None else round(value * 100, 3)


# --------------------------------------------------------------------------- scope


@dataclass(frozen=True)
class Scope:
    """What a KPI counts: a period and, optionally, customers, teams and ERP modules."""

    period: Period
    organization_ids: frozenset[int] | None = None
    team_ids: frozenset[int] | None = None
    modules: frozenset[str] | None = None
    now: datetime | None = None

    @property
    def start(self) -> datetime:
        return self.period.start

    @property
    def end(self) -> datetime:
        return self.period.end

    @property
    def at(self) -> datetime:
        """The instant the figures describe: the period's end, or now while it runs."""
        return self.period.clipped(self.now or clock.now())

    def tickets(self) -> QuerySet[Ticket]:
        qs = Ticket.objects.filter(merged_into__isnull=True)
        if self.organization_ids is not None:
            qs = qs.filter(organization_id__in=self.organization_ids)
        if self.team_ids is not None:
            qs = qs.filter(team_id__in=self.team_ids)
        if self.modules is not None:
            qs = qs.filter(module__in=self.modules)
        return qs

    def created(self) -> QuerySet[Ticket]:
        return self.tickets().filter(created_at__gte=self.start, created_at__lt=self.end)

    def resolved(self) -> QuerySet[Ticket]:
        """Tickets resolved in the period and still resolved or closed."""
        return self.tickets().filter(
            status__in=DONE, resolved_at__gte=self.start, resolved_at__lt=self.end
        )

    def events(self, kind: str) -> QuerySet[TicketEvent]:
        return TicketEvent.objects.filter(
            kind=kind,
            created_at__gte=self.start,
            created_at__lt=self.end,
            ticket__in=self.tickets(),
        )


def _duration(end: str, start: str = "created_at") -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def durations(qs: QuerySet[Any], expression: Any) -> Durations:
    """Count, median, p90 and mean of ``expression`` over ``qs`` (rows where it is null
    are left out): one aggregate query and up to four ``ORDER BY … OFFSET`` reads."""
    values = qs.annotate(_d=expression).filter(_d__isnull=False)
    count = values.count()
    if not count:
        return Durations(count=0)
    ordered = values.order_by("_d").values_list("_d", flat=True)

    def at(rank: int) -> timedelta:
        value = ordered[rank]
        return value if isinstance(value, timedelta) else timedelta(microseconds=int(value))

    def percentile(q: float) -> timedelta:
        position = q * (count - 1)
        low, high = math.floor(position), math.ceil(position)
        low_value = at(low)
        if high == low:
            return low_value
        return low_value + (at(high) - low_value) * (position - low)

    total = timedelta(0)
    # Summing in Python would read every row; the database sums (microseconds on SQLite).
    summed = values.aggregate(total=Sum("_d"))["total"]
    if summed is not None:
        total = summed if isinstance(summed, timedelta) else timedelta(microseconds=int(summed))
    return Durations(count=count, median=percentile(0.5), p90=percentile(0.9), mean=total / count)


def _not_installed(app: str) -> bool:
    return not apps.is_installed(app)


# --------------------------------------------------------------------------- the KPIs


def volume(scope: Scope, by: str) -> dict[str, int]:
    """Tickets created in the period, counted by ``channel``, ``module``, ``category``,
    ``priority``, ``type`` or ``organization`` (one GROUP BY)."""
    if by not in VOLUME_DIMENSIONS:
        raise ValueError(f"not a volume dimension: {by}")
    rows = scope.created().order_by().values(by).annotate(n=Count("id")).values_list(by, "n")
    return {str(key) if key is not None else "": n for key, n in rows}


VOLUME_DIMENSIONS = ("channel", "module", "category", "priority", "type", "organization")


def first_response(scope: Scope) -> Timing:
    """Tickets created in the period that had a first public staff reply: from creation to
    that reply (wall-clock), and the working time the response clock ran (business)."""
    # A clock also stops when a ticket is resolved unanswered: that is no response time.
    qs = scope.created().filter(first_response_at__isnull=False)
    return Timing(
        wall_clock=durations(qs, _duration("first_response_at")),
        business=durations(qs, F("sla__response_elapsed")),
    )


def resolution(scope: Scope, *, incidents_only: bool = False) -> Timing:
    """Tickets resolved in the period: from creation to the (last) resolution; business
    time leaves out the pauses while waiting on the customer or a vendor."""
    qs = scope.resolved()
    if incidents_only:
        qs = qs.filter(type=TicketType.INCIDENT)
    return Timing(
        wall_clock=durations(qs, _duration("resolved_at")),
        business=durations(qs, F("sla__resolution_elapsed")),
    )


def mttr(scope: Scope) -> Timing:
    """Mean time to resolve incidents (tickets of type incident, monitoring's included):
    ``resolution`` restricted to incidents; read ``.mean``."""
    return resolution(scope, incidents_only=True)


def sla_compliance(scope: Scope, metric: str) -> Compliance:
    """Of the clocks (``response`` or ``resolution``) that stopped in the period or
    breached in it while still running: the share that met the target."""
    if metric not in ("response", "resolution"):
        raise ValueError(f"not an SLA clock: {metric}")
    from erpcare.sla.models import TicketSla

    stopped, breached = f"{metric}_stopped_at", f"{metric}_breached_at"
    in_period = Q(**{f"{stopped}__gte": scope.start, f"{stopped}__lt": scope.end}) | Q(
        **{
            f"{stopped}__isnull": True,
            f"{breached}__gte": scope.start,
            f"{breached}__lt": scope.end,
        }
    )
    clocks = TicketSla.objects.filter(in_period, ticket__in=scope.tickets()).order_by()
    met = Q(**{f"{breached}__isnull": True})
    overall = clocks.aggregate(total=Count("pk"), met=Count("pk", filter=met))
    by_priority = {
        row["priority"]: Ratio(row["met"], row["total"])
        for row in clocks.values("priority").annotate(
            total=Count("pk"), met=Count("pk", filter=met)
        )
    }
    by_customer = {
        row["ticket__organization_id"]: Ratio(row["met"], row["total"])
        for row in clocks.values("ticket__organization_id").annotate(
            total=Count("pk"), met=Count("pk", filter=met)
        )
    }
    return Compliance(
        overall=Ratio(overall["met"], overall["total"]),
        by_priority=by_priority,
        by_customer=by_customer,
    )


def backlog(scope: Scope) -> Backlog:
    """Tickets open at the end of the period (or now, while it runs), and how old they are
    then. For a past period a ticket counts when it was created before the end and was
    resolved or closed only after it (or never); one resolved in the period and reopened
    after it counts as open — the daily rollups record the exact figure day by day."""
    at = scope.at
    qs = scope.tickets().filter(created_at__lt=at)
    if at >= (scope.now or clock.now()):
        open_then = qs.filter(status__in=OPEN_STATUSES)
    else:
        finished_after = Q(resolved_at__gte=at) | Q(resolved_at__isnull=True, closed_at__gte=at)
        open_then = qs.filter(Q(status__in=OPEN_STATUSES) | finished_after)

    age = ExpressionWrapper(
        Value(at, output_field=DateTimeField()) - F("created_at"), DurationField()
    )
    by_priority = dict(
        open_then.order_by().values("priority").annotate(n=Count("id")).values_list("priority", "n")
    )
    ages = durations(open_then, age)
    return Backlog(count=ages.count, age=ages, by_priority=by_priority)


def reopen_rate(scope: Scope) -> Ratio:
    """Tickets reopened in the period, of the tickets resolved in the period (both counted
    from the timeline, so a ticket resolved and reopened twice counts once in each)."""
    resolved = scope.events(TicketEvent.Kind.STATUS).filter(new_value=Status.RESOLVED)
    reopened = scope.events(TicketEvent.Kind.REOPENED)
    return Ratio(
        reopened.values("ticket_id").distinct().count(),
        resolved.values("ticket_id").distinct().count(),
    )


def escalated() -> Exists:
    return Exists(
        TicketEvent.objects.filter(ticket_id=OuterRef("pk"), kind=TicketEvent.Kind.ESCALATED)
    )


def first_contact_resolution(scope: Scope) -> Ratio:
    """Tickets resolved in the period with at most one public staff reply, never
    escalated and never reopened, of all tickets resolved in the period."""
    staff_replies = (
        Comment.objects.filter(ticket_id=OuterRef("pk"), is_internal=False)
        .exclude(author__role__code="customer")
        .order_by()
        .values("ticket_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    resolved = scope.resolved()
    first_contact = resolved.annotate(
        replies=Coalesce(staff_replies[:1], 0), escalated=escalated()
    ).filter(replies__lte=1, escalated=False, reopen_count=0)
    return Ratio(first_contact.count(), resolved.count())


def l1_resolution_share(scope: Scope) -> Ratio:
    """Tickets resolved in the period at support tier 1 without ever being escalated, of
    all tickets resolved in the period (the seeds' target: L1 resolves most simple ones)."""
    resolved = scope.resolved()
    at_l1 = resolved.annotate(escalated=escalated()).filter(tier=1, escalated=False)
    return Ratio(at_l1.count(), resolved.count())


def escalation_rate(scope: Scope) -> Ratio:
    """Tickets created in the period that were escalated to a higher tier (so far), of all
    tickets created in the period."""
    created = scope.created()
    return Ratio(created.filter(escalated()).count(), created.count())


def kb_deflection(scope: Scope) -> Ratio | NotAvailable:
    """Portal visits that ended with "this solved my problem" instead of a ticket, of
    those plus the tickets customers submitted in the portal in the period."""
    if _not_installed("erpcare.kb"):
        return NotAvailable(_("The knowledge base is not installed."))
    from erpcare.kb.models import EventKind, KbEvent

    deflections = KbEvent.objects.filter(
        kind=EventKind.DEFLECTION, created_at__gte=scope.start, created_at__lt=scope.end
    )
    if scope.organization_ids is not None:
        deflections = deflections.filter(organization_id__in=scope.organization_ids)
    deflected = deflections.count()
    portal_tickets = scope.created().filter(channel="portal").count()
    return Ratio(deflected, deflected + portal_tickets)


def article_usefulness(scope: Scope) -> Ratio | NotAvailable:
    """Answers to "Was this helpful?" given in the period that said yes, of all answers."""
    if _not_installed("erpcare.kb"):
        return NotAvailable(_("The knowledge base is not installed."))
    from erpcare.kb.models import ArticleFeedback

    votes = ArticleFeedback.objects.filter(
        updated_at__gte=scope.start, updated_at__lt=scope.end
    ).order_by()
    if scope.organization_ids is not None:
        votes = votes.filter(user__organization_id__in=scope.organization_ids)
    counted = votes.aggregate(total=Count("id"), helpful=Count("id", filter=Q(helpful=True)))
    return Ratio(counted["helpful"], counted["total"])


def agent_workload(scope: Scope) -> list[AgentLoad]:
    """Per staff member: tickets assigned and open now, tickets they resolved in the period
    (as the assignee), public replies they wrote in the period. Busiest first."""
    from erpcare.accounts.models import User

    open_now = dict(
        scope.tickets()
        .filter(status__in=OPEN_STATUSES, assignee__isnull=False)
        .order_by()
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    resolved = dict(
        scope.resolved()
        .filter(assignee__isnull=False)
        .order_by()
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    replies = dict(
        Comment.objects.filter(
            is_internal=False,
            created_at__gte=scope.start,
            created_at__lt=scope.end,
            ticket__in=scope.tickets(),
        )
        .exclude(author__role__code="customer")
        .order_by()
        .values("author_id")
        .annotate(n=Count("id"))
        .values_list("author_id", "n")
    )
    ids = set(open_now) | set(resolved) | set(replies)
    names = {u.pk: u.display_name or u.email for u in User.objects.filter(pk__in=ids)}
    loads = [
        AgentLoad(
            user_id=pk,
            name=names.get(pk, str(pk)),
            open_assigned=open_now.get(pk, 0),
            resolved=resolved.get(pk, 0),
            public_replies=replies.get(pk, 0),
        )
        for pk in ids
    ]
    return sorted(loads, key=lambda a: (-a.open_assigned, -a.resolved, a.name))


Interval = tuple[datetime, datetime]


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    result: list[Interval] = []
    for start, end in intervals:
        pieces = [(start, end)]
        for h_start, h_end in holes:
            next_pieces: list[Interval] = []
            for p_start, p_end in pieces:
                if h_end <= p_start or h_start >= p_end:
                    next_pieces.append((p_start, p_end))
                    continue
                if p_start < h_start:
                    next_pieces.append((p_start, h_start))
                if h_end < p_end:
                    next_pieces.append((h_end, p_end))
            pieces = next_pieces
        result.extend(pieces)
    return result


def _total(intervals: Iterable[Interval]) -> timedelta:
    return sum((end - start for start, end in intervals), timedelta(0))


def availability(scope: Scope) -> list[Availability]:
    """Per ERP instance in scope: 1 − downtime ÷ time measured. Downtime is the union of
    its P0 incidents from creation to resolution (still open: until the end of the
    period, or now), clipped to the period, minus its maintenance windows. Instances
    without a P0 incident are 100 %."""
    from erpcare.customers.models import ErpInstance

    instances = ErpInstance.objects.select_related("organization").order_by(
        "organization__name", "name"
    )
    if scope.organization_ids is not None:
        instances = instances.filter(organization_id__in=scope.organization_ids)
    start, at = scope.start, scope.at
    incidents = (
        scope.tickets()
        .filter(
            type=TicketType.INCIDENT,
            priority=P0,
            erp_instance__isnull=False,
            created_at__lt=at,
        )
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=start))
        .values_list("erp_instance_id", "created_at", "resolved_at", "status")
    )
    down: dict[int, list[Interval]] = defaultdict(list)
    counts: dict[int, int] = defaultdict(int)
    for instance_id, created, resolved, status in incidents:
        if resolved is None and status not in OPEN_STATUSES:
            continue  # closed without a resolution (a duplicate or a mistake): no outage
        begin, finish = max(created, start), min(resolved or at, at)
        if finish > begin:
            down[instance_id].append((begin, finish))
            counts[instance_id] += 1
    windows = _maintenance(scope, set(down))
    result = []
    for instance in instances:
        outage = _subtract(_merge(down.get(instance.pk, [])), windows.get(instance.pk, []))
        result.append(
            Availability(
                erp_instance_id=instance.pk,
                name=str(instance),
                organization_id=instance.organization_id,
                downtime=_total(outage),
                measured=max(at - start, timedelta(0)),
                incidents=counts.get(instance.pk, 0),
            )
        )
    return result


def _maintenance(scope: Scope, instance_ids: set[int]) -> dict[int, list[Interval]]:
    """Maintenance intervals per instance (only for instances that had downtime)."""
    if not instance_ids or _not_installed("erpcare.monitoring"):
        return {}
    from erpcare.customers.models import ErpInstance
    from erpcare.monitoring.maintenance import applies_to, intervals
    from erpcare.monitoring.models import MaintenanceWindow

    windows = list(
        MaintenanceWindow.objects.filter(
            is_active=True, starts_at__lt=scope.at, ends_at__gt=scope.start
        ).prefetch_related("erp_instances")
    )
    if not windows:
        return {}
    owners = dict(
        ErpInstance.objects.filter(pk__in=instance_ids).values_list("pk", "organization_id")
    )
    result: dict[int, list[Interval]] = {}
    for instance_id, organization_id in owners.items():
        spans = [
            span
            for window in windows
            if applies_to(window, organization_id, instance_id)
            for span in intervals(window, scope.start, scope.at)
        ]
        result[instance_id] = _merge(spans)
    return result


def csat(scope: Scope) -> Any:
    """Customer satisfaction from the surveys sent on resolution (see the surveys app)."""
    if _not_installed("erpcare.surveys"):
        return NotAvailable(_("Surveys are not installed yet."))
    from erpcare.surveys.services.stats import csat_summary

    return csat_summary(scope.start, scope.end, organization_ids=scope.organization_ids)


def nps(scope: Scope) -> Any:
    """Net promoter score: % promoters (9–10) − % detractors (0–6) of the period's answers."""
    if _not_installed("erpcare.surveys"):
        return NotAvailable(_("Surveys are not installed yet."))
    from erpcare.surveys.services.stats import nps_summary

    return nps_summary(scope.start, scope.end, organization_ids=scope.organization_ids)


def change_success_rate(scope: Scope) -> Ratio | NotAvailable:
    """Changes whose work ended in the period completed (not rolled back, not failed), of
    all changes that ended in it (from the changes' timeline)."""
    if _not_installed("erpcare.changes"):
        return NotAvailable(_("Change management is not installed."))
    from erpcare.changes.services.stats import outcomes

    ended = outcomes(scope.start, scope.end, organization_ids=scope.organization_ids)
    return Ratio(ended.completed, ended.total)


# --------------------------------------------------------------------------- the glossary


@dataclass(frozen=True)
class Definition:
    """One KPI for the glossary: what it is called, how it is computed, in words."""

    code: str
    title: str | Promise
    formula: str | Promise
    compute: Callable[..., Any]
    unit: str = ""


DEFINITIONS: list[Definition] = [
    Definition(
        "volume",
        _("Ticket volume"),
        _(
            "Tickets created in the period, by channel, ERP module, category, priority or "
            "customer. Duplicates merged into another ticket are not counted."
        ),
        volume,
        "tickets",
    ),
    Definition(
        "first_response",
        _("First response time"),
        _(
            "For tickets created in the period: from creation to the first public reply by "
            "support staff. Wall-clock, and in business hours by the ticket's SLA calendar. "
            "Median, 90th percentile and mean."
        ),
        first_response,
        "duration",
    ),
    Definition(
        "resolution",
        _("Resolution time"),
        _(
            "For tickets resolved in the period: from creation to resolution. Business hours "
            "leave out the time spent waiting for the customer or a vendor."
        ),
        resolution,
        "duration",
    ),
    Definition(
        "mttr",
        _("MTTR (incidents)"),
        _("Mean resolution time of the incidents resolved in the period."),
        mttr,
        "duration",
    ),
    Definition(
        "sla_compliance",
        _("SLA compliance"),
        _(
            "Of the SLA clocks (first response, resolution) that stopped in the period or "
            "breached in it while still running: the share that met the target."
        ),
        sla_compliance,
        "percent",
    ),
    Definition(
        "backlog",
        _("Backlog and backlog age"),
        _(
            "Tickets still open at the end of the period (now, while it runs), and how long "
            "they had been open then."
        ),
        backlog,
        "tickets",
    ),
    Definition(
        "reopen_rate",
        _("Reopen rate"),
        _("Tickets reopened in the period, of the tickets resolved in the period."),
        reopen_rate,
        "percent",
    ),
    Definition(
        "fcr",
        _("First-contact resolution"),
        _(
            "Tickets resolved in the period with at most one public reply from support, "
            "never escalated and never reopened, of all tickets resolved in the period."
        ),
        first_contact_resolution,
        "percent",
    ),
    Definition(
        "l1_share",
        _("Resolved at L1"),
        _(
            "Tickets resolved in the period by first-line support without an escalation, of "
            "all tickets resolved in the period."
        ),
        l1_resolution_share,
        "percent",
    ),
    Definition(
        "escalation_rate",
        _("Escalation rate"),
        _("Tickets created in the period that were escalated to a higher tier, of all created."),
        escalation_rate,
        "percent",
    ),
    Definition(
        "csat",
        _("CSAT"),
        _(
            "Share of satisfied answers (4 or 5 of 5) to the survey sent when a ticket is "
            "resolved, answered in the period; and the mean score."
        ),
        csat,
        "percent",
    ),
    Definition(
        "nps",
        _("NPS"),
        _(
            "Net promoter score of the quarterly survey: % promoters (9–10) minus "
            "% detractors (0–6) among the answers given in the period."
        ),
        nps,
        "score",
    ),
    Definition(
        "kb_deflection",
        _("Knowledge-base deflection"),
        _(
            'Portal visits that ended with "this solved my problem" instead of a '
            "ticket, of those plus the tickets submitted in the portal in the period."
        ),
        kb_deflection,
        "percent",
    ),
    Definition(
        "article_usefulness",
        _("Article usefulness"),
        _('"Was this helpful?" answers given in the period that said yes.'),
        article_usefulness,
        "percent",
    ),
    Definition(
        "agent_workload",
        _("Agent workload"),
        _(
            "Per staff member: open tickets assigned now, tickets resolved in the period, "
            "public replies written in the period."
        ),
        agent_workload,
        "tickets",
    ),
    Definition(
        "availability",
        _("Availability per ERP instance"),
        _(
            "1 − downtime ÷ time measured. Downtime: the instance's P0 incidents from "
            "creation to resolution, overlapping ones counted once, maintenance windows "
            "left out."
        ),
        availability,
        "percent",
    ),
    Definition(
        "change_success",
        _("Change success rate"),
        _("Changes completed without a rollback or failure, of all changes completed."),
        change_success_rate,
        "percent",
    ),
]
