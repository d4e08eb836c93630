"""What people and the worker do with monthly service reports: draft one, write the
commentary, print it (PDF), export it (XLSX), send it to the customer's report contacts,
and the monthly job that drafts last month's report for every customer under contract.

Who: support staff and auditors read the reports of the customers they can see
(``customers.services.visible_organizations``); managers and administrators write the
commentary and send; customers read their own organization's *sent* reports in the portal.
"""

from __future__ import annotations

import io
import logging
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import override

from erpcare.accounts.models import RoleCode, User
from erpcare.audit.services import record
from erpcare.core import clock
from erpcare.core.errors import ActionError, NotAllowed
from erpcare.customers.models import Contact, Contract, Organization
from erpcare.reports.models import MonthlyReport as StoredReport
from erpcare.reports.models import MonthlyReportStatus
from erpcare.reports.monthly import (
    MonthlyReport,
    build_report,
    customer_zone,
    default_language,
    hours,
)
from erpcare.reports.periods import Period
from erpcare.reports.periods import zone as time_zone

log = logging.getLogger(__name__)

EDITORS = frozenset({RoleCode.MANAGER, RoleCode.ADMIN})
MAX_COMMENTARY = 20_000
REPORT_CONTACT_KINDS = (Contact.Kind.KEY_USER, Contact.Kind.IT, Contact.Kind.ESCALATION)
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --------------------------------------------------------------------------- who


def can_read_monthly(user: User) -> bool:
    return bool(user.is_active and user.is_staff)


def can_edit_monthly(user: User) -> bool:
    return bool(user.is_active and user.role_code in EDITORS)


def require_editor(user: User) -> None:
    if not can_edit_monthly(user):
        raise NotAllowed(
            _("Only support managers and administrators can edit or send monthly reports.")
        )


# --------------------------------------------------------------------------- the stored row


def stored_report(organization: Organization, period: Period) -> StoredReport | None:
    return StoredReport.objects.filter(organization=organization, month=period.first).first()


