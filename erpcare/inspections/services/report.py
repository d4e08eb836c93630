"""The inspection report of one ERP instance over a period: its rating by layer, what
changed since the previous run of each check, the top findings with their remedies, and
the daily trend. The HTML page and the PDF render this."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from erpcare.core.errors import ActionError
from erpcare.customers.models import ErpInstance, Organization
from erpcare.inspections.models import Check, CheckResult, Layer, Rating, ResultStatus
from erpcare.inspections.services.evaluate import STATUS_ORDER, rating_of

MAX_RESULTS = 20_000  # rows read for one report; a daily pack of 30 checks is ~900 a month
TOP_FINDINGS = 20  # findings shown in full; the rest are counted


@dataclass(frozen=True)
class LayerRating:
    layer: str
    label: str
    rating: str
    failing: int
    total: int


@dataclass(frozen=True)
class Finding:
    result: CheckResult
    previous_status: str  # "" when the check ran once in the period

    @property
    def check(self) -> Check:
        return self.result.instance_check.check_ref

    @property
    def is_new(self) -> bool:
        return self.previous_status in ("", ResultStatus.OK)


@dataclass(frozen=True)
class Change:
    result: CheckResult
    previous_status: str


@dataclass
class InstanceReport:
    instance: ErpInstance
    start: datetime
    end: datetime
    rating: str = Rating.GREY
    checks: int = 0
    layers: list[LayerRating] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    trend: list[tuple[date, str]] = field(default_factory=list)


def instance_report(instance: ErpInstance, *, start: datetime, end: datetime) -> InstanceReport:
    report = InstanceReport(instance=instance, start=start, end=end)
    results = list(
        CheckResult.objects.filter(
            instance_check__erp_instance=instance, started_at__gte=start, started_at__lt=end
        )
        .select_related("instance_check__check_ref__kb_article", "instance_check__data_source")
        .order_by("instance_check_id", "-started_at", "-id")[:MAX_RESULTS]
    )
    latest: dict[int, CheckResult] = {}
    previous: dict[int, CheckResult] = {}
    worst_per_day: dict[date, list[str]] = defaultdict(list)
    for result in results:
        key = result.instance_check_id
        if key not in latest:
            latest[key] = result
        elif key not in previous:
            previous[key] = result
        worst_per_day[timezone.localdate(result.started_at)].append(result.status)
    report.checks = len(latest)
    report.rating = rating_of([r.status for r in latest.values()])
    by_layer: dict[str, list[str]] = defaultdict(list)
    for result in latest.values():
        by_layer[result.instance_check.check_ref.layer].append(result.status)
    report.layers = [
        LayerRating(
            layer=layer.value,
            label=str(layer.label),
            rating=rating_of(by_layer[layer.value]),
            failing=sum(1 for s in by_layer[layer.value] if s != ResultStatus.OK),
            total=len(by_layer[layer.value]),
        )
        for layer in Layer
        if by_layer.get(layer.value)
    ]
    findings = [
        Finding(result, previous[key].status if key in previous else "")
        for key, result in latest.items()
        if result.status != ResultStatus.OK
    ]
    severity_rank = {"critical": 0, "high": 1, "warning": 2, "info": 3}
    findings.sort(
        key=lambda f: (
            -STATUS_ORDER[ResultStatus(f.result.status)],
            severity_rank.get(f.check.severity, 4),
            f.check.name,
        )
    )
    report.findings = findings
    report.changes = [
        Change(result, previous[key].status)
        for key, result in latest.items()
        if key in previous and previous[key].status != result.status
    ]
    report.trend = [(day, rating_of(statuses)) for day, statuses in sorted(worst_per_day.items())]
    return report


# ---------------------------------------------------------------------------
# The report as a page, a PDF and a mail attachment
# ---------------------------------------------------------------------------


DEFAULT_DAYS = 30
MAX_DAYS = 366


def checked_period(start: date | None, end: date | None) -> tuple[date, date]:
    """The period a reader asked for (both days included), the last 30 days by default;
    ActionError when it runs backwards or is longer than a year."""
    end = end or timezone.localdate()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ActionError(_("The period must start before it ends."))
    if (end - start).days >= MAX_DAYS:
        raise ActionError(_("A report covers at most %(n)d days.") % {"n": MAX_DAYS})
    return start, end


def period_bounds(
    start_day: date, end_day: date, zone: tzinfo | None = None
) -> tuple[datetime, datetime]:
    """From the start of ``start_day`` to the start of the day after ``end_day``, in ``zone``
    (the reader's time zone on the page, the customer's in a mailed report)."""
    zone = zone or timezone.get_current_timezone()
    return (
        datetime.combine(start_day, time.min, tzinfo=zone),
        datetime.combine(end_day + timedelta(days=1), time.min, tzinfo=zone),
    )


def customer_zone_of(organization: Organization) -> tzinfo:
    return ZoneInfo(organization.time_zone or settings.TIME_ZONE)


def report_context(
    instance: ErpInstance, start_day: date, end_day: date, zone: tzinfo | None = None
) -> dict[str, Any]:
    """What the page, the PDF and the mail render: the report and its top findings."""
    start, end = period_bounds(start_day, end_day, zone)
    report = instance_report(instance, start=start, end=end)
    return {
        "instance": instance,
        "report": report,
        "start_day": start_day,
        "end_day": end_day,
        "findings": report.findings[:TOP_FINDINGS],
        "more_findings": max(0, len(report.findings) - TOP_FINDINGS),
        "backups": backup_health(instance),
    }


def backup_health(instance: ErpInstance) -> list[Any]:
    """Each active backup plan of the instance as it stands now (backups app)."""
    from erpcare.backups.models import BackupPlan
    from erpcare.backups.services.health import plan_health

    plans = BackupPlan.objects.filter(erp_instance=instance, is_active=True).order_by("name")
    return [plan_health(plan) for plan in plans]


def report_pdf(
    instance: ErpInstance,
    start_day: date,
    end_day: date,
    *,
    language: str,
    zone: tzinfo | None = None,
) -> bytes:
    """The report printed to PDF in ``language``; links are absolute (ERPCARE_SITE_URL)."""
    from erpcare.channels.email.templates import SITE_NAME
    from erpcare.core.pdf import render_pdf

    zone = zone or timezone.get_current_timezone()
    context = report_context(instance, start_day, end_day, zone)
    context.update(
        link_base=settings.SITE_URL,
        site_name=SITE_NAME,
        generated_at=timezone.localtime(timezone.now(), zone),
    )
    return render_pdf("inspections/report_pdf.html", context, language=language)


def report_filename(instance: ErpInstance, start_day: date, end_day: date) -> str:
    """ASCII, so every mail client and browser keeps it: inspection-<instance>-<from>-<to>.pdf"""
    name = slugify(instance.name) or f"instance-{instance.pk}"
    return f"inspection-{name}-{start_day:%Y%m%d}-{end_day:%Y%m%d}.pdf"
