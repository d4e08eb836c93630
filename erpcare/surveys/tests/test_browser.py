"""The survey journey in a real Chromium: the customer opens the "2" link of the CSAT
mail without signing in, sees 2 chosen, adds a comment, sends, is offered to reopen the
ticket, reopens it; the team lead has a notification and the ticket is open again."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from erpcare.accounts.services import add_team_member
from erpcare.channels.models import Delivery, Notification
from erpcare.surveys.models import Response
from erpcare.surveys.services import invite_csat
from erpcare.surveys.tests.conftest import new_ticket
from erpcare.tickets.models import Status, Ticket
from erpcare.tickets.services import transition_ticket

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


def test_customer_rates_2_from_the_mail_comments_and_reopens(
    cast: Any, browser: Any, live_server: Any, settings: Any
) -> None:
    settings.ERPCARE_SITE_URL = settings.SITE_URL = live_server.url
    add_team_member(team=cast.l1_desk, user=cast.lina, is_lead=True)
    ticket = new_ticket(cast)
    with transaction.atomic():
        transition_ticket(
            cast.lina, ticket, to=Status.RESOLVED, resolution_code="configuration",
            resolution="Reopened accounting period 11.",
        )  # fmt: skip
    # The receiver ran after that commit; calling it again must not invite twice.
    assert invite_csat(ticket.pk) is None
    delivery = Delivery.objects.get(recipient=cast.alice, payload__has_key="subject")
    line = next(t for t in delivery.payload["text"].splitlines() if t.startswith("🙁 2"))
    link = re.search(r"https?://\S+", line).group(0)
    assert link.startswith(live_server.url)

    context = browser.new_context(locale="en-US")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto(link)
        page.get_by_test_id("survey-answer").wait_for()
        assert page.get_by_test_id("survey-score-2").is_checked()
        assert not page.get_by_test_id("survey-score-5").is_checked()
        assert Response.objects.count() == 0  # opening the link recorded nothing
        page.get_by_label("Comment (optional)").fill("凭证还是无法过账")
        page.get_by_test_id("survey-submit").click()
        page.get_by_test_id("survey-thanks").wait_for()
        response = Response.objects.get()
        assert (response.score, response.comment, response.channel) == (
            2,
            "凭证还是无法过账",
            "mail",
        )
        page.get_by_test_id("survey-reopen-offer").wait_for()
        page.get_by_label("What is still not working?").fill("Posting still fails for GL-0042.")
        page.get_by_test_id("survey-reopen").click()
        page.get_by_test_id("survey-reopened").wait_for()
        assert ticket.number in page.get_by_test_id("survey-reopened").inner_text()
        # The link is used up: opening it again says so.
        answer_again = page.goto(link)
        assert answer_again is not None
        assert answer_again.status == 409
        assert "already been answered" in page.get_by_test_id("survey-refused").inner_text()
    finally:
        context.close()

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.status == Status.OPEN
    assert ticket.reopen_count == 1
    note = Notification.objects.get(recipient=cast.lina, ticket=ticket, title__contains="2/5")
    assert "凭证还是无法过账" in note.body
