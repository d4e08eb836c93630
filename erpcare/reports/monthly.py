"""The monthly service report of one customer (服务月报): the month's volumes, SLA achieved
against the month before, the MTTR and resolution-time trend over six months, the top
issues and how they were solved, knowledge added, inspection and backup status,
availability, CSAT/NPS, the backlog at the month's end and the manager's "improvements
made" — with charts, in the report's language, the month cut in the customer's time zone.

Every figure comes from ``kpis`` over a ``Scope`` restricted to this one customer, so
nothing of another customer can reach a report. A KPI that is ``kpis.NotAvailable`` stays
that (shown with its reason), never a zero. ``build_report`` is what the page, the PDF,
the workbook and the mail render; it reads, never writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q
from django.utils import timezone, translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from erpcare.core import clock
from erpcare.core.markdown import render_markdown
from erpcare.customers.models import ErpInstance, Organization
from erpcare.reports import kpis, svg
from erpcare.reports.periods import Period, PeriodError
from erpcare.tickets.models.choices import (
    PRIORITY_SHORT,
    Category,
    Channel,
    ResolutionCode,
    TicketType,
)

TREND_MONTHS = 6
TOP = 5
ROOT_CAUSE_CHARS = 400
FINDINGS_SHOWN = 3
TITLES = {"zh-hans": "服务月报"}  # the document's name in Chinese, as customers know it


class ReportError(PeriodError):
    """A report asked for something that cannot be reported (HTTP 400)."""


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class Tally:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class SlaRow:
    key: str  # "all" or the priority number
    label: str
    response: kpis.Ratio
    response_previous: kpis.Ratio
    resolution: kpis.Ratio
    resolution_previous: kpis.Ratio


@dataclass(frozen=True)
class TrendPoint:
    month: date
    label: str
    created: int
    resolved: int
    mttr: timedelta | None  # mean resolution time of incidents (wall-clock)
    resolution_median: timedelta | None  # median resolution time of every ticket


@dataclass(frozen=True)
class TopTicket:
    number: str
    title: str
    priority: str
    type: str
    module: str
    time_to_resolve: timedelta
    business_time: timedelta | None
    resolution_code: str
    resolution_label: str
    root_cause: str  # the resolution text (problem records do not exist yet)


@dataclass(frozen=True)
class ArticleRow:
    number: str
    title: str
    type: str
    published_at: datetime


@dataclass(frozen=True)
class BackupRow:
    plan: str
    rating: str
    rating_label: str
    backup: str
    restore: str


@dataclass(frozen=True)
class InstanceStatus:
    instance_id: int
    name: str
    product: str
    rating: str
    rating_label: str
    checks: int
    failing: int
    findings: list[str]
    backups: list[BackupRow]
    availability: kpis.Availability | None


@dataclass
class MonthlyReport:
    organization: Organization
    period: Period
    language: str
    title: str
    generated_at: datetime
    created: int
    resolved: int
    volumes: dict[str, list[Tally]]
    sla: list[SlaRow]
    trend: list[TrendPoint]
    top_modules: list[Tally]
    top_categories: list[Tally]
    top_tickets: list[TopTicket]
    articles: list[ArticleRow]
    instances: list[InstanceStatus]
    csat: Any  # surveys' CsatSummary or kpis.NotAvailable
    nps: Any  # surveys' NpsSummary or kpis.NotAvailable
    backlog: kpis.Backlog
    commentary: str = ""
    commentary_html: str = ""
    charts: dict[str, SafeString] = field(default_factory=dict)

    @property
    def month(self) -> date:
        return self.period.first

    @property
    def month_label(self) -> str:
        return f"{self.period.first:%Y-%m}"

    @property
    def time_zone(self) -> str:
        return self.period.time_zone

    @property
    def mttr(self) -> timedelta | None:
        return self.trend[-1].mttr if self.trend else None


# --------------------------------------------------------------------------- inputs


def customer_zone(organization: Organization) -> str:
    return organization.time_zone or settings.TIME_ZONE


def month_period(organization: Organization, text: str, *, now: datetime | None = None) -> Period:
    """``YYYY-MM`` as that month in the customer's time zone; ReportError (translated, with
    the reason) for anything else, and for a month that has not started there yet."""
    text = (text or "").strip()
    try:
        year_text, month_text = text.split("-")
        year, month = int(year_text), int(month_text)
    except ValueError:
        raise ReportError(
            _("Give the month as YYYY-MM, e.g. 2026-11 (got “%(text)s”).") % {"text": text[:20]}
        ) from None
    if not 2000 <= year <= 2999:
        raise ReportError(
            _("The year must be between 2000 and 2999 (got %(year)d).") % {"year": year}
        )
    if not 1 <= month <= 12:
        raise ReportError(_("A month is a number from 1 to 12 (got %(month)d).") % {"month": month})
    period = Period.month(year, month, customer_zone(organization))
    check_started(period, now=now)
    return period


def check_started(period: Period, *, now: datetime | None = None) -> None:
    if period.start > (now or clock.now()):
        raise ReportError(
            _("%(month)s has not started yet: a report covers a past or the current month.")
            % {"month": f"{period.first:%Y-%m}"}
        )


def default_language(organization: Organization) -> str:
    """The language most of the customer's active users chose, else the site's."""
    from erpcare.accounts.models import User

    row = (
        User.objects.filter(organization=organization, is_active=True)
        .exclude(language="")
        .values("language")
        .annotate(n=Count("id"))
        .order_by("-n", "language")
        .first()
    )
    codes = {code for code, _name in settings.LANGUAGES}
    if row and row["language"] in codes:
        return str(row["language"])
    return str(settings.LANGUAGE_CODE)


def report_title(language: str) -> str:
    with translation.override(language):
        translated = _("Monthly service report")
    if translated == "Monthly service report" and language in TITLES:
        return TITLES[language]
    return translated


# --------------------------------------------------------------------------- building


def build_report(
    organization: Organization,
    period: Period,
    *,
    language: str,
    commentary: str | None = None,
    now: datetime | None = None,
) -> MonthlyReport:
    """The report of ``organization`` for the month ``period`` (a whole month; for the
    running month the figures describe "so far"), labelled in ``language``. ``commentary``
    (Markdown) defaults to the stored report's."""
    if not isinstance(organization, Organization) or organization.pk is None:
        raise ReportError(_("Customer not found."))
    if period.first.day != 1 or (period.last + timedelta(days=1)).day != 1:
        raise ReportError(_("A monthly report covers one whole month."))
    codes = {code for code, _name in settings.LANGUAGES}
    if language not in codes:
        raise ReportError(_("Unknown language: %(language)s") % {"language": language})
    now = now or clock.now()
    check_started(period, now=now)
    if commentary is None:
        from erpcare.reports.models import MonthlyReport as StoredReport

        stored = StoredReport.objects.filter(organization=organization, month=period.first).first()
        commentary = stored.commentary if stored else ""

    with translation.override(language):
        return _build(organization, period, language, commentary, now)


