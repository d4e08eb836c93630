"""E-mail out: the "email" transport, and a test mail for the mailbox settings page.

Every message carries the loop-prevention headers and threads on the ticket: its own
Message-ID ``<erpcare.d<delivery>.<random>@<mail domain>>``, and In-Reply-To/References
with the ticket's root id ``<erpcare.ticket.<NUMBER>@<mail domain>>`` plus the last
message the customer sent us. The subject always carries ``[<NUMBER>]``. A payload may
name ``attachments`` kept in the media storage (the inspection reports' PDFs). Importing
this module registers the transport.
"""

from __future__ import annotations

import secrets
import smtplib
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import override

from erpcare.channels.email.templates import (
    SITE_NAME,
    format_time,
    message_key,
    normalise_language,
    render_email,
)
from erpcare.channels.models import (
    Delivery,
    DeliveryChannel,
    Event,
    EventName,
    InboundEmail,
    Mailbox,
    MailSecurity,
    MessageReference,
)
from erpcare.channels.transports import SendResult, register
from erpcare.core import clock
from erpcare.core.errors import ActionError

SMTP_TIMEOUT = 30
# Authentication and "relay denied" answers are about our settings, not this message:
# after the admin fixes the mailbox the same message can still go out.
_CONFIG_CODES = frozenset({530, 534, 535, 538, 454})


def mail_domain() -> str:
    return str(settings.ERPCARE_MAIL_DOMAIN)


def ticket_root_id(number: str) -> str:
    return f"<erpcare.ticket.{number}@{mail_domain()}>"


def new_message_id(delivery_id: int | None) -> str:
    return f"<erpcare.d{delivery_id or 0}.{secrets.token_hex(8)}@{mail_domain()}>"


def _bracketed(message_id: str) -> str:
    message_id = message_id.strip()
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def loop_headers() -> dict[str, str]:
    return {
        "Auto-Submitted": "auto-generated",
        "X-ERPCare-Loop": mail_domain(),
        # Exchange and Outlook: no out-of-office or read receipts back to a robot.
        "X-Auto-Response-Suppress": "All",
    }


def threading_headers(ticket_id: int | None, number: str) -> dict[str, str]:
    if not number:
        return {}
    references = [ticket_root_id(number)]
    if ticket_id is not None:
        last_in = (
            MessageReference.objects.filter(
                ticket_id=ticket_id, direction=MessageReference.Direction.IN
            )
            .order_by("-id")
            .values_list("message_id", flat=True)
            .first()
        )
        if last_in:
            references.append(_bracketed(last_in))
    return {"In-Reply-To": references[-1], "References": " ".join(references)}


def sender_mailbox(ticket_id: int | None) -> Mailbox | None:
    """The mailbox the ticket came in through, else the first active one."""
    if ticket_id is not None:
        first = (
            InboundEmail.objects.filter(
                ticket_id=ticket_id, mailbox__isnull=False, mailbox__is_active=True
            )
            .select_related("mailbox")
            .order_by("id")
            .first()
        )
        if first is not None and first.mailbox is not None:
            return first.mailbox
    return Mailbox.objects.filter(is_active=True).order_by("name", "id").first()


def _address(name: str, email: str) -> str:
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{email}>' if name else email


def connection_for(mailbox: Mailbox | None) -> BaseEmailBackend:
    """The mailbox's own SMTP server when it has one, else the installation's settings."""
    if mailbox is not None and mailbox.smtp_host:
        return SmtpBackend(
            host=mailbox.smtp_host,
            port=mailbox.smtp_port,
            username=mailbox.smtp_username,
            password=mailbox.smtp_password,
            use_tls=mailbox.smtp_security == MailSecurity.STARTTLS,
            use_ssl=mailbox.smtp_security == MailSecurity.TLS,
            timeout=SMTP_TIMEOUT,
            fail_silently=False,
        )
    return get_connection(fail_silently=False)


def _server_label(mailbox: Mailbox | None, connection: BaseEmailBackend) -> str:
    if isinstance(connection, SmtpBackend):
        return f"{connection.host}:{connection.port}"
    return type(connection).__module__.rsplit(".", 1)[-1]


