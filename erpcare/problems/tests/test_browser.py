"""Problem management in a real Chromium: an engineer finds a recurring-incident cluster,
creates the problem from it, records the root cause, marks the known error and publishes
the analysis as a knowledge-base case."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from erpcare.problems.models import Problem
from erpcare.problems.tests.helpers import incident

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct horse 42"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

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


def test_from_recurring_incidents_to_a_knowledge_case(cast, browser, live_server):
    from playwright.sync_api import expect

    tickets = [
        incident(cast, title)
        for title in ("采购订单保存超时", "保存采购订单时报错超时", "采购订单无法保存 超时")
    ]
    incident(cast, "供应商主数据重复")  # not part of any cluster
    context = browser.new_context(locale="en-US", base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_test_id("login-email").fill(cast.eric.email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_load_state()

    page.goto("/desk/problems/recurring?days=7&min=3")
    expect(page.get_by_test_id("cluster")).to_have_count(1)
    expect(page.get_by_test_id("cluster-title")).to_have_text("采购订单保存超时")
    page.get_by_test_id("cluster-create").click()
    expect(page.locator("#p-title")).to_have_value("采购订单保存超时")
    page.get_by_test_id("problem-create").click()
    expect(page.get_by_test_id("problem-title")).to_contain_text("采购订单保存超时")
    for ticket in tickets:
        expect(page.get_by_test_id("problem-incidents")).to_contain_text(ticket.number)

    page.locator("input[name=why_question]").first.fill("为什么保存超时？")
    page.locator("input[name=why_answer]").first.fill("订单行表缺少索引。")
    page.locator("#fb-code").check()
    page.locator("#rca-root").fill("升级脚本删除了 order_id 索引。")
    page.get_by_test_id("rca-save").click()
    expect(page.get_by_test_id("problem-status")).to_have_text("Investigating")
    page.locator("#wf-workaround").fill("每次保存不超过 50 行。")
    page.get_by_test_id("known-error-form").get_by_role("button").click()
    expect(page.get_by_test_id("workaround")).to_contain_text("每次保存不超过 50 行。")
    page.get_by_test_id("publish").click()
    problem = Problem.objects.get()
    assert problem.article is not None
    expect(page.get_by_test_id("problem-article")).to_have_text(problem.article.number)
    assert (problem.status, problem.article.status) == ("known_error", "draft")
    context.close()
