"""What the dashboards show: each widget's figures, read from the daily rollups (the
manager and customer dashboards) or from a few indexed queries on live rows (queues, SLA
breaches, operations). Views only pick the filters and render; charts are ECharts option
dictionaries built here, with the ticket-list URL each bar or point drills down to.

Dashboards count days in the service's time zone (``ERPCARE_TIME_ZONE``), like the rollups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.core import clock
from erpcare.customers.models import ErpModule, Organization
from erpcare.reports import kpis
from erpcare.reports.periods import Period, zone
from erpcare.reports.rollups import Filters, by_day, by_dimension, local_today, totals
from erpcare.tickets.models import OPEN_STATUSES, PRIORITY_SHORT, SlaState, Status, Ticket

PRESETS = ("7d", "30d", "90d", "month", "last_month", "custom")
MAX_DAYS = 400
BREACHES_SHOWN = 20
COLORS = {"created": "#0d6efd", "resolved": "#198754", "backlog": "#fd7e14", "breach": "#dc3545"}


@dataclass(frozen=True)
class Selection:
    """A dashboard's filters as chosen: the rollup filters, plus the codes for links."""

    filters: Filters
    customer_code: str = ""
    team_code: str = ""
    module: str = ""

    def queue_url(self, **extra: str) -> str:
        params = {
            "queue": "all",
            "customer": self.customer_code,
            "team": self.team_code,
            "module": self.module,
            "created_from": self.filters.first.isoformat(),
            "created_to": self.filters.last.isoformat(),
        }
        params.update(extra)
        return reverse("desk:queue") + "?" + urlencode({k: v for k, v in params.items() if v})


def period_days(
    preset: str, today: date, first: date | None, last: date | None
) -> tuple[date, date]:
    """The first and last day of a preset (or the custom range), checked."""
    if preset == "custom":
        if first is None or last is None:
            raise ValueError(_("Give both the first and the last day."))
        if last < first:
            raise ValueError(_("The last day is before the first."))
        if (last - first).days >= MAX_DAYS:
            raise ValueError(_("Choose at most %(days)d days.") % {"days": MAX_DAYS})
        return first, last
    if preset == "month":
        return today.replace(day=1), today
    if preset == "last_month":
        previous = Period.month(today.year, today.month).previous()
        return previous.first, previous.last
    days = {"7d": 7, "30d": 30, "90d": 90}.get(preset)
    if days is None:
        raise ValueError(_("Unknown period."))
    return today - timedelta(days=days - 1), today


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator * 100, 1) if denominator else None


def _mean_minutes(seconds: int, count: int) -> float | None:
    return round(seconds / count / 60, 1) if count else None


def tiles(selection: Selection) -> dict[str, Any]:
    """The headline figures of the manager dashboard (one aggregate over the rollups)."""
    t = totals(selection.filters)
    return {
        "created": t["created"],
        "resolved": t["resolved"],
        "backlog": t["backlog"],
        "response_sla": _ratio(t["response_met"], t["response_met"] + t["response_breached"]),
        "resolution_sla": _ratio(
            t["resolution_met"], t["resolution_met"] + t["resolution_breached"]
        ),
        "breaches": t["response_breached"] + t["resolution_breached"],
        "l1_share": _ratio(t["resolved_at_l1"], t["resolved"]),
        "reopen_rate": _ratio(t["reopened"], t["resolved"]),
        "escalation_rate": _ratio(t["escalated"], t["created"]),
        "first_response_minutes": _mean_minutes(t["response_seconds"], t["responded"]),
        "resolution_hours": (
            round(t["resolution_seconds"] / t["resolved"] / 3600, 1) if t["resolved"] else None
        ),
    }


def _days(filters: Filters) -> list[date]:
    return [
        filters.first + timedelta(days=n) for n in range((filters.last - filters.first).days + 1)
    ]