def _scope(organization: Organization, period: Period, now: datetime) -> kpis.Scope:
    return kpis.Scope(period=period, organization_ids=frozenset({organization.pk}), now=now)


def _build(
    organization: Organization, period: Period, language: str, commentary: str, now: datetime
) -> MonthlyReport:
    scope = _scope(organization, period, now)
    previous = _scope(organization, period.previous(), now)
    volumes = {
        by: _volume(scope, by) for by in ("type", "priority", "module", "channel", "category")
    }
    report = MonthlyReport(
        organization=organization,
        period=period,
        language=language,
        title=report_title(language),
        generated_at=now,
        created=sum(c.count for c in volumes["type"]),
        resolved=scope.resolved().count(),
        volumes=volumes,
        sla=_sla(scope, previous),
        trend=_trend(organization, period, now),
        top_modules=[c for c in volumes["module"] if c.key][:TOP],
        top_categories=volumes["category"][:TOP],
        top_tickets=_top_tickets(scope),
        articles=_articles(organization, period),
        instances=_instances(organization, scope),
        csat=kpis.csat(scope),
        nps=kpis.nps(scope),
        backlog=kpis.backlog(scope),
        commentary=commentary,
        commentary_html=render_markdown(commentary) if commentary.strip() else "",
    )
    report.charts = _charts(report)
    return report


