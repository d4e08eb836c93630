"""The SLA UI in a real Chromium: a manager previews a policy's due times, and an agent
finds a breached ticket by its badge and reads why through the "Explain SLA" panel."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from erpcare.core import clock
from erpcare.sla.models import SlaPolicy
from erpcare.sla.services.evaluator import evaluate_due
from erpcare.tickets.models import Priority, SlaState, Ticket
from erpcare.tickets.services import assign_ticket, create_ticket

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct horse 42"
SH = ZoneInfo("Asia/Shanghai")

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


@pytest.fixture
def page_for(browser, live_server):
    contexts = []

    def open_page():
        context = browser.new_context(locale="en-US", base_url=live_server.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_load_state()


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


@pytest.mark.usefixtures("sla_defaults_tx")
def test_manager_previews_a_policy_and_agent_explains_a_breach(cast, page_for):
    # A Standard P1 ticket opened Friday 09:00, first response due 11:00, never answered.
    with clock.frozen_at(at(2026, 11, 20, 9, 0)):
        ticket = create_ticket(
            cast.lina, title="MRP 运行失败", organization=cast.globex, priority=Priority.P1
        )
        assign_ticket(cast.lina, ticket, assignee=cast.lina, team=cast.l1_desk)
    evaluate_due(at(2026, 11, 20, 11, 30))
    assert Ticket.objects.get(pk=ticket.pk).sla_state == SlaState.BREACHED

    # The manager opens the policy and asks when a ticket opened Friday 17:30 is due.
    manager = page_for()
    sign_in(manager, cast.mona.email)
    manager.get_by_test_id("nav-sla").click()
    policy = SlaPolicy.objects.get(name="Standard P1")
    manager.locator(f"[data-testid=policy-link][href='/desk/sla/policies/{policy.pk}/']").click()
    assert manager.get_by_test_id("policy-title").inner_text().strip() == "Standard P1"
    manager.locator("#preview_opened_at").fill("2026-11-20T17:30")
    manager.get_by_test_id("preview-submit").click()
    due = manager.get_by_test_id("preview-response-due")
    due.wait_for()
    assert due.inner_text().strip() == "Mon 2026-11-23 10:30"
    assert manager.get_by_test_id("preview-resolution-due").inner_text().strip() == (
        "Mon 2026-11-23 14:00"
    )
    assert manager.get_by_test_id("preview-interval").count() == 3
    assert manager.url.endswith(f"/desk/sla/policies/{policy.pk}/")  # htmx, no navigation

    # The agent sees the breach in the queue, with its badge, and asks why.
    agent = page_for()
    sign_in(agent, cast.lina.email)
    unread = agent.get_by_test_id("notification-unread")
    unread.wait_for()  # the bell's count arrives after the page
    assert int(unread.get_attribute("data-count") or 0) >= 1
    agent.get_by_test_id("queue-breached").click()
    row = agent.locator(f"[data-testid=queue-row][data-ticket-number='{ticket.number}']")
    badge = row.get_by_test_id("sla-badge")
    assert badge.get_attribute("data-sla-level") == "red"
    assert "overdue" in badge.inner_text()
    assert (badge.get_attribute("title") or "").startswith("Due 2026-11-20 11:00")
    row.get_by_test_id("ticket-link").click()
    assert agent.get_by_test_id("ticket-sla").get_by_test_id("sla-badge").is_visible()
    agent.get_by_test_id("sla-explain-toggle").click()
    clock_panel = agent.get_by_test_id("sla-clock-response")
    clock_panel.wait_for()
    assert "Standard P1" in agent.get_by_test_id("sla-policy").inner_text()
    assert agent.get_by_test_id("sla-due-response").inner_text().strip() == "2026-11-20 11:00"
    assert agent.locator("[data-testid=sla-event][data-kind=breach]").count() >= 1
