"""Channel admin for e-mail: mailboxes, customer mail domains, e-mail templates, and the
buttons of those pages that reach into mail in (IMAP, intake) and mail out (SMTP, templates).

Every function takes the actor first and checks ``require_channel_admin`` before anything
else. Secrets (IMAP/SMTP passwords) are write-only: an empty value on edit keeps the saved
one, and the audit trail records that a secret changed, never the secret.

Connecting, fetching and intake belong to mail in (``channels.email.inbound``), sending
and the wordings to mail out (``channels.email.outbound``, ``channels.email.templates``);
the functions here check the role and call them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from html import unescape
from typing import Any

import nh3
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from erpcare.accounts.models import Team, User
from erpcare.audit.services import record
from erpcare.channels.email import outbound, templates
from erpcare.channels.email.defaults import WORDINGS
from erpcare.channels.email.inbound import fetch, intake
from erpcare.channels.models import (
    CustomerMailDomain,
    EmailTemplate,
    InboundEmail,
    IntakeState,
    Mailbox,
    MailSecurity,
    UnknownSenderPolicy,
)
from erpcare.channels.permissions import require_channel_admin
from erpcare.core import clock
from erpcare.core.errors import ActionError, NotAllowed
from erpcare.customers.models import Organization

MAX_FOLDERS = 20
log = logging.getLogger(__name__)
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


# ---------------------------------------------------------------------------
# Mailboxes
# ---------------------------------------------------------------------------


@dataclass
class MailboxSettings:
    """What the mailbox form submits. ``None`` for a password keeps the saved one."""

    name: str
    email: str
    imap_host: str
    imap_port: int
    imap_security: str
    imap_username: str
    imap_password: str | None
    folders: list[str] = field(default_factory=list)
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = MailSecurity.STARTTLS
    smtp_username: str = ""
    smtp_password: str | None = None
    organization: Organization | None = None
    team: Team | None = None
    unknown_sender_policy: str = UnknownSenderPolicy.CONTACT_IN_DOMAIN


PLAIN_FIELDS = (
    "name",
    "email",
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_username",
    "folders",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "unknown_sender_policy",
)


def parse_folders(text: str) -> list[str]:
    """``INBOX, Support/客户`` → the folder names, in order, without duplicates."""
    names: list[str] = []
    for part in text.split(","):
        name = part.strip()
        if name and name not in names:
            names.append(name)
    return names


def _check_mailbox(spec: MailboxSettings, mailbox: Mailbox | None) -> None:
    if not spec.name.strip():
        raise ActionError(_("Give the mailbox a name."))
    for port in (spec.imap_port, spec.smtp_port):
        if not 1 <= port <= 65535:
            raise ActionError(_("A port is a number from 1 to 65535."))
    for security in (spec.imap_security, spec.smtp_security):
        if security not in MailSecurity.values:
            raise ActionError(_("Choose how the connection is secured."))
    if spec.unknown_sender_policy not in UnknownSenderPolicy.values:
        raise ActionError(_("Choose what happens to mail from unknown senders."))
    if len(spec.folders) > MAX_FOLDERS:
        raise ActionError(_("A mailbox reads at most 20 folders."))
    for folder in spec.folders:
        if len(folder) > 200 or any(ord(ch) < 32 for ch in folder):
            raise ActionError(_("Folder names are plain text of at most 200 characters."))
    if not spec.imap_host.strip() or not spec.imap_username.strip():
        raise ActionError(_("The IMAP server and user name are required."))
    has_password = bool(spec.imap_password) or bool(mailbox and mailbox.imap_password)
    if not has_password:
        raise ActionError(_("Enter the IMAP password."))
    taken = Mailbox.objects.filter(email__iexact=spec.email)
    if mailbox is not None:
        taken = taken.exclude(pk=mailbox.pk)
    if taken.exists():
        raise ActionError(_("Another mailbox already uses this address."))
    if spec.team is not None and spec.organization is not None:
        serves = (
            spec.team.serves_all_customers
            or spec.team.customers.filter(pk=spec.organization.pk).exists()
        )
        if not serves:
            raise ActionError(_("The queue does not serve this customer."))


def save_mailbox(actor: User, mailbox: Mailbox | None, spec: MailboxSettings) -> Mailbox:
    """Create a mailbox (``mailbox=None``) or change one; passwords left empty are kept."""
    require_channel_admin(actor)
    spec.email = spec.email.strip().lower()
    spec.name = spec.name.strip()
    _check_mailbox(spec, mailbox)
    with transaction.atomic():
        if mailbox is None:
            row = Mailbox(created_at=clock.now())
            before: dict[str, Any] = {}
        else:
            row = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
            before = {name: getattr(row, name) for name in PLAIN_FIELDS}
            before["organization"] = row.organization_id
            before["team"] = row.team_id
        for name in PLAIN_FIELDS:
            setattr(row, name, getattr(spec, name))
        row.organization = spec.organization
        row.team = spec.team
        secrets = []
        if spec.imap_password:
            row.imap_password = spec.imap_password
            secrets.append("imap_password")
        if spec.smtp_password:
            row.smtp_password = spec.smtp_password
            secrets.append("smtp_password")
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            raise ActionError(_("Another mailbox already uses this address.")) from None
        after = {name: getattr(row, name) for name in PLAIN_FIELDS}
        after["organization"] = row.organization_id
        after["team"] = row.team_id
        changed = sorted(name for name in after if before.get(name) != after[name])
        record(
            actor=actor,
            action="channels.mailbox.created" if mailbox is None else "channels.mailbox.updated",
            target=row,
            data={"email": row.email, "changed": changed, "secrets_changed": secrets},
        )
    return row


def set_mailbox_active(actor: User, mailbox: Mailbox, *, active: bool) -> Mailbox:
    """A deactivated mailbox is no longer fetched nor used as a sender; its mail stays."""
    require_channel_admin(actor)
    with transaction.atomic():
        row = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        if row.is_active == active:
            return row
        row.is_active = active
        row.save(update_fields=["is_active"])
        record(
            actor=actor,
            action="channels.mailbox.activated" if active else "channels.mailbox.deactivated",
            target=row,
            data={"email": row.email},
        )
    return row


def mailboxes_with_counts() -> QuerySet[Mailbox]:
    return Mailbox.objects.select_related("organization", "team").annotate(
        failed_count=Count("messages", filter=Q(messages__state=IntakeState.FAILED)),
        held_count=Count("messages", filter=Q(messages__state=IntakeState.HELD)),
    )


def check_imap(actor: User, mailbox: Mailbox) -> str:
    """Sign in to the IMAP server and list the folders; the server's answer, or ActionError."""
    require_channel_admin(actor)
    return fetch.imap_check(mailbox)


