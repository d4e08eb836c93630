"""The knowledge base in a real Chromium.

1. A customer types a ticket title, sees a suggested article, opens it and clicks "This
   solved my problem": a deflection is recorded and no ticket is created.
2. An agent opens a ticket, sees suggested articles, links one and inserts its link into
   the reply.
3. A manager publishes a draft and reads the diff between its versions.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from erpcare.kb import services
from erpcare.kb.models import Article, ArticleTicketLink, EventKind, KbEvent
from erpcare.tickets.models import Ticket
from erpcare.tickets.services import create_ticket

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


@pytest.fixture
def context_for(browser, live_server):
    contexts = []

    def open_context():
        context = browser.new_context(locale="en-US", base_url=live_server.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_load_state()


def voucher_article(cast) -> Article:
    article = services.create_article(
        cast.lina,
        title="凭证无法保存：会计期间已关闭",
        type="case",
        symptom="保存凭证时提示 `GL-0042 period closed`。",
        cause="凭证日期所在的会计期间已关闭。",
        resolution="1. 打开 **总账 → 会计期间**\n2. 重新打开该期间\n3. 再次保存凭证",
        module="gl",
        visibility="public",
    )
    return services.publish(cast.mona, article)


def test_customer_finds_the_answer_while_typing_and_needs_no_ticket(cast, context_for):
    article = voucher_article(cast)
    context = context_for()
    page = context.new_page()
    sign_in(page, cast.alice.email)
    page.get_by_test_id("nav-portal-new").click()

    page.locator("#id_title").press_sequentially("凭证无法保存", delay=30)
    suggestion = page.locator(
        f"[data-testid=kb-suggestion][data-article-number='{article.number}']"
    )
    suggestion.wait_for()

    # The article opens in a new tab; the draft ticket stays in this one.
    with context.expect_page() as opened:
        suggestion.get_by_test_id("kb-suggestion-link").click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.get_by_test_id("kb-title").inner_text().strip() == article.title
    assert "打开" in tab.get_by_test_id("kb-resolution").inner_text()
    assert page.locator("#id_title").input_value() == "凭证无法保存"

    tab.get_by_test_id("kb-solved").click()
    tab.wait_for_load_state()
    assert tab.url.endswith("/portal/")
    assert "No ticket was needed" in tab.get_by_test_id("messages").inner_text()

    event = KbEvent.objects.get(kind=EventKind.DEFLECTION)
    assert (event.article_id, event.user_id, event.query) == (
        article.pk, cast.alice.pk, "凭证无法保存",
    )  # fmt: skip
    assert Article.objects.get(pk=article.pk).deflection_count == 1
    assert not Ticket.objects.exists()


def test_agent_links_a_suggested_article_and_inserts_its_link(cast, context_for):
    article = voucher_article(cast)
    ticket = create_ticket(
        cast.alice,
        title="凭证无法保存",
        description="保存时提示 GL-0042 period closed，会计期间已关闭？",
        module="gl",
    )
    page = context_for().new_page()
    sign_in(page, cast.lina.email)
    page.goto(f"/desk/tickets/{ticket.number}/")

    suggested = page.locator(
        f"[data-testid=kb-suggested-article][data-article-number='{article.number}']"
    )
    suggested.wait_for()
    suggested.get_by_test_id("kb-link-solved").click()
    linked = page.locator(
        f"[data-testid=kb-linked-article][data-article-number='{article.number}']"
    )
    linked.wait_for()
    assert "linked" in page.get_by_test_id("kb-panel-message").inner_text()
    assert ArticleTicketLink.objects.filter(
        article=article, ticket=ticket, kind="solved_with"
    ).exists()

    page.get_by_test_id("reply-body").fill("您好，请按以下文章操作：")
    linked.get_by_test_id("kb-insert-link").click()
    reply = page.get_by_test_id("reply-body").input_value()
    assert reply.startswith("您好，请按以下文章操作：\n\n")
    assert f"[{article.number} {article.title}](http" in reply
    assert reply.rstrip().endswith(f"/portal/kb/articles/{article.number}/)")

    page.get_by_test_id("reply").click()
    page.wait_for_load_state()
    link = page.get_by_test_id("timeline").locator(
        f"a[href$='/portal/kb/articles/{article.number}/']"
    )
    assert link.count() == 1


def test_manager_publishes_a_draft_and_reads_the_diff(cast, context_for):
    draft = services.create_article(
        cast.lina,
        title="月结前检查清单",
        body="1. 检查未过账凭证\n2. 检查折旧",
        module="gl",
        visibility="public",
    )
    services.update_article(
        cast.lina,
        draft,
        body="1. 检查未过账凭证\n2. 计提折旧\n3. 结转损益",
        note="补充结转步骤",
    )
    page = context_for().new_page()
    sign_in(page, cast.mona.email)
    page.get_by_test_id("nav-kb").click()
    page.locator(f"[data-testid=kb-row][data-article-number='{draft.number}']").get_by_test_id(
        "kb-article-link"
    ).click()
    assert page.get_by_test_id("kb-article-status").inner_text().strip() == "Draft"

    page.get_by_test_id("kb-publish").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("kb-article-status").inner_text().strip() == "Published"
    assert Article.objects.get(pk=draft.pk).status == "published"

    page.get_by_test_id("kb-history").click()
    assert page.get_by_test_id("kb-version").count() == 2
    page.get_by_test_id("kb-diff-from-1").check()
    page.get_by_test_id("kb-diff-to-2").check()
    page.get_by_test_id("kb-compare").click()
    page.wait_for_load_state()
    body = page.locator("[data-testid=kb-diff-field][data-field=body]")
    added = body.locator("[data-testid=kb-diff-line][data-op='+']").all_inner_texts()
    removed = body.locator("[data-testid=kb-diff-line][data-op='-']").all_inner_texts()
    assert any("计提折旧" in line for line in added)
    assert any("结转损益" in line for line in added)
    assert any("检查折旧" in line for line in removed)
    assert "补充结转步骤" in page.get_by_test_id("kb-versions").inner_text()
