"""The service dashboard in a real Chromium: a manager picks November, the widgets load
through htmx, ECharts draws the charts from the rollups, and a click on the "General
ledger" bar opens the desk list of exactly those tickets."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from erpcare.conftest import PASSWORD
from erpcare.reports.rollups import roll_up_range
from erpcare.reports.tests.test_kpis import AFTER, november  # noqa: F401 (a fixture)
from erpcare.tickets.models import Ticket

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
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(locale="en-US", base_url=live_server.url)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_manager_reads_november_and_drills_into_a_module(
    cast: Any, sla_defaults_tx: Any, request: pytest.FixtureRequest, page: Any
) -> None:
    from playwright.sync_api import expect

    request.getfixturevalue("november")
    roll_up_range(date(2026, 11, 1), date(2026, 11, 30), now=AFTER)
    page.goto("/accounts/login/")
    page.get_by_test_id("login-email").fill(cast.mona.email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("nav-dashboards").click()
    page.select_option("[data-testid=dash-period]", "custom")
    page.fill("[data-testid=dash-first]", "2026-11-01")
    page.fill("[data-testid=dash-last]", "2026-11-30")
    page.get_by_test_id("dashboard-apply").click()
    expect(page.locator("[data-testid=tile-created] [data-value]")).to_have_text("6")
    expect(page.locator("[data-testid=tile-response-sla] [data-value]")).to_contain_text("80.0")
    chart = page.get_by_test_id("chart-modules")
    expect(chart).to_have_attribute("data-rendered", "true")
    expect(page.get_by_test_id("chart-trend")).to_have_attribute("data-rendered", "true")
    # The second bar is the general ledger (2 tickets): click it where its value is 1. A
    # chart is marked rendered when its drawing and animation are finished.
    chart.scroll_into_view_if_needed()
    expect(chart).to_have_attribute("data-rendered", "true")
    x, y = page.evaluate(
        """() => {
            const el = document.querySelector('[data-testid=chart-modules]');
            return echarts.getInstanceByDom(el).convertToPixel({seriesIndex: 0}, [1, 1]);
        }"""
    )
    box = chart.bounding_box()
    with page.expect_navigation(url=re.compile(r"module=gl")):
        page.mouse.click(box["x"] + x, box["y"] + y)
    numbers = set(
        Ticket.objects.filter(module="gl", merged_into__isnull=True).values_list(
            "number", flat=True
        )
    )
    for number in numbers:
        expect(page.locator("#queue-results")).to_contain_text(number)
    assert page.locator("#queue-results [data-testid=ticket-row]").count() in (0, len(numbers))