def _send(message: EmailMultiAlternatives, connection: BaseEmailBackend) -> SendResult:
    """Send one message and classify what the server said: 4xx and connection trouble
    may pass, 5xx will not (except our own authentication settings)."""
    try:
        sent = connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()), (0, b""))
        return _refused(int(code), reply)
    except smtplib.SMTPResponseException as exc:
        return _refused(int(exc.smtp_code), exc.smtp_error)
    except (smtplib.SMTPException, OSError) as exc:
        return SendResult(ok=False, error=f"{type(exc).__name__}: {exc}", retryable=True)
    if not sent:
        return SendResult(ok=False, error=_("The message had no valid recipient."), retryable=False)
    return SendResult(ok=True, status_code=250, response="250 accepted")


def _refused(code: int, reply: bytes | str) -> SendResult:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    answer = f"{code} {text}".strip()
    retryable = not 500 <= code <= 599 or code in _CONFIG_CODES
    return SendResult(
        ok=False,
        status_code=code or None,
        response=answer[:2048],
        error=answer,
        retryable=retryable,
    )


class EmailTransport:
    channel = DeliveryChannel.EMAIL.value

    def render(self, delivery: Delivery) -> dict[str, object]:
        recipient = delivery.recipient
        to = delivery.address or (recipient.email if recipient is not None else "")
        if not to:
            raise ActionError(_("The delivery has no e-mail address."))
        for_customer = recipient is None or recipient.is_customer
        event = delivery.event
        if event is None and isinstance(delivery.payload.get("digest_items"), list):
            return self._render_digest(delivery, to, for_customer)
        if event is None:
            raise ActionError(_("The delivery has no event to describe."))
        key = message_key(event.name, for_customer=for_customer)
        snapshot: dict[str, Any] = event.data if isinstance(event.data, dict) else {}
        subject, text, html = render_email(
            key, delivery.language, snapshot, recipient, for_customer=for_customer
        )
        ticket = snapshot.get("ticket") or {}
        number = str(ticket.get("number", "")) if isinstance(ticket, dict) else ""
        if number and f"[{number}]" not in subject:
            subject = f"[{number}] {subject}"
        mailbox = sender_mailbox(event.ticket_id)
        sender = (
            _address(mailbox.name, mailbox.email)
            if mailbox is not None
            else settings.DEFAULT_FROM_EMAIL
        )
        headers = {
            "Message-ID": new_message_id(delivery.pk),
            **threading_headers(event.ticket_id, number),
            **loop_headers(),
        }
        if number:
            headers["X-ERPCare-Ticket"] = number
        return {
            "subject": subject,
            "text": text,
            "html": html,
            "headers": headers,
            "from": sender,
            "to": [to],
            "reply_to": [mailbox.email] if mailbox is not None else [],
            "mailbox_id": mailbox.pk if mailbox is not None else None,
        }

    def _render_digest(self, delivery: Delivery, to: str, for_customer: bool) -> dict[str, object]:
        """One mail listing the held events (the dispatcher collected their ids)."""
        ids = [int(i) for i in delivery.payload["digest_items"] if isinstance(i, int)]
        recipient = delivery.recipient
        language = normalise_language(delivery.language)
        tz_name = (recipient.time_zone if recipient is not None else "") or settings.TIME_ZONE
        lines = []
        with override(language):
            for event in Event.objects.filter(pk__in=ids).order_by("created_at", "pk"):
                try:
                    message_key(event.name, for_customer=for_customer)
                except ActionError:
                    continue  # staff-only events never reach a customer, not even in a digest
                ticket = event.data.get("ticket") if isinstance(event.data, dict) else None
                ticket = ticket if isinstance(ticket, dict) else {}
                url = ticket.get("portal_url" if for_customer else "desk_url", "")
                when = format_time(event.created_at.isoformat(), tz_name)
                lines.append(
                    f"- **[{ticket.get('number', '')}]** {ticket.get('title', '')} – "
                    f"{EventName(event.name).label} ({when})  \n  {url}"
                )
        if not lines:
            raise ActionError(_("The digest has nothing this recipient may read."))
        subject, text, html = render_email(
            "digest", language, {"digest": "\n".join(lines)}, recipient, for_customer=for_customer
        )
        mailbox = sender_mailbox(None)
        return {
            "subject": subject,
            "text": text,
            "html": html,
            "headers": {"Message-ID": new_message_id(delivery.pk), **loop_headers()},
            "from": _address(mailbox.name, mailbox.email)
            if mailbox is not None
            else settings.DEFAULT_FROM_EMAIL,
            "to": [to],
            "reply_to": [],
            "mailbox_id": mailbox.pk if mailbox is not None else None,
            "digest_items": ids,
        }

    def send(self, delivery: Delivery) -> SendResult:
        payload = delivery.payload
        headers = {str(k): str(v) for k, v in dict(payload.get("headers") or {}).items()}
        mailbox_id = payload.get("mailbox_id")
        mailbox = Mailbox.objects.filter(pk=mailbox_id).first() if mailbox_id else None
        connection = connection_for(mailbox)
        message = EmailMultiAlternatives(
            subject=str(payload.get("subject", "")),
            body=str(payload.get("text", "")),
            from_email=str(payload.get("from") or settings.DEFAULT_FROM_EMAIL),
            to=[str(a) for a in payload.get("to") or []],
            reply_to=[str(a) for a in payload.get("reply_to") or []],
            headers=headers,
            connection=connection,
        )
        if payload.get("html"):
            message.attach_alternative(str(payload["html"]), "text/html")
        for item in payload.get("attachments") or []:
            message.attach(*_stored_attachment(item))
        result = _send(message, connection)
        event = delivery.event
        if result.ok and event is not None and event.ticket_id and headers.get("Message-ID"):
            MessageReference.objects.get_or_create(
                message_id=headers["Message-ID"],
                defaults={
                    "ticket_id": event.ticket_id,
                    "direction": MessageReference.Direction.OUT,
                    "created_at": clock.now(),
                },
            )
        return result