def check_smtp(actor: User, mailbox: Mailbox | None, to: str) -> str:
    """Send a test mail to ``to`` (the admin's own address) through the mailbox's server."""
    require_channel_admin(actor)
    if not to:
        raise ActionError(_("Your account has no e-mail address to send the test to."))
    return outbound.smtp_check(mailbox, to)


def fetch_now(actor: User, mailbox: Mailbox) -> dict[str, int]:
    require_channel_admin(actor)
    if not mailbox.is_active:
        raise ActionError(_("The mailbox is deactivated; activate it to fetch mail."))
    try:
        counts = fetch.fetch_mailbox(mailbox)
    except ActionError:
        raise
    except Exception as exc:
        # The fetch records the error on the mailbox; the person who pressed the button
        # gets it as a message instead of an error page.
        log.exception("fetching mailbox %s failed", mailbox.pk)
        raise ActionError(
            _("Fetching failed: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}
        ) from exc
    record(actor=actor, action="channels.mailbox.fetched", target=mailbox, data=counts)
    return counts


# ---------------------------------------------------------------------------
# Incoming mail
# ---------------------------------------------------------------------------


def read_raw(actor: User, message: InboundEmail) -> bytes:
    """The stored .eml, for download. Raw mail is sensitive (it holds what the customer
    sent before any trimming), so only staff managers and admins get it, and it is audited."""
    require_channel_admin(actor)
    if not actor.is_staff:
        raise NotAllowed(_("Only staff can download raw e-mail."))
    if not message.raw:
        raise ActionError(_("The raw message of this e-mail is not stored."))
    try:
        with message.raw.open("rb") as handle:
            data: bytes = handle.read()
    except OSError:
        raise ActionError(_("The raw message of this e-mail cannot be read.")) from None
    record(
        actor=actor,
        action="channels.inbound_email.downloaded",
        target=message,
        data={"sha256": message.sha256, "size": len(data), "sensitive": True},
    )
    return data


def reprocess(actor: User, message: InboundEmail) -> InboundEmail:
    require_channel_admin(actor)
    return intake.reprocess(actor, message)


def release_held(
    actor: User, message: InboundEmail, organization: Organization | None
) -> InboundEmail:
    require_channel_admin(actor)
    if message.state != IntakeState.HELD:
        raise ActionError(_("Only held messages can be released."))
    return intake.release_held(actor, message, organization)


# ---------------------------------------------------------------------------
# Customer mail domains
# ---------------------------------------------------------------------------


def normalize_domain(text: str) -> str:
    """A mail domain as stored: lower case, ASCII (IDNA) form, without ``@``."""
    domain = text.strip().lower().rstrip(".")
    if "@" in domain:
        raise ActionError(_("Enter only the domain, without “@” (e.g. acme.com.cn)."))
    if "." not in domain:
        raise ActionError(_("A mail domain has at least one dot (e.g. acme.com.cn)."))
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ActionError(_("This is not a valid domain name.")) from None
    labels = ascii_domain.split(".")
    if len(ascii_domain) > 200 or not all(_LABEL.match(label) for label in labels):
        raise ActionError(_("This is not a valid domain name."))
    if labels[-1].isdigit():
        raise ActionError(_("Enter a domain name, not an IP address."))
    return ascii_domain


def add_domain(actor: User, organization: Organization, domain: str) -> CustomerMailDomain:
    require_channel_admin(actor)
    name = normalize_domain(domain)
    existing = CustomerMailDomain.objects.filter(domain=name).select_related("organization").first()
    if existing is not None:
        raise ActionError(
            _("The domain %(domain)s already belongs to %(customer)s.")
            % {"domain": name, "customer": existing.organization.name}
        )
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = CustomerMailDomain.objects.create(organization=organization, domain=name)
        except IntegrityError:
            raise ActionError(
                _("The domain %(domain)s already belongs to a customer.") % {"domain": name}
            ) from None
        record(
            actor=actor,
            action="channels.mail_domain.added",
            target=row,
            data={"domain": name, "organization": organization.code},
        )
    return row


def remove_domain(actor: User, domain: CustomerMailDomain) -> None:
    require_channel_admin(actor)
    with transaction.atomic():
        record(
            actor=actor,
            action="channels.mail_domain.removed",
            target=domain,
            data={"domain": domain.domain, "organization": domain.organization.code},
        )
        domain.delete()


# ---------------------------------------------------------------------------
# E-mail templates
# ---------------------------------------------------------------------------


def template_keys() -> list[str]:
    return list(templates.MESSAGE_KEYS)


def template_languages() -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in settings.LANGUAGES]


