"""Sending a monthly report through a real SMTP server on loopback (the channels outbox
and worker, the PDF attached like the inspection reports), and the monthly job that drafts
last month's reports once per customer and month in each customer's time zone."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.test import Client
from django.utils.module_loading import import_string
from pypdf import PdfReader

from erpcare.audit.models import AuditEntry
from erpcare.channels.delivery import deliver_due
from erpcare.channels.models import Delivery, Mailbox
from erpcare.channels.tests.smtp_server import (
    SmtpServer,
    smtp_server_fixture,  # noqa: F401  (the smtp_server fixture)
)
from erpcare.conftest import PASSWORD
from erpcare.core import clock, scheduler
from erpcare.customers.models import Contact, Contract, Organization
from erpcare.reports.models import MonthlyReport
from erpcare.reports.monthly_service import draft_due_reports, report_contacts
from erpcare.reports.tests.monthly_fixtures import AFTER, SECRET, build_month

URL = "/desk/reports/acme/2026-11/"


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.email, password=PASSWORD)
    return client


@pytest.fixture
def mailbox(smtp_server: SmtpServer) -> Mailbox:
    return Mailbox.objects.create(
        name="ERPCare 服务",
        email="reports@erpcare.example",
        imap_host="127.0.0.1",
        imap_username="reports@erpcare.example",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_security="none",
        created_at=clock.now(),
    )


@pytest.mark.django_db(transaction=True)
def test_the_manager_sends_the_pdf_to_the_report_contacts(
    cast: Any, sla_defaults_tx: Any, mailbox: Mailbox, smtp_server: SmtpServer
) -> None:
    month = build_month(cast)
    Contact.objects.create(organization=cast.acme, name="王经理", kind="escalation",
                           email="CFO@acme.example")  # fmt: skip
    Contact.objects.create(organization=cast.acme, name="IT", kind="it", email="it@acme.example")
    Contact.objects.create(organization=cast.acme, name="Billing", kind="billing",
                           email="billing@acme.example")  # fmt: skip
    assert report_contacts(cast.acme) == ["it@acme.example", "cfo@acme.example"]
    client = signed_in(cast.mona)
    with clock.frozen_at(AFTER):
        page = client.get(URL).content.decode()
        assert "it@acme.example, cfo@acme.example" in page  # the form is pre-filled
        client.post(URL + "commentary", {"commentary": "月结提速 30%", "language": "zh-hans"})
        response = client.post(URL + "send", {"recipients": "it@acme.example, cfo@acme.example"})
        assert response.status_code == 302
        deliver_due()  # the tickets' own notifications go out too

    row = MonthlyReport.objects.get(organization=cast.acme)
    assert row.status == "sent"
    assert row.sent_to == ["it@acme.example", "cfo@acme.example"]
    assert row.sent_at == AFTER
    assert AuditEntry.objects.filter(action="reports.monthly.sent").count() == 1
    reports = [
        m for m in smtp_server.messages if m.rcpt_tos[0] in {"cfo@acme.example", "it@acme.example"}
    ]
    assert sorted(m.rcpt_tos[0] for m in reports) == ["cfo@acme.example", "it@acme.example"]
    message = reports[0].message
    assert "服务月报" in message["Subject"]
    assert "Acme 制造" in message["Subject"]
    assert message["Auto-Submitted"] == "auto-generated"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "service-report-acme-2026-11.pdf"
    text = "\n".join(
        p.extract_text() for p in PdfReader(io.BytesIO(attachment.get_content())).pages
    )
    assert "服务月报" in text
    assert "月结提速 30%" in text
    assert month.tickets["A2"].number in text
    assert SECRET not in text
    # The customer now finds it in the portal.
    with clock.frozen_at(AFTER):
        assert signed_in(cast.alice).get("/portal/reports/2026-11/").status_code == 200


@pytest.mark.django_db
def test_bad_recipients_and_wrong_people_send_nothing(cast: Any, sla_defaults: Any) -> None:
    build_month(cast)
    with clock.frozen_at(AFTER):
        response = signed_in(cast.mona).post(URL + "send", {"recipients": "ops@acme, x"})
        assert response.status_code == 400
        assert "“ops@acme” is not an e-mail address" in response.content.decode()
        assert signed_in(cast.mona).post(URL + "send", {"recipients": ""}).status_code == 400
        for user in (cast.lina, cast.audra, cast.alice):
            assert signed_in(user).post(URL + "send", {"recipients": "a@b.cn"}).status_code == 404
    assert not MonthlyReport.objects.filter(status="sent").exists()
    assert Delivery.objects.count() == 0


@pytest.mark.django_db
def test_the_job_drafts_last_month_once_per_customer_in_its_time_zone(cast: Any) -> None:
    assert scheduler.registered_jobs()["reports.monthly_drafts"].func == (
        "erpcare.reports.jobs.draft_monthly_reports"
    )
    cast.globex.time_zone = "America/New_York"
    cast.globex.save(update_fields=["time_zone"])
    lapsed = Organization.objects.create(code="lapsed", name="Lapsed Ltd")
    Contract.objects.create(organization=lapsed, name="old", starts_on=date(2025, 1, 1),
                            ends_on=date(2025, 12, 31), service_level="basic",
                            support_hours="business")  # fmt: skip
    Organization.objects.create(code="prospect", name="No contract")

    # 1 December 00:30 in Shanghai = 30 November 11:30 in New York.
    first = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
    with clock.frozen_at(first):
        assert draft_due_reports(first) == {"drafted": 2, "existing": 0, "failed": 0}
    drafted = dict(MonthlyReport.objects.values_list("organization__code", "month"))
    assert drafted == {"acme": date(2026, 11, 1), "globex": date(2026, 10, 1)}
    with clock.frozen_at(first):
        assert draft_due_reports(first) == {"drafted": 0, "existing": 2, "failed": 0}
    # New York reaches December: Globex's November is drafted; Acme's is not drafted again.
    later = datetime(2026, 12, 1, 5, 30, tzinfo=UTC)
    with clock.frozen_at(later):
        assert import_string("erpcare.reports.jobs.draft_monthly_reports")() == {
            "drafted": 1,
            "existing": 1,
            "failed": 0,
        }
    assert MonthlyReport.objects.count() == 3
    assert set(MonthlyReport.objects.values_list("status", flat=True)) == {"draft"}
    assert not MonthlyReport.objects.filter(organization__code__in=["lapsed", "prospect"]).exists()