def _stored_attachment(item: dict[str, Any]) -> tuple[str, bytes, str]:
    """(filename, bytes, type) of a file a sender saved in the media storage: deliveries
    keep a reference, not the bytes, so a retry reads the same file."""
    name = str(item.get("storage_name", ""))
    try:
        with default_storage.open(name, "rb") as stored:
            content = stored.read()
    except (OSError, ValueError):
        raise ActionError(
            _("The attachment %(name)s is no longer stored.") % {"name": item.get("filename", name)}
        ) from None
    filename = str(item.get("filename") or name.rsplit("/", 1)[-1])
    return filename, content, str(item.get("content_type") or "application/octet-stream")


email_transport = register(EmailTransport())


def smtp_check(mailbox: Mailbox | None, to: str) -> str:
    """Send a test mail through the mailbox's (or the installation's) server.
    Returns what happened; raises ActionError with the server's reason."""
    to = (to or "").strip()
    try:
        validate_email(to)
    except ValidationError:
        raise ActionError(_("Enter a valid e-mail address to send the test message to.")) from None
    connection = connection_for(mailbox)
    sender = (
        _address(mailbox.name, mailbox.email)
        if mailbox is not None
        else settings.DEFAULT_FROM_EMAIL
    )
    # In the language of the admin who asked: they are the one reading it.
    subject = _("%(site)s test message") % {"site": SITE_NAME}
    body = _("This is a test message from %(site)s. If you can read it, sending mail works.") % {
        "site": SITE_NAME
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=sender,
        to=[to],
        headers={"Message-ID": new_message_id(None), **loop_headers()},
        connection=connection,
    )
    result = _send(message, connection)
    server = _server_label(mailbox, connection)
    if not result.ok:
        raise ActionError(
            _("The mail server %(server)s did not accept the test message: %(reason)s")
            % {"server": server, "reason": result.error}
        )
    return _("The mail server %(server)s accepted the test message to %(to)s.") % {
        "server": server,
        "to": to,
    }
