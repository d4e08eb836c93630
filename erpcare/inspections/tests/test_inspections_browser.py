"""The inspections pages in a real Chromium against a live server: a manager adds a SQLite
data source pointing at a small ERP database the test made, tests its connection, imports
a one-check pack from pasted YAML, applies it, clicks "Run now"; the real database worker
carries the queued run out and the run page, polling by itself, shows the unbalanced
journal entry the test wrote and the red rating; then the manager subscribes the customer
to the monthly report mail, sends the last month now and deletes the subscription."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from erpcare.inspections.models import (
    DataSource,
    InspectionRun,
    InstanceCheck,
    ReportMailing,
    ReportSubscription,
)
from erpcare.inspections.tests import helpers
from erpcare.inspections.tests.test_views import PACK_YAML

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct horse 42"

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
    contexts = []

    def open_page() -> Any:
        context = browser.new_context(locale="en-US", base_url=live_server.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def snap(page: Any, name: str) -> None:
    """A full-page screenshot when ERPCARE_SCREENSHOTS names a directory (for reviews)."""
    folder = os.environ.get("ERPCARE_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"inspections-{name}.png"), full_page=True)


def sign_in(page: Any, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_load_state()


def test_manager_inspects_a_sqlite_erp_database_and_sees_the_finding(
    cast: Any, page_for: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    erp = helpers.erp_sqlite(tmp_path / "erp.sqlite")
    helpers.unbalance(erp)  # move 2: debit 57, credit 50
    page = page_for()
    sign_in(page, cast.mona.email)

    # The overview lists the instance, not inspected yet.
    page.get_by_test_id("nav-inspections").click()
    row = page.locator(f'[data-testid="overview-row"][data-instance="{cast.acme_erp.pk}"]')
    expect(row.get_by_test_id("overview-rating")).to_have_attribute("data-rating", "")
    row.get_by_test_id("instance-link").click()
    expect(page.get_by_test_id("no-assignments")).to_be_visible()

    # A SQLite data source: the form shows the file path, not host or password.
    page.get_by_test_id("tab-sources").click()
    page.get_by_test_id("source-new").click()
    page.fill("#source_name", "ERP 数据库")
    page.select_option("#source_kind", "sqlite")
    expect(page.locator("#source_host")).to_be_hidden()
    expect(page.locator("#source_password")).to_be_hidden()
    page.fill("#source_database", str(erp))
    page.get_by_test_id("source-save").click()
    expect(page.get_by_test_id("source-title")).to_contain_text("ERP 数据库")
    page.get_by_test_id("source-test").click()
    expect(page.get_by_test_id("source-last-test")).to_contain_text(sqlite3.sqlite_version)
    source = DataSource.objects.get()
    assert (source.kind, source.database, source.last_test_ok) == ("sqlite", str(erp), True)

    # A one-check pack pasted as YAML, applied to the source.
    page.get_by_test_id("inspections-nav-packs").click()
    page.get_by_test_id("pack-import").click()
    page.fill("#pack_text", PACK_YAML)
    page.get_by_test_id("pack-import-submit").click()
    expect(page.get_by_test_id("pack-title")).to_have_text("Tiny ledger")
    expect(page.get_by_test_id("check-why")).to_contain_text("trial balance wrong")
    page.select_option("#apply_source", str(source.pk))
    page.get_by_test_id("pack-apply").click()
    expect(page.get_by_test_id("assignment-row")).to_have_count(1)
    assert InstanceCheck.objects.get().data_source == source
    snap(page, "assigned")

    # Run now: the run is queued; the real database worker carries it out; the run page
    # picks the result up by itself (htmx polling) with no reload.
    page.get_by_test_id("run-now").click()
    expect(page.get_by_test_id("run-body")).to_have_attribute("data-status", "queued")
    run = InspectionRun.objects.get()
    call_command("erpcare_worker", "--batch", "--interval", "0")
    run.refresh_from_db()
    assert (run.status, run.rating) == ("done", "red")
    expect(page.get_by_test_id("run-body")).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("run-rating")).to_have_attribute("data-rating", "red")
    result = page.locator('[data-testid="result"][data-check="unbalanced-moves"]')
    expect(result).to_have_attribute("data-status", "critical")
    finding = result.get_by_test_id("finding-row")
    expect(finding).to_have_count(1)
    expect(finding.locator("td")).to_have_text(["2", "57.0", "50.0"])
    expect(result.get_by_test_id("findings-count")).to_contain_text("1 in all")
    snap(page, "run")

    # The overview and the report now say red.
    page.get_by_test_id("inspections-nav-overview").click()
    expect(row.get_by_test_id("overview-rating")).to_have_attribute("data-rating", "red")
    row.get_by_test_id("instance-link").click()
    page.get_by_test_id("tab-report").click()
    expect(page.get_by_test_id("report-rating")).to_have_attribute("data-rating", "red")
    expect(page.get_by_test_id("report-finding")).to_contain_text("adjusting entry")
    page.emulate_media(media="print")
    expect(page.get_by_test_id("report-period")).to_be_hidden()
    expect(page.get_by_test_id("report")).to_be_visible()
    snap(page, "report-print")

    # The report mail: a monthly subscription, the last month sent now, then deleted.
    page.emulate_media(media="screen")
    page.get_by_test_id("inspections-nav-mail").click()
    page.select_option("#subscription_customer", str(cast.acme.pk))
    page.select_option("#subscription_erp_instance", str(cast.acme_erp.pk))
    page.fill("#subscription_recipients", "CFO@acme.example; ops@acme.example")
    page.select_option("#subscription_language", "en")
    page.get_by_test_id("subscription-save").click()
    row = page.get_by_test_id("subscription-row")
    expect(row).to_have_count(1)
    recipients = row.get_by_test_id("subscription-recipients")
    expect(recipients).to_contain_text("cfo@acme.example")
    expect(recipients).to_contain_text("ops@acme.example")
    page.get_by_test_id("subscription-send").click()
    expect(page.get_by_test_id("mailing-row")).to_have_count(1)
    expect(page.get_by_test_id("mailing-how")).to_contain_text("by hand")
    mailing = ReportMailing.objects.get()
    assert mailing.recipients == ["cfo@acme.example", "ops@acme.example"]
    with page.expect_download() as download:
        page.get_by_test_id("mailing-file").click()
    assert download.value.suggested_filename == mailing.files[0]["filename"]
    snap(page, "report-mail")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("subscription-delete").click()
    expect(page.get_by_test_id("subscription-row")).to_have_count(0)
    assert not ReportSubscription.objects.exists()
