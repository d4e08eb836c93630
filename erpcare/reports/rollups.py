"""Rolling tickets up into ``DailyRollup`` rows, and reading them back for dashboards.

A day is rolled up by recomputing it whole: its rows are deleted and written again in one
transaction, from a handful of GROUP BY queries over the indexed timestamps. The worker
rolls up today and yesterday every few minutes (``roll_up_recent``); ``erpcare reports
rollup --since`` fills older days. Each measure counts on the local day of its event, under
the ticket's current customer, team, module and priority. The backlog of a day is exact
when it is rolled up after the day ended or during it; for older days it is reconstructed
as in ``kpis.backlog``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum

from erpcare.core import clock
from erpcare.reports.kpis import Scope, escalated
from erpcare.reports.models import DailyRollup
from erpcare.reports.periods import Period
from erpcare.tickets.models import OPEN_STATUSES, Ticket, TicketEvent

Key = tuple[int, int | None, str, int]  # organization, team, module, priority
DIMS = ("organization_id", "team_id", "module", "priority")
MEASURES = (
    "created", "resolved", "resolved_at_l1", "resolution_seconds", "responded",
    "response_seconds", "reopened", "escalated", "response_met", "response_breached",
    "resolution_met", "resolution_breached", "backlog",
)  # fmt: skip


def _seconds(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return int(value) // 1_000_000  # microseconds (SQLite)


def _grouped(qs: QuerySet[Any], prefix: str = "", **aggregates: Any) -> Iterable[dict[str, Any]]:
    names = [f"{prefix}{d}" for d in DIMS]
    for row in qs.order_by().values(*names).annotate(**aggregates):
        yield {"key": tuple(row[n] for n in names), **{a: row[a] for a in aggregates}}


def compute_day(
    day: date, *, time_zone: str | None = None, now: datetime | None = None
) -> dict[Key, dict[str, int]]:
    """The rollup rows of one local day, as {dimensions: {measure: value}}."""
    now = now or clock.now()
    scope = Scope(period=Period(day, day, time_zone or _zone()), now=now)
    rows: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(MEASURES, 0))

    for r in _grouped(scope.created(), n=Count("id")):
        rows[r["key"]]["created"] += r["n"]

    resolution = ExpressionWrapper(F("resolved_at") - F("created_at"), DurationField())
    resolved = scope.resolved().annotate(escalated=escalated())
    for r in _grouped(
        resolved,
        n=Count("id"),
        l1=Count("id", filter=Q(tier=1, escalated=False)),
        seconds=Sum(resolution),
    ):
        row = rows[r["key"]]
        row["resolved"] += r["n"]
        row["resolved_at_l1"] += r["l1"]
        row["resolution_seconds"] += _seconds(r["seconds"])

    response = ExpressionWrapper(F("first_response_at") - F("created_at"), DurationField())
    responded = scope.tickets().filter(
        first_response_at__gte=scope.start, first_response_at__lt=scope.end
    )
    for r in _grouped(responded, n=Count("id"), seconds=Sum(response)):
        rows[r["key"]]["responded"] += r["n"]
        rows[r["key"]]["response_seconds"] += _seconds(r["seconds"])

    for kind, measure in (
        (TicketEvent.Kind.REOPENED, "reopened"),
        (TicketEvent.Kind.ESCALATED, "escalated"),
    ):
        events = scope.events(kind)
        for r in _grouped(events, prefix="ticket__", n=Count("ticket_id", distinct=True)):
            rows[r["key"]][measure] += r["n"]

    _sla(scope, rows)

    for r in _grouped(_open_at(scope), n=Count("id")):
        rows[r["key"]]["backlog"] += r["n"]
    return dict(rows)


def _sla(scope: Scope, rows: dict[Key, dict[str, int]]) -> None:
    from erpcare.sla.models import TicketSla

    for metric in ("response", "resolution"):
        stopped, breached = f"{metric}_stopped_at", f"{metric}_breached_at"
        in_day = Q(**{f"{stopped}__gte": scope.start, f"{stopped}__lt": scope.end}) | Q(
            **{
                f"{stopped}__isnull": True,
                f"{breached}__gte": scope.start,
                f"{breached}__lt": scope.end,
            }
        )
        clocks = TicketSla.objects.filter(in_day, ticket__in=scope.tickets())
        met = Q(**{f"{breached}__isnull": True})
        for r in _grouped(
            clocks,
            prefix="ticket__",
            met=Count("pk", filter=met),
            total=Count("pk"),
        ):
            rows[r["key"]][f"{metric}_met"] += r["met"]
            rows[r["key"]][f"{metric}_breached"] += r["total"] - r["met"]


def _open_at(scope: Scope) -> QuerySet[Ticket]:
    at = scope.at
    qs = scope.tickets().filter(created_at__lt=at)
    if at >= (scope.now or clock.now()):
        return qs.filter(status__in=OPEN_STATUSES)
    finished_after = Q(resolved_at__gte=at) | Q(resolved_at__isnull=True, closed_at__gte=at)
    return qs.filter(Q(status__in=OPEN_STATUSES) | finished_after)


def _zone() -> str:
    from django.conf import settings

    return str(settings.TIME_ZONE)


def roll_up_day(day: date, *, now: datetime | None = None) -> int:
    """Recompute one day's rows; returns how many rows the day has now."""
    now = now or clock.now()
    computed = compute_day(day, now=now)
    with transaction.atomic():
        DailyRollup.objects.filter(day=day).delete()
        DailyRollup.objects.bulk_create(
            [
                DailyRollup(
                    day=day,
                    organization_id=key[0],
                    team_id=key[1],
                    module=key[2] or "",
                    priority=key[3],
                    computed_at=now,
                    **values,
                )
                for key, values in computed.items()
                if any(values.values())
            ],
            batch_size=500,
        )
    return DailyRollup.objects.filter(day=day).count()


