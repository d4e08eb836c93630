"""Monthly service report pages.

Desk (/desk/reports/): support staff and auditors pick a customer they can see and a month
and read the report; managers and administrators write the commentary and send it; anyone
who reads it downloads the PDF and the workbook. A customer the reader cannot see is a 404,
like one that does not exist; a month that is not one (2026-13) or has not started is a
400 with the reason.

Portal (/portal/reports/): a customer reads their own organization's *sent* reports; any
other month — not sent, not drafted, or another customer's — is a 404. Staff opening a
portal URL are sent to the desk.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from erpcare.core import clock
from erpcare.core.errors import ActionError, NotFound
from erpcare.core.pdf import PDF_CONTENT_TYPE, PdfUnavailable
from erpcare.customers.models import Organization
from erpcare.customers.services import get_organization_for, visible_organizations
from erpcare.reports import monthly_service as service
from erpcare.reports.models import MonthlyReport as StoredReport
from erpcare.reports.models import MonthlyReportStatus
from erpcare.reports.monthly import (
    MonthlyReport,
    ReportError,
    build_report,
    default_language,
    month_period,
)
from erpcare.reports.periods import Period
from erpcare.tickets.forms import StyledForm
from erpcare.tickets.views.common import current_user, view_for

read_view = view_for(service.can_read_monthly)
ROWS_SHOWN = 100


# --------------------------------------------------------------------------- forms


class PickForm(StyledForm):
    id_prefix = "pick"

    customer = forms.ChoiceField(label=gettext_lazy("Customer"))
    month = forms.CharField(
        label=gettext_lazy("Month"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-11"}),
    )

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organizations = {o.code: o for o in organizations}
        field = self.fields["customer"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—")] + [(o.code, o.name) for o in self.organizations.values()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        organization = self.organizations.get(data.get("customer") or "")
        if organization is not None and data.get("month"):
            try:
                data["period"] = month_period(organization, data["month"])
            except ActionError as exc:
                self.add_error("month", exc.message)
        data["organization"] = organization
        return data


class CommentaryForm(StyledForm):
    id_prefix = "commentary"

    commentary = forms.CharField(
        label=gettext_lazy("What the support team improved this month"),
        required=False,
        max_length=service.MAX_COMMENTARY,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("Markdown. Shown to the customer as “Improvements made”."),
    )
    language = forms.ChoiceField(label=gettext_lazy("Report language"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from django.conf import settings

        field = self.fields["language"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(code, name) for code, name in settings.LANGUAGES]


class SendForm(StyledForm):
    id_prefix = "send"

    recipients = forms.CharField(
        label=gettext_lazy("Recipients"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("E-mail addresses, separated by commas or lines."),
    )


# --------------------------------------------------------------------------- helpers


def _organization(request: HttpRequest, code: str) -> Organization:
    try:
        return get_organization_for(current_user(request), code)
    except NotFound:
        raise Http404 from None


def _error(request: HttpRequest, message: str, back_url: str, status: int = 400) -> HttpResponse:
    return render(
        request,
        "reports/monthly/error.html",
        {"message": message, "back_url": back_url},
        status=status,
    )


def _report(
    organization: Organization, period: Period
) -> tuple[MonthlyReport, StoredReport | None]:
    stored = service.stored_report(organization, period)
    language = stored.language if stored else default_language(organization)
    return build_report(organization, period, language=language), stored


def _download(report: MonthlyReport, kind: str) -> HttpResponse:
    if kind == "pdf":
        data, content_type = service.report_pdf(report), PDF_CONTENT_TYPE
    else:
        data, content_type = service.report_xlsx(report), service.XLSX_CONTENT_TYPE
    response = HttpResponse(data, content_type=content_type)
    filename = service.report_filename(report, kind)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --------------------------------------------------------------------------- desk


@read_view
@require_GET
def desk_index(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    organizations = visible_organizations(user).order_by("name")
    last_month = clock.now().date().replace(day=1) - timedelta(days=1)
    form = PickForm(
        request.GET or None, organizations=organizations, initial={"month": f"{last_month:%Y-%m}"}
    )
    status = 200
    if request.GET:
        if form.is_valid():
            organization, period = form.cleaned_data["organization"], form.cleaned_data["period"]
            return redirect("monthly_desk:report", organization.code, f"{period.first:%Y-%m}")
        status = 400
    rows = (
        StoredReport.objects.filter(organization__in=organizations)
        .select_related("organization")
        .order_by("-month", "organization__name")[:ROWS_SHOWN]
    )
    return render(
        request, "reports/monthly/desk_index.html", {"form": form, "rows": rows}, status=status
    )


def _desk_page(
    request: HttpRequest,
    organization: Organization,
    period: Period,
    *,
    commentary_form: CommentaryForm | None = None,
    send_form: SendForm | None = None,
    status: int = 200,
) -> HttpResponse:
    report, stored = _report(organization, period)
    user = current_user(request)
    context = service.render_context(report)
    context.update(
        stored=stored,
        can_edit=service.can_edit_monthly(user),
        commentary_form=commentary_form
        or CommentaryForm(initial={"commentary": report.commentary, "language": report.language}),
        send_form=send_form
        or SendForm(
            initial={
                "recipients": ", ".join(
                    stored.sent_to
                    if stored and stored.sent_to
                    else service.report_contacts(organization)
                )
            }
        ),
    )
    return render(request, "reports/monthly/desk_report.html", context, status=status)


def _desk_target(request: HttpRequest, code: str, month: str) -> tuple[Organization, Period]:
    organization = _organization(request, code)
    return organization, month_period(organization, month)


@read_view
@require_GET
def desk_report(request: HttpRequest, code: str, month: str) -> HttpResponse:
    try:
        organization, period = _desk_target(request, code, month)
    except ReportError as exc:
        return _error(request, exc.message, reverse("monthly_desk:index"))
    return _desk_page(request, organization, period)


@read_view
@require_GET
def desk_download(request: HttpRequest, code: str, month: str, kind: str) -> HttpResponse:
    try:
        organization, period = _desk_target(request, code, month)
        report, _stored = _report(organization, period)
        return _download(report, kind)
    except PdfUnavailable as exc:
        return _error(request, exc.message, reverse("monthly_desk:index"), exc.status_code)
    except ReportError as exc:
        return _error(request, exc.message, reverse("monthly_desk:index"))


@read_view
@require_POST
def desk_commentary(request: HttpRequest, code: str, month: str) -> HttpResponse:
    user = current_user(request)
    try:
        organization, period = _desk_target(request, code, month)
    except ReportError as exc:
        return _error(request, exc.message, reverse("monthly_desk:index"))
    if not service.can_edit_monthly(user):
        raise Http404
    form = CommentaryForm(request.POST)
    if not form.is_valid():
        return _desk_page(request, organization, period, commentary_form=form, status=400)
    try:
        service.save_commentary(
            user,
            organization,
            period,
            commentary=form.cleaned_data["commentary"],
            language=form.cleaned_data["language"],
        )
    except ActionError as exc:
        form.add_error(None, exc.message)
        return _desk_page(
            request, organization, period, commentary_form=form, status=exc.status_code
        )
    messages.success(request, _("The commentary is saved."))
    return redirect("monthly_desk:report", organization.code, f"{period.first:%Y-%m}")


@read_view
@require_POST
def desk_send(request: HttpRequest, code: str, month: str) -> HttpResponse:
    user = current_user(request)
    try:
        organization, period = _desk_target(request, code, month)
    except ReportError as exc:
        return _error(request, exc.message, reverse("monthly_desk:index"))
    if not service.can_edit_monthly(user):
        raise Http404
    form = SendForm(request.POST)
    if not form.is_valid():
        return _desk_page(request, organization, period, send_form=form, status=400)
    try:
        row = service.send_report(
            user, organization, period, recipients=form.cleaned_data["recipients"]
        )
    except ActionError as exc:
        form.add_error("recipients", exc.message)
        return _desk_page(request, organization, period, send_form=form, status=exc.status_code)
    messages.success(
        request,
        _("The report is queued for %(recipients)s.") % {"recipients": ", ".join(row.sent_to)},
    )
    return redirect("monthly_desk:report", organization.code, f"{period.first:%Y-%m}")


# --------------------------------------------------------------------------- portal


def _portal_user(request: HttpRequest) -> Any:
    user = current_user(request)
    if not user.is_customer or user.organization_id is None:
        return None
    return user


def _sent(request: HttpRequest, month: str) -> tuple[MonthlyReport, StoredReport]:
    """The customer's own sent report for ``month``, or 404 — for a month that is not one
    too: nothing here tells another customer's month from a missing one."""
    user = current_user(request)
    organization = user.organization
    if organization is None:
        raise Http404
    try:
        period = month_period(organization, month)
    except ReportError:
        raise Http404 from None
    stored = StoredReport.objects.filter(
        organization=organization,
        month=period.first,
        status=MonthlyReportStatus.SENT,
    ).first()
    if stored is None:
        raise Http404
    report = build_report(
        organization, period, language=stored.language, commentary=stored.commentary
    )
    return report, stored


@login_required
@require_GET
def portal_index(request: HttpRequest) -> HttpResponse:
    user = _portal_user(request)
    if user is None:
        return redirect("monthly_desk:index")
    rows = StoredReport.objects.filter(
        organization_id=user.organization_id, status=MonthlyReportStatus.SENT
    ).order_by("-month")[:ROWS_SHOWN]
    return render(request, "reports/monthly/portal_index.html", {"rows": rows})


@login_required
@require_GET
def portal_report(request: HttpRequest, month: str) -> HttpResponse:
    if _portal_user(request) is None:
        return redirect("monthly_desk:index")
    report, _stored = _sent(request, month)
    return render(request, "reports/monthly/portal_report.html", service.render_context(report))


@login_required
@require_GET
def portal_download(request: HttpRequest, month: str, kind: str) -> HttpResponse:
    if _portal_user(request) is None:
        return redirect("monthly_desk:index")
    report, _stored = _sent(request, month)
    try:
        return _download(report, kind)
    except PdfUnavailable as exc:
        return _error(request, exc.message, reverse("monthly_portal:index"), exc.status_code)
