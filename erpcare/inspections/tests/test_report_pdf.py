"""The inspection report as a PDF: printed by WeasyPrint from the page's own template, read
back with pypdf (text, Chinese included, and the link to the remedy's article), and never
fetching anything a document references."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from erpcare.conftest import PASSWORD, Cast
from erpcare.core.pdf import html_to_pdf
from erpcare.inspections.models import InstanceCheck
from erpcare.inspections.services.runs import run_checks
from erpcare.inspections.tests import helpers
from erpcare.kb import services as kb

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.email, password=PASSWORD)
    return client


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def pdf_links(data: bytes) -> list[str]:
    links = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A") or {}
            if "/URI" in action:
                links.append(str(action["/URI"]))
    return links


@pytest.fixture
def erp_file(tmp_path: Path) -> Path:
    return helpers.erp_sqlite(tmp_path / "erp.sqlite")


@pytest.fixture
def failing(cast: Cast, erp_file: Path) -> InstanceCheck:
    """One check that passed, then failed: a red report with one change and one finding."""
    assigned = helpers.assign(helpers.sqlite_source(cast.acme_erp, erp_file), helpers.check())
    run_checks([assigned])
    helpers.unbalance(erp_file)
    run_checks([assigned])
    return assigned


def test_the_pdf_is_the_report_in_the_readers_language(
    cast: Cast, failing: InstanceCheck, settings: Any
) -> None:
    settings.SITE_URL = "https://support.example.cn"
    article = kb.create_article(cast.mona, title="Correct an unbalanced entry", body="Steps.")
    failing.check_ref.kb_article = article
    failing.check_ref.save(update_fields=["kb_article"])
    cast.audra.language = "zh-hans"
    cast.audra.save(update_fields=["language"])
    client = signed_in(cast.audra)
    url = reverse("inspections:report_pdf", args=[cast.acme_erp.pk])
    response = client.get(url, {"start": "2026-01-01", "end": "2026-12-31"})
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="inspection-acme-sap-prd-20260101-20261231.pdf"'
    )
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    assert "巡检报告" in text  # the heading, translated
    assert "Acme 制造" in text  # the customer's own name, in CJK glyphs
    assert "Unbalanced journal entries" in text
    assert "Correct an unbalanced entry" in text
    assert "2026-01-01 – 2026-12-31" in text
    article_url = "https://support.example.cn" + reverse("kb_desk:article", args=[article.number])
    assert pdf_links(response.content) == [article_url]


def test_the_page_links_to_its_pdf(cast: Cast, failing: InstanceCheck) -> None:
    page = signed_in(cast.mona).get(
        reverse("inspections:report", args=[cast.acme_erp.pk]),
        {"start": "2026-11-01", "end": "2026-11-30"},
    )
    assert (
        reverse("inspections:report_pdf", args=[cast.acme_erp.pk])
        + "?start=2026-11-01&amp;end=2026-11-30"
    ) in page.content.decode()


def test_a_bad_period_gets_the_form_not_a_pdf(cast: Cast, failing: InstanceCheck) -> None:
    response = signed_in(cast.mona).get(
        reverse("inspections:report_pdf", args=[cast.acme_erp.pk]),
        {"start": "2026-12-01", "end": "2026-11-01"},
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "The period must start before it ends." in response.content.decode()


@pytest.mark.parametrize("who", ["alice", "lina"])
def test_customers_and_l1_agents_get_no_pdf(cast: Cast, failing: InstanceCheck, who: str) -> None:
    response = signed_in(getattr(cast, who)).get(
        reverse("inspections:report_pdf", args=[cast.acme_erp.pk])
    )
    assert response.status_code in (403, 404)
    assert not response.content.startswith(b"%PDF")


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    _Recorder.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_document_cannot_make_the_server_fetch_or_read_anything(
    recorder: str, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not print me")
    html = (
        f'<html><head><link rel="stylesheet" href="{recorder}/style.css"></head><body>'
        f'<p>visible</p><img src="{recorder}/pixel.png">'
        f'<object data="file://{secret}"></object>'
        f'<img src="file://{secret}"></body></html>'
    )
    text = pdf_text(html_to_pdf(html))
    assert "visible" in text
    assert "do not print me" not in text
    assert _Recorder.hits == []
    # The recorder does answer: the refusal above is ours, not a dead server.
    import urllib.request

    with urllib.request.urlopen(f"{recorder}/probe") as answer:
        assert answer.status == 200
    assert _Recorder.hits == ["/probe"]


def test_without_weasyprint_the_pdf_says_why_and_the_page_still_works(
    cast: Cast, failing: InstanceCheck, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "weasyprint", None)  # what a missing package looks like
    client = signed_in(cast.mona)
    response = client.get(reverse("inspections:report_pdf", args=[cast.acme_erp.pk]))
    assert response.status_code == 503
    assert "PDF output is not available on this server" in response.content.decode()
    assert 'data-testid="report-rating"' not in response.content.decode()
    page = client.get(reverse("inspections:report", args=[cast.acme_erp.pk]))
    assert page.status_code == 200
    assert 'data-testid="report-rating" data-rating="red"' in page.content.decode()


def test_the_report_shows_the_instances_backups_as_they_stand(
    cast: Cast, failing: InstanceCheck, tmp_path: Path
) -> None:
    from datetime import timedelta

    from erpcare.backups.models import BackupPlan, BackupPoint
    from erpcare.core import clock

    plan = BackupPlan.objects.create(
        erp_instance=cast.acme_erp, name="SAP nightly", kind="external",
        external_path=str(tmp_path / "*.bak"), rpo_hours=24, created_at=clock.now(),
    )  # fmt: skip
    BackupPoint.objects.create(
        plan=plan, status="ok", started_at=clock.now() - timedelta(hours=30),
        finished_at=clock.now(), size=10, sha256="0" * 64,
    )  # fmt: skip
    client = signed_in(cast.mona)
    page = client.get(reverse("inspections:report", args=[cast.acme_erp.pk])).content.decode()
    assert 'data-testid="report-backup" data-rating="red"' in page
    assert "RPO target is 24 h" in page
    pdf = client.get(reverse("inspections:report_pdf", args=[cast.acme_erp.pk])).content
    assert "SAP nightly" in pdf_text(pdf)