_LABELS: dict[str, Any] = {
    "type": TicketType,
    "channel": Channel,
    "category": Category,
}


def _label(by: str, key: str) -> str:
    if by == "priority":
        return PRIORITY_SHORT.get(int(key), key) if key.isdigit() else key
    if by == "module":
        from erpcare.customers.models import ErpModule

        return str(ErpModule(key).label) if key in ErpModule.values else (key or _("No module"))
    choices = _LABELS.get(by)
    if choices is not None and key in choices.values:
        return str(choices(key).label)
    return key or "—"


def _volume(scope: kpis.Scope, by: str) -> list[Tally]:
    counts = kpis.volume(scope, by)
    rows = [Tally(key, _label(by, key), n) for key, n in counts.items()]
    if by == "priority":
        return sorted(rows, key=lambda c: c.key)
    return sorted(rows, key=lambda c: (-c.count, c.label))


def _sla(scope: kpis.Scope, previous: kpis.Scope) -> list[SlaRow]:
    now = {m: kpis.sla_compliance(scope, m) for m in ("response", "resolution")}
    before = {m: kpis.sla_compliance(previous, m) for m in ("response", "resolution")}
    empty = kpis.Ratio(0, 0)
    rows = [
        SlaRow(
            "all",
            _("All priorities"),
            now["response"].overall,
            before["response"].overall,
            now["resolution"].overall,
            before["resolution"].overall,
        )
    ]
    priorities = sorted(
        set(now["response"].by_priority)
        | set(now["resolution"].by_priority)
        | set(before["response"].by_priority)
        | set(before["resolution"].by_priority)
    )
    for p in priorities:
        rows.append(
            SlaRow(
                str(p),
                PRIORITY_SHORT.get(p, str(p)),
                now["response"].by_priority.get(p, empty),
                before["response"].by_priority.get(p, empty),
                now["resolution"].by_priority.get(p, empty),
                before["resolution"].by_priority.get(p, empty),
            )
        )
    return rows


def _trend(organization: Organization, period: Period, now: datetime) -> list[TrendPoint]:
    months = [period]
    for _n in range(TREND_MONTHS - 1):
        months.insert(0, months[0].previous())
    took = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    points = []
    for month in months:
        scope = _scope(organization, month, now)
        # Wall-clock only (what kpis.mttr and kpis.resolution call wall_clock), without
        # their business-hours half: six months of it would double the queries.
        resolved = kpis.durations(scope.resolved(), took)
        incidents = kpis.durations(scope.resolved().filter(type=TicketType.INCIDENT), took)
        points.append(
            TrendPoint(
                month=month.first,
                label=f"{month.first:%Y-%m}",
                created=scope.created().count(),
                resolved=resolved.count,
                mttr=incidents.mean,
                resolution_median=resolved.median,
            )
        )
    return points


def _top_tickets(scope: kpis.Scope) -> list[TopTicket]:
    took = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    rows = (
        scope.resolved()
        .annotate(took=took, business=F("sla__resolution_elapsed"))
        .order_by("-took", "number")[:TOP]
    )
    result = []
    for t in rows:
        took_value = _as_timedelta(t.took) or timedelta(0)
        code = t.resolution_code or ""
        result.append(
            TopTicket(
                number=t.number,
                title=t.title,
                priority=PRIORITY_SHORT.get(t.priority, str(t.priority)),
                type=_label("type", t.type),
                module=_label("module", t.module) if t.module else "",
                time_to_resolve=took_value,
                business_time=_as_timedelta(t.business),
                resolution_code=code,
                resolution_label=str(ResolutionCode(code).label)
                if code in ResolutionCode.values
                else code,
                root_cause=_shorten(t.resolution or ""),
            )
        )
    return result


def _as_timedelta(value: Any) -> timedelta | None:
    if value is None:
        return None
    return value if isinstance(value, timedelta) else timedelta(microseconds=int(value))


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ROOT_CAUSE_CHARS else text[: ROOT_CAUSE_CHARS - 1] + "…"


