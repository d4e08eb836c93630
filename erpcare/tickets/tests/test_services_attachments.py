"""Files on tickets: size and type limits, storage through Django's storage API, digests."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from erpcare.audit.models import AuditEntry
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.tickets import services
from erpcare.tickets.models import Attachment, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

WATCHED = (Ticket, TicketEvent, Attachment, AuditEntry)


def db_state():
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in WATCHED}


def stored_files(settings):
    root = settings.MEDIA_ROOT
    return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []


@contextmanager
def refused(error, match, settings):
    before, files = db_state(), stored_files(settings)
    with pytest.raises(error, match=match):
        yield
    assert db_state() == before
    assert stored_files(settings) == files


@pytest.fixture
def ticket(cast):
    return services.create_ticket(cast.alice, title="Report layout broken")


def upload(name="error.txt", content=b"ORA-00060: deadlock detected", content_type="text/plain"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_file_is_stored_with_its_size_type_and_sha256(cast, ticket):
    content = "导出失败\n".encode() * 100
    attachment = services.add_attachment(cast.alice, ticket, upload("日志.txt", content))
    assert attachment.filename == "日志.txt"
    assert attachment.size == len(content)
    assert attachment.content_type == "text/plain"
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert attachment.uploaded_by == cast.alice
    assert not attachment.is_internal
    with attachment.file.open("rb") as stored:
        assert stored.read() == content
    # The stored name is derived from the digest, never from the user's file name.
    assert attachment.sha256 in attachment.file.name
    assert "日志" not in attachment.file.name


def test_file_goes_through_the_configured_storage(cast, ticket, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    attachment = services.add_attachment(cast.lina, ticket, upload(content=b"in memory"))
    assert default_storage.exists(attachment.file.name)
    with default_storage.open(attachment.file.name) as stored:
        assert stored.read() == b"in memory"
    assert stored_files(settings) == []


def test_attaching_writes_an_event_and_an_audit_row(cast, ticket):
    attachment = services.add_attachment(cast.lina, ticket, upload(), internal=True)
    event = TicketEvent.objects.get(ticket=ticket, kind="attached")
    assert (event.new_value, event.is_internal, event.actor) == ("error.txt", True, cast.lina)
    audit = AuditEntry.objects.get(action="ticket.attached")
    assert audit.data == {
        "number": ticket.number,
        "filename": "error.txt",
        "size": attachment.size,
        "sha256": attachment.sha256,
    }


def test_path_components_of_the_client_file_name_are_dropped(cast, ticket):
    attachment = services.add_attachment(cast.alice, ticket, upload("C:\\Users\\alice\\a.txt"))
    assert attachment.filename == "a.txt"


def test_file_over_the_size_limit_is_refused(cast, ticket, settings):
    settings.ERPCARE_MAX_ATTACHMENT_BYTES = 1024
    services.add_attachment(cast.alice, ticket, upload(content=b"x" * 1024))
    with refused(ActionError, "too large", settings):
        services.add_attachment(cast.alice, ticket, upload(content=b"x" * 1025))


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("setup.exe", "application/octet-stream"), ("macro.html", "text/html"), ("x.svg", "")],
)
def test_file_of_a_type_not_on_the_list_is_refused(cast, ticket, settings, name, content_type):
    with refused(ActionError, "Files of type .* are not accepted", settings):
        services.add_attachment(cast.alice, ticket, upload(name, b"MZ..", content_type))


def test_type_is_taken_from_the_name_before_the_clients_claim(cast, ticket, settings):
    # The client claims text/plain; the name says it is a Windows program.
    with refused(ActionError, "Files of type application/.* are not accepted", settings):
        services.add_attachment(cast.alice, ticket, upload("run.exe", b"MZ", "text/plain"))


def test_empty_file_is_refused(cast, ticket, settings):
    with refused(ActionError, "The file is empty", settings):
        services.add_attachment(cast.alice, ticket, upload(content=b""))


def test_file_without_a_name_is_refused(cast, ticket, settings):
    with refused(ActionError, "The file has no name", settings):
        services.add_attachment(cast.alice, ticket, upload(name="C:\\Users\\"))


def test_customer_cannot_add_internal_files(cast, ticket, settings):
    with refused(NotAllowed, "Customers cannot add internal files", settings):
        services.add_attachment(cast.alice, ticket, upload(), internal=True)


def test_auditor_cannot_attach_files(cast, ticket, settings):
    with refused(NotAllowed, "read-only", settings):
        services.add_attachment(cast.audra, ticket, upload())


def test_closed_ticket_refuses_files(cast, ticket, settings):
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)
    with refused(Conflict, "closed ticket cannot be changed", settings):
        services.add_attachment(cast.alice, ticket, upload())


def test_customer_cannot_attach_to_another_customers_ticket(cast, ticket, settings):
    with refused(NotFound, "Ticket not found", settings):
        services.add_attachment(cast.bob, ticket, upload())


def test_file_can_belong_to_a_comment_of_the_same_ticket_only(cast, ticket, settings):
    reply = services.add_comment(cast.alice, ticket, body="see attached")
    attachment = services.add_attachment(cast.alice, ticket, upload(), comment=reply)
    assert attachment.comment == reply
    other = services.create_ticket(cast.alice, title="other")
    with refused(ActionError, "comment belongs to another ticket", settings):
        services.add_attachment(cast.alice, other, upload(), comment=reply)