def trend_chart(selection: Selection) -> dict[str, Any]:
    """Created, resolved and backlog per day; a click opens that day's new tickets."""
    rows = {r["day"]: r for r in by_day(selection.filters, "created", "resolved", "backlog")}
    days = _days(selection.filters)

    def series(measure: str) -> list[int]:
        return [int((rows.get(d) or {}).get(measure) or 0) for d in days]

    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 40, "right": 16, "top": 32, "bottom": 28},
        "xAxis": {"type": "category", "data": [d.isoformat() for d in days]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {
                "name": _("Created"),
                "type": "bar",
                "data": series("created"),
                "itemStyle": {"color": COLORS["created"]},
            },
            {
                "name": _("Resolved"),
                "type": "bar",
                "data": series("resolved"),
                "itemStyle": {"color": COLORS["resolved"]},
            },
            {
                "name": _("Backlog"),
                "type": "line",
                "data": series("backlog"),
                "itemStyle": {"color": COLORS["backlog"]},
            },
        ],
        "drill": [
            selection.queue_url(created_from=d.isoformat(), created_to=d.isoformat()) for d in days
        ],
    }


def sla_chart(selection: Selection) -> dict[str, Any]:
    """SLA compliance per day for each clock (days without a stopped clock are gaps)."""
    rows = {
        r["day"]: r
        for r in by_day(
            selection.filters,
            "response_met",
            "response_breached",
            "resolution_met",
            "resolution_breached",
        )
    }
    days = _days(selection.filters)

    def series(metric: str) -> list[float | None]:
        values = []
        for d in days:
            row = rows.get(d) or {}
            met, breached = (
                int(row.get(f"{metric}_met") or 0),
                int(row.get(f"{metric}_breached") or 0),
            )
            values.append(_ratio(met, met + breached))
        return values

    return {
        "tooltip": {"trigger": "axis", "valueFormatter": "percent"},
        "legend": {"top": 0},
        "grid": {"left": 40, "right": 16, "top": 32, "bottom": 28},
        "xAxis": {"type": "category", "data": [d.isoformat() for d in days]},
        "yAxis": {"type": "value", "min": 0, "max": 100},
        "series": [
            {
                "name": _("First response met"),
                "type": "line",
                "connectNulls": False,
                "data": series("response"),
            },
            {
                "name": _("Resolution met"),
                "type": "line",
                "connectNulls": False,
                "data": series("resolution"),
            },
        ],
        "drill": [selection.queue_url(sla="breached") for _d in days],
    }


def modules_chart(selection: Selection) -> dict[str, Any]:
    """New tickets per ERP module, most first; a click opens that module's tickets."""
    labels = dict(ErpModule.choices)
    rows = sorted(
        (
            (r["module"] or "", int(r["created"] or 0))
            for r in by_dimension(selection.filters, "module", "created")
        ),
        key=lambda item: -item[1],
    )
    rows = [row for row in rows if row[1]][:12]
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 120, "right": 16, "top": 8, "bottom": 24},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {
            "type": "category",
            "inverse": True,
            "data": [str(labels.get(m, _("No module"))) for m, _n in rows],
        },
        "series": [
            {
                "name": _("Created"),
                "type": "bar",
                "data": [n for _m, n in rows],
                "itemStyle": {"color": COLORS["created"]},
            }
        ],
        "drill": [selection.queue_url(module=m) if m else "" for m, _n in rows],
    }


def customers_table(selection: Selection) -> list[dict[str, Any]]:
    """Per customer: created, resolved, SLA met, backlog at the end; largest first."""
    rows = by_dimension(
        selection.filters,
        "organization",
        "created",
        "resolved",
        "response_met",
        "response_breached",
        "resolution_met",
        "resolution_breached",
    )
    last = Filters(
        selection.filters.last,
        selection.filters.last,
        selection.filters.organization_ids,
        selection.filters.team_ids,
        selection.filters.modules,
    )
    backlog = {
        r["organization_id"]: r["backlog"] for r in by_dimension(last, "organization", "backlog")
    }
    names = dict(
        Organization.objects.filter(pk__in=[r["organization_id"] for r in rows]).values_list(
            "pk", "name"
        )
    )
    codes = dict(
        Organization.objects.filter(pk__in=[r["organization_id"] for r in rows]).values_list(
            "pk", "code"
        )
    )
    table = []
    for r in rows:
        met = int(r["response_met"] or 0) + int(r["resolution_met"] or 0)
        breached = int(r["response_breached"] or 0) + int(r["resolution_breached"] or 0)
        table.append(
            {
                "name": names.get(r["organization_id"], ""),
                "url": Selection(
                    selection.filters,
                    customer_code=codes.get(r["organization_id"], ""),
                    team_code=selection.team_code,
                    module=selection.module,
                ).queue_url(),
                "created": int(r["created"] or 0),
                "resolved": int(r["resolved"] or 0),
                "sla": _ratio(met, met + breached),
                "breached": breached,
                "backlog": int(backlog.get(r["organization_id"]) or 0),
            }
        )
    return sorted(table, key=lambda row: (-row["created"], row["name"]))


