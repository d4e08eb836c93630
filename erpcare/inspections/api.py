"""Inspections over the API: an ERP instance's runs, one run with its results, "run now"
and the inspection report.

Reading needs a role that reads inspections (L2/L3 engineers, managers, administrators,
auditors) and an ERP instance the caller can see; anybody else gets the same 404 as for
an instance that does not exist. Running needs L2/L3 or a manager/administrator (403).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja import Status as HttpStatus

from erpcare.accounts.models import User
from erpcare.core.errors import NotFound
from erpcare.core.pagination import MAX_PAGE, page_of
from erpcare.core.schemas import ERRORS
from erpcare.customers.services import visible_erp_instances
from erpcare.inspections.admin_services import instance_for
from erpcare.inspections.models import InspectionRun
from erpcare.inspections.permissions import can_read_inspections
from erpcare.inspections.services.report import DEFAULT_DAYS, MAX_DAYS

router = Router(tags=["inspections"])

READ_RULE = (
    "Needs a role that reads inspections (L2/L3 engineer, manager, administrator, auditor) "
    "and an ERP instance the caller can see; otherwise 404, as for an unknown instance."
)
MAX_RESULTS = 1000


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


class RunOut(Schema):
    id: int
    erp_instance: int
    trigger: str
    ticket: str | None
    status: str
    rating: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str


class RunPageOut(Schema):
    items: list[RunOut]
    page: int
    page_size: int
    has_next: bool


class ResultOut(Schema):
    check: str
    check_name: str
    pack: str
    layer: str
    severity: str
    check_version: int
    data_source: str
    status: str
    value: float | None
    previous_value: float | None
    findings: list[Any]
    findings_total: int
    message: str
    duration_ms: int
    started_at: datetime


class RunDetailOut(RunOut):
    results: list[ResultOut]


class QueuedOut(Schema):
    run: int
    status: str


class LayerOut(Schema):
    layer: str
    label: str
    rating: str
    failing: int
    total: int


class FindingOut(Schema):
    check: str
    check_name: str
    severity: str
    status: str
    previous_status: str
    value: float | None
    findings_total: int
    message: str
    remedy: str
    kb_article: str | None
    started_at: datetime


class CheckStatusChangeOut(Schema):
    check: str
    check_name: str
    previous_status: str
    status: str
    started_at: datetime


class TrendOut(Schema):
    day: date
    rating: str


class ReportOut(Schema):
    erp_instance: int
    start: date
    end: date
    rating: str
    checks: int
    layers: list[LayerOut]
    findings: list[FindingOut]
    changes: list[CheckStatusChangeOut]
    trend: list[TrendOut]


def _run_out(run: InspectionRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "erp_instance": run.erp_instance_id,
        "trigger": run.trigger,
        "ticket": run.ticket.number if run.ticket is not None else None,
        "status": run.status,
        "rating": run.rating,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "error": run.error,
    }


def _result_out(result: Any) -> dict[str, Any]:
    check = result.instance_check.check_ref
    return {
        "check": check.code,
        "check_name": check.name,
        "pack": check.pack.code,
        "layer": check.layer,
        "severity": check.severity,
        "check_version": result.check_version,
        "data_source": result.instance_check.data_source.name,
        "status": result.status,
        "value": result.value,
        "previous_value": result.previous_value,
        "findings": result.findings or [],
        "findings_total": result.findings_total,
        "message": result.message,
        "duration_ms": result.duration_ms,
        "started_at": result.started_at,
    }


@router.get(
    "/instances/{instance_id}/runs",
    response={200: RunPageOut, **ERRORS},
    summary="Runs of an ERP instance",
    description="Newest first, paged. " + READ_RULE,
)
def list_runs(
    request: HttpRequest,
    instance_id: int,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(50, ge=1, le=200),
) -> object:
    instance = instance_for(_user(request), instance_id)
    runs = (
        InspectionRun.objects.filter(erp_instance=instance)
        .select_related("ticket")
        .order_by("-created_at", "-id")
    )
    found = page_of(runs, page, page_size)
    found["items"] = [_run_out(run) for run in found["items"]]
    return found


@router.get(
    "/runs/{run_id}",
    response={200: RunDetailOut, **ERRORS},
    summary="A run with its results",
    description="Each check's status, value and findings (capped at the data source's row "
    "limit; `findings_total` counts them all). " + READ_RULE,
)
def get_run(request: HttpRequest, run_id: int) -> object:
    user = _user(request)
    run = (
        InspectionRun.objects.filter(erp_instance__in=visible_erp_instances(user))
        .select_related("ticket")
        .filter(pk=run_id)
        .first()
    )
    if run is None or not can_read_inspections(user):
        raise NotFound(_("Inspection run not found."))
    results = run.results.select_related(
        "instance_check__check_ref__pack", "instance_check__data_source"
    ).order_by("id")[:MAX_RESULTS]
    out = _run_out(run)
    out["results"] = [_result_out(r) for r in results]
    return out


@router.post(
    "/instances/{instance_id}/runs",
    response={202: QueuedOut, **ERRORS},
    summary="Run an ERP instance's checks now",
    description="Queues a run of every active assigned check; a worker carries it out. "
    "Answers 202 with the run's id; poll `GET /runs/{id}` until its status is `done`. "
    + READ_RULE
    + " Running needs an L2/L3 engineer, a manager or an administrator (403 otherwise); "
    "an instance without assigned checks answers 400.",
)
def run_now(request: HttpRequest, instance_id: int) -> HttpStatus[QueuedOut]:
    from erpcare.inspections.services.diagnosis import queue_run

    user = _user(request)
    instance = instance_for(user, instance_id)
    run = queue_run(user, instance)
    return HttpStatus(202, QueuedOut(run=run.pk, status=run.status))


@router.get(
    "/instances/{instance_id}/report",
    response={200: ReportOut, **ERRORS},
    summary="The inspection report of an ERP instance",
    description="Ratings by layer, changes since the previous run of each check, findings "
    f"and the daily trend over `start`–`end` (dates, both included; default: the last "
    f"{DEFAULT_DAYS} days; at most {MAX_DAYS} days). " + READ_RULE,
)
def get_report(
    request: HttpRequest,
    instance_id: int,
    start: date | None = None,
    end: date | None = None,
) -> object:
    from erpcare.inspections.services.report import checked_period, instance_report, period_bounds

    instance = instance_for(_user(request), instance_id)
    start, end = checked_period(start, end)
    begin, until = period_bounds(start, end)
    report = instance_report(instance, start=begin, end=until)
    return {
        "erp_instance": instance.pk,
        "start": start,
        "end": end,
        "rating": report.rating,
        "checks": report.checks,
        "layers": [asdict(layer) for layer in report.layers],
        "findings": [
            {
                "check": f.check.code,
                "check_name": f.check.name,
                "severity": f.check.severity,
                "status": f.result.status,
                "previous_status": f.previous_status,
                "value": f.result.value,
                "findings_total": f.result.findings_total,
                "message": f.result.message,
                "remedy": f.check.remedy,
                "kb_article": f.check.kb_article.number if f.check.kb_article else None,
                "started_at": f.result.started_at,
            }
            for f in report.findings
        ],
        "changes": [
            {
                "check": c.result.instance_check.check_ref.code,
                "check_name": c.result.instance_check.check_ref.name,
                "previous_status": c.previous_status,
                "status": c.result.status,
                "started_at": c.result.started_at,
            }
            for c in report.changes
        ],
        "trend": [{"day": day, "rating": rating} for day, rating in report.trend],
    }


@router.get(
    "/instances/{instance_id}/report.pdf",
    response={200: None, **ERRORS},
    openapi_extra={
        "responses": {
            200: {
                "description": "The report as a PDF file (attachment)",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
    summary="The inspection report of an ERP instance as PDF",
    description="The same report as `/report`, printed (A4) in the caller's language. "
    "503 when the server cannot make PDFs (WeasyPrint or its libraries missing). " + READ_RULE,
)
def get_report_pdf(
    request: HttpRequest,
    instance_id: int,
    start: date | None = None,
    end: date | None = None,
) -> Any:
    from erpcare.core.pdf import PDF_CONTENT_TYPE
    from erpcare.inspections.services import report as reports

    instance = instance_for(_user(request), instance_id)
    start, end = reports.checked_period(start, end)
    pdf = reports.report_pdf(instance, start, end, language=get_language() or "en")
    response = HttpResponse(pdf, content_type=PDF_CONTENT_TYPE)
    filename = reports.report_filename(instance, start, end)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
