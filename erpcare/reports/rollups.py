"""Rolling tickets up into ``DailyRollup`` rows, and reading them back for dashboards.

Days are recomputed whole: their rows are deleted and written again in one transaction,
from one GROUP BY per measure over the whole range (a day or two years alike). The worker
rolls up today and yesterday every ten minutes (``roll_up_recent``); ``erpcare reports
rollup --since`` fills older days. Each measure counts on the local day of its event, under
the ticket's current customer, team, module and priority. The backlog of a day is the
tickets created by its end minus those finished by then (see ``_backlog``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate

from erpcare.core import clock
from erpcare.reports.kpis import Scope, escalated
from erpcare.reports.models import DailyRollup
from erpcare.reports.periods import Period
from erpcare.reports.periods import zone as service_zone
from erpcare.tickets.models import OPEN_STATUSES, TicketEvent

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


def _grouped(
    qs: QuerySet[Any], day_field: str, zone: Any, prefix: str = "", **aggregates: Any
) -> Iterable[dict[str, Any]]:
    """``aggregates`` per local day of ``day_field`` and per dimension (one GROUP BY)."""
    names = [f"{prefix}{d}" for d in DIMS]
    rows = (
        qs.order_by()
        .annotate(_day=TruncDate(day_field, tzinfo=zone))
        .values("_day", *names)
        .annotate(**aggregates)
    )
    for row in rows:
        yield {
            "day": row["_day"],
            "key": tuple(row[n] for n in names),
            **{a: row[a] for a in aggregates},
        }


def _dims_only(qs: QuerySet[Any], **aggregates: Any) -> Iterable[dict[str, Any]]:
    for row in qs.order_by().values(*DIMS).annotate(**aggregates):
        yield {"key": tuple(row[n] for n in DIMS), **{a: row[a] for a in aggregates}}


Rows = dict[tuple[date, Key], dict[str, int]]


def compute_range(
    first: date, last: date, *, time_zone: str | None = None, now: datetime | None = None
) -> Rows:
    """The rollup rows of the local days ``first``..``last``, as {(day, dimensions):
    {measure: value}}: one GROUP BY per measure over the whole range, whatever its length."""
    now = now or clock.now()
    scope = Scope(period=Period(first, last, time_zone or service_zone().key), now=now)
    zone = scope.period.tz
    rows: Rows = defaultdict(lambda: dict.fromkeys(MEASURES, 0))

    def add(r: dict[str, Any], measure: str, value: Any) -> None:
        rows[(r["day"], r["key"])][measure] += int(value or 0)

    for r in _grouped(scope.created(), "created_at", zone, n=Count("id")):
        add(r, "created", r["n"])

    resolution = ExpressionWrapper(F("resolved_at") - F("created_at"), DurationField())
    resolved = scope.resolved().annotate(escalated=escalated())
    for r in _grouped(
        resolved,
        "resolved_at",
        zone,
        n=Count("id"),
        l1=Count("id", filter=Q(tier=1, escalated=False)),
        seconds=Sum(resolution),
    ):
        add(r, "resolved", r["n"])
        add(r, "resolved_at_l1", r["l1"])
        add(r, "resolution_seconds", _seconds(r["seconds"]))

    response = ExpressionWrapper(F("first_response_at") - F("created_at"), DurationField())
    responded = scope.tickets().filter(
        first_response_at__gte=scope.start, first_response_at__lt=scope.end
    )
    for r in _grouped(responded, "first_response_at", zone, n=Count("id"), seconds=Sum(response)):
        add(r, "responded", r["n"])
        add(r, "response_seconds", _seconds(r["seconds"]))

    for kind, measure in (
        (TicketEvent.Kind.REOPENED, "reopened"),
        (TicketEvent.Kind.ESCALATED, "escalated"),
    ):
        events = scope.events(kind)
        for r in _grouped(
            events, "created_at", zone, prefix="ticket__", n=Count("ticket_id", distinct=True)
        ):
            add(r, measure, r["n"])

    _sla(scope, zone, add)
    _backlog(scope, zone, rows)
    return dict(rows)


def _sla(scope: Scope, zone: Any, add: Any) -> None:
    """Clocks that stopped in the range count on the day they stopped (met unless
    breached); clocks still running count as breached on the day they breached."""
    from erpcare.sla.models import TicketSla

    for metric in ("response", "resolution"):
        stopped, breached = f"{metric}_stopped_at", f"{metric}_breached_at"
        clocks = TicketSla.objects.filter(ticket__in=scope.tickets())
        done = clocks.filter(**{f"{stopped}__gte": scope.start, f"{stopped}__lt": scope.end})
        for r in _grouped(
            done,
            stopped,
            zone,
            prefix="ticket__",
            met=Count("pk", filter=Q(**{f"{breached}__isnull": True})),
            total=Count("pk"),
        ):
            add(r, f"{metric}_met", r["met"])
            add(r, f"{metric}_breached", r["total"] - r["met"])
        running = clocks.filter(
            **{
                f"{stopped}__isnull": True,
                f"{breached}__gte": scope.start,
                f"{breached}__lt": scope.end,
            }
        )
        for r in _grouped(running, breached, zone, prefix="ticket__", n=Count("pk")):
            add(r, f"{metric}_breached", r["n"])


def _backlog(scope: Scope, zone: Any, rows: Rows) -> None:
    """Open at the end of each day (now, for today) = created by then − finished by then,
    per dimension, carried from the range's start — two GROUP BYs, not one per day. A
    ticket not open now finished when it was resolved (else closed); one open now has not
    finished (so a ticket resolved and reopened later counts as open in between)."""
    tickets = scope.tickets()
    finish = Coalesce("resolved_at", "closed_at")
    finished = tickets.exclude(status__in=OPEN_STATUSES).annotate(_finish=finish)
    running: dict[Key, int] = defaultdict(int)
    for r in _dims_only(tickets.filter(created_at__lt=scope.start), n=Count("id")):
        running[r["key"]] += r["n"]
    for r in _dims_only(finished.filter(_finish__lt=scope.start), n=Count("id")):
        running[r["key"]] -= r["n"]
    changes: dict[date, dict[Key, int]] = defaultdict(lambda: defaultdict(int))
    in_range = Q(created_at__gte=scope.start, created_at__lt=scope.end)
    for r in _grouped(tickets.filter(in_range), "created_at", zone, n=Count("id")):
        changes[r["day"]][r["key"]] += r["n"]
    done = finished.filter(_finish__gte=scope.start, _finish__lt=scope.end)
    for r in _grouped(done, "_finish", zone, n=Count("id")):
        changes[r["day"]][r["key"]] -= r["n"]
    for day in scope.period.days():
        for key, delta in changes.get(day, {}).items():
            running[key] += delta
        for key, count in running.items():
            if count > 0:
                rows[(day, key)]["backlog"] = count


def compute_day(
    day: date, *, time_zone: str | None = None, now: datetime | None = None
) -> dict[Key, dict[str, int]]:
    """The rollup rows of one local day, as {dimensions: {measure: value}}."""
    computed = compute_range(day, day, time_zone=time_zone, now=now)
    return {key: values for (_day, key), values in computed.items()}


def _write(first: date, last: date, computed: Rows, now: datetime) -> int:
    with transaction.atomic():
        DailyRollup.objects.filter(day__gte=first, day__lte=last).delete()
        DailyRollup.objects.bulk_create(
            (
                DailyRollup(
                    day=day,
                    organization_id=key[0],
                    team_id=key[1],
                    module=key[2] or "",
                    priority=key[3],
                    computed_at=now,
                    **values,
                )
                for (day, key), values in computed.items()
                if any(values.values())
            ),
            batch_size=2000,
        )
    return DailyRollup.objects.filter(day__gte=first, day__lte=last).count()


def roll_up_day(day: date, *, now: datetime | None = None) -> int:
    """Recompute one day's rows; returns how many rows the day has now."""
    return roll_up_range(day, day, now=now)


def local_today(now: datetime | None = None) -> date:
    return (now or clock.now()).astimezone(service_zone()).date()


def roll_up_recent(*, now: datetime | None = None) -> dict[str, int]:
    """Today and yesterday (late events of yesterday, and its final backlog)."""
    now = now or clock.now()
    today = local_today(now)
    rows = roll_up_range(today - timedelta(days=1), today, now=now)
    return {"days": 2, "rows": rows}


def roll_up_range(
    first: date, last: date, *, now: datetime | None = None, chunk_days: int = 92
) -> int:
    """Every day from ``first`` to ``last`` (a quarter per transaction); returns the rows
    written."""
    now = now or clock.now()
    if last < first:
        raise ValueError("the range ends before it starts")
    total, start = 0, first
    while start <= last:
        end = min(last, start + timedelta(days=chunk_days - 1))
        total += _write(start, end, compute_range(start, end, now=now), now)
        start = end + timedelta(days=1)
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
