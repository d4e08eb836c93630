"""E-mail intake: stored messages become tickets, replies, or are ignored/held — with the
corpus in ``tests/mail`` (Outlook, Foxmail, QQ Mail and Gmail replies, Chinese charsets,
HTML, attachments, auto-replies, bounces, a malformed message)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from erpcare.accounts.models import User
from erpcare.audit.models import AuditEntry
from erpcare.channels.email.inbound.intake import (
    import_eml,
    process_message,
    release_held,
    reprocess,
    store_raw,
)
from erpcare.channels.models import (
    CustomerMailDomain,
    InboundEmail,
    IntakeState,
    Mailbox,
    MessageReference,
)
from erpcare.channels.models.email import UnknownSenderPolicy
from erpcare.conftest import Cast
from erpcare.core import clock
from erpcare.core.errors import Conflict, NotAllowed
from erpcare.tickets.models import Attachment, Channel, Comment, Status, Ticket
from erpcare.tickets.services.actions import add_comment, create_ticket, transition_ticket

MAIL = Path(__file__).parent / "mail"


def eml(name: str, **subs: str) -> bytes:
    raw = (MAIL / name).read_bytes()
    for key, value in subs.items():
        raw = raw.replace(b"{{" + key.encode() + b"}}", value.encode())
    return raw


@pytest.fixture(autouse=True)
def _mail_settings(settings: Any) -> None:
    settings.ERPCARE_MAIL_DOMAIN = "erpcare.example"
    settings.ERPCARE_MAIL_FLOOD_PER_HOUR = 20


@pytest.fixture
def mailbox(cast: Cast) -> Mailbox:
    return Mailbox.objects.create(
        name="Support",
        email="support@erpcare.example",
        imap_host="127.0.0.1",
        imap_username="support",
        created_at=clock.now(),
    )


def ticket_for(cast: Cast, title: str = "凭证无法保存") -> Ticket:
    return create_ticket(cast.alice, title=title, description="期间已关闭", channel=Channel.PORTAL)


# ---------------------------------------------------------------------------
# New tickets
# ---------------------------------------------------------------------------


def test_a_customers_mail_opens_a_ticket_with_the_signature_trimmed(
    cast: Cast, mailbox: Mailbox
) -> None:
    message = import_eml(eml("new_ticket_utf8.eml"), mailbox=mailbox)
    assert message.state == IntakeState.PROCESSED, message.error
    ticket = message.ticket
    assert ticket is not None
    assert ticket.title == "凭证无法保存"
    assert ticket.channel == Channel.EMAIL
    assert ticket.organization == cast.acme
    assert ticket.requester == cast.alice
    assert "期间已关闭" in ticket.description
    assert "021-5555" not in ticket.description  # the signature is gone
    assert message.message_id == "<20261103093000.alice.1@acme.example>"
    assert message.from_address == "alice@acme.example"
    ref = MessageReference.objects.get(message_id=message.message_id)
    assert (ref.ticket_id, ref.direction) == (ticket.pk, "in")
    assert message.raw.read().startswith(b"From: Alice Wang")


def test_the_mailbox_queue_and_customer_route_the_ticket(cast: Cast, mailbox: Mailbox) -> None:
    mailbox.team = cast.l1_acme
    mailbox.organization = cast.acme
    mailbox.save()
    ticket = import_eml(eml("new_ticket_utf8.eml"), mailbox=mailbox).ticket
    assert ticket is not None
    assert ticket.team == cast.l1_acme


def test_a_customer_writing_to_another_customers_mailbox_is_held(
    cast: Cast, mailbox: Mailbox
) -> None:
    mailbox.organization = cast.globex
    mailbox.save()
    message = import_eml(eml("new_ticket_utf8.eml"), mailbox=mailbox)
    assert (message.state, message.reason) == (IntakeState.HELD, "other_customer")
    assert not Ticket.objects.exists()


def test_big5_mail_decodes(cast: Cast, mailbox: Mailbox) -> None:
    message = import_eml(eml("new_ticket_big5.eml"), mailbox=mailbox)
    assert message.state == IntakeState.PROCESSED, message.error
    assert message.ticket is not None
    assert message.ticket.title == "憑證無法儲存"
    assert "請協助處理" in message.ticket.description
    assert message.ticket.requester == cast.alice2


def test_a_forwarded_mail_keeps_the_forwarded_content(cast: Cast, mailbox: Mailbox) -> None:
    ticket = import_eml(eml("forwarded.eml"), mailbox=mailbox).ticket
    assert ticket is not None
    assert ticket.title == "仓库反馈：出库单无法过账"
    assert "OUT-2026-1103" in ticket.description


def test_attachments_are_kept_and_refused_files_listed_in_an_internal_note(
    cast: Cast, mailbox: Mailbox
) -> None:
    message = import_eml(eml("attachments.eml"), mailbox=mailbox)
    assert message.state == IntakeState.PROCESSED, message.error
    names = sorted(
        Attachment.objects.filter(ticket=message.ticket).values_list("filename", flat=True)
    )
    assert names == ["库存结转.csv", "月结报表.pdf"]
    note = Comment.objects.get(ticket=message.ticket, is_internal=True)
    assert "setup.exe" in note.body
    assert note.author is None


def test_inline_images_are_kept_and_mentioned_in_the_text(cast: Cast, mailbox: Mailbox) -> None:
    message = import_eml(eml("inline_image.eml"), mailbox=mailbox)
    assert message.ticket is not None
    assert "[image001.png]" in message.ticket.description
    attachment = Attachment.objects.get(ticket=message.ticket)
    assert (attachment.filename, attachment.content_type) == ("image001.png", "image/png")


def test_attachments_over_the_size_limit_are_refused_but_the_ticket_opens(
    cast: Cast, mailbox: Mailbox, settings: Any
) -> None:
    settings.ERPCARE_MAX_ATTACHMENT_BYTES = 40
    message = import_eml(eml("attachments.eml"), mailbox=mailbox)
    assert message.state == IntakeState.PROCESSED
    assert list(Attachment.objects.values_list("filename", flat=True)) == ["库存结转.csv"]
    assert "月结报表.pdf" in Comment.objects.get(is_internal=True).body


# ---------------------------------------------------------------------------
# Replies
# ---------------------------------------------------------------------------


def test_a_reply_by_message_id_becomes_a_public_comment(cast: Cast, mailbox: Mailbox) -> None:
    first = import_eml(eml("new_ticket_utf8.eml"), mailbox=mailbox)
    reply = import_eml(eml("reply_gmail_zh.eml", MSGID=first.message_id), mailbox=mailbox)
    assert reply.state == IntakeState.PROCESSED, reply.error
    assert reply.ticket_id == first.ticket_id
    comment = reply.comment
    assert comment is not None
    assert (comment.body, comment.is_internal, comment.channel) == (
        "问题已解决，可以关闭工单。",
        False,
        Channel.EMAIL,
    )
    assert comment.author == cast.alice
    assert Ticket.objects.count() == 1


def test_a_reply_to_our_own_root_message_id_finds_the_ticket(cast: Cast, mailbox: Mailbox) -> None:
    ticket = ticket_for(cast)
    root = f"<erpcare.ticket.{ticket.number}@erpcare.example>"
    reply = import_eml(eml("reply_gmail_zh.eml", MSGID=root), mailbox=mailbox)
    assert reply.ticket_id == ticket.pk
    assert reply.comment is not None


def test_a_reply_to_a_message_id_we_sent_finds_the_ticket(cast: Cast, mailbox: Mailbox) -> None:
    ticket = ticket_for(cast)
    sent = "<erpcare.d12.abcdef@erpcare.example>"
    MessageReference.objects.create(
        message_id=sent, ticket=ticket, direction="out", created_at=clock.now()
    )
    reply = import_eml(eml("reply_gmail_zh.eml", MSGID=sent), mailbox=mailbox)
    assert reply.ticket_id == ticket.pk
    assert reply.comment is not None


@pytest.mark.parametrize(
    ("name", "expected", "quoted"),
    [
        (
            "reply_outlook_zh_gb2312.eml",
            "凭证已经可以保存了。\n经办人：朱镕基（测试用名）",
            "请检查",
        ),
        ("reply_qq_gbk.eml", "库存结转已经完成，谢谢！", "月结前"),
        ("reply_foxmail_gb18030.eml", "月结已经跑完了，报表正常。", "重新运行"),
        ("reply_gmail_en.eml", "Thanks, the inventory closing ran through.", "Please run"),
        ("reply_outlook_en_html.eml", "The **month-end close** works now.", "run it again"),
    ],
)
def test_a_reply_by_subject_token_is_trimmed_for_each_client(
    cast: Cast, mailbox: Mailbox, name: str, expected: str, quoted: str
) -> None:
    ticket = ticket_for(cast)
    reply = import_eml(eml(name, TICKET=ticket.number, MSGID="<unknown@nowhere>"), mailbox=mailbox)
    assert reply.state == IntakeState.PROCESSED, reply.error
    assert reply.ticket_id == ticket.pk
    assert reply.comment is not None
    body = reply.comment.body
    assert expected in body
    assert quoted not in body
    assert "发件人" not in body
    assert "From:" not in body


def test_html_is_sanitised(cast: Cast, mailbox: Mailbox) -> None:
    ticket = ticket_for(cast)
    reply = import_eml(eml("reply_outlook_en_html.eml", TICKET=ticket.number), mailbox=mailbox)
    assert reply.comment is not None
    body = reply.comment.body
    assert "[the report](https://erp.acme.example/report)" in body
    for bad in ("javascript:", "alert", "steal", "onclick", "<script", "tracker.example", "Mso"):
        assert bad not in body


def test_a_customer_reply_puts_a_waiting_ticket_back_to_open(cast: Cast, mailbox: Mailbox) -> None:
    ticket = ticket_for(cast)
    add_comment(cast.adam, ticket, body="请检查会计期间设置。")
    transition_ticket(cast.adam, ticket, to=Status.WAITING_CUSTOMER)
    import_eml(eml("reply_gmail_en.eml", TICKET=ticket.number), mailbox=mailbox)
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_a_reply_to_a_closed_ticket_opens_a_new_one_that_mentions_it(
    cast: Cast, mailbox: Mailbox
) -> None:
    ticket = ticket_for(cast)
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)
    reply = import_eml(eml("reply_gmail_en.eml", TICKET=ticket.number), mailbox=mailbox)
    assert reply.state == IntakeState.PROCESSED, reply.error
    assert reply.ticket is not None
    assert reply.ticket.pk != ticket.pk
    assert ticket.number in reply.ticket.description
    assert reply.ticket.requester == cast.alice
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_a_reply_from_someone_unrelated_is_held(cast: Cast, mailbox: Mailbox) -> None:
    ticket = ticket_for(cast)
    raw = eml("reply_gmail_en.eml", TICKET=ticket.number).replace(
        b"alice@acme.example", b"bob@globex.example"
    )
    reply = import_eml(raw, mailbox=mailbox)
    assert (reply.state, reply.reason) == (IntakeState.HELD, "not_a_participant")
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_a_colleague_of_the_requester_may_reply(cast: Cast, mailbox: Mailbox) -> None:
    ticket = ticket_for(cast)
    raw = eml("reply_gmail_en.eml", TICKET=ticket.number).replace(
        b"alice@acme.example", b"ann@acme.example"
    )
    reply = import_eml(raw, mailbox=mailbox)
    assert reply.comment is not None
    assert reply.comment.author == cast.alice2


def test_staff_replying_by_mail_write_a_public_comment(cast: Cast, mailbox: Mailbox) -> None:
    ticket = ticket_for(cast)
    # Staff answer a notification we sent them: its Message-ID is on record for the ticket.
    MessageReference.objects.create(
        message_id="<erpcare.d41.k7Qx2@erpcare.example>",
        ticket=ticket,
        direction=MessageReference.Direction.OUT,
        created_at=clock.now(),
    )
    raw = eml("reply_gmail_en.eml", TICKET=ticket.number).replace(
        b"alice@acme.example", b"lina@erpcare.example"
    )
    raw = raw.replace(
        b"Subject:", b"In-Reply-To: <erpcare.d41.k7Qx2@erpcare.example>\r\nSubject:", 1
    )
    reply = import_eml(raw, mailbox=mailbox)
    assert reply.comment is not None
    assert reply.comment.author == cast.lina
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None


def test_a_staff_address_in_from_alone_does_not_reach_the_customer(
    cast: Cast, mailbox: Mailbox
) -> None:
    ticket = ticket_for(cast)
    forged = eml("reply_gmail_en.eml", TICKET=ticket.number).replace(
        b"alice@acme.example", b"lina@erpcare.example"
    )
    # Subject token only, and then a made-up Message-ID we never sent: both held.
    held = import_eml(forged, mailbox=mailbox)
    assert (held.state, held.reason) == (IntakeState.HELD, "unverified_staff")
    guessed = forged.replace(
        b"Subject:", b"In-Reply-To: <erpcare.d1.guess@erpcare.example>\r\nSubject:", 1
    ).replace(b"Message-ID: <", b"Message-ID: <x", 1)
    held_again = import_eml(guessed, mailbox=mailbox)
    assert (held_again.state, held_again.reason) == (IntakeState.HELD, "unverified_staff")
    assert not Comment.objects.filter(ticket=ticket, author=cast.lina).exists()


# ---------------------------------------------------------------------------
# Loops
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "auto_reply_auto_submitted.eml",
        "auto_reply_x_autoreply.eml",
        "auto_reply_x_autorespond.eml",
        "auto_reply_precedence_bulk.eml",
        "auto_reply_precedence_junk.eml",
        "auto_reply_subject_zh.eml",
        "auto_reply_out_of_office.eml",
    ],
)
def test_auto_replies_are_ignored(cast: Cast, mailbox: Mailbox, name: str) -> None:
    message = import_eml(eml(name), mailbox=mailbox)
    assert (message.state, message.reason) == (IntakeState.IGNORED, "auto_reply")
    assert not Ticket.objects.exists()


def test_a_bounce_is_ignored(cast: Cast, mailbox: Mailbox) -> None:
    message = import_eml(eml("bounce_dsn.eml"), mailbox=mailbox)
    assert (message.state, message.reason) == (IntakeState.IGNORED, "bounce")
    assert not Ticket.objects.exists()


def test_our_own_mail_is_ignored(cast: Cast, mailbox: Mailbox) -> None:
    message = import_eml(eml("own_mail.eml"), mailbox=mailbox)
    assert (message.state, message.reason) == (IntakeState.IGNORED, "own_mail")
    # Without the loop header, our Message-ID domain still gives it away.
    raw = eml("own_mail.eml").replace(b"X-ERPCare-Loop: erpcare.example\r\n", b"")
    raw = raw.replace(b"Auto-Submitted: auto-generated\r\n", b"")
    assert import_eml(raw, mailbox=mailbox).reason == "own_mail"
    assert not Ticket.objects.exists()


def test_the_same_message_id_twice_opens_one_ticket(cast: Cast, mailbox: Mailbox) -> None:
    import_eml(eml("new_ticket_utf8.eml"), mailbox=mailbox)
    again = import_eml(eml("new_ticket_utf8.eml"), mailbox=mailbox)
    assert (again.state, again.reason) == (IntakeState.IGNORED, "duplicate")
    assert Ticket.objects.count() == 1


def test_a_flood_from_one_sender_is_held_not_dropped(
    cast: Cast, mailbox: Mailbox, settings: Any
) -> None:
    settings.ERPCARE_MAIL_FLOOD_PER_HOUR = 3
    states = []
    for n in range(5):
        raw = eml("new_ticket_utf8.eml").replace(b"alice.1@", f"alice.flood{n}@".encode())
        states.append(import_eml(raw, mailbox=mailbox))
    assert [m.state for m in states] == [IntakeState.PROCESSED] * 3 + [IntakeState.HELD] * 2
    assert {m.reason for m in states[3:]} == {"flood"}
    assert Ticket.objects.count() == 3
    released = reprocess(cast.mona, states[3])
    assert released.state == IntakeState.PROCESSED
    assert Ticket.objects.count() == 4


# ---------------------------------------------------------------------------
# Unknown senders
# ---------------------------------------------------------------------------


def test_unknown_sender_in_a_customer_domain_becomes_a_contact(
    cast: Cast, mailbox: Mailbox
) -> None:
    CustomerMailDomain.objects.create(organization=cast.acme, domain="acme-branch.example")
    message = import_eml(eml("unknown_sender.eml"), mailbox=mailbox)
    assert message.state == IntakeState.PROCESSED, message.error
    contact = User.objects.get(email="zhao@acme-branch.example")
    assert contact.is_customer
    assert contact.organization == cast.acme
    assert contact.display_name == "赵会计"
    assert not contact.has_usable_password()
    assert message.ticket is not None
    assert message.ticket.requester == contact


def test_unknown_sender_outside_known_domains_is_held(cast: Cast, mailbox: Mailbox) -> None:
    message = import_eml(eml("unknown_sender.eml"), mailbox=mailbox)
    assert (message.state, message.reason) == (IntakeState.HELD, "unknown_sender")
    assert not User.objects.filter(email="zhao@acme-branch.example").exists()


def test_hold_policy_holds_even_a_known_domain(cast: Cast, mailbox: Mailbox) -> None:
    CustomerMailDomain.objects.create(organization=cast.acme, domain="acme-branch.example")
    mailbox.unknown_sender_policy = UnknownSenderPolicy.HOLD
    mailbox.save()
    message = import_eml(eml("unknown_sender.eml"), mailbox=mailbox)
    assert (message.state, message.reason) == (IntakeState.HELD, "unknown_sender")


def test_a_manager_releases_a_held_message_into_a_customer(cast: Cast, mailbox: Mailbox) -> None:
    message = import_eml(eml("unknown_sender.eml"), mailbox=mailbox)
    with pytest.raises(NotAllowed):
        release_held(cast.lina, message, cast.globex)
    message.refresh_from_db()
    assert message.state == IntakeState.HELD
    released = release_held(cast.mona, message, cast.globex)
    assert released.state == IntakeState.PROCESSED, released.error
    assert released.ticket is not None
    assert released.ticket.organization == cast.globex
    assert User.objects.get(email="zhao@acme-branch.example").organization == cast.globex
    assert AuditEntry.objects.filter(
        action="channels.inbound_email.released", target_id=str(message.pk)
    ).exists()
    with pytest.raises(Conflict):
        release_held(cast.mona, released, cast.globex)


# ---------------------------------------------------------------------------
# Failures and re-runs
# ---------------------------------------------------------------------------


def test_a_malformed_message_fails_and_stays_for_a_re_run(cast: Cast, mailbox: Mailbox) -> None:
    message = import_eml(eml("malformed.eml"), mailbox=mailbox)
    assert message.state == IntakeState.FAILED
    assert "MIME" in message.error
    assert message.attempts == 1
    assert message.raw.read() == eml("malformed.eml")
    again = reprocess(cast.adam, message)
    assert (again.state, again.attempts) == (IntakeState.FAILED, 2)
    assert not Ticket.objects.exists()


def test_a_failure_rolls_back_the_ticket_and_reprocess_succeeds_after_the_fix(
    cast: Cast, mailbox: Mailbox
) -> None:
    cast.acme.is_active = False
    cast.acme.save()
    message = import_eml(eml("attachments.eml"), mailbox=mailbox)
    assert message.state == IntakeState.FAILED
    assert "inactive" in message.error
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()
    cast.acme.is_active = True
    cast.acme.save()
    with pytest.raises(NotAllowed):
        reprocess(cast.alice, message)
    done = reprocess(cast.mona, message)
    assert done.state == IntakeState.PROCESSED, done.error
    assert Attachment.objects.filter(ticket=done.ticket).count() == 2
    assert AuditEntry.objects.filter(
        action="channels.inbound_email.reprocessed", target_id=str(message.pk)
    ).exists()
    with pytest.raises(Conflict):
        reprocess(cast.mona, done)


def test_a_message_over_the_size_limit_is_stored_but_failed(
    cast: Cast, mailbox: Mailbox, settings: Any
) -> None:
    settings.ERPCARE_MAIL_MAX_BYTES = 1000
    message = import_eml(eml("attachments.eml"), mailbox=mailbox)
    assert (message.state, message.reason) == (IntakeState.FAILED, "too_large")
    assert "too large" in message.error
    assert message.size == len(eml("attachments.eml"))
    assert not Ticket.objects.exists()


def test_a_claimed_message_is_not_processed_twice(cast: Cast, mailbox: Mailbox) -> None:
    message = store_raw(eml("new_ticket_utf8.eml"), mailbox=mailbox)
    assert message is not None
    InboundEmail.objects.filter(pk=message.pk).update(state=IntakeState.PROCESSING)
    assert process_message(message.pk).state == IntakeState.PROCESSING
    assert not Ticket.objects.exists()


def test_a_second_store_of_one_uid_is_skipped(cast: Cast, mailbox: Mailbox) -> None:
    raw = eml("new_ticket_utf8.eml")
    first = store_raw(raw, mailbox=mailbox, folder="INBOX", uidvalidity=7, uid=1)
    second = store_raw(raw, mailbox=mailbox, folder="INBOX", uidvalidity=7, uid=1)
    assert first is not None
    assert second is None
    assert InboundEmail.objects.count() == 1


def test_messages_a_stopped_worker_left_unprocessed_are_picked_up(
    cast: Cast, mailbox: Mailbox
) -> None:
    from datetime import timedelta

    from erpcare.channels.email.inbound.intake import process_stale

    message = store_raw(eml("new_ticket_utf8.eml"), mailbox=mailbox)
    assert message is not None
    assert process_stale() == 0  # too fresh: its own worker is still on it
    InboundEmail.objects.filter(pk=message.pk).update(
        received_at=clock.now() - timedelta(minutes=10)
    )
    assert process_stale() == 1
    message.refresh_from_db()
    assert message.state == IntakeState.PROCESSED
    assert Ticket.objects.count() == 1


def test_a_message_whose_worker_died_while_processing_is_picked_up_later(
    cast: Cast, mailbox: Mailbox
) -> None:
    from datetime import timedelta

    from erpcare.channels.email.inbound.intake import process_stale

    message = store_raw(eml("new_ticket_utf8.eml"), mailbox=mailbox)
    assert message is not None
    # A worker claimed it and died before its transaction committed: only the claim remains.
    claimed_at = clock.now() - timedelta(minutes=10)
    InboundEmail.objects.filter(pk=message.pk).update(
        state=IntakeState.PROCESSING,
        processed_at=claimed_at,
        received_at=claimed_at,
    )
    assert process_stale() == 0  # ten minutes may still be a slow worker at work
    assert Ticket.objects.count() == 0
    InboundEmail.objects.filter(pk=message.pk).update(
        processed_at=clock.now() - timedelta(minutes=20)
    )
    assert process_stale() == 1
    message.refresh_from_db()
    assert message.state == IntakeState.PROCESSED
    assert Ticket.objects.count() == 1