def _articles(organization: Organization, period: Period) -> list[ArticleRow]:
    """Articles first published in the month that this customer can read: public ones and
    those made for this customer (the portal's rule for customer users)."""
    from erpcare.kb.models import Article, ArticleStatus, ArticleType, Visibility

    rows = (
        Article.objects.filter(
            status=ArticleStatus.PUBLISHED,
            published_at__gte=period.start,
            published_at__lt=period.end,
        )
        .filter(
            Q(visibility=Visibility.PUBLIC)
            | Q(visibility=Visibility.CUSTOMER, organization_id=organization.pk)
        )
        .order_by("published_at", "number")
    )
    return [
        ArticleRow(
            number=a.number,
            title=a.title,
            type=str(ArticleType(a.type).label) if a.type in ArticleType.values else a.type,
            published_at=a.published_at,
        )
        for a in rows
        if a.published_at is not None
    ]


def _instances(organization: Organization, scope: kpis.Scope) -> list[InstanceStatus]:
    from erpcare.inspections.models import Rating
    from erpcare.inspections.services.report import backup_health, instance_report

    availability = {a.erp_instance_id: a for a in kpis.availability(scope)}
    result = []
    for instance in ErpInstance.objects.filter(organization=organization).order_by("name", "pk"):
        if not instance.is_active and instance.pk not in availability:
            continue
        inspected = instance_report(instance, start=scope.start, end=scope.end)
        backups = [
            BackupRow(
                plan=h.plan.name,
                rating=h.rating,
                rating_label=str(Rating(h.rating).label) if h.rating in Rating.values else h.rating,
                backup=str(h.backup.message),
                restore=str(h.restore.message),
            )
            for h in backup_health(instance)
        ]
        result.append(
            InstanceStatus(
                instance_id=instance.pk,
                name=instance.name,
                product=instance.get_product_display(),
                rating=inspected.rating,
                rating_label=str(Rating(inspected.rating).label),
                checks=inspected.checks,
                failing=len(inspected.findings),
                findings=[
                    f"{f.result.get_status_display()}: {f.check.name}"
                    for f in inspected.findings[:FINDINGS_SHOWN]
                ],
                backups=backups,
                availability=availability.get(instance.pk),
            )
        )
    return result


# --------------------------------------------------------------------------- charts


def hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 1)


def _charts(report: MonthlyReport) -> dict[str, SafeString]:
    trend = report.trend
    labels = [p.label for p in trend]
    sla_rows = report.sla
    return {
        "volume_type": svg.bar_chart(
            [c.label for c in report.volumes["type"]],
            [svg.Series(_("Tickets"), [c.count for c in report.volumes["type"]])],
            title=_("Tickets by type"),
            unit=_("tickets"),
            width=340,
            testid="chart-volume-type",
            integers=True,
        ),
        "volume_priority": svg.bar_chart(
            [c.label for c in report.volumes["priority"]],
            [svg.Series(_("Tickets"), [c.count for c in report.volumes["priority"]])],
            title=_("Tickets by priority"),
            unit=_("tickets"),
            width=340,
            testid="chart-volume-priority",
            integers=True,
        ),
        "sla": svg.bar_chart(
            [r.label for r in sla_rows],
            [
                svg.Series(_("First response"), [r.response.percent for r in sla_rows]),
                svg.Series(
                    pgettext("SLA clock", "Resolution"), [r.resolution.percent for r in sla_rows]
                ),
            ],
            title=_("SLA achieved this month"),
            unit="%",
            testid="chart-sla",
        ),
        "trend_time": svg.line_chart(
            labels,
            [
                svg.Series(_("MTTR (incidents)"), [hours(p.mttr) for p in trend]),
                svg.Series(
                    _("Median resolution time"), [hours(p.resolution_median) for p in trend]
                ),
            ],
            title=_("Resolution time, last six months"),
            unit=_("hours"),
            testid="chart-trend-time",
        ),
        "trend_volume": svg.bar_chart(
            labels,
            [
                svg.Series(_("Created"), [p.created for p in trend]),
                svg.Series(_("Resolved"), [p.resolved for p in trend]),
            ],
            title=_("Tickets per month"),
            unit=_("tickets"),
            testid="chart-trend-volume",
            integers=True,
        ),
    }


# --------------------------------------------------------------------------- helpers for views


def local_generated_at(report: MonthlyReport) -> datetime:
    return timezone.localtime(report.generated_at, report.period.tz)
