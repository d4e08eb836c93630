"""E-mail out: wordings in both languages, placeholders as data, threading headers,
the sender address, and the test mail — against a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import re
from email.utils import parseaddr
from typing import Any

import pytest
from django.conf import settings
from django.core import mail

from erpcare.audit.models import AuditEntry  # noqa: F401  (the app's models are loaded)
from erpcare.channels.delivery import deliver_due, deliver_one
from erpcare.channels.email.outbound import smtp_check, ticket_root_id
from erpcare.channels.email.templates import (
    message_key,
    placeholder_values,
    render_email,
    validate_template,
)
from erpcare.channels.models import (
    DeliveryState,
    EmailTemplate,
    InboundEmail,
    Mailbox,
    MessageReference,
)
from erpcare.channels.tests.smtp_server import (
    SmtpServer,
    mail_delivery,
    self_signed_certificate,
    smtp_server_fixture,  # noqa: F401  (the smtp_server fixture)
    snapshot_of,
)
from erpcare.core import clock
from erpcare.core.errors import ActionError
from erpcare.tickets.services.actions import create_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(cast: Any) -> Any:
    return create_ticket(
        cast.lina,
        title="月末结账凭证无法过账",
        organization=cast.acme,
        requester=cast.alice,
        team=cast.l1_desk,
        priority=1,
        module="gl",
        category="data_issue",
    )


def mailbox(name: str, email: str, *, server: SmtpServer | None = None, **fields: Any) -> Mailbox:
    return Mailbox.objects.create(
        name=name,
        email=email,
        imap_host="127.0.0.1",
        imap_username=email,
        smtp_host="127.0.0.1" if server is not None else "",
        smtp_port=server.port if server is not None else 587,
        smtp_security="none",
        created_at=clock.now(),
        **fields,
    )


# ---------------------------------------------------------------------------
# Wordings
# ---------------------------------------------------------------------------


class TestWordings:
    def test_the_requester_is_told_in_english(self, cast: Any, ticket: Any) -> None:
        subject, text, html = render_email("ticket_created", "en", snapshot_of(ticket), cast.alice)
        assert subject == f"[{ticket.number}] We have received your request: 月末结账凭证无法过账"
        assert "Hello Alice Wang" in text
        assert "P1 – major function broken, no workaround" in text
        assert f"http://127.0.0.1:8000/portal/tickets/{ticket.number}/" in text
        assert "/desk/" not in text
        assert "<strong>" + ticket.number + "</strong>" in html

    def test_and_in_chinese(self, cast: Any, ticket: Any) -> None:
        subject, text, html = render_email(
            "ticket_created", "zh-hans", snapshot_of(ticket), cast.alice
        )
        assert subject == f"[{ticket.number}] 我们已收到您的请求：月末结账凭证无法过账"
        assert "Alice Wang，您好" in text
        assert 'lang="zh-hans"' in html

    def test_staff_get_the_desk_link_and_the_queue(self, cast: Any, ticket: Any) -> None:
        _subject, text, _html = render_email(
            "ticket_created_staff", "en", snapshot_of(ticket), cast.lina
        )
        assert f"/desk/tickets/{ticket.number}/" in text
        assert "Queue: 财务组 L1" in text
        assert "Module: General ledger" in text

    def test_the_html_is_self_contained(self, cast: Any, ticket: Any) -> None:
        _s, _t, html = render_email("resolved", "en", snapshot_of(ticket), cast.alice)
        assert "<img" not in html
        assert "src=" not in html
        assert "<link" not in html
        assert "style=" in html

    def test_due_times_are_in_the_recipients_time_zone(self, cast: Any, ticket: Any) -> None:
        data = snapshot_of(
            ticket, sla={"target": "response", "due_at": "2026-03-02T02:00:00+00:00"}
        )
        cast.lina.time_zone = "Asia/Shanghai"
        values = placeholder_values(data, language="en", for_customer=False, recipient=cast.lina)
        assert values["due_at"] == "2026-03-02 10:00 (Asia/Shanghai)"
        assert values["sla_target"] == "first response"

    def test_every_event_has_a_wording_for_staff(self, cast: Any, ticket: Any) -> None:
        from erpcare.channels.models import EventName

        for name in EventName.values:
            for language in ("en", "zh-hans"):
                key = message_key(name, for_customer=False)
                subject, text, _html = render_email(key, language, snapshot_of(ticket), cast.lina)
                assert subject, (name, language)
                assert text, (name, language)


class TestCustomersSeeNothingInternal:
    def test_internal_notes_are_not_sent_to_customers(self) -> None:
        with pytest.raises(ActionError):
            message_key("ticket.note", for_customer=True)
        with pytest.raises(ActionError):
            message_key("sla.breached", for_customer=True)

    def test_an_internal_comment_and_the_queue_stay_out(self, cast: Any, ticket: Any) -> None:
        data = snapshot_of(
            ticket,
            comment={"id": 1, "body": "客户数据库密码 xyz", "internal": True, "author": "Lina"},
            changes=[
                {"field": "team", "old": "财务组 L1", "new": "平台组"},
                {"field": "status", "old": "new", "new": "in_progress"},
            ],
        )
        values = placeholder_values(data, language="en", for_customer=True, recipient=cast.alice)
        assert values["comment"] == ""
        assert values["team"] == ""
        assert values["changes"] == "- Status: New → In progress"
        staff = placeholder_values(data, language="en", for_customer=False, recipient=cast.lina)
        assert staff["comment"] == "客户数据库密码 xyz"
        assert "平台组" in staff["changes"]


class TestPlaceholdersAreData:
    def test_a_title_that_looks_like_a_template_stays_literal(self, cast: Any, ticket: Any) -> None:
        ticket.title = "{ticket_url} {{ settings.SECRET_KEY }} {ticket_title.__class__}"
        subject, text, html = render_email("reply", "en", snapshot_of(ticket), cast.alice)
        assert "{ticket_url} {{ settings.SECRET_KEY }} {ticket_title.__class__}" in subject
        assert settings.SECRET_KEY not in subject + text + html
        assert "<class" not in subject + text

    def test_unknown_placeholders_and_stray_braces_are_named(self) -> None:
        with pytest.raises(ActionError) as error:
            validate_template("[{ticket_number}] {ticket.__class__}", "Hi {requester}")
        assert "{ticket.__class__}" in error.value.message
        with pytest.raises(ActionError) as error:
            validate_template("{{ settings.SECRET_KEY }}", "ok")
        assert "unbalanced" in error.value.message
        with pytest.raises(ActionError) as error:
            validate_template("ok", "Dear {requester")
        assert "unbalanced “{” at character 6" in error.value.message
        validate_template("[{ticket_number}] {ticket_title}", "Hi {requester}, {comment}")

    def test_an_admins_wording_wins_and_is_filled_in(self, cast: Any, ticket: Any) -> None:
        EmailTemplate.objects.create(
            key="reply",
            language="en",
            subject="Re: {ticket_title}",
            body="Dear {requester}, see {ticket_url}",
            updated_at=clock.now(),
        )
        subject, text, _html = render_email("reply", "en", snapshot_of(ticket), cast.alice)
        assert subject == "Re: 月末结账凭证无法过账"
        assert text.startswith(
            f"Dear Alice Wang, see http://127.0.0.1:8000/portal/tickets/{ticket.number}/"
        )
        # The other language keeps the built-in wording.
        zh_subject, _t, _h = render_email("reply", "zh-hans", snapshot_of(ticket), cast.alice)
        assert zh_subject.startswith(f"[{ticket.number}] 新回复")


# ---------------------------------------------------------------------------
# Sending through SMTP
# ---------------------------------------------------------------------------


class TestSending:
    def test_headers_thread_on_the_ticket(
        self, cast: Any, ticket: Any, smtp_server: SmtpServer
    ) -> None:
        mailbox("Acme 支持", "support@erpcare.example", server=smtp_server)
        delivery = mail_delivery(ticket, "ticket.created", recipient=cast.alice)
        # A customer's "Re:" wording without the number still threads: it is added.
        EmailTemplate.objects.create(
            key="ticket_created", language="en", subject="Got it: {ticket_title}",
            body="Thanks", updated_at=clock.now(),
        )  # fmt: skip

        delivery = deliver_one(delivery.pk)

        assert delivery.state == DeliveryState.SENT
        [received] = smtp_server.messages
        msg = received.message
        domain = settings.ERPCARE_MAIL_DOMAIN
        assert msg["Subject"].strip() == f"[{ticket.number}] Got it: 月末结账凭证无法过账"
        assert re.fullmatch(
            rf"<erpcare\.d{delivery.pk}\.[0-9a-f]{{16}}@{re.escape(domain)}>", msg["Message-ID"]
        )
        root = ticket_root_id(ticket.number)
        assert msg["In-Reply-To"] == root
        assert msg["References"] == root
        assert msg["Auto-Submitted"] == "auto-generated"
        assert msg["X-ERPCare-Loop"] == domain
        assert parseaddr(msg["From"]) == ("Acme 支持", "support@erpcare.example")
        assert msg["Reply-To"] == "support@erpcare.example"
        assert received.rcpt_tos == ["alice@acme.example"]
        assert msg.get_body(("plain",)).get_content().startswith("Thanks")
        assert msg.get_body(("html",)) is not None
        assert delivery.payload["headers"]["Message-ID"] == msg["Message-ID"]
        # A reply to our mail names our Message-ID: it leads back to the ticket.
        ref = MessageReference.objects.get(message_id=msg["Message-ID"])
        assert (ref.ticket_id, ref.direction) == (ticket.pk, "out")

    def test_a_later_mail_answers_the_customers_last_message(
        self, cast: Any, ticket: Any, smtp_server: SmtpServer
    ) -> None:
        mailbox("Support", "support@erpcare.example", server=smtp_server)
        for message_id in ("<first@acme.example>", "<second@acme.example>"):
            MessageReference.objects.create(
                message_id=message_id, ticket=ticket, direction="in", created_at=clock.now()
            )
        comment = {"id": 1, "body": "请重试", "internal": False}
        deliver_one(
            mail_delivery(ticket, "ticket.commented", recipient=cast.alice, comment=comment).pk
        )
        msg = smtp_server.messages[0].message
        assert msg["In-Reply-To"] == "<second@acme.example>"
        assert msg["References"] == f"{ticket_root_id(ticket.number)} <second@acme.example>"
        assert "请重试" in msg.get_body(("plain",)).get_content()

    def test_the_mail_comes_from_the_mailbox_the_ticket_came_through(
        self, cast: Any, ticket: Any, smtp_server: SmtpServer
    ) -> None:
        mailbox("A first", "first@erpcare.example", server=smtp_server)
        globex_box = mailbox("Globex desk", "globex@erpcare.example", server=smtp_server)
        InboundEmail.objects.create(
            mailbox=globex_box, message_id="<x@globex.example>", raw="mail/x.eml", sha256="0" * 64,
            ticket=ticket, received_at=clock.now(),
        )  # fmt: skip
        deliver_one(mail_delivery(ticket, "ticket.resolved", recipient=cast.alice).pk)
        msg = smtp_server.messages[0].message
        assert parseaddr(msg["From"])[1] == "globex@erpcare.example"
        assert msg["Reply-To"] == "globex@erpcare.example"

    def test_else_the_first_active_mailbox(
        self, cast: Any, ticket: Any, smtp_server: SmtpServer
    ) -> None:
        mailbox("A inactive", "off@erpcare.example", server=smtp_server, is_active=False)
        mailbox("B support", "b@erpcare.example", server=smtp_server)
        mailbox("C support", "c@erpcare.example", server=smtp_server)
        deliver_one(mail_delivery(ticket, "ticket.assigned", recipient=cast.lina).pk)
        assert parseaddr(smtp_server.messages[0].message["From"])[1] == "b@erpcare.example"

    def test_else_the_installations_address_and_server(
        self, cast: Any, ticket: Any, settings: Any
    ) -> None:
        settings.DEFAULT_FROM_EMAIL = "ERPCare <helpdesk@erpcare.example>"
        delivery = deliver_one(mail_delivery(ticket, "ticket.assigned", recipient=cast.lina).pk)
        assert delivery.state == DeliveryState.SENT
        [sent] = mail.outbox  # the test run's backend stands in for settings' SMTP server
        assert sent.from_email == "ERPCare <helpdesk@erpcare.example>"
        assert sent.reply_to == []
        assert sent.extra_headers["Auto-Submitted"] == "auto-generated"

    def test_the_installations_smtp_settings(
        self, cast: Any, ticket: Any, settings: Any, smtp_server: SmtpServer
    ) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        delivery = deliver_one(mail_delivery(ticket, "ticket.assigned", recipient=cast.lina).pk)
        assert delivery.state == DeliveryState.SENT
        assert smtp_server.messages[0].rcpt_tos == ["lina@erpcare.example"]

    def test_an_internal_note_for_a_customer_is_never_sent(
        self, cast: Any, ticket: Any, smtp_server: SmtpServer
    ) -> None:
        mailbox("Support", "support@erpcare.example", server=smtp_server)
        delivery = deliver_one(mail_delivery(
            ticket, "ticket.note", recipient=cast.alice,
            comment={"id": 1, "body": "internal", "internal": True},
        ).pk)  # fmt: skip
        assert delivery.state == DeliveryState.DEAD
        assert "staff only" in delivery.last_error
        assert smtp_server.messages == []


# ---------------------------------------------------------------------------
# The test mail of the mailbox settings
# ---------------------------------------------------------------------------


def server_context(tmp_path: Any, monkeypatch: Any) -> Any:
    """A server certificate that our client trusts, and nothing else."""
    import ssl

    cert, key = self_signed_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return context


class TestSmtpCheck:
    def test_a_test_mail_goes_out(self, smtp_server: SmtpServer) -> None:
        box = mailbox("Support", "support@erpcare.example", server=smtp_server)
        answer = smtp_check(box, "mona@erpcare.example")
        assert f"127.0.0.1:{smtp_server.port}" in answer
        [received] = smtp_server.messages
        assert received.rcpt_tos == ["mona@erpcare.example"]
        assert received.message["Auto-Submitted"] == "auto-generated"

    def test_the_servers_refusal_is_shown(self, smtp_server: SmtpServer) -> None:
        box = mailbox("Support", "support@erpcare.example", server=smtp_server)
        smtp_server.refuse_next(1, "550 5.7.1 Relaying denied")
        with pytest.raises(ActionError) as error:
            smtp_check(box, "mona@erpcare.example")
        assert "550 5.7.1 Relaying denied" in error.value.message

    def test_a_bad_address(self, smtp_server: SmtpServer) -> None:
        box = mailbox("Support", "support@erpcare.example", server=smtp_server)
        with pytest.raises(ActionError):
            smtp_check(box, "not an address")
        assert smtp_server.handler.data_commands == 0

    def test_nobody_listening(self) -> None:
        server = SmtpServer()  # a free port nobody listens on
        box = mailbox("Support", "support@erpcare.example", server=server)
        with pytest.raises(ActionError) as error:
            smtp_check(box, "mona@erpcare.example")
        assert "refused" in error.value.message.lower()

    def test_auth_after_starttls(self, tmp_path: Any, monkeypatch: Any) -> None:
        context = server_context(tmp_path, monkeypatch)
        server = SmtpServer(username="mailer", password="s3cret", tls_context=context).start()
        try:
            box = mailbox(
                "Support", "support@erpcare.example", server=server,
                smtp_username="mailer", smtp_password="wrong",
            )  # fmt: skip
            box.smtp_security = "starttls"
            box.save()
            with pytest.raises(ActionError) as error:
                smtp_check(box, "mona@erpcare.example")
            assert "535" in error.value.message
            box.smtp_password = "s3cret"
            box.save()
            smtp_check(Mailbox.objects.get(pk=box.pk), "mona@erpcare.example")
            assert [m.rcpt_tos for m in server.messages] == [["mona@erpcare.example"]]
        finally:
            server.stop()

    def test_tls_from_the_start(self, tmp_path: Any, monkeypatch: Any) -> None:
        context = server_context(tmp_path, monkeypatch)
        server = SmtpServer(implicit_tls_context=context).start()
        try:
            box = mailbox("Support", "support@erpcare.example", server=server)
            box.smtp_security = "tls"
            box.save()
            smtp_check(box, "mona@erpcare.example")
            assert [m.rcpt_tos for m in server.messages] == [["mona@erpcare.example"]]
        finally:
            server.stop()


# ---------------------------------------------------------------------------
# The round trip with the intake: a reply to our mail lands on the ticket; our own
# mail coming back is recognised and ignored
# ---------------------------------------------------------------------------


class TestRoundTrip:
    def test_the_customers_reply_becomes_a_comment_on_the_ticket(
        self, cast: Any, ticket: Any, smtp_server: SmtpServer
    ) -> None:
        from erpcare.channels.email.inbound.intake import import_eml
        from erpcare.tickets.models import Comment

        support = mailbox("Support", "support@erpcare.example", server=smtp_server)
        ask = {"id": 1, "body": "请提供截图", "internal": False}
        deliver_one(mail_delivery(ticket, "ticket.commented", recipient=cast.alice, comment=ask).pk)
        ours = smtp_server.messages[0].message
        # The customer's client answers with a subject of its own: only the headers tie it.
        reply = (
            "From: Alice Wang <alice@acme.example>\r\n"
            "To: support@erpcare.example\r\n"
            "Subject: =?utf-8?b?5Zue5aSN77ya5oiq5Zu+5bey5Y+R?=\r\n"
            "Message-ID: <reply-1@acme.example>\r\n"
            f"In-Reply-To: {ours['Message-ID']}\r\n"
            f"References: {ours['References']} {ours['Message-ID']}\r\n"
            "Date: Mon, 02 Mar 2026 10:00:00 +0800\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            "截图见附件说明，谢谢。\r\n"
        ).encode()
        inbound = import_eml(reply, mailbox=support)
        assert inbound.state == "processed", inbound.error
        assert inbound.ticket_id == ticket.pk
        comment = Comment.objects.get(pk=inbound.comment_id)
        assert "截图见附件说明" in comment.body

        # And the next mail to the customer answers that reply.
        thanks = {"id": 2, "body": "收到", "internal": False}
        deliver_one(
            mail_delivery(ticket, "ticket.commented", recipient=cast.alice, comment=thanks).pk
        )
        assert smtp_server.messages[1].message["In-Reply-To"] == "<reply-1@acme.example>"

    def test_our_own_mail_is_not_taken_in(
        self, cast: Any, ticket: Any, smtp_server: SmtpServer
    ) -> None:
        from erpcare.channels.email.inbound.intake import import_eml

        support = mailbox("Support", "support@erpcare.example", server=smtp_server)
        deliver_one(mail_delivery(ticket, "ticket.assigned", recipient=cast.lina).pk)
        inbound = import_eml(smtp_server.messages[0].data, mailbox=support)
        assert inbound.state == "ignored"
        assert inbound.comment_id is None


def test_the_whole_path_from_a_ticket_action_to_the_mail_server(
    cast: Any, smtp_server: SmtpServer
) -> None:
    """Events and rules as they are written by the ticket actions and the dispatcher:
    the snapshot they store is what the wordings read."""
    from erpcare.channels.dispatch import dispatch_pending
    from erpcare.channels.models import NotificationRule

    mailbox("Support", "support@erpcare.example", server=smtp_server)
    rule = NotificationRule.objects.create(
        name="Requester hears about new tickets", events=["ticket.created"],
        recipient_roles=["requester"], channels=["email"], include_actor=True,
    )  # fmt: skip
    cast.alice.language = "zh-hans"
    cast.alice.save()
    ticket = create_ticket(cast.alice, title="工资条打印乱码", module="hr")
    assert dispatch_pending() >= 1
    deliver_due()
    mails = [m for m in smtp_server.messages if m.rcpt_tos == ["alice@acme.example"]]
    assert len(mails) == 1, (rule, [m.rcpt_tos for m in smtp_server.messages])
    msg = mails[0].message
    assert msg["Subject"].strip() == f"[{ticket.number}] 我们已收到您的请求：工资条打印乱码"
    text = msg.get_body(("plain",)).get_content()
    assert "Alice Wang，您好" in text
    assert "/portal/" in text
    assert "/desk/" not in text
