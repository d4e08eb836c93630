"""The channel admin in a real Chromium against a live server: an administrator adds a
webhook on a loopback receiver, sends a test and reads the receiver's answer; a manager
adds a chat intake, and the page's own curl example (run by bash, openssl and curl) is
accepted by the intake endpoint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from erpcare.channels.models import ChatIntake, ChatMessage, DeliveryState, Destination

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct horse 42"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if not os.path.exists(CHROMIUM):
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser tests: apt-get install chromium")
    pytestmark.append(pytest.mark.skip(reason="Debian's chromium is not installed"))


class Receiver:
    """A webhook receiver on 127.0.0.1 that records what it gets and answers 200."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                owner.requests.append({"path": self.path, "headers": dict(self.headers),
                                       "body": body})  # fmt: skip
                answer = b'{"received": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


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


def snap(page, name: str) -> None:
    """A full-page screenshot when ERPCARE_SCREENSHOTS names a directory (for reviews)."""
    folder = os.environ.get("ERPCARE_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"channels-{name}.png"), full_page=True)


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_load_state()


def test_admin_adds_a_webhook_and_sends_a_test_the_receiver_answers(cast, page_for, receiver):
    pytest.importorskip("erpcare.channels.delivery")
    page = page_for()
    sign_in(page, cast.adam.email)
    page.get_by_test_id("nav-channels").click()
    page.get_by_test_id("channels-nav-destinations").click()
    page.get_by_test_id("destination-new").click()
    page.select_option("#destination_kind", "webhook")
    page.fill("#destination_name", "ERP 运维 webhook")
    page.fill("#destination_url", receiver.url("/hooks/erpcare?token=receiver-token-123"))
    page.fill("#destination_secret", "shared-signing-secret")
    page.select_option("#destination_language", "en")
    page.check("#destination_is_active")
    page.check("#destination_allow_private_network")
    page.get_by_test_id("destination-save").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("destination-title").inner_text().startswith("ERP 运维 webhook")
    html = page.content()
    assert "receiver-token-123" not in html
    assert "shared-signing-secret" not in html

    page.get_by_test_id("destination-send-test").click()
    page.wait_for_load_state()
    snap(page, "destination-test")
    result = page.get_by_test_id("test-result")
    assert result.get_attribute("data-state") == DeliveryState.SENT
    assert page.get_by_test_id("test-status-code").inner_text() == "200"
    assert "received" in page.get_by_test_id("test-response").inner_text()
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["path"] == "/hooks/erpcare?token=receiver-token-123"
    assert json.loads(request["body"])["event"] == "test"
    assert request["headers"]["X-ERPCare-Signature"].startswith("sha256=")
    destination = Destination.objects.get()
    assert destination.last_success_at is not None

    # The delivery log shows it, and its detail page does not leak the URL's token.
    page.get_by_test_id("channels-nav-deliveries").click()
    page.get_by_test_id("delivery-link").first.click()
    page.wait_for_load_state()
    snap(page, "delivery")
    assert page.get_by_test_id("delivery-state").inner_text() == "Sent"
    assert "receiver-token-123" not in page.content()
    assert page.get_by_test_id("attempt-row").count() == 1


def test_manager_adds_a_chat_intake_and_its_curl_example_is_accepted(
    cast, page_for, live_server, settings
):
    pytest.importorskip("erpcare.channels.chat.intake")
    if not (shutil.which("curl") and shutil.which("openssl")):
        pytest.skip("curl and openssl are needed to run the page's example")
    settings.SITE_URL = live_server.url
    page = page_for()
    sign_in(page, cast.mona.email)
    page.goto("/desk/channels/")
    page.get_by_test_id("channels-nav-chat").click()
    page.get_by_test_id("chat-intake-new").click()
    page.fill("#intake_slug", "finance-group")
    page.fill("#intake_name", "财务群机器人")
    page.select_option("#intake_organization", str(cast.acme.pk))
    page.get_by_test_id("chat-intake-save").click()
    page.wait_for_load_state()
    snap(page, "chat-secret")
    secret = page.get_by_test_id("chat-secret").inner_text().strip()
    assert secret == ChatIntake.objects.get().secret
    script = page.get_by_test_id("chat-curl").inner_text()
    assert f"{live_server.url}/api/v1/intake/chat/finance-group" in script

    done = subprocess.run(
        ["bash", "-c", script + " -w '\\n%{http_code}'"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    status = done.stdout.strip().splitlines()[-1]
    assert status in {"201", "202"}, (done.stdout, done.stderr)
    message = ChatMessage.objects.get()
    assert message.external_id == "msg-0001"
    assert message.sender == "zhang.san@customer.example"

    # The secret is gone once the page is left; the message is listed with its state.
    page.get_by_test_id("secret-done").click()
    page.wait_for_load_state()
    assert secret not in page.content()
    assert page.get_by_test_id("chat-message-row").count() == 1
    page.goto("/desk/channels/rules/new")
    snap(page, "rule-form")
    page.goto("/desk/channels/")
    snap(page, "overview")
    page.goto(f"/desk/channels/chat/{ChatIntake.objects.get().pk}/")

    page.get_by_test_id("chat-intake-deactivate").click()
    page.wait_for_load_state()
    assert not ChatIntake.objects.get().is_active
    again = subprocess.run(
        ["bash", "-c", script.replace("msg-0001", "msg-0002") + " -w '\\n%{http_code}'"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.stdout.strip().splitlines()[-1] == "404"
