"""Uploading, listing and downloading files through /api/v1/tickets/{ref}/attachments."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from erpcare.audit.models import AuditEntry
from erpcare.tickets import services
from erpcare.tickets.models import Attachment

pytestmark = pytest.mark.django_db


def client_for(cast, user):
    return Client(headers={"Authorization": f"Bearer {cast.token(user)}"})


def assert_error(response, status, match=""):
    assert response.status_code == status, response.content
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert re.search(match, detail), detail


def state():
    return (Attachment.objects.count(), AuditEntry.objects.exclude(action="token.created").count())


@pytest.fixture
def ticket(cast):
    return services.create_ticket(cast.alice, title="Excel upload fails")


def files_url(ticket):
    return f"/api/v1/tickets/{ticket.number}/attachments"


def upload(client, ticket, name="data.csv", content=b"a,b\n1,2\n", content_type="text/csv", **data):
    return client.post(
        files_url(ticket), {"file": SimpleUploadedFile(name, content, content_type), **data}
    )


def test_upload_list_and_download_a_file(cast, ticket):
    client = client_for(cast, cast.alice)
    response = upload(client, ticket)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["filename"] == "data.csv"
    assert body["size"] == 8
    assert body["sha256"] == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert body["content_type"] == "text/csv"
    assert body["internal"] is False
    assert [f["id"] for f in client.get(files_url(ticket)).json()] == [body["id"]]
    download = client.get(f"{files_url(ticket)}/{body['id']}/download")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"a,b\n1,2\n"
    assert download["Content-Disposition"].startswith("attachment")
    assert 'filename="data.csv"' in download["Content-Disposition"]


def test_staff_internal_file_is_hidden_from_customers(cast, ticket):
    staff = client_for(cast, cast.lina)
    internal = upload(staff, ticket, name="trace.txt", content_type="text/plain", internal="true")
    assert internal.json()["internal"] is True
    customer = client_for(cast, cast.alice)
    assert customer.get(files_url(ticket)).json() == []
    url = f"{files_url(ticket)}/{internal.json()['id']}/download"
    assert_error(customer.get(url), 404, "Attachment not found")
    assert staff.get(url).status_code == 200


def test_customer_cannot_upload_internal_files(cast, ticket):
    before = state()
    response = upload(client_for(cast, cast.alice), ticket, internal="true")
    assert_error(response, 403, "Customers cannot add internal files")
    assert state() == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "The file is empty"),
        ("tool.exe", b"MZ", "Files of type .* are not accepted"),
        ("page.html", b"<script>", "Files of type text/html are not accepted"),
    ],
)
def test_bad_files_are_refused(cast, ticket, name, content, message):
    before = state()
    response = upload(client_for(cast, cast.alice), ticket, name=name, content=content)
    assert_error(response, 400, message)
    assert state() == before


def test_file_over_the_attachment_limit_is_refused(cast, ticket, settings):
    settings.ERPCARE_MAX_ATTACHMENT_BYTES = 2048
    before = state()
    response = upload(client_for(cast, cast.alice), ticket, content=b"x" * 2049)
    assert_error(response, 400, "too large")
    assert state() == before


def test_upload_body_over_the_limit_gets_413(cast, ticket, settings):
    settings.ERPCARE_MAX_ATTACHMENT_BYTES = 1024
    before = state()
    response = upload(client_for(cast, cast.alice), ticket, content=b"x" * (70 * 1024))
    assert_error(response, 413, "too large")
    assert state() == before


def test_upload_without_a_file_is_422(cast, ticket):
    response = client_for(cast, cast.alice).post(files_url(ticket), {"other": "x"})
    assert_error(response, 422, "file")


def test_upload_to_a_closed_ticket_is_a_conflict(cast, ticket):
    services.transition_ticket(
        cast.lina, ticket, to="resolved", resolution_code="answered", resolution="ok"
    )
    services.transition_ticket(cast.alice, ticket, to="closed")
    assert_error(upload(client_for(cast, cast.alice), ticket), 409, "closed")


def test_auditor_cannot_upload(cast, ticket):
    assert_error(upload(client_for(cast, cast.audra), ticket), 403, "read-only")


def test_unknown_attachment_or_ticket_is_404(cast, ticket):
    client = client_for(cast, cast.lina)
    assert_error(client.get(f"{files_url(ticket)}/424242/download"), 404, "Attachment not found")
    assert_error(client.get("/api/v1/tickets/INC-2026-424242/attachments"), 404, "Ticket not found")


def test_attachment_of_another_ticket_is_not_served_under_this_one(cast, ticket):
    other = services.create_ticket(cast.alice, title="other")
    attachment = services.add_attachment(
        cast.alice, other, SimpleUploadedFile("x.txt", b"x", "text/plain")
    )
    url = f"{files_url(ticket)}/{attachment.pk}/download"
    assert_error(client_for(cast, cast.alice).get(url), 404, "Attachment not found")