def placeholders() -> list[str]:
    """The placeholders a template may use, like ``{ticket_number}``."""
    return [f"{{{name}}}" for name in templates.PLACEHOLDERS]


def builtin_wording(key: str, language: str) -> tuple[str, str]:
    """The built-in subject and body of a key (one of ``template_keys``) in a language."""
    return WORDINGS[key][language]


def is_customer_wording(key: str) -> bool:
    """Whether ``key`` is written to customers (the preview fills it as a customer sees it)."""
    return key in {customer for customer, _staff in templates.EVENT_KEYS.values() if customer}


def _check_key(key: str, language: str) -> None:
    if key not in template_keys():
        raise ActionError(_("There is no e-mail of this kind."))
    if language not in dict(settings.LANGUAGES):
        raise ActionError(_("This language is not offered."))


def validate_template(subject: str, body: str) -> None:
    if not subject.strip() or not body.strip():
        raise ActionError(_("A template needs a subject and a text."))
    if "\n" in subject or "\r" in subject:
        raise ActionError(_("The subject is one line."))
    templates.validate_template(subject, body)


def save_template(
    actor: User, key: str, language: str, *, subject: str, body: str
) -> EmailTemplate:
    """Override the built-in wording of ``key`` in ``language``."""
    require_channel_admin(actor)
    _check_key(key, language)
    validate_template(subject, body)
    with transaction.atomic():
        row, created = EmailTemplate.objects.select_for_update().get_or_create(
            key=key,
            language=language,
            defaults={
                "subject": subject,
                "body": body,
                "updated_at": clock.now(),
                "updated_by": actor,
            },
        )
        if not created:
            row.subject, row.body = subject, body
            row.updated_at, row.updated_by = clock.now(), actor
            row.save()
        record(
            actor=actor,
            action="channels.email_template.saved",
            target=row,
            data={"key": key, "language": language},
        )
    return row


def reset_template(actor: User, key: str, language: str) -> bool:
    """Delete the override: the built-in wording applies again. False if there was none."""
    require_channel_admin(actor)
    _check_key(key, language)
    with transaction.atomic():
        row = EmailTemplate.objects.filter(key=key, language=language).first()
        if row is None:
            return False
        record(
            actor=actor,
            action="channels.email_template.reset",
            target=row,
            data={"key": key, "language": language},
        )
        row.delete()
    return True


