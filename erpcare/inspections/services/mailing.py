"""Inspection reports by mail: after each week or month, every active subscription mails
its customer the period's report as PDF (one per inspected ERP instance).

A period counts as finished at ``SEND_HOUR`` on the day after it ends, in the customer's
time zone, so the last day's daily checks are in it. The worker's job (every 15 minutes)
sends each finished period once: the subscription's ``last_period_end`` is claimed with a
conditional UPDATE before anything is written, so two workers never both send it, and a
failure before the mail is queued gives the claim back. The PDFs are kept in the media
storage; each recipient's mail is a channels delivery (retries, attempt log, the admin's
delivery list), whose payload names the PDFs instead of carrying them.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import override

from erpcare.accounts.models import User
from erpcare.core import clock
from erpcare.core.errors import ActionError
from erpcare.customers.models import ErpInstance
from erpcare.inspections.models import (
    InstanceCheck,
    ReportFrequency,
    ReportMailing,
    ReportSubscription,
)
from erpcare.inspections.services import report as reports

log = logging.getLogger(__name__)

SEND_HOUR = 7  # local time on the day after the period: the 06:00 daily checks are in
MAX_RECIPIENTS = 20
FINDINGS_IN_MAIL = 5
_SEPARATORS = re.compile(r"[\s,;，；]+")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included


# ---------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------


def last_finished_period(frequency: str, today: date) -> Period:
    """The latest whole week (Monday–Sunday) or calendar month before ``today``."""
    if frequency == ReportFrequency.WEEKLY:
        this_monday = today - timedelta(days=today.weekday())
        return Period(this_monday - timedelta(days=7), this_monday - timedelta(days=1))
    if frequency == ReportFrequency.MONTHLY:
        first = today.replace(day=1)
        end = first - timedelta(days=1)
        return Period(end.replace(day=1), end)
    raise ActionError(_("Unknown report frequency “%(value)s”.") % {"value": frequency})


def due_period(subscription: ReportSubscription, now: datetime) -> Period | None:
    """The period to mail now, or None: not finished yet, already sent, or ended before
    the subscription existed (a new subscription starts with the next period)."""
    zone = reports.customer_zone_of(subscription.organization)
    local = timezone.localtime(now, zone)
    period = last_finished_period(
        subscription.frequency, (local - timedelta(hours=SEND_HOUR)).date()
    )
    if subscription.last_period_end is not None and subscription.last_period_end >= period.end:
        return None
    if period.end < timezone.localtime(subscription.created_at, zone).date():
        return None
    return period


# ---------------------------------------------------------------------------
# Recipients
# ---------------------------------------------------------------------------


def parse_recipients(text: str) -> list[str]:
    """Addresses separated by lines, commas or semicolons; lower-cased, de-duplicated.
    ActionError names the first address that is not one."""
    found: list[str] = []
    for part in _SEPARATORS.split(text or ""):
        address = part.strip().strip("<>").strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            raise ActionError(
                _("“%(address)s” is not an e-mail address.") % {"address": part[:100]}
            ) from None
        if address.lower() not in found:
            found.append(address.lower())
    if not found:
        raise ActionError(_("Enter at least one e-mail address."))
    if len(found) > MAX_RECIPIENTS:
        raise ActionError(_("A report goes to at most %(n)d addresses.") % {"n": MAX_RECIPIENTS})
    return found


# ---------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------


def instances_of(subscription: ReportSubscription) -> list[ErpInstance]:
    """The subscription's instance, or every instance of the customer that has checks."""
    rows = ErpInstance.objects.select_related("organization").order_by("name", "pk")
    if subscription.erp_instance_id is not None:
        return list(rows.filter(pk=subscription.erp_instance_id))
    inspected = InstanceCheck.objects.values("erp_instance_id")
    return list(rows.filter(organization_id=subscription.organization_id, pk__in=inspected))


def send_period(
    subscription: ReportSubscription,
    period: Period,
    *,
    actor: User | None = None,
    claim: bool = True,
) -> ReportMailing | None:
    """Print the period's reports, keep them, and queue one mail per recipient.

    ``claim``: the worker's way — first move ``last_period_end`` on with a conditional
    UPDATE, and return None when another worker did. A person's "send now" does not claim:
    it mails the period again, on purpose."""
    recipients = parse_recipients(subscription.recipients)
    instances = instances_of(subscription)
    if not instances:
        raise ActionError(
            _("The customer has no ERP instance with inspection checks to report on.")
        )
    if claim and not _claim(subscription, period):
        return None
    try:
        files = _print_reports(subscription, instances, period)
        with transaction.atomic():
            mailing = ReportMailing.objects.create(
                subscription=subscription,
                period_start=period.start,
                period_end=period.end,
                manual=not claim,
                files=files,
                recipients=recipients,
                created_by=actor,
                created_at=clock.now(),
            )
            _queue_mails(subscription, mailing)
            ReportSubscription.objects.filter(pk=subscription.pk).update(
                last_sent_at=mailing.created_at, last_error=""
            )
    except Exception:
        if claim:  # give the period back: the next tick tries again
            ReportSubscription.objects.filter(
                pk=subscription.pk, last_period_end=period.end
            ).update(last_period_end=subscription.last_period_end)
        raise
    return mailing


def _claim(subscription: ReportSubscription, period: Period) -> bool:
    previous = subscription.last_period_end
    same = Q(last_period_end__isnull=True) if previous is None else Q(last_period_end=previous)
    return (
        ReportSubscription.objects.filter(same, pk=subscription.pk).update(
            last_period_end=period.end
        )
        == 1
    )


