"""Running checks: ask the data source (``runners``), judge the answer (``evaluate``),
record the result, rate the run, and tell the monitoring pipeline (``incidents``)."""

from __future__ import annotations

import logging
import time
import zoneinfo
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from croniter import croniter
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.core import clock
from erpcare.inspections.models import (
    CheckKind,
    CheckResult,
    Condition,
    InspectionRun,
    InstanceCheck,
    ResultStatus,
    RunStatus,
    Trigger,
)
from erpcare.inspections.runners.spec import SourceSpec
from erpcare.inspections.services import incidents
from erpcare.inspections.services.evaluate import Verdict, judge_probe, judge_rows, rating_of
from erpcare.inspections.services.sources import spec_for
from erpcare.tickets.models import Ticket

log = logging.getLogger(__name__)

FAILING = (ResultStatus.WARN, ResultStatus.CRITICAL)


def next_run_after(schedule: str, after: datetime, zone: str = "") -> datetime | None:
    """The next time a cron schedule fires after ``after``, read in the time zone ``zone``
    (the customer's: "0 6 * * *" is 06:00 where the ERP is used); None when broken."""
    try:
        tz = zoneinfo.ZoneInfo(zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    try:
        found: datetime = croniter(schedule, after.astimezone(tz)).get_next(datetime)
    except (ValueError, KeyError):
        return None
    return found


def schedule_of(assignment: InstanceCheck) -> str:
    return assignment.schedule or assignment.check_ref.schedule


def zone_of(assignment: InstanceCheck) -> str:
    return assignment.erp_instance.organization.time_zone


def ask(assignment: InstanceCheck, spec: SourceSpec | None = None) -> Verdict:
    """Run one check against its data source — or ``spec``, e.g. a restored copy of it —
    and judge the answer (no database writes)."""
    from erpcare.inspections.runners import RunnerError, http_probe, promql, sql

    check = assignment.check_ref
    spec = spec or spec_for(assignment.data_source)
    params: Mapping[str, Any] = check.params or {}
    try:
        if check.kind == CheckKind.SQL:
            result = sql.run_query(spec, check.query, params.get("sql_params") or {})
            return judge_rows(
                condition=check.condition,
                severity=check.severity,
                warn=check.warn_threshold,
                critical=check.critical_threshold,
                columns=result.columns,
                rows=result.rows,
                total=result.total,
                previous_value=assignment.last_value,
            )
        if check.kind == CheckKind.PROMQL:
            samples = promql.instant_query(spec, check.query)
            # The worst sample decides a value check: the highest for "at most", the
            # lowest for "at least"; every sample is a finding for "no rows".
            reverse = check.condition != Condition.VALUE_AT_LEAST
            ordered = sorted(samples, key=lambda s: s.value, reverse=reverse)
            rows = [[s.value, s.labels] for s in ordered]
            return judge_rows(
                condition=check.condition,
                severity=check.severity,
                warn=check.warn_threshold,
                critical=check.critical_threshold,
                columns=["value", "labels"],
                rows=rows[: spec.max_rows],
                total=len(rows),
                previous_value=assignment.last_value,
            )
        if check.kind == CheckKind.HTTP:
            return judge_probe(check, http_probe.probe(spec, check.query, params))
        if check.kind == CheckKind.BUILTIN:
            from erpcare.inspections import builtins

            answer = builtins.run(check.query.strip(), spec, params)
            return judge_rows(
                condition=check.condition,
                severity=check.severity,
                warn=check.warn_threshold,
                critical=check.critical_threshold,
                columns=answer.columns,
                rows=answer.rows,
                total=len(answer.rows),
                previous_value=assignment.last_value,
            )
    except RunnerError as error:
        status = ResultStatus.TIMEOUT if error.reason == "timeout" else ResultStatus.ERROR
        return Verdict(status, message=str(error))
    return Verdict(
        ResultStatus.ERROR,
        message=_("Checks of kind %(kind)s cannot run here.") % {"kind": check.kind},
    )


def run_checks(
    assignments: Sequence[InstanceCheck],
    *,
    trigger: str = Trigger.SCHEDULE,
    actor: User | None = None,
    ticket: Ticket | None = None,
    run: InspectionRun | None = None,
) -> InspectionRun:
    """One run over one instance's ``assignments``: each check asked and judged, its result
    recorded, the run rated, failing checks raised (and passing ones resolved) through
    the monitoring pipeline. ``run``: a queued run to carry out (``queue_run``)."""
    if not assignments:
        raise ValueError("a run needs at least one check")
    instance_ids = {a.erp_instance_id for a in assignments}
    if len(instance_ids) != 1:
        raise ValueError("a run covers one ERP instance")
    now = clock.now()
    if run is None:
        run = InspectionRun.objects.create(
            erp_instance_id=instance_ids.pop(),
            trigger=trigger,
            ticket=ticket,
            requested_by=actor,
            status=RunStatus.RUNNING,
            created_at=now,
            started_at=now,
        )
    else:
        run.status = RunStatus.RUNNING
        run.started_at = now
        run.save(update_fields=["status", "started_at"])
    statuses: list[str] = []
    for assignment in assignments:
        started = clock.now()
        began = time.monotonic()
        try:
            verdict = ask(assignment)
        except Exception as error:  # a bug in one check must not stop the run
            log.exception("inspection check %s failed", assignment.pk)
            verdict = Verdict(
                ResultStatus.ERROR, message=_("The check failed: %(error)s") % {"error": error}
            )
        duration_ms = int((time.monotonic() - began) * 1000)
        _record(run, assignment, verdict, started, duration_ms)
        statuses.append(verdict.status)
    run.status = RunStatus.DONE
    run.rating = rating_of(statuses)
    run.finished_at = clock.now()
    run.save(update_fields=["status", "rating", "finished_at"])
    return run


def _record(
    run: InspectionRun,
    assignment: InstanceCheck,
    verdict: Verdict,
    started: datetime,
    duration_ms: int,
) -> CheckResult:
    with transaction.atomic():
        result = CheckResult.objects.create(
            run=run,
            instance_check=assignment,
            check_version=assignment.check_ref.version,
            status=verdict.status,
            value=verdict.value,
            previous_value=assignment.last_value,
            findings=verdict.findings,
            findings_total=verdict.findings_total,
            message=verdict.message[:4000],
            duration_ms=duration_ms,
            started_at=started,
        )
        assignment.last_run_at = started
        assignment.last_status = verdict.status
        if verdict.value is not None:
            assignment.last_value = verdict.value
        if verdict.status in FAILING:
            assignment.consecutive_failures += 1
        elif verdict.status == ResultStatus.OK:
            assignment.consecutive_failures = 0
        assignment.next_run_at = next_run_after(
            schedule_of(assignment), started, zone_of(assignment)
        )
        assignment.save(
            update_fields=[
                "last_run_at",
                "last_status",
                "last_value",
                "consecutive_failures",
                "next_run_at",
            ]
        )
        incidents.report(assignment, result)
    return result