def kpi_table(selection: Selection) -> tuple[list[Any], list[list[Any]]]:
    """The dashboard's figures per customer and in total, as a header and rows (exports)."""
    header = [
        _("Customer"), _("New tickets"), _("Resolved"), _("Open at the end"),
        _("First response SLA met (%)"), _("Resolution SLA met (%)"), _("SLA breaches"),
        _("Resolved at L1 (%)"), _("Reopened (%)"), _("Escalated (%)"),
        _("First response, mean (min)"), _("Resolution, mean (h)"),
    ]  # fmt: skip
    rows: list[list[Any]] = []
    f = selection.filters
    ids = sorted({r["organization_id"] for r in by_dimension(f, "organization", "created")})
    names = dict(Organization.objects.filter(pk__in=ids).values_list("pk", "name"))
    per = [(names.get(pk, str(pk)), frozenset({pk})) for pk in ids]
    for name, only in [*sorted(per), (_("All customers"), f.organization_ids)]:
        t = tiles(Selection(Filters(f.first, f.last, only, f.team_ids, f.modules)))
        rows.append([
            name, t["created"], t["resolved"], t["backlog"], t["response_sla"],
            t["resolution_sla"], t["breaches"], t["l1_share"], t["reopen_rate"],
            t["escalation_rate"], t["first_response_minutes"], t["resolution_hours"],
        ])  # fmt: skip
    return header, rows


def breaches(user: User, selection: Selection) -> list[Ticket]:
    """Open tickets whose SLA is breached or about to be, soonest due first (live, through
    the ``sla_state, sla_due_at`` index)."""
    qs = Ticket.objects.visible_to(user).filter(
        status__in=OPEN_STATUSES, sla_state__in=[SlaState.BREACHED, SlaState.WARNING]
    )
    f = selection.filters
    if f.organization_ids is not None:
        qs = qs.filter(organization_id__in=f.organization_ids)
    if f.team_ids is not None:
        qs = qs.filter(team_id__in=f.team_ids)
    if f.modules is not None:
        qs = qs.filter(module__in=f.modules)
    return list(
        qs.select_related("organization", "assignee").order_by("sla_due_at", "id")[:BREACHES_SHOWN]
    )


# --------------------------------------------------------------------------- agent