def local_today(now: datetime | None = None) -> date:
    return (now or clock.now()).astimezone(Period.month(2000, 1).tz).date()


def roll_up_recent(*, now: datetime | None = None) -> dict[str, int]:
    """Today and yesterday (late events of yesterday, and its final backlog)."""
    now = now or clock.now()
    today = local_today(now)
    rows = sum(roll_up_day(day, now=now) for day in (today - timedelta(days=1), today))
    return {"days": 2, "rows": rows}


def roll_up_range(first: date, last: date, *, now: datetime | None = None) -> int:
    """Every day from ``first`` to ``last``; returns the rows written."""
    now = now or clock.now()
    if last < first:
        raise ValueError("the range ends before it starts")
    total, day = 0, first
    while day <= last:
        total += roll_up_day(day, now=now)
        day += timedelta(days=1)
    return total


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Filters:
    """A dashboard's filters, applied to rollup rows."""

    first: date
    last: date
    organization_ids: frozenset[int] | None = None
    team_ids: frozenset[int] | None = None
    modules: frozenset[str] | None = None

    def rows(self) -> QuerySet[DailyRollup]:
        qs = DailyRollup.objects.filter(day__gte=self.first, day__lte=self.last)
        if self.organization_ids is not None:
            qs = qs.filter(organization_id__in=self.organization_ids)
        if self.team_ids is not None:
            qs = qs.filter(team_id__in=self.team_ids)
        if self.modules is not None:
            qs = qs.filter(module__in=self.modules)
        return qs.order_by()


def totals(filters: Filters) -> dict[str, int]:
    """Every measure summed over the filters' days (backlog: the last day's)."""
    sums = filters.rows().aggregate(**{m: Sum(m) for m in MEASURES if m != "backlog"})
    result = {m: int(v or 0) for m, v in sums.items()}
    result["backlog"] = int(
        filters.rows().filter(day=filters.last).aggregate(n=Sum("backlog"))["n"] or 0
    )
    return result


def by_day(filters: Filters, *measures: str) -> list[Any]:
    """Per day, the measures summed (one row per day that has any)."""
    return list(
        filters.rows().values("day").annotate(**{m: Sum(m) for m in measures}).order_by("day")
    )


def by_dimension(filters: Filters, dimension: str, *measures: str) -> list[Any]:
    """The measures per ``organization``, ``team``, ``module`` or ``priority``."""
    if dimension not in ("organization", "team", "module", "priority"):
        raise ValueError(f"not a rollup dimension: {dimension}")
    field = f"{dimension}_id" if dimension in ("organization", "team") else dimension
    return list(filters.rows().values(field).annotate(**{m: Sum(m) for m in measures}))
