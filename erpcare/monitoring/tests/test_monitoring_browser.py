"""The monitoring admin in a real Chromium against a live server: a manager creates an
Alertmanager integration, the page's own curl example (run by bash and curl) is accepted by
the alert endpoint, the pipeline turns it into an incident, and the incident's desk page
lists the alert and picks up a repeat by itself (htmx polling)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator

import pytest
from django.urls import reverse

from erpcare.monitoring.admin_services import SOURCES_DIR as SOURCES
from erpcare.monitoring.models import Alert, Integration

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
        page.screenshot(path=os.path.join(folder, f"monitoring-{name}.png"), full_page=True)


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_load_state()


def test_manager_connects_alertmanager_and_watches_the_incident_s_alerts(
    cast, page_for, live_server, settings
):
    pipeline = pytest.importorskip("erpcare.monitoring.pipeline")
    if not shutil.which("curl"):
        pytest.skip("curl is needed to run the page's example")
    from playwright.sync_api import expect

    settings.SITE_URL = live_server.url
    page = page_for()
    sign_in(page, cast.mona.email)
    page.get_by_test_id("nav-monitoring").click()
    page.get_by_test_id("integration-new").click()
    page.fill("#integration_name", "Prometheus 生产")
    page.select_option("#integration_source", "alertmanager")
    page.select_option("#integration_auth_mode", "bearer")
    page.select_option("#integration_organization", str(cast.acme.pk))
    page.select_option("#integration_erp_instance", str(cast.acme_erp.pk))
    page.get_by_test_id("integration-save").click()
    page.wait_for_load_state()
    snap(page, "secret")
    integration = Integration.objects.get()
    secret = page.get_by_test_id("integration-secret").inner_text().strip()
    endpoint = page.get_by_test_id("integration-endpoint").inner_text().strip()
    assert secret == integration.secret
    assert endpoint == f"{live_server.url}/api/v1/alerts/alertmanager/{integration.key}"
    assert f'credentials: "{secret}"' in page.get_by_test_id("snippet-alertmanager").inner_text()

    # The page's curl example is what an operator runs first: it must be accepted.
    script = page.get_by_test_id("snippet-curl").inner_text()
    done = subprocess.run(
        ["bash", "-c", script + " -w '\\n%{http_code}'"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip().splitlines()[-1] == "202", (done.stdout, done.stderr)
    pipeline.process_pending()
    alert = Alert.objects.get()
    assert alert.incident is not None

    # Leaving the one-time page: the secret is not shown again.
    page.get_by_test_id("secret-done").click()
    page.wait_for_load_state()
    assert secret not in page.content()
    assert page.get_by_test_id("payload-row").count() == 1

    page.goto(reverse("desk:ticket", args=[alert.incident.number]))
    panel = page.get_by_test_id("alerts-panel-body")
    expect(panel.get_by_test_id("alert-name")).to_have_text(alert.name)
    expect(panel.get_by_test_id("alert-count")).to_have_text("×1")
    snap(page, "incident")

    # The same alert fires again (a new evaluation, so a new body): the open page shows
    # the new count by itself within its 15 s poll.
    fixture = SOURCES / "alertmanager" / "fixtures" / "firing.json"
    again = json.loads(fixture.read_text(encoding="utf-8"))
    again["receiver"] = again.get("receiver", "erpcare") + "-again"
    request = urllib.request.Request(
        endpoint,
        data=json.dumps(again).encode(),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 202
    pipeline.process_pending()
    assert Alert.objects.get().count == 2
    expect(panel.get_by_test_id("alert-count")).to_have_text("×2", timeout=25_000)