def _print_reports(
    subscription: ReportSubscription, instances: list[ErpInstance], period: Period
) -> list[dict[str, object]]:
    zone = reports.customer_zone_of(subscription.organization)
    folder = (
        f"inspection-reports/{subscription.organization_id}/"
        f"{period.start:%Y%m%d}-{period.end:%Y%m%d}-{secrets.token_hex(4)}"
    )
    files: list[dict[str, object]] = []
    for instance in instances:
        context = reports.report_context(instance, period.start, period.end, zone)
        pdf = reports.report_pdf(
            instance, period.start, period.end, language=subscription.language, zone=zone
        )
        filename = reports.report_filename(instance, period.start, period.end)
        stored = default_storage.save(f"{folder}/{filename}", ContentFile(pdf))
        report = context["report"]
        files.append(
            {
                "instance": instance.pk,
                "name": instance.name,
                "rating": report.rating,
                "checks": report.checks,
                "failing": len(report.findings),
                "findings": [
                    f"{f.result.get_status_display()}: {f.check.name}"
                    for f in report.findings[:FINDINGS_IN_MAIL]
                ],
                "filename": filename,
                "storage_name": stored,
                "size": len(pdf),
            }
        )
    return files


def _queue_mails(subscription: ReportSubscription, mailing: ReportMailing) -> None:
    from erpcare.channels.email.outbound import loop_headers, new_message_id, sender_mailbox
    from erpcare.channels.events import wake_on_commit
    from erpcare.channels.models import Delivery, DeliveryChannel, DeliveryState

    subject, text, html = render_mail(subscription, mailing)
    mailbox = sender_mailbox(None)
    sender = (
        f"{mailbox.name} <{mailbox.email}>" if mailbox is not None else settings.DEFAULT_FROM_EMAIL
    )
    attachments = [
        {
            "filename": f["filename"],
            "content_type": "application/pdf",
            "storage_name": f["storage_name"],
        }
        for f in mailing.files
    ]
    now = clock.now()
    Delivery.objects.bulk_create(
        Delivery(
            channel=DeliveryChannel.EMAIL,
            address=address,
            language=subscription.language,
            payload={
                "subject": subject,
                "text": text,
                "html": html,
                "headers": {"Message-ID": new_message_id(None), **loop_headers()},
                "from": sender,
                "to": [address],
                "reply_to": [mailbox.email] if mailbox is not None else [],
                "mailbox_id": mailbox.pk if mailbox is not None else None,
                "attachments": attachments,
            },
            state=DeliveryState.PENDING,
            next_attempt_at=now,
            created_at=now,
        )
        for address in mailing.recipients
    )
    wake_on_commit()


def render_mail(subscription: ReportSubscription, mailing: ReportMailing) -> tuple[str, str, str]:
    """(subject, text, html) in the subscription's language: each instance's rating and
    its first findings; the PDFs carry the rest."""
    from erpcare.channels.email.templates import SITE_NAME, layout
    from erpcare.inspections.models import Rating

    with override(subscription.language):
        values = {
            "customer": subscription.organization.name,
            "start": f"{mailing.period_start:%Y-%m-%d}",
            "end": f"{mailing.period_end:%Y-%m-%d}",
        }
        subject = _("Inspection report %(customer)s, %(start)s – %(end)s") % values
        lines = [
            _("The inspection report of %(customer)s for %(start)s – %(end)s is attached.")
            % values,
            "",
        ]
        html_parts = [f"<p>{escape(lines[0])}</p>"]
        for item in mailing.files:
            rating = str(Rating(item["rating"]).label) if item["rating"] else "—"
            summary = _(
                "%(instance)s: %(rating)s, %(failing)d of %(checks)d checks need attention"
            ) % {
                "instance": item["name"],
                "rating": rating,
                "failing": item["failing"],
                "checks": item["checks"],
            }
            lines.append(summary)
            lines.extend(f"  - {finding}" for finding in item["findings"])
            html_parts.append(f"<p><strong>{escape(summary)}</strong></p>")
            if item["findings"]:
                html_parts.append(
                    "<ul>" + "".join(f"<li>{escape(f)}</li>" for f in item["findings"]) + "</ul>"
                )
        footer = _("This message was sent by %(site)s.") % {"site": SITE_NAME}
    text = "\n".join(lines) + f"\n\n-- \n{footer}\n"
    return subject, text, layout(subject, "".join(html_parts), footer, subscription.language)


# ---------------------------------------------------------------------------
# The worker's job
# ---------------------------------------------------------------------------


def mail_due_reports(now: datetime | None = None) -> dict[str, int]:
    """Send every subscription's finished period that was not sent yet. One subscription's
    failure is recorded on it and does not stop the others."""
    now = now or clock.now()
    counts = {"sent": 0, "failed": 0}
    subscriptions = ReportSubscription.objects.filter(is_active=True).select_related(
        "organization", "erp_instance"
    )
    for subscription in subscriptions:
        period = due_period(subscription, now)
        if period is None:
            continue
        try:
            mailing = send_period(subscription, period)
        except Exception as exc:
            log.exception("inspection report mail %s failed", subscription.pk)
            message = (
                exc.message if isinstance(exc, ActionError) else f"{type(exc).__name__}: {exc}"
            )
            ReportSubscription.objects.filter(pk=subscription.pk).update(last_error=message[:4000])
            counts["failed"] += 1
            continue
        if mailing is not None:
            counts["sent"] += 1
    return counts
