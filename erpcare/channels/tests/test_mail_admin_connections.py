"""The mailbox page's buttons against real servers on loopback: "Test IMAP" and
"Fetch now" against Dovecot, "Test SMTP" against aiosmtpd; and the incoming-mail page's
"Re-process" and "Release into customer" through the intake."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from erpcare.audit.models import AuditEntry
from erpcare.channels.email.inbound.intake import store_raw
from erpcare.channels.models import CustomerMailDomain, InboundEmail, IntakeState, Mailbox
from erpcare.channels.tests.imap_server import ImapServer, dovecot_available, start_dovecot
from erpcare.channels.tests.smtp_server import SmtpServer
from erpcare.core import clock

pytestmark = pytest.mark.django_db

BASE = "/desk/channels/mail"

RAW = (
    "From: 张三 <zhang@acme.example>\r\n"
    "To: support@erpcare.example\r\n"
    "Subject: 凭证无法过账\r\n"
    "Message-ID: <voucher.1@acme.example>\r\n"
    "Date: Mon, 23 Nov 2026 10:00:00 +0800\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "凭证过账时报错 F5 702，请帮忙看看。\r\n"
).encode()


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="module")
def dovecot() -> Iterator[ImapServer]:
    if not dovecot_available():
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    server = start_dovecot()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def imap_mailbox(server: ImapServer, **fields: Any) -> Mailbox:
    values: dict[str, Any] = {
        "name": "Support",
        "email": "support@erpcare.example",
        "imap_host": server.host,
        "imap_port": server.port,
        "imap_security": "none",
        "imap_username": "support",
        "imap_password": server.password,
        "folders": ["INBOX"],
        "created_at": clock.now(),
    }
    values.update(fields)
    return Mailbox.objects.create(**values)


def flash(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_test_imap_signs_in_and_lists_folders(cast, dovecot):
    mailbox = imap_mailbox(dovecot)
    response = signed_in(cast.mona).post(BASE + f"/mailboxes/{mailbox.pk}/test-imap", follow=True)
    assert response.status_code == 200
    [message] = flash(response)
    assert message.startswith("IMAP sign-in works: Signed in to 127.0.0.1. Folders:")
    assert "INBOX" in message


def test_test_imap_with_a_wrong_password_shows_the_servers_refusal(cast, dovecot):
    mailbox = imap_mailbox(dovecot, imap_password="wrong password")
    response = signed_in(cast.mona).post(BASE + f"/mailboxes/{mailbox.pk}/test-imap", follow=True)
    assert response.status_code == 200
    [message] = flash(response)
    assert "The IMAP server refused the sign-in" in message
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_fetch_now_takes_new_mail_in_and_the_list_shows_it(cast, dovecot):
    dovecot.append(RAW)
    CustomerMailDomain.objects.create(organization=cast.acme, domain="acme.example")
    mailbox = imap_mailbox(dovecot)
    client = signed_in(cast.adam)
    response = client.post(BASE + f"/mailboxes/{mailbox.pk}/fetch", follow=True)
    [message] = flash(response)
    assert message.startswith("Mail fetched (")
    assert "processed: 1" in message
    stored = InboundEmail.objects.get(message_id="<voucher.1@acme.example>")
    assert stored.state == IntakeState.PROCESSED
    assert stored.ticket is not None
    assert stored.ticket.organization == cast.acme
    mailbox.refresh_from_db()
    assert mailbox.last_fetch_at is not None
    assert AuditEntry.objects.get(action="channels.mailbox.fetched").data["processed"] == 1
    listing = client.get(BASE + "/messages/?state=processed").content.decode()
    assert stored.ticket.number in listing


def test_fetch_from_an_unreachable_server_is_a_message_and_records_the_error(cast, dovecot):
    mailbox = imap_mailbox(dovecot, imap_port=1)  # nothing listens on port 1
    response = signed_in(cast.mona).post(BASE + f"/mailboxes/{mailbox.pk}/fetch", follow=True)
    assert response.status_code == 200
    [message] = flash(response)
    assert message.startswith("Cannot connect to 127.0.0.1:1")
    mailbox.refresh_from_db()
    assert mailbox.last_error.startswith("Cannot connect to 127.0.0.1:1")
    assert not AuditEntry.objects.filter(action="channels.mailbox.fetched").exists()
    page = signed_in(cast.mona).get(BASE + "/mailboxes/").content.decode()
    assert "Cannot connect to 127.0.0.1:1" in page


def test_test_smtp_sends_a_mail_to_the_admin_through_the_mailboxs_server(cast, smtp):
    mailbox = Mailbox.objects.create(
        name="Support", email="support@erpcare.example", imap_host="imap.invalid",
        imap_username="x", imap_password="x", smtp_host="127.0.0.1",
        smtp_port=smtp.port, smtp_security="none", created_at=clock.now(),
    )  # fmt: skip
    response = signed_in(cast.mona).post(BASE + f"/mailboxes/{mailbox.pk}/test-smtp", follow=True)
    [message] = flash(response)
    assert "accepted the test message to mona@erpcare.example" in message
    [received] = smtp.messages
    assert received.rcpt_tos == ["mona@erpcare.example"]
    assert "support@erpcare.example" in received.message["From"]

    smtp.refuse_next(1, "550 5.7.1 Relaying denied")
    response = signed_in(cast.mona).post(BASE + f"/mailboxes/{mailbox.pk}/test-smtp", follow=True)
    [message] = flash(response)
    assert "did not accept the test message" in message
    assert "Relaying denied" in message
    assert len(smtp.messages) == 1


def test_release_a_held_message_into_a_customer_makes_a_ticket(cast):
    mailbox = Mailbox.objects.create(
        name="Support", email="support@erpcare.example", imap_host="imap.invalid",
        imap_username="x", imap_password="x", unknown_sender_policy="hold",
        created_at=clock.now(),
    )  # fmt: skip
    stored = store_raw(RAW, mailbox=mailbox)
    assert stored is not None
    stored.state, stored.reason = IntakeState.HELD, "unknown_sender"
    stored.save(update_fields=["state", "reason"])
    client = signed_in(cast.mona)
    page = client.get(BASE + f"/messages/{stored.pk}/").content.decode()
    assert 'data-testid="release-form"' in page

    # A customer that does not exist is a form error; nothing happens.
    response = client.post(BASE + f"/messages/{stored.pk}/release", {"organization": "999999"})
    assert response.status_code == 400
    stored.refresh_from_db()
    assert stored.state == IntakeState.HELD

    response = client.post(
        BASE + f"/messages/{stored.pk}/release", {"organization": cast.acme.pk}, follow=True
    )
    stored.refresh_from_db()
    assert stored.state == IntakeState.PROCESSED, stored.error
    assert stored.ticket is not None
    assert stored.ticket.organization == cast.acme
    assert flash(response) == ["Message released; it is now: Processed."]
    assert AuditEntry.objects.filter(action="channels.inbound_email.released").count() == 1

    # Released once: the button is gone and a second release is refused with a message.
    assert 'data-testid="release-form"' not in response.content.decode()
    again = client.post(
        BASE + f"/messages/{stored.pk}/release", {"organization": cast.acme.pk}, follow=True
    )
    assert flash(again) == ["Only held messages can be released."]
    assert AuditEntry.objects.filter(action="channels.inbound_email.released").count() == 1


def test_reprocess_a_failed_message_after_the_fix(cast):
    CustomerMailDomain.objects.create(organization=cast.acme, domain="acme.example")
    mailbox = Mailbox.objects.create(
        name="Support", email="support@erpcare.example", imap_host="imap.invalid",
        imap_username="x", imap_password="x", created_at=clock.now(),
    )  # fmt: skip
    stored = store_raw(RAW, mailbox=mailbox)
    assert stored is not None
    stored.state, stored.error = IntakeState.FAILED, "KeyError: 'gbk' (before the fix)"
    stored.save(update_fields=["state", "error"])
    client = signed_in(cast.mona)
    response = client.post(BASE + f"/messages/{stored.pk}/reprocess", follow=True)
    stored.refresh_from_db()
    assert stored.state == IntakeState.PROCESSED
    assert stored.error == ""
    assert flash(response) == ["Message processed again; it is now: Processed."]
    # Processed: a second click is refused with a message, not an error page.
    response = client.post(BASE + f"/messages/{stored.pk}/reprocess", follow=True)
    assert flash(response) == ["Only failed or held messages can be processed again."]
    assert InboundEmail.objects.get(pk=stored.pk).ticket_id == stored.ticket_id


def test_agents_cannot_press_the_buttons(cast, dovecot):
    mailbox = imap_mailbox(dovecot)
    stored = store_raw(RAW, mailbox=mailbox)
    assert stored is not None
    client = signed_in(cast.lina)
    for url in (
        f"/mailboxes/{mailbox.pk}/test-imap",
        f"/mailboxes/{mailbox.pk}/test-smtp",
        f"/mailboxes/{mailbox.pk}/fetch",
        f"/messages/{stored.pk}/reprocess",
        f"/messages/{stored.pk}/release",
    ):
        assert client.post(BASE + url).status_code == 404
    mailbox.refresh_from_db()
    assert mailbox.last_fetch_at is None
    assert InboundEmail.objects.get(pk=stored.pk).state == IntakeState.RECEIVED
