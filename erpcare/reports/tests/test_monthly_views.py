"""The monthly report's pages and files: the HTML page, the PDF (read back with pypdf) and
the workbook (read back with openpyxl), who may see and change what, what a customer sees
in the portal, and that nothing of another customer reaches any of them (counts included)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from erpcare.audit.models import AuditEntry
from erpcare.conftest import PASSWORD
from erpcare.core import clock
from erpcare.reports.models import MonthlyReport
from erpcare.reports.tests.monthly_fixtures import AFTER, ROOT_CAUSE, SECRET, build_month

pytestmark = pytest.mark.usefixtures("sla_defaults")


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.email, password=PASSWORD)
    return client


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def xlsx_cells(data: bytes) -> dict[str, list[list[object]]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return {
        ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets
    }


def flat(cells: dict[str, list[list[object]]]) -> str:
    return "\n".join(
        "\t".join("" if v is None else str(v) for v in row)
        for rows in cells.values()
        for row in rows
    )


@pytest.fixture
def month(cast):
    return build_month(cast)


@pytest.fixture
def frozen():
    with clock.frozen_at(AFTER):
        yield


URL = "/desk/reports/acme/2026-11/"


def globex_markers(month) -> list[str]:
    return [SECRET, "Globex"] + [month.tickets[k].number for k in ("G1", "G2", "G3")]


def test_the_manager_reads_the_report_page(cast, month, frozen):
    client = signed_in(cast.mona)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="monthly-report"' in html
    assert "Acme 制造" in html
    assert 'data-testid="summary-created">3<' in html
    assert 'data-testid="summary-backlog">1<' in html
    assert month.tickets["A2"].number in html
    assert ROOT_CAUSE in html
    assert html.count('data-testid="monthly-article"') == 2
    assert "<svg" in html
    assert 'data-testid="commentary-form"' in html
    for marker in globex_markers(month):
        assert marker not in html, marker


def test_the_pdf_has_the_chinese_title_and_nothing_of_globex(cast, month, frozen):
    MonthlyReport.objects.create(
        organization=cast.acme, month=date(2026, 11, 1), language="zh-hans",
        commentary="本月优化了**凭证模板**。", generated_at=AFTER, created_at=AFTER,
        updated_at=AFTER,
    )  # fmt: skip
    response = signed_in(cast.mona).get(URL + "pdf")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="service-report-acme-2026-11.pdf"'
    )
    text = pdf_text(response.content)
    assert "服务月报" in text
    assert "Acme 制造" in text
    assert month.tickets["A2"].number in text
    assert "凭证模板" in text
    for marker in globex_markers(month):
        assert marker not in text, marker


def test_the_workbook_has_one_sheet_per_section(cast, month, frozen):
    response = signed_in(cast.mona).get(URL + "xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('service-report-acme-2026-11.xlsx"')
    cells = xlsx_cells(response.content)
    assert list(cells) == [
        "Summary", "Volumes", "SLA", "Trend", "Top issues", "Knowledge added",
        "ERP instances", "Satisfaction", "Backlog", "Improvements made",
    ]  # fmt: skip
    summary = {row[0]: row[1] for row in cells["Summary"][1:]}
    assert summary["Customer"] == "Acme 制造"
    assert summary["Tickets created"] == 3
    assert summary["Tickets resolved"] == 2
    assert cells["Trend"][-1] == ["2026-11", 3, 2, 2.0, 4.0]
    assert cells["Trend"][-2][3] == "—"  # October had no incident: no MTTR, not 0
    assert cells["Top issues"][1][0] == month.tickets["A2"].number
    assert cells["Top issues"][1][8] == ROOT_CAUSE
    assert cells["SLA"][1][1:3] == [100.0, 100.0]
    text = flat(cells)
    for marker in globex_markers(month):
        assert marker not in text, marker


def test_agents_see_the_customers_they_serve_only(cast, month, frozen):
    assert signed_in(cast.vera).get(URL).status_code == 200  # l1-acme serves Acme
    assert signed_in(cast.vera).get("/desk/reports/globex/2026-11/").status_code == 404
    assert signed_in(cast.vera).get("/desk/reports/globex/2026-11/pdf").status_code == 404
    page = signed_in(cast.vera).get(URL).content.decode()
    assert 'data-testid="commentary-form"' not in page  # agents read, managers write
    index = signed_in(cast.vera).get("/desk/reports/").content.decode()
    assert "Globex Retail" not in index


def test_unknown_customers_bad_and_future_months(cast, month, frozen):
    client = signed_in(cast.mona)
    assert client.get("/desk/reports/nobody/2026-11/").status_code == 404
    response = client.get("/desk/reports/acme/2026-13/")
    assert response.status_code == 400
    assert "A month is a number from 1 to 12 (got 13)." in response.content.decode()
    response = client.get("/desk/reports/acme/2027-01/pdf")
    assert response.status_code == 400
    assert "2027-01 has not started yet" in response.content.decode()
    response = client.get("/desk/reports/acme/nov/xlsx")
    assert response.status_code == 400
    picked = client.get("/desk/reports/", {"customer": "acme", "month": "2026-11"})
    assert picked.status_code == 302
    assert picked["Location"] == URL
    bad = client.get("/desk/reports/", {"customer": "nobody", "month": "2026-13"})
    assert bad.status_code == 400
    assert 'data-testid="field-error-customer"' in bad.content.decode()


def test_customers_have_no_desk_and_staff_have_no_portal(cast, month, frozen):
    assert signed_in(cast.alice).get(URL).status_code == 404
    assert signed_in(cast.alice).get("/desk/reports/").status_code == 404
    response = signed_in(cast.mona).get("/portal/reports/2026-11/")
    assert response.status_code == 302
    assert response["Location"] == reverse("monthly_desk:index")


def test_the_manager_writes_the_commentary(cast, month, frozen):
    client = signed_in(cast.mona)
    response = client.post(
        URL + "commentary", {"commentary": "**Faster** month-end close", "language": "zh-hans"}
    )
    assert response.status_code == 302
    row = MonthlyReport.objects.get(organization=cast.acme, month=date(2026, 11, 1))
    assert (row.commentary, row.language, row.status) == (
        "**Faster** month-end close",
        "zh-hans",
        "draft",
    )
    assert AuditEntry.objects.filter(action="reports.monthly.commentary").count() == 1
    page = client.get(URL).content.decode()
    assert "<strong>Faster</strong> month-end close" in page
    assert "服务月报" in page  # the report is now in Chinese
    assert client.post(URL + "commentary", {"commentary": "x", "language": "fr"}).status_code == 400
    assert (
        signed_in(cast.lina).post(URL + "commentary", {"commentary": "x", "language": "en"})
    ).status_code == 404
    assert (
        signed_in(cast.audra).post(URL + "commentary", {"commentary": "x", "language": "en"})
    ).status_code == 404
    assert MonthlyReport.objects.get(pk=row.pk).commentary == "**Faster** month-end close"


def test_the_portal_shows_only_the_customers_own_sent_reports(cast, month, frozen):
    row = MonthlyReport.objects.create(
        organization=cast.acme, month=date(2026, 11, 1), language="en", generated_at=AFTER,
        created_at=AFTER, updated_at=AFTER,
    )  # fmt: skip
    alice = signed_in(cast.alice)
    assert alice.get("/portal/reports/2026-11/").status_code == 404  # a draft is not shown
    assert "2026-11" not in alice.get("/portal/reports/").content.decode()
    row.status, row.sent_at = "sent", AFTER
    row.save()
    response = alice.get("/portal/reports/2026-11/")
    assert response.status_code == 200
    html = response.content.decode()
    assert month.tickets["A1"].number in html
    for marker in globex_markers(month):
        assert marker not in html, marker
    assert alice.get("/portal/reports/2026-11/pdf").status_code == 200
    cells = flat(xlsx_cells(alice.get("/portal/reports/2026-11/xlsx").content))
    assert SECRET not in cells
    assert "2026-11" in alice.get("/portal/reports/").content.decode()
    # Globex's user asks for the same month: Acme's sent report is not theirs.
    bob = signed_in(cast.bob)
    for url in ("/portal/reports/2026-11/", "/portal/reports/2026-11/pdf"):
        assert bob.get(url).status_code == 404
    assert "2026-11" not in bob.get("/portal/reports/").content.decode()
    assert alice.get("/portal/reports/2026-13/").status_code == 404


def test_dates_are_the_customers_whatever_the_readers_time_zone(cast, month, frozen):
    from erpcare.kb import services as kb
    from erpcare.reports.tests.monthly_fixtures import at

    with clock.frozen_at(at(2026, 11, 1, 0, 30)):  # 31 October 16:30 UTC
        article = kb.create_article(cast.lina, title="Early bird", body="b", visibility="public")
        kb.publish(cast.mona, article)
    cast.mona.time_zone = "UTC"
    cast.mona.save(update_fields=["time_zone"])
    html = signed_in(cast.mona).get(URL).content.decode()
    assert "Early bird" in html
    assert "2026-11-01)" in html
    assert "2026-10-31)" not in html
