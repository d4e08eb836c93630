"""The two journeys every release must keep, in a real Chromium, in both languages.

1. A customer signs in, submits a ticket in the portal and sees it in the list.
2. An agent picks that ticket up, replies, escalates it to L2 and resolves it.

Chromium comes from Debian (`apt-get install chromium`); Playwright drives it without
downloading a browser of its own. The browser's language is set through its locale, so
the "default from the browser" rule is exercised too.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from django.utils import translation

from erpcare.tickets.models import Status, Ticket
from erpcare.tickets.services import create_ticket

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct horse 42"
LOCALES = {"en": "en-US", "zh-hans": "zh-CN"}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if not os.path.exists(CHROMIUM):
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser tests: apt-get install chromium")
    pytestmark.append(pytest.mark.skip(reason="Debian's chromium is not installed"))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page_for(browser, live_server):
    contexts = []

    def open_page(language: str):
        context = browser.new_context(locale=LOCALES[language], base_url=live_server.url)
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


def t(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_customer_submits_a_ticket_in_the_portal_and_sees_it(cast, page_for, language):
    page = page_for(language)
    sign_in(page, cast.alice.email)
    assert page.locator("html").get_attribute("lang") == language
    assert t(language, "My tickets") in page.content()

    page.get_by_test_id("new-ticket").click()
    title = f"凭证无法保存 / voucher cannot be saved ({language})"
    page.locator("[name=title]").fill(title)
    page.locator("[name=description]").fill("点击**保存**后报错：`GL-0042 period closed`")
    page.locator("[name=module]").select_option("gl")
    page.locator("[name=erp_instance]").select_option(str(cast.acme_erp.pk))
    page.locator("[name=urgency][value='1']").check()
    page.locator("[name=impact][value='2']").check()
    page.get_by_test_id("submit-ticket").click()

    ticket = Ticket.objects.get(title=title)
    assert page.get_by_test_id("ticket-number").inner_text().strip() == ticket.number
    assert page.get_by_test_id("ticket-status").inner_text().strip() == t(language, "New")
    assert page.locator("[data-testid=ticket-description] strong").inner_text() == "保存"
    assert (ticket.organization, ticket.requester, ticket.priority) == (cast.acme, cast.alice, 1)
    assert (ticket.module, ticket.erp_instance, ticket.channel) == ("gl", cast.acme_erp, "portal")

    page.goto("/portal/")
    row = page.locator(f"[data-testid=portal-row][data-ticket-number='{ticket.number}']")
    assert title in row.inner_text()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_agent_picks_up_replies_escalates_to_l2_and_resolves(cast, page_for, language):
    ticket = create_ticket(
        cast.alice,
        title="MRP运算锁表 / MRP run locks tables",
        description="MRP run stops with `ORA-00060: deadlock detected`.",
        impact=1,
        urgency=2,
        module="production",
        category="performance",
        erp_instance=cast.acme_erp,
    )
    page = page_for(language)
    sign_in(page, cast.lina.email)
    assert page.locator("html").get_attribute("lang") == language

    row = page.locator(f"[data-testid=queue-row][data-ticket-number='{ticket.number}']")
    row.get_by_test_id("ticket-link").click()
    assert page.get_by_test_id("ticket-number").inner_text().strip() == ticket.number

    page.get_by_test_id("assign-me").click()
    assert cast.lina.display_name in page.get_by_test_id("ticket-assignee").inner_text()

    reply = f"我们正在分析锁等待 / analysing the lock waits ({language})"
    page.get_by_test_id("reply-body").fill(reply)
    page.get_by_test_id("reply").click()
    assert reply in page.get_by_test_id("timeline").inner_text()

    page.locator("#escalate_tier").select_option("2")
    page.locator("#escalate_reason").fill("Needs a DBA: lock chain on MRP tables")
    page.get_by_test_id("escalate").click()
    assert "L2" in page.get_by_test_id("ticket-tier").inner_text()

    page.locator("#resolve_resolution_code").select_option("fixed")
    page.locator("#resolve_resolution").fill("Index added on MRP planning table; run takes 4 min.")
    page.get_by_test_id("resolve").click()
    assert page.get_by_test_id("ticket-status").inner_text().strip() == t(language, "Resolved")

    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert ticket.tier == 2
    assert ticket.team == cast.l2_platform
    assert ticket.first_response_at is not None
    assert ticket.resolution_code == "fixed"
    assert ticket.comments.filter(body=reply, is_internal=False, author=cast.lina).exists()
