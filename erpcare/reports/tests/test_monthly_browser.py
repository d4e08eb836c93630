"""The monthly service report in a real Chromium: the manager opens the report of Acme's
November from the navigation, writes a commentary, and downloads the PDF, which carries
the commentary and the Chinese title."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from erpcare.reports.models import MonthlyReport
from erpcare.reports.tests.monthly_fixtures import SECRET, build_month

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct horse 42"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if not os.path.exists(CHROMIUM):
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser tests: apt-get install chromium")
    pytestmark.append(pytest.mark.skip(reason="Debian's chromium is not installed"))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_the_manager_comments_and_downloads_the_pdf(cast, sla_defaults_tx, browser, live_server):
    month = build_month(cast)
    context = browser.new_context(locale="en-US", base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_test_id("login-email").fill(cast.mona.email)
        page.get_by_test_id("login-password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        page.wait_for_load_state()

        page.get_by_test_id("nav-monthly-reports").click()
        page.locator("#pick_customer").select_option("acme")
        page.locator("#pick_month").fill("2026-11")
        page.get_by_test_id("monthly-open").click()
        page.get_by_test_id("monthly-report").wait_for()
        assert page.url.endswith("/desk/reports/acme/2026-11/")
        assert page.get_by_test_id("summary-created").inner_text().strip() == "3"
        assert page.locator("[data-testid=top-ticket]").count() == 2
        assert page.locator("svg[data-testid=chart-trend-time]").count() == 1
        assert SECRET not in page.content()

        page.locator("#commentary_commentary").fill(
            "本月为 Acme 优化了**凭证模板**，月结提速 30%。"
        )
        page.locator("#commentary_language").select_option("zh-hans")
        page.get_by_test_id("commentary-save").click()
        page.wait_for_load_state()
        commentary = page.get_by_test_id("monthly-commentary")
        assert commentary.locator("strong").inner_text() == "凭证模板"
        assert page.get_by_test_id("monthly-title").inner_text().startswith("服务月报")
        assert page.get_by_test_id("monthly-status").get_attribute("data-status") == "draft"

        with page.expect_download() as waiting:
            page.get_by_test_id("monthly-pdf").click()
        download = waiting.value
        assert download.suggested_filename == "service-report-acme-2026-11.pdf"
        data = Path(download.path()).read_bytes()
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
        assert "服务月报" in text
        assert "Acme 制造" in text
        assert "月结提速 30%" in text
        assert month.tickets["A2"].number in text
    finally:
        context.close()
    stored = MonthlyReport.objects.get(organization=cast.acme)
    assert stored.language == "zh-hans"
    assert stored.updated_by == cast.mona