def draft(
    organization: Organization, period: Period, *, actor: User | None = None
) -> tuple[StoredReport, bool]:
    """The customer's report for the month, drafted (in the customer's language) if there
    was none; ``(row, created)``. Two callers at once get the same row (unique per month)."""
    existing = stored_report(organization, period)
    if existing is not None:
        return existing, False
    now = clock.now()
    try:
        with transaction.atomic():
            row = StoredReport.objects.create(
                organization=organization,
                month=period.first,
                language=default_language(organization),
                generated_at=now,
                created_by=actor,
                updated_by=actor,
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:
        row = StoredReport.objects.get(organization=organization, month=period.first)
        return row, False
    record(
        actor=actor,
        action="reports.monthly.drafted",
        target=row,
        data={"organization": organization.code, "month": f"{period.first:%Y-%m}"},
    )
    return row, True


def save_commentary(
    actor: User,
    organization: Organization,
    period: Period,
    *,
    commentary: str,
    language: str,
) -> StoredReport:
    """Store the manager's "improvements made" (Markdown, shown sanitised) and the language
    the report is written in. A sent report can still be corrected and sent again."""
    require_editor(actor)
    commentary = (commentary or "").replace("\x00", "").strip()
    if len(commentary) > MAX_COMMENTARY:
        raise ActionError(
            _("The commentary is limited to %(n)d characters.") % {"n": MAX_COMMENTARY}
        )
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise ActionError(_("Unknown language: %(language)s") % {"language": language})
    row, _created = draft(organization, period, actor=actor)
    with transaction.atomic():
        row = StoredReport.objects.select_for_update().get(pk=row.pk)
        changed = row.commentary != commentary or row.language != language
        row.commentary, row.language = commentary, language
        row.updated_by, row.updated_at = actor, clock.now()
        row.save(update_fields=["commentary", "language", "updated_by", "updated_at"])
        if changed:
            record(
                actor=actor,
                action="reports.monthly.commentary",
                target=row,
                data={"month": f"{period.first:%Y-%m}", "language": language},
            )
    return row


def report_contacts(organization: Organization) -> list[str]:
    """The addresses a report goes to by default: the customer's key users, IT and
    escalation contacts that have one."""
    addresses: list[str] = []
    contacts = Contact.objects.filter(organization=organization, kind__in=REPORT_CONTACT_KINDS)
    for email in contacts.exclude(email="").order_by("name", "pk").values_list("email", flat=True):
        if email.lower() not in addresses:
            addresses.append(email.lower())
    return addresses


# --------------------------------------------------------------------------- files


def report_filename(report: MonthlyReport, extension: str) -> str:
    """ASCII, so every mail client and browser keeps it: service-report-acme-2026-11.pdf"""
    return f"service-report-{report.organization.code}-{report.month_label}.{extension}"


def render_context(report: MonthlyReport, *, link_base: str = "") -> dict[str, Any]:
    from erpcare.channels.email.templates import SITE_NAME

    return {
        "report": report,
        "organization": report.organization,
        "link_base": link_base,
        "site_name": SITE_NAME,
        "generated_at": timezone.localtime(report.generated_at, report.period.tz),
    }


def report_pdf(report: MonthlyReport) -> bytes:
    """The report printed by WeasyPrint in its own language (Noto Sans CJK for Chinese)."""
    from erpcare.core.pdf import render_pdf

    return render_pdf(
        "reports/monthly/pdf.html",
        render_context(report, link_base=settings.SITE_URL),
        language=report.language,
    )


def _ratio_cell(ratio: Any) -> float | str:
    percent = getattr(ratio, "percent", None)
    return percent if percent is not None else "—"


def _hours_cell(value: timedelta | None) -> float | str:
    result = hours(value)
    return result if result is not None else "—"


def report_xlsx(report: MonthlyReport) -> bytes:
    """The report as a workbook, one sheet per section, in the report's language. A figure
    that cannot be computed is "—" or its reason, never 0."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    bold = book.add_format({"bold": True, "bg_color": "#F1F3F5"})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})

    def sheet(name: str, header: list[str], rows: list[list[Any]]) -> None:
        for char in "[]:*?/\\":
            name = name.replace(char, " ")
        ws = book.add_worksheet(name.strip()[:31])
        for c, title in enumerate(header):
            ws.write_string(0, c, str(title), bold)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if isinstance(value, datetime):
                    ws.write_datetime(r, c, value.replace(tzinfo=None), when)
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    ws.write_number(r, c, value)
                else:  # text is never a formula
                    ws.write_string(r, c, str(value))
        ws.set_column(0, max(len(header) - 1, 0), 18)

    with override(report.language):
        zone = report.period.tz
        sheet(
            _("Summary"),
            [_("Item"), _("Value")],
            [
                [_("Customer"), report.organization.name],
                [_("Month"), report.month_label],
                [_("Time zone"), report.time_zone],
                [_("Tickets created"), report.created],
                [_("Tickets resolved"), report.resolved],
                [_("Backlog at the end of the month"), report.backlog.count],
                [_("Generated"), timezone.localtime(report.generated_at, zone)],
            ],
        )
        volume_rows: list[list[Any]] = []
        for by, title in (
            ("type", _("Type")),
            ("priority", _("Priority")),
            ("module", _("ERP module")),
            ("channel", _("Channel")),
            ("category", _("Category")),
        ):
            volume_rows.extend([str(title), c.label, c.count] for c in report.volumes[by])
        sheet(_("Volumes"), [_("Breakdown"), _("Value"), _("Tickets")], volume_rows)
        sheet(
            _("SLA"),
            [
                _("Priority"),
                _("Response met %"),
                _("Response met % (previous month)"),
                _("Resolution met %"),
                _("Resolution met % (previous month)"),
                _("Response clocks"),
                _("Resolution clocks"),
            ],
            [
                [
                    r.label,
                    _ratio_cell(r.response),
                    _ratio_cell(r.response_previous),
                    _ratio_cell(r.resolution),
                    _ratio_cell(r.resolution_previous),
                    r.response.denominator,
                    r.resolution.denominator,
                ]
                for r in report.sla
            ],
        )
        sheet(
            _("Trend"),
            [
                _("Month"),
                _("Created"),
                _("Resolved"),
                _("MTTR (incidents), hours"),
                _("Median resolution time, hours"),
            ],
            [
                [
                    p.label,
                    p.created,
                    p.resolved,
                    _hours_cell(p.mttr),
                    _hours_cell(p.resolution_median),
                ]
                for p in report.trend
            ],
        )
        sheet(
            _("Top issues"),
            [
                _("Ticket"),
                _("Title"),
                _("Priority"),
                _("Type"),
                _("ERP module"),
                _("Hours to resolve"),
                _("Business hours"),
                _("Resolution code"),
                _("Root cause and resolution"),
            ],
            [
                [
                    t.number,
                    t.title,
                    t.priority,
                    t.type,
                    t.module,
                    _hours_cell(t.time_to_resolve),
                    _hours_cell(t.business_time),
                    t.resolution_label,
                    t.root_cause,
                ]
                for t in report.top_tickets
            ]
            + [[]]
            + [[_("ERP module"), c.label, c.count] for c in report.top_modules]
            + [[_("Category"), c.label, c.count] for c in report.top_categories],
        )
        sheet(
            _("Knowledge added"),
            [_("Article"), _("Title"), _("Type"), _("Published")],
            [
                [a.number, a.title, a.type, timezone.localtime(a.published_at, zone)]
                for a in report.articles
            ],
        )
        instance_rows: list[list[Any]] = []
        for i in report.instances:
            availability = i.availability
            instance_rows.append(
                [
                    i.name,
                    i.product,
                    _ratio_cell(availability) if availability else "—",
                    _hours_cell(availability.downtime) if availability else "—",
                    availability.incidents if availability else "—",
                    i.rating_label,
                    i.checks,
                    i.failing,
                    "; ".join(f"{b.plan}: {b.rating_label}" for b in i.backups) or "—",
                ]
            )
        sheet(
            _("ERP instances"),
            [
                _("ERP instance"),
                _("Product"),
                _("Availability %"),
                _("Downtime, hours"),
                _("P0 incidents"),
                _("Inspection rating"),
                _("Checks"),
                _("Findings"),
                _("Backups"),
            ],
            instance_rows,
        )
        sheet(_("Satisfaction"), [_("Survey"), _("Figure"), _("Value")], _survey_rows(report))
        sheet(
            _("Backlog"),
            [_("Priority"), _("Open tickets")],
            [[f"P{p}", n] for p, n in sorted(report.backlog.by_priority.items())]
            + [[_("Median age, hours"), _hours_cell(report.backlog.age.median)]],
        )
        sheet(_("Improvements made"), [_("Commentary")], [[report.commentary or "—"]])
    book.close()
    return buffer.getvalue()


def _survey_rows(report: MonthlyReport) -> list[list[Any]]:
    from erpcare.reports.kpis import NotAvailable

    rows: list[list[Any]] = []
    for name, summary in (("CSAT", report.csat), ("NPS", report.nps)):
        if isinstance(summary, NotAvailable):
            rows.append([name, _("not available"), str(summary.reason)])
            continue
        rows.append([name, _("Answers"), summary.responses])
        rows.append(
            [
                name,
                _("Response rate %"),
                round(summary.response_rate * 100, 1) if summary.response_rate is not None else "—",
            ]
        )
        if name == "CSAT":
            share = summary.satisfied_share
            rows.append(
                [name, _("Satisfied %"), round(share * 100, 1) if share is not None else "—"]
            )
            rows.append([name, _("Mean score"), round(summary.mean, 2) if summary.mean else "—"])
        else:
            rows.append([name, _("Score"), summary.score if summary.score is not None else "—"])
    return rows


# --------------------------------------------------------------------------- sending


def send_report(
    actor: User | None,
    organization: Organization,
    period: Period,
    *,
    recipients: str,
    now: datetime | None = None,
) -> StoredReport:
    """Print the report, keep the PDF, queue one mail per recipient through the channels
    outbox (with the PDF attached, like the inspection reports) and mark it sent. Sending
    again sends the report as it stands now (a correction)."""
    from erpcare.inspections.services.mailing import parse_recipients

    if actor is not None:
        require_editor(actor)
    addresses = parse_recipients(recipients)
    row, _created = draft(organization, period, actor=actor)
    report = build_report(
        organization, period, language=row.language, commentary=row.commentary, now=now
    )
    pdf = report_pdf(report)
    filename = report_filename(report, "pdf")
    stored = default_storage.save(
        f"service-reports/{organization.pk}/{report.month_label}-{secrets.token_hex(4)}/{filename}",
        ContentFile(pdf),
    )
    with transaction.atomic():
        row = StoredReport.objects.select_for_update().get(pk=row.pk)
        sent_at = clock.now()
        row.status = MonthlyReportStatus.SENT
        row.sent_at, row.sent_to, row.sent_pdf = sent_at, addresses, stored
        row.generated_at = report.generated_at
        row.updated_by, row.updated_at = actor or row.updated_by, sent_at
        row.save()
        _queue_mails(report, addresses, filename, stored)
        record(
            actor=actor,
            action="reports.monthly.sent",
            target=row,
            data={"month": report.month_label, "recipients": addresses},
        )
    return row


def render_mail(report: MonthlyReport) -> tuple[str, str, str]:
    """(subject, text, html) in the report's language: the headline figures; the PDF
    carries the rest."""
    from erpcare.channels.email.templates import SITE_NAME, layout

    with override(report.language):
        values = {"customer": report.organization.name, "month": report.month_label}
        subject = _("%(title)s %(customer)s, %(month)s") % {**values, "title": report.title}
        overall = report.sla[0]
        lines = [
            _("The monthly service report of %(customer)s for %(month)s is attached.") % values,
            "",
            _("Tickets created: %(n)d") % {"n": report.created},
            _("Tickets resolved: %(n)d") % {"n": report.resolved},
            _("First response within SLA: %(value)s")
            % {"value": _percent_text(overall.response.percent)},
            _("Resolution within SLA: %(value)s")
            % {"value": _percent_text(overall.resolution.percent)},
            _("Open at the end of the month: %(n)d") % {"n": report.backlog.count},
        ]
        footer = _("This message was sent by %(site)s.") % {"site": SITE_NAME}
    text = "\n".join(lines) + f"\n\n-- \n{footer}\n"
    body = f"<p>{escape(lines[0])}</p><ul>" + "".join(f"<li>{escape(x)}</li>" for x in lines[2:])
    return subject, text, layout(subject, body + "</ul>", footer, report.language)


def _percent_text(value: float | None) -> str:
    return "—" if value is None else f"{value:g} %"


def _queue_mails(report: MonthlyReport, addresses: list[str], filename: str, stored: str) -> None:
    from erpcare.channels.email.outbound import loop_headers, new_message_id, sender_mailbox
    from erpcare.channels.events import wake_on_commit
    from erpcare.channels.models import Delivery, DeliveryChannel, DeliveryState

    subject, text, html = render_mail(report)
    mailbox = sender_mailbox(None)
    sender = (
        f"{mailbox.name} <{mailbox.email}>" if mailbox is not None else settings.DEFAULT_FROM_EMAIL
    )
    now = clock.now()
    Delivery.objects.bulk_create(
        Delivery(
            channel=DeliveryChannel.EMAIL,
            address=address,
            language=report.language,
            payload={
                "subject": subject,
                "text": text,
                "html": html,
                "headers": {"Message-ID": new_message_id(None), **loop_headers()},
                "from": sender,
                "to": [address],
                "reply_to": [mailbox.email] if mailbox is not None else [],
                "mailbox_id": mailbox.pk if mailbox is not None else None,
                "attachments": [
                    {
                        "filename": filename,
                        "content_type": "application/pdf",
                        "storage_name": stored,
                    }
                ],
            },
            state=DeliveryState.PENDING,
            next_attempt_at=now,
            created_at=now,
        )
        for address in addresses
    )
    wake_on_commit()


# --------------------------------------------------------------------------- the job


def last_month(organization: Organization, now: datetime) -> Period:
    """The calendar month before ``now`` in the customer's time zone."""
    zone = customer_zone(organization)
    today = timezone.localtime(now, time_zone(zone)).date()
    end = today.replace(day=1) - timedelta(days=1)
    return Period.month(end.year, end.month, zone)


def draft_due_reports(now: datetime | None = None) -> dict[str, int]:
    """Draft last month's report (in each customer's time zone) for every active customer
    whose contract covered some of that month, once: the manager reviews, comments and
    sends. Runs hourly, so the 1st in any time zone is caught; a second run is a no-op."""
    now = now or clock.now()
    counts = {"drafted": 0, "existing": 0, "failed": 0}
    for organization in Organization.objects.filter(is_active=True).order_by("pk"):
        period = last_month(organization, now)
        covered = Contract.objects.filter(
            Q(organization=organization),
            Q(starts_on__lte=period.last),
            Q(ends_on__gte=period.first),
        ).exists()
        if not covered:
            continue
        try:
            _row, created = draft(organization, period)
        except Exception:  # one customer's failure does not stop the others
            log.exception("drafting the monthly report of %s failed", organization.pk)
            counts["failed"] += 1
            continue
        counts["drafted" if created else "existing"] += 1
    return counts


def month_of(row: StoredReport) -> Period:
    first: date = row.month
    return Period.month(first.year, first.month, customer_zone(row.organization))