def agent_summary(user: User, *, now: datetime | None = None) -> dict[str, Any]:
    """An agent's own queue: open tickets by status and priority, the ones at SLA risk,
    and what they resolved over the last 30 days (live: the assignee index)."""
    now = now or clock.now()
    mine = Ticket.objects.filter(assignee=user, status__in=OPEN_STATUSES)
    by_status = dict(
        mine.order_by().values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    by_priority = dict(
        mine.order_by().values("priority").annotate(n=Count("id")).values_list("priority", "n")
    )
    at_risk = list(
        mine.filter(sla_state__in=[SlaState.BREACHED, SlaState.WARNING])
        .select_related("organization")
        .order_by("sla_due_at", "id")[:BREACHES_SHOWN]
    )
    today = local_today(now)
    since = today - timedelta(days=29)
    scope = kpis.Scope(period=Period(since, today, zone().key), now=now)
    resolved = scope.resolved().filter(assignee=user)
    statuses = dict(Status.choices)
    return {
        "open": sum(by_status.values()),
        "by_status": [(statuses.get(s, s), by_status[s]) for s in Status.values if s in by_status],
        "by_priority": [(PRIORITY_SHORT[p], by_priority.get(p, 0)) for p in sorted(PRIORITY_SHORT)],
        "at_risk": at_risk,
        "resolved_30d": resolved.count(),
        "breached_open": mine.filter(sla_state=SlaState.BREACHED).count(),
    }


# --------------------------------------------------------------------------- customer


def customer_summary(organization: Organization, *, now: datetime | None = None) -> dict[str, Any]:
    """A customer's own figures over the last 90 days: their tickets, SLA achieved (from
    the rollups of their organization only) and their ERP instances' availability."""
    now = now or clock.now()
    today = local_today(now)
    first = today - timedelta(days=89)
    only = frozenset({organization.pk})
    t = totals(Filters(first, today, organization_ids=only))
    scope = kpis.Scope(
        period=Period(first, today, zone().key),
        organization_ids=only,
        now=now,
    )
    weeks = by_day(Filters(first, today, organization_ids=only), "created", "resolved")
    per_week: dict[date, list[int]] = {}
    for row in weeks:
        monday = row["day"] - timedelta(days=row["day"].weekday())
        bucket = per_week.setdefault(monday, [0, 0])
        bucket[0] += int(row["created"] or 0)
        bucket[1] += int(row["resolved"] or 0)
    mondays = sorted(per_week)
    open_now = Ticket.objects.filter(organization=organization, status__in=OPEN_STATUSES)
    return {
        "first": first,
        "last": today,
        "open": open_now.count(),
        "waiting_for_you": open_now.filter(status=Status.WAITING_CUSTOMER).count(),
        "created": t["created"],
        "resolved": t["resolved"],
        "response_sla": _ratio(t["response_met"], t["response_met"] + t["response_breached"]),
        "resolution_sla": _ratio(
            t["resolution_met"], t["resolution_met"] + t["resolution_breached"]
        ),
        "availability": kpis.availability(scope),
        "chart": {
            "tooltip": {"trigger": "axis"},
            "legend": {"top": 0},
            "grid": {"left": 40, "right": 16, "top": 32, "bottom": 28},
            "xAxis": {"type": "category", "data": [m.isoformat() for m in mondays]},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [
                {
                    "name": _("Submitted"),
                    "type": "bar",
                    "data": [per_week[m][0] for m in mondays],
                    "itemStyle": {"color": COLORS["created"]},
                },
                {
                    "name": _("Resolved"),
                    "type": "bar",
                    "data": [per_week[m][1] for m in mondays],
                    "itemStyle": {"color": COLORS["resolved"]},
                },
            ],
        },
    }


# --------------------------------------------------------------------------- operations


def operations_summary(user: User) -> dict[str, Any]:
    """Incidents, alerts, inspections and backups as they stand (live, scoped to what the
    user may see)."""
    from erpcare.customers.services import visible_erp_instances
    from erpcare.tickets.models import TicketType

    incidents = Ticket.objects.visible_to(user).filter(
        type=TicketType.INCIDENT, status__in=OPEN_STATUSES
    )
    by_priority = dict(
        incidents.order_by().values("priority").annotate(n=Count("id")).values_list("priority", "n")
    )
    instances = visible_erp_instances(user)
    result: dict[str, Any] = {
        "incidents": sum(by_priority.values()),
        "incidents_by_priority": [
            (PRIORITY_SHORT[p], by_priority.get(p, 0)) for p in sorted(PRIORITY_SHORT)
        ],
        "incidents_list": list(
            incidents.select_related("organization", "erp_instance").order_by("priority", "-id")[
                :BREACHES_SHOWN
            ]
        ),
        "alerts_firing": None,
        "ratings": None,
        "backups": None,
    }
    from django.apps import apps

    if apps.is_installed("erpcare.monitoring"):
        from erpcare.monitoring.models import Alert, AlertStatus

        firing = Alert.objects.filter(status=AlertStatus.FIRING)
        if not user.sees_all_tickets:
            firing = firing.filter(erp_instance__in=instances)
        result["alerts_firing"] = firing.count()
    if apps.is_installed("erpcare.inspections"):
        from erpcare.inspections.views import overview_rows

        ratings: dict[str, int] = {}
        for row in overview_rows(instances):
            key = getattr(row, "latest_rating", None) or "none"
            ratings[key] = ratings.get(key, 0) + 1
        result["ratings"] = ratings
    if apps.is_installed("erpcare.backups"):
        from erpcare.backups.models import BackupPlan
        from erpcare.backups.services.health import plan_health

        plans = BackupPlan.objects.filter(
            is_active=True, erp_instance__in=instances
        ).select_related("erp_instance__organization")
        counted: dict[str, int] = {}
        for plan in plans[:500]:
            rating = plan_health(plan).rating
            counted[rating] = counted.get(rating, 0) + 1
        result["backups"] = counted
    return result
