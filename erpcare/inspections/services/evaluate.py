"""How a check's answer becomes a status: the thresholds and conditions of ``Check``.

Pure functions (no database, no I/O): the runners ask, this module judges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from erpcare.inspections.models import Condition, ResultStatus, Severity


@dataclass(frozen=True)
class Verdict:
    status: str  # a ResultStatus value
    value: float | None = None
    findings: list[Any] = field(default_factory=list)
    findings_total: int = 0
    message: str = ""


def _number(raw: Any) -> float | None:
    if raw is None or isinstance(raw, bool):
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


def _failing(severity: str) -> str:
    """The status of a failed check that has no thresholds: its severity decides."""
    if severity in (Severity.CRITICAL, Severity.HIGH):
        return ResultStatus.CRITICAL
    return ResultStatus.WARN


def _above(value: float, warn: float | None, critical: float | None) -> str:
    if critical is not None and value > critical:
        return ResultStatus.CRITICAL
    if warn is not None and value > warn:
        return ResultStatus.WARN
    return ResultStatus.OK


def _below(value: float, warn: float | None, critical: float | None) -> str:
    if critical is not None and value < critical:
        return ResultStatus.CRITICAL
    if warn is not None and value < warn:
        return ResultStatus.WARN
    return ResultStatus.OK


def judge_rows(
    *,
    condition: str,
    severity: str,
    warn: float | None,
    critical: float | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    total: int,
    previous_value: float | None,
) -> Verdict:
    """Judge a query's rows (SQL; PromQL samples come as rows of (labels, value))."""
    findings = [dict(zip(columns, row, strict=False)) for row in rows]
    if condition == Condition.ROWS_EMPTY:
        if total == 0:
            return Verdict(ResultStatus.OK, value=0.0)
        if warn is None and critical is None:
            status = _failing(severity)
        else:
            status = _above(float(total), warn, critical)
        return Verdict(
            status,
            value=float(total),
            findings=findings,
            findings_total=total,
            message=_("%(n)d rows found.") % {"n": total},
        )
    if not rows or not rows[0]:
        return Verdict(ResultStatus.ERROR, message=_("The query returned no value to compare."))
    value = _number(rows[0][0])
    if value is None:
        return Verdict(
            ResultStatus.ERROR,
            message=_("The query's first column is not a number: %(value)s")
            % {"value": repr(rows[0][0])[:100]},
        )
    details = findings[:1]
    if condition == Condition.VALUE_AT_MOST:
        return Verdict(_above(value, warn, critical), value=value, findings=details)
    if condition == Condition.VALUE_AT_LEAST:
        return Verdict(_below(value, warn, critical), value=value, findings=details)
    if condition == Condition.CHANGE_AT_MOST:
        if previous_value is None:
            return Verdict(
                ResultStatus.OK,
                value=value,
                findings=details,
                message=_("First run: nothing to compare with yet."),
            )
        change = value - previous_value
        return Verdict(
            _above(change, warn, critical),
            value=value,
            findings=details,
            message=_("Changed by %(change)s since the previous run.") % {"change": f"{change:+g}"},
        )
    return Verdict(
        ResultStatus.ERROR,
        message=_("The condition %(condition)s does not apply to query results.")
        % {"condition": condition},
    )


STATUS_ORDER = {
    ResultStatus.OK: 0,
    ResultStatus.WARN: 1,
    ResultStatus.ERROR: 2,
    ResultStatus.TIMEOUT: 2,
    ResultStatus.CRITICAL: 3,
}


def rating_of(statuses: Sequence[str]) -> str:
    """A run's rating: red if any check is critical, yellow for a warning or a check that
    could not run, green when all passed; grey when nothing ran."""
    from erpcare.inspections.models import Rating

    if not statuses:
        return Rating.GREY
    worst = max(STATUS_ORDER.get(ResultStatus(s), 2) for s in statuses)
    return {0: Rating.GREEN, 1: Rating.YELLOW, 2: Rating.YELLOW, 3: Rating.RED}[worst]


TLS_WARN_DAYS = 21
TLS_CRITICAL_DAYS = 7


def judge_probe(check: Any, probe: Any) -> Verdict:
    """Judge an HTTP probe (``runners.http_probe.ProbeResult``): reachable, the expected
    status and content, latency against the check's thresholds (ms), TLS certificate
    days left against ``params.tls_warn_days`` / ``tls_critical_days`` (21 / 7)."""
    params = check.params or {}
    observed = {
        "status": probe.status,
        "latency_ms": probe.latency_ms,
        "tls_days_left": probe.tls_days_left,
        "tls_subject": probe.tls_subject,
    }
    worst: str = ResultStatus.OK
    problems: list[str] = []

    def fail(status: str, message: str) -> None:
        nonlocal worst
        problems.append(message)
        if STATUS_ORDER[ResultStatus(status)] > STATUS_ORDER[ResultStatus(worst)]:
            worst = status

    if probe.error:
        fail(_failing(check.severity), _("Not reachable: %(error)s") % {"error": probe.error})
        return Verdict(worst, findings=[observed], findings_total=1, message=problems[0])
    expected = params.get("expect_status")
    allowed = (
        {int(s) for s in expected}
        if isinstance(expected, list)
        else ({int(expected)} if expected else set(range(200, 400)))
    )
    if probe.status not in allowed:
        fail(_failing(check.severity), _("HTTP status %(status)d") % {"status": probe.status})
    if probe.body_matched is False:
        fail(
            _failing(check.severity),
            _("The page does not contain “%(text)s”.") % {"text": params.get("contains", "")},
        )
    latency = _above(float(probe.latency_ms), check.warn_threshold, check.critical_threshold)
    if latency != ResultStatus.OK:
        fail(latency, _("Answered in %(ms)d ms.") % {"ms": probe.latency_ms})
    if probe.tls_days_left is not None:
        tls = _below(
            float(probe.tls_days_left),
            float(params.get("tls_warn_days", TLS_WARN_DAYS)),
            float(params.get("tls_critical_days", TLS_CRITICAL_DAYS)),
        )
        if tls != ResultStatus.OK:
            fail(
                tls,
                _("The TLS certificate expires in %(days).1f days.")
                % {"days": probe.tls_days_left},
            )
    return Verdict(
        worst,
        value=float(probe.latency_ms),
        findings=[observed],
        findings_total=1 if problems else 0,
        message=" ".join(problems),
    )
