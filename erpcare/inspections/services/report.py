"""The inspection report of one ERP instance over a period: its rating by layer, what
changed since the previous run of each check, the top findings with their remedies, and
the daily trend. The HTML page and the PDF render this."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils import timezone

from erpcare.customers.models import ErpInstance
from erpcare.inspections.models import Check, CheckResult, Layer, Rating, ResultStatus
from erpcare.inspections.services.evaluate import STATUS_ORDER, rating_of

MAX_RESULTS = 20_000  # rows read for one report; a daily pack of 30 checks is ~900 a month


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
