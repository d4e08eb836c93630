"""The change calendar in a real Chromium: a manager opens November, finds the scheduled
change on its day next to the month-end freeze, opens it, and switches to the week view."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from erpcare.changes.models import FreezePeriod
from erpcare.changes.tests.test_maintenance import START, scheduled
from erpcare.conftest import PASSWORD, Cast

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

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


def test_a_manager_reads_the_change_calendar(
    cast: Cast, browser: Any, live_server: Any, settings: Any
) -> None:
    settings.TIME_ZONE = "Asia/Shanghai"
    change = scheduled(cast)
    FreezePeriod.objects.create(
        name="Month-end close", organization=cast.acme, policy="block", created_at=START,
        starts_at=datetime.fromisoformat("2026-11-30T00:00:00+08:00"),
        ends_at=datetime.fromisoformat("2026-12-02T00:00:00+08:00"),
    )  # fmt: skip
    context = browser.new_context(locale="en-US", base_url=live_server.url)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_test_id("login-email").fill(cast.mona.email)
        page.get_by_test_id("login-password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        page.wait_for_load_state()

        page.goto("/desk/changes/calendar/?date=2026-11-15")
        assert page.get_by_test_id("calendar-heading").inner_text().startswith("November 2026")
        day = page.locator("[data-testid=calendar-day][data-date='2026-11-10']")
        assert change.number in day.inner_text()
        freeze_day = page.locator("[data-testid=calendar-day][data-date='2026-11-30']")
        assert "Month-end close" in freeze_day.get_by_test_id("calendar-freeze").inner_text()

        page.select_option("#calendar-view", "week")
        page.get_by_test_id("calendar-apply").click()
        page.wait_for_load_state()
        assert page.get_by_test_id("calendar-day").count() == 7
        assert page.get_by_test_id("calendar-heading").inner_text() == "Week of 2026-11-09"
        page.get_by_test_id("calendar-next").click()
        page.wait_for_load_state()
        assert page.get_by_test_id("calendar-heading").inner_text() == "Week of 2026-11-16"
        assert page.get_by_test_id("calendar-change").count() == 0
        page.get_by_test_id("calendar-previous").click()
        page.wait_for_load_state()

        page.locator(f"[data-testid=calendar-change][data-number='{change.number}'] a").click()
        page.wait_for_load_state()
        assert change.number in page.get_by_test_id("change-title").inner_text()
        assert page.get_by_test_id("change-state").get_attribute("data-state") == "scheduled"
        assert "previous transport" in page.get_by_test_id("change-rollback").inner_text()
        assert page.get_by_test_id("change-event").count() == 6
    finally:
        context.close()
