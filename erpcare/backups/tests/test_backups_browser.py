"""The backups pages in a real Chromium against a live server: a manager adds a SQLite
plan for an ERP instance whose inspection data source is a small SQLite file the test
made, clicks "Back up now"; the real database worker makes the backup and the plan page
shows the point; "Test restore now" is carried out by the worker the same way and the
point's page says the restore is usable, with the scratch copy dropped."""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from erpcare.backups.models import BackupPlan, BackupPoint, RestoreTest
from erpcare.inspections.tests import helpers

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
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(locale="en-US", base_url=live_server.url)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def snap(page: Any, name: str) -> None:
    """A full-page screenshot when ERPCARE_SCREENSHOTS names a directory (for reviews)."""
    folder = os.environ.get("ERPCARE_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"backups-{name}.png"), full_page=True)


def sign_in(page: Any, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_load_state()


def test_manager_backs_up_a_sqlite_erp_database_and_proves_the_restore(
    cast: Any,
    page: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from playwright.sync_api import expect

    monkeypatch.setenv("ERPCARE_BACKUP_KEY", base64.urlsafe_b64encode(bytes(range(32))).decode())
    source = helpers.sqlite_source(cast.acme_erp, helpers.erp_sqlite(tmp_path / "erp.sqlite"))
    sign_in(page, cast.mona.email)

    page.get_by_test_id("nav-backups").click()
    expect(page.get_by_test_id("no-plans")).to_be_visible()
    page.get_by_test_id("plan-new").click()
    page.fill("#plan_name", "Acme 每日备份")
    page.select_option("#plan_target", str(cast.acme_erp.pk))
    page.select_option("#plan_kind", "sqlite")
    page.select_option("#plan_data_source", str(source.pk))
    page.fill("#plan_directory", str(tmp_path / "backups"))
    page.fill("#plan_key_tables", "move_line, stock")
    page.get_by_test_id("plan-save").click()
    expect(page.get_by_test_id("plan-title")).to_have_text("Acme 每日备份")
    expect(page.get_by_test_id("no-points")).to_be_visible()
    plan = BackupPlan.objects.get()

    # Back up now: queued; the real worker makes it; the plan page shows the point.
    page.get_by_test_id("backup-now").click()
    expect(page.locator(".alert")).to_contain_text("The backup is queued")
    call_command("erpcare_worker", "--batch", "--interval", "0")
    point = BackupPoint.objects.get(plan=plan)
    assert point.status == "ok", point.error
    page.reload()
    row = page.locator(f'[data-testid="point-row"][data-point="{point.pk}"]')
    expect(row).to_have_attribute("data-status", "ok")
    expect(row).to_contain_text(point.sha256[:12])
    snap(page, "plan")

    # Test restore now, carried out by the worker; the point's page says "Usable".
    row.get_by_test_id("point-link").click()
    page.get_by_test_id("restore-test-now").click()
    expect(page.locator(".alert")).to_contain_text("The restore test is queued")
    call_command("erpcare_worker", "--batch", "--interval", "0")
    assert RestoreTest.objects.get().status == "ok"
    page.reload()
    test_row = page.get_by_test_id("test-row")
    expect(test_row.get_by_test_id("test-status")).to_have_text("Usable")
    expect(test_row.get_by_test_id("test-dropped")).to_be_visible()
    snap(page, "point")
    page.get_by_test_id("nav-backups").click()
    expect(page.get_by_test_id("plan-rating")).to_have_attribute("data-rating", "green")
