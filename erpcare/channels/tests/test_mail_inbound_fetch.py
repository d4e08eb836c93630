"""Fetching from a real Dovecot IMAP server on loopback (see ``imap_server.py``)."""

from __future__ import annotations

import base64
import hashlib
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from erpcare.channels.email.inbound.fetch import fetch_all, fetch_mailbox, imap_check
from erpcare.channels.models import InboundEmail, IntakeState, Mailbox, MailboxFolder
from erpcare.channels.models.email import MailSecurity
from erpcare.channels.tests.imap_server import ImapServer, dovecot_available, start_dovecot
from erpcare.conftest import Cast, build_cast
from erpcare.core import clock
from erpcare.core.errors import ActionError
from erpcare.tickets.models import Attachment, Comment, Ticket

pytestmark = pytest.mark.skipif(
    not dovecot_available(),
    reason="Dovecot (/usr/sbin/dovecot, Debian package dovecot-imapd) is not installed",
)

MAIL = Path(__file__).parent / "mail"
SEEN = b"\\Seen"


def eml(name: str, **subs: str) -> bytes:
    raw = (MAIL / name).read_bytes()
    for key, value in subs.items():
        raw = raw.replace(b"{{" + key.encode() + b"}}", value.encode())
    return raw


def numbered(n: int) -> bytes:
    """A distinct new-ticket mail per n (its own Message-ID and subject)."""
    raw = eml("new_ticket_utf8.eml").replace(b"alice.1@", f"alice.n{n}@".encode())
    return raw.replace(b"Subject: =?UTF-8?B?", f"Subject: #{n} =?UTF-8?B?".encode())


@pytest.fixture
def imap() -> Iterator[ImapServer]:
    server = start_dovecot()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _mail_settings(settings: Any) -> None:
    settings.ERPCARE_MAIL_DOMAIN = "erpcare.example"


def make_mailbox(imap: ImapServer, **extra: Any) -> Mailbox:
    values: dict[str, Any] = {
        "name": "Support",
        "email": "support@erpcare.example",
        "imap_host": imap.host,
        "imap_port": imap.port,
        "imap_security": MailSecurity.NONE,
        "imap_username": "support",
        "imap_password": imap.password,
        "created_at": clock.now(),
    }
    values.update(extra)
    return Mailbox.objects.create(**values)


def test_fetch_opens_tickets_marks_them_seen_and_does_not_fetch_twice(
    cast: Cast, imap: ImapServer
) -> None:
    mailbox = make_mailbox(imap)
    imap.append(eml("new_ticket_utf8.eml"))
    imap.append(eml("auto_reply_out_of_office.eml"))
    counts = fetch_mailbox(mailbox)
    assert counts["stored"] == 2
    assert counts["processed"] == 2
    ticket = Ticket.objects.get()
    assert ticket.title == "凭证无法保存"
    first = InboundEmail.objects.get(ticket=ticket)
    assert (first.folder, first.uid) == ("INBOX", 1)
    assert all(SEEN in flags for flags in imap.flags().values())
    mailbox.refresh_from_db()
    assert mailbox.last_fetch_at is not None
    assert mailbox.last_error == ""

    imap.append(eml("reply_gmail_zh.eml", MSGID=first.message_id))
    again = fetch_mailbox(mailbox)
    assert (again["fetched"], again["stored"]) == (1, 1)
    assert Ticket.objects.count() == 1
    assert Comment.objects.get(ticket=ticket).body == "问题已解决，可以关闭工单。"
    assert fetch_mailbox(mailbox)["fetched"] == 0
    assert InboundEmail.objects.count() == 3
    assert MailboxFolder.objects.get(mailbox=mailbox, name="INBOX").last_uid == 3


def test_a_failed_message_stays_unseen_for_a_person_to_notice(cast: Cast, imap: ImapServer) -> None:
    mailbox = make_mailbox(imap)
    imap.append(eml("malformed.eml"))
    counts = fetch_mailbox(mailbox)
    assert counts["failed"] == 1
    assert InboundEmail.objects.get().state == IntakeState.FAILED
    assert SEEN not in imap.flags()[1]


def test_a_uidvalidity_change_reads_the_folder_again_without_duplicates(
    cast: Cast, imap: ImapServer
) -> None:
    mailbox = make_mailbox(imap, folders=["Support"])
    imap.append(numbered(1), folder="Support")
    imap.append(numbered(2), folder="Support")
    fetch_mailbox(mailbox)
    state = MailboxFolder.objects.get(mailbox=mailbox, name="Support")
    assert state.last_uid == 2
    old_validity = state.uidvalidity

    imap.reset_folder("Support")
    imap.append(numbered(2), folder="Support")  # the same message, renumbered as UID 1
    imap.append(numbered(3), folder="Support")
    fetch_mailbox(mailbox)
    state.refresh_from_db()
    assert state.uidvalidity != old_validity
    assert state.last_uid == 2
    assert Ticket.objects.count() == 3
    renumbered = InboundEmail.objects.get(uidvalidity=state.uidvalidity, uid=1)
    assert (renumbered.state, renumbered.reason) == (IntakeState.IGNORED, "duplicate")


@pytest.mark.parametrize("security", [MailSecurity.TLS, MailSecurity.STARTTLS])
def test_tls_and_starttls(cast: Cast, monkeypatch: pytest.MonkeyPatch, security: str) -> None:
    server = start_dovecot(tls=True)
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.cert_path))
        port = server.tls_port if security == MailSecurity.TLS else server.port
        mailbox = make_mailbox(server, imap_port=port, imap_security=security)
        assert "INBOX" in imap_check(mailbox)
        server.append(eml("new_ticket_big5.eml"))
        assert fetch_mailbox(mailbox)["processed"] == 1
        assert Ticket.objects.get().title == "憑證無法儲存"
    finally:
        server.stop()