def sample_snapshot() -> dict[str, Any]:
    """An event snapshot of a made-up ticket, for previews (the shape ``Event.data`` has)."""
    number = "INC-2026-000123"
    site = settings.SITE_URL
    return {
        "ticket": {
            "id": 0,
            "number": number,
            "title": _("Month-end closing fails in the general ledger"),
            "type": "incident",
            "priority": 1,
            "status": "in_progress",
            "channel": "email",
            "module": "gl",
            "category": "system",
            "organization": {"id": 0, "code": "sample", "name": _("Sample Manufacturing Ltd.")},
            "team": {"id": 0, "name": _("Finance L1")},
            "assignee": {"id": 0, "name": _("Lina Zhao"), "email": "agent@example.com"},
            "requester": {"id": 0, "name": _("Alice Wang"), "email": "alice@example.com"},
            "response_due_at": "2026-11-23T10:30:00+08:00",
            "resolution_due_at": "2026-11-24T14:00:00+08:00",
            "sla_state": "ok",
            "created_at": "2026-11-20T17:30:00+08:00",
            "desk_url": f"{site}/desk/tickets/{number}/",
            "portal_url": f"{site}/portal/tickets/{number}/",
        },
        "actor": {"id": 0, "name": _("Lina Zhao")},
        "comment": {
            "id": 0,
            "body": _("We restarted the posting job; please run the closing again."),
            "internal": False,
            "author": _("Lina Zhao"),
            "channel": "web",
        },
        "changes": [{"field": "status", "old": "new", "new": "in_progress"}],
        "sla": {"target": "response", "due_at": "2026-11-23T10:30:00+08:00", "state": "warning"},
    }


@dataclass
class Preview:
    subject: str
    text: str
    html: str


class _Rollback(Exception):
    pass


def preview_template(actor: User, key: str, language: str, *, subject: str, body: str) -> Preview:
    """The mail ``key`` would be with this subject and body, for the sample ticket.

    The wording is saved and rendered inside a transaction that is rolled back, so the
    preview goes through exactly the renderer the outbox uses and nothing is kept.
    """
    require_channel_admin(actor)
    _check_key(key, language)
    validate_template(subject, body)
    result: Preview | None = None
    try:
        with transaction.atomic():
            EmailTemplate.objects.update_or_create(
                key=key,
                language=language,
                defaults={
                    "subject": subject,
                    "body": body,
                    "updated_at": clock.now(),
                    "updated_by": actor,
                },
            )
            rendered_subject, text, html = templates.render_email(
                key,
                language,
                sample_snapshot(),
                actor,
                for_customer=is_customer_wording(key),
            )
            result = Preview(rendered_subject, text, html)
            raise _Rollback
    except _Rollback:
        pass
    assert result is not None
    return result


# ---------------------------------------------------------------------------
# Reading a stored message for the detail page
# ---------------------------------------------------------------------------

SHOWN_HEADERS = (
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
    "X-Autoreply",
    "Precedence",
    "X-ERPCare-Loop",
)
MAX_SHOWN_TEXT = 100_000


@dataclass
class MessageView:
    headers: list[tuple[str, str]] = field(default_factory=list)
    text: str = ""
    attachments: list[tuple[str, str, int]] = field(default_factory=list)
    problem: str = ""


def describe_message(message: InboundEmail) -> MessageView:
    """Headers, the plain text and the attachment list of the stored .eml, for reading.

    Parsing here is for display only and never raises: a message that made intake fail
    must still be viewable, so a problem is reported in the view instead.
    """
    view = MessageView()
    if not message.raw:
        view.problem = _("The raw message of this e-mail is not stored.")
        return view
    try:
        with message.raw.open("rb") as handle:
            raw = handle.read()
    except OSError:
        view.problem = _("The raw message of this e-mail cannot be read.")
        return view
    try:
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        for name in SHOWN_HEADERS:
            for value in parsed.get_all(name) or []:
                view.headers.append((name, str(value)))
        body = parsed.get_body(preferencelist=("plain", "html"))
        if body is not None:
            content = body.get_content()
            if body.get_content_type() == "text/html":
                content = _html_to_text(str(content))
            view.text = str(content)[:MAX_SHOWN_TEXT]
        for part in parsed.iter_attachments():
            payload = part.get_payload(decode=True)
            size = len(payload) if isinstance(payload, bytes) else 0
            view.attachments.append((part.get_filename() or "", part.get_content_type(), size))
    except Exception as exc:  # any parser failure is shown, not raised
        view.problem = _("The message cannot be parsed: %(error)s") % {"error": exc}
    return view


def _html_to_text(html: str) -> str:
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</li>", "\n", html)
    text = nh3.clean(text, tags=set())
    return re.sub(r"\n{3,}", "\n\n", unescape(text)).strip()
