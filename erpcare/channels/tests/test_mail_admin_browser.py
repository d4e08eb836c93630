"""The e-mail channel admin in a real Chromium: a manager sets up a mailbox (the password
never comes back into the page), adds a customer mail domain, opens a failed message and
downloads its .eml, and previews an edited e-mail template."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator

import pytest
from django.core.files.base import ContentFile

from erpcare.audit.models import AuditEntry
from erpcare.channels.models import CustomerMailDomain, EmailTemplate, InboundEmail, Mailbox
from erpcare.core import clock

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct horse 42"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if not os.path.exists(CHROMIUM):
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser tests: apt-get install chromium")
    pytestmark.append(pytest.mark.skip(reason="Debian's chromium is not installed"))

RAW = (
    b"From: zhang@acme.example\r\nTo: support@erpcare.example\r\n"
    b"Subject: Voucher posting fails\r\nMessage-ID: <v.1@acme.example>\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nF5 702 when posting.\r\n"
)


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
def page(browser, live_server):
    context = browser.new_context(locale="en-US", base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_load_state()


def test_manager_sets_up_mail_and_reads_a_failed_message(cast, page, tmp_path):
    failed = InboundEmail(
        folder="INBOX", message_id="<v.1@acme.example>", sha256=hashlib.sha256(RAW).hexdigest(),
        size=len(RAW), from_address="zhang@acme.example", subject="Voucher posting fails",
        state="failed", error="ValueError: broken MIME boundary", received_at=clock.now(),
    )  # fmt: skip
    failed.raw.save("v1.eml", ContentFile(RAW), save=False)
    failed.save()
    ignored = InboundEmail.objects.create(
        folder="INBOX", sha256="0" * 64, from_address="noreply@acme.example",
        subject="Out of office", state="ignored", reason="auto_reply", received_at=clock.now(),
    )  # fmt: skip

    sign_in(page, cast.mona.email)
    page.goto("/desk/channels/mail/")
    page.get_by_test_id("mailbox-new").click()
    page.locator("#mailbox_name").fill("Acme support")
    page.locator("#mailbox_email").fill("acme@erpcare.example")
    page.locator("#mailbox_imap_host").fill("imap.erpcare.example")
    page.locator("#mailbox_imap_username").fill("acme")
    page.locator("#mailbox_imap_password").fill("s3cret-imap-7788")
    page.locator("#mailbox_folders").fill("INBOX, Support")
    page.locator("#mailbox_organization").select_option(label="Acme 制造")
    page.get_by_test_id("mailbox-save").click()
    page.get_by_test_id("mailbox-title").wait_for()
    assert page.get_by_test_id("mailbox-title").inner_text().strip() == "acme@erpcare.example"
    assert page.locator("#mailbox_imap_password").input_value() == ""
    assert "s3cret-imap-7788" not in page.content()
    assert page.get_by_test_id("imap-password-hint").inner_text().strip() == "Saved: ••••••••7788"
    mailbox = Mailbox.objects.get()
    assert mailbox.folders == ["INBOX", "Support"]

    # Saving again without typing the password keeps it.
    page.locator("#mailbox_name").fill("Acme support desk")
    page.get_by_test_id("mailbox-save").click()
    page.get_by_test_id("mailbox-title").wait_for()
    mailbox.refresh_from_db()
    assert (mailbox.name, mailbox.imap_password) == ("Acme support desk", "s3cret-imap-7788")

    # A domain: a bad one is a form error, a good one is listed.
    page.get_by_test_id("channels-nav-domains").click()
    page.locator("#domain_organization").select_option(label="Acme 制造")
    page.locator("#domain_domain").fill("zhang@acme.example")
    page.get_by_test_id("domain-add").click()
    assert "without “@”" in page.get_by_test_id("field-error-domain").inner_text()
    page.locator("#domain_domain").fill("ACME.example")
    page.get_by_test_id("domain-add").click()
    page.locator("[data-testid=domain-row][data-domain='acme.example']").wait_for()
    assert CustomerMailDomain.objects.get().organization == cast.acme

    # The failed message: filtered list, detail with the error, .eml download.
    page.get_by_test_id("channels-nav-messages").click()
    ignored_row = page.locator(f"[data-testid=message-row][data-message-id='{ignored.pk}']")
    ignored_row.wait_for()
    page.locator("#filter_state").select_option("failed")
    ignored_row.wait_for(state="detached")
    page.locator(f"[data-testid=message-row][data-message-id='{failed.pk}']").wait_for()
    assert "state=failed" in page.url  # htmx pushed the filter into the address
    page.get_by_test_id("message-link").click()
    assert "broken MIME boundary" in page.get_by_test_id("message-error").inner_text()
    assert "F5 702 when posting." in page.get_by_test_id("message-text").inner_text()
    with page.expect_download() as download_info:
        page.get_by_test_id("message-download").click()
    download = download_info.value
    assert download.suggested_filename == f"message-{failed.pk}.eml"
    target = tmp_path / "saved.eml"
    download.save_as(target)
    assert target.read_bytes() == RAW
    assert AuditEntry.objects.filter(action="channels.inbound_email.downloaded").count() == 1

    # A template: preview the edit, then save it.
    page.get_by_test_id("channels-nav-templates").click()
    page.locator("[data-testid=template-row][data-key='reply'] [data-language='en']").click()
    page.locator("#template_subject").fill("[{ticket_number}] New reply on {ticket_title}")
    page.get_by_test_id("template-preview").click()
    subject = page.get_by_test_id("preview-subject")
    subject.wait_for()
    assert subject.inner_text().strip() == (
        "[INC-2026-000123] New reply on Month-end closing fails in the general ledger"
    )
    assert not EmailTemplate.objects.exists()
    page.get_by_test_id("template-save").click()
    page.locator("[data-testid=template-state][data-state=edited]").wait_for()
    assert EmailTemplate.objects.get().subject == "[{ticket_number}] New reply on {ticket_title}"