def test_tls_refuses_a_certificate_it_does_not_trust(cast: Cast) -> None:
    server = start_dovecot(tls=True)
    try:
        mailbox = make_mailbox(server, imap_port=server.tls_port, imap_security=MailSecurity.TLS)
        with pytest.raises(ActionError, match="Cannot connect"):
            imap_check(mailbox)
    finally:
        server.stop()


def test_imap_check_reports_a_wrong_password_and_a_missing_folder(
    cast: Cast, imap: ImapServer
) -> None:
    mailbox = make_mailbox(imap, imap_password="wrong")
    with pytest.raises(ActionError, match="refused the sign-in"):
        imap_check(mailbox)
    mailbox = make_mailbox(imap, email="other@erpcare.example", folders=["Nope"])
    with pytest.raises(ActionError, match="Nope"):
        imap_check(mailbox)


def test_fetch_all_survives_a_bad_mailbox_and_records_its_error(
    cast: Cast, imap: ImapServer
) -> None:
    bad = make_mailbox(imap, email="bad@erpcare.example", imap_password="wrong")
    good = make_mailbox(imap)
    imap.append(eml("new_ticket_utf8.eml"))
    totals = fetch_all()
    assert totals["errors"] == 1
    assert totals["processed"] == 1
    bad.refresh_from_db()
    good.refresh_from_db()
    assert "refused the sign-in" in bad.last_error
    assert good.last_error == ""
    assert Ticket.objects.count() == 1


def twenty_megabytes() -> tuple[bytes, bytes]:
    payload = b"%PDF-1.4\n" + hashlib.sha256(b"seed").digest() * (14 * 1024 * 1024 // 32)
    body = base64.encodebytes(payload)
    raw = (
        b"From: Alice Wang <alice@acme.example>\r\nTo: support@erpcare.example\r\n"
        b"Subject: month-end ledger export\r\nMessage-ID: <big.0001@acme.example>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nledger export attached\r\n"
        b"--b\r\nContent-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="ledger.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + body.replace(b"\n", b"\r\n") + b"--b--\r\n"
    )
    return raw, payload


def test_a_20_mb_message_is_fetched_and_its_attachment_kept(
    cast: Cast, imap: ImapServer, settings: Any
) -> None:
    raw, payload = twenty_megabytes()
    assert len(raw) > 19 * 1024 * 1024
    imap.append(raw)
    fetch_mailbox(make_mailbox(imap))
    message = InboundEmail.objects.get()
    assert message.state == IntakeState.PROCESSED, message.error
    assert message.size == len(raw)
    attachment = Attachment.objects.get()
    assert attachment.sha256 == hashlib.sha256(payload).hexdigest()


def test_a_message_over_the_limit_is_stored_failed_and_left_unseen(
    cast: Cast, imap: ImapServer, settings: Any
) -> None:
    settings.ERPCARE_MAIL_MAX_BYTES = 10 * 1024 * 1024
    raw, _payload = twenty_megabytes()
    imap.append(raw)
    counts = fetch_mailbox(make_mailbox(imap))
    assert counts["failed"] == 1
    message = InboundEmail.objects.get()
    assert (message.state, message.reason) == (IntakeState.FAILED, "too_large")
    assert hashlib.sha256(message.raw.read()).hexdigest() == hashlib.sha256(raw).hexdigest()
    assert not Ticket.objects.exists()
    assert SEEN not in imap.flags()[1]


def test_the_mail_command_fetches_imports_and_reprocesses(
    cast: Cast, imap: ImapServer, tmp_path: Path
) -> None:
    mailbox = make_mailbox(imap)
    imap.append(eml("new_ticket_utf8.eml"))
    out = io.StringIO()
    call_command("mail", "fetch", "--mailbox", str(mailbox.pk), stdout=out)
    assert "processed=1" in out.getvalue()
    path = tmp_path / "broken.eml"
    path.write_bytes(eml("malformed.eml"))
    out = io.StringIO()
    call_command("mail", "import", str(path), stdout=out)
    failed = InboundEmail.objects.get(state=IntakeState.FAILED)
    assert f"{failed.pk} failed" in out.getvalue()
    out = io.StringIO()
    call_command("mail", "reprocess", "--failed", stdout=out)
    failed.refresh_from_db()
    assert failed.attempts == 2
    call_command("mail", "fetch", stdout=io.StringIO())
    assert Ticket.objects.count() == 1
    with pytest.raises(CommandError):
        call_command("mail", "reprocess", stdout=io.StringIO())
    with pytest.raises(CommandError, match="no mailbox"):
        call_command("mail", "fetch", "--mailbox", "99999", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("mail", "import", str(tmp_path / "missing.eml"), stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_two_workers_fetching_one_mailbox_create_each_ticket_once(imap: ImapServer) -> None:
    build_cast()
    mailbox = make_mailbox(imap)
    for n in range(12):
        imap.append(numbered(n))
    errors: list[BaseException] = []
    results: list[dict[str, int]] = []

    def worker() -> None:
        try:
            results.append(fetch_mailbox(Mailbox.objects.get(pk=mailbox.pk)))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    if connection.vendor == "postgresql":
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    else:
        # SQLite allows one writer at a time: the two workers run one after the other.
        worker()
        worker()
    assert errors == []
    assert Ticket.objects.count() == 12
    assert InboundEmail.objects.count() == 12
    assert sum(r["stored"] for r in results) == 12
    assert set(InboundEmail.objects.values_list("state", flat=True)) == {IntakeState.PROCESSED}
