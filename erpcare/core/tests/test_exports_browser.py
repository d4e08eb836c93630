"""Exports in a real Chromium: a manager narrows the queue with the filters (htmx swaps the
table) and downloads it as Excel; a customer downloads the portal list as CSV."""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest

from erpcare.audit.models import AuditEntry
from erpcare.conftest import PASSWORD
from erpcare.core.tests.ticket_rows import add_tickets
from erpcare.tickets.models import Priority, Status

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if not os.path.exists(CHROMIUM):
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser tests: apt-get install chromium")
    pytestmark.append(pytest.mark.skip(reason="Debian's chromium is not installed"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
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


@pytest.fixture
def page_for(browser: Any, live_server: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def open_page(email: str) -> Any:
        context = browser.new_context(
            locale="en-US", base_url=live_server.url, accept_downloads=True
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_test_id("login-email").fill(email)
        page.get_by_test_id("login-password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        page.wait_for_load_state()
        return page

    yield open_page
    for context in contexts:
        context.close()


def test_manager_filters_the_queue_and_downloads_it_as_excel(cast: Any, page_for: Any) -> None:
    add_tickets(cast.acme, 2, title="总账凭证 {n}", status=Status.OPEN, priority=Priority.P1)
    add_tickets(cast.acme, 3, title="库存盘点 {n}", status=Status.OPEN, priority=Priority.P3)
    add_tickets(cast.globex, 1, title="Globex {n}", status=Status.OPEN, priority=Priority.P1)
    page = page_for(cast.mona.email)
    page.goto("/desk/?queue=open")
    assert page.get_by_test_id("queue-row").count() == 6

    page.locator("#filter_priority").select_option("P1")
    page.wait_for_function("document.querySelectorAll('[data-testid=queue-row]').length === 3")
    page.locator("#filter_customer").select_option("acme")
    page.wait_for_function("document.querySelectorAll('[data-testid=queue-row]').length === 2")

    # The links were swapped in with the table: they carry the filters now on screen.
    with page.expect_download() as download_info:
        page.get_by_test_id("export-xlsx").click()
    download = download_info.value
    assert download.suggested_filename.startswith("tickets-")
    assert download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as f:
        sheet = openpyxl.load_workbook(io.BytesIO(f.read())).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:5] == ["Number", "Title", "Type", "Priority", "Status"]
    assert len(rows) == 3
    assert all(row[1].startswith("总账凭证") for row in rows[1:]), rows
    assert {row[3] for row in rows[1:]} == {"P1"}
    entry = AuditEntry.objects.get(action="tickets.exported")
    assert entry.data["filters"]["priority"] == "P1"
    assert entry.data["filters"]["customer"] == "acme"
    assert entry.data["rows"] == 2


def test_customer_downloads_the_portal_list_as_csv(cast: Any, page_for: Any) -> None:
    add_tickets(cast.acme, 2, title="总账凭证 {n}", status=Status.OPEN)
    add_tickets(cast.globex, 4, title="Globex {n}", status=Status.OPEN)
    page = page_for(cast.bob.email)
    page.goto("/portal/")
    assert page.get_by_test_id("portal-row").count() == 4
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    with open(download_info.value.path(), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(io.StringIO(f.read())))
    assert len(rows) == 1 + 4
    assert all(row[1].startswith("Globex") for row in rows[1:])
    assert "Team" not in rows[0]
