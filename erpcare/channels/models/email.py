"""E-mail: the mailboxes we read and send from, every message that came in, threading."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from erpcare.core.crypto import EncryptedTextField


class MailSecurity(models.TextChoices):
    TLS = "tls", _("TLS from the start (IMAPS 993 / SMTPS 465)")
    STARTTLS = "starttls", _("STARTTLS (IMAP 143 / SMTP 587)")
    NONE = "none", _("None (only inside a trusted network)")


class UnknownSenderPolicy(models.TextChoices):
    CONTACT_IN_DOMAIN = (
        "contact_in_domain",
        _("Create a contact when the sender's domain belongs to a customer; otherwise hold"),
    )
    HOLD = "hold", _("Hold for review")


class Mailbox(models.Model):
    """A support address: read over IMAP, and the address replies are sent from."""

    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("address"), unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    imap_host = models.CharField(_("IMAP server"), max_length=200)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(
        _("IMAP security"), max_length=10, choices=MailSecurity.choices, default=MailSecurity.TLS
    )
    imap_username = models.CharField(_("IMAP user name"), max_length=200)
    imap_password = EncryptedTextField(_("IMAP password"), blank=True)
    folders = models.JSONField(_("folders"), default=list, blank=True)
    # Outgoing mail for this address; an empty host means the installation's SMTP settings.
    smtp_host = models.CharField(_("SMTP server"), max_length=200, blank=True)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=587)
    smtp_security = models.CharField(
        _("SMTP security"),
        max_length=10,
        choices=MailSecurity.choices,
        default=MailSecurity.STARTTLS,
    )
    smtp_username = models.CharField(_("SMTP user name"), max_length=200, blank=True)
    smtp_password = EncryptedTextField(_("SMTP password"), blank=True)
    organization = models.ForeignKey(
        "customers.Organization",
        verbose_name=_("customer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Mail to this address is for this customer; empty: by the sender."),
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("queue"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    unknown_sender_policy = models.CharField(
        _("unknown senders"),
        max_length=24,
        choices=UnknownSenderPolicy.choices,
        default=UnknownSenderPolicy.CONTACT_IN_DOMAIN,
    )
    last_fetch_at = models.DateTimeField(_("last fetched"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def folder_names(self) -> list[str]:
        return [str(f) for f in self.folders] or ["INBOX"]


class MailboxFolder(models.Model):
    """How far a folder has been read: IMAP UIDs are only meaningful with their UIDVALIDITY."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="folder_states")
    name = models.CharField(_("folder"), max_length=200)
    uidvalidity = models.BigIntegerField(default=0)
    last_uid = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "name"], name="mailbox_folder_unique")
        ]

    def __str__(self) -> str:
        return f"{self.mailbox_id}:{self.name}"


class CustomerMailDomain(models.Model):
    """Mail from this domain belongs to this customer (for the unknown-sender policy)."""

    organization = models.ForeignKey(
        "customers.Organization",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="mail_domains",
    )
    domain = models.CharField(_("domain"), max_length=200, unique=True)

    class Meta:
        verbose_name = _("customer mail domain")
        verbose_name_plural = _("customer mail domains")
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class IntakeState(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSING = "processing", _("Processing")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    HELD = "held", _("Held for review")
    FAILED = "failed", _("Failed")


class InboundEmail(models.Model):
    """One message as it arrived. The raw .eml is stored before anything parses it."""

    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    folder = models.CharField(_("folder"), max_length=200, blank=True)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    uid = models.BigIntegerField(null=True, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    raw = models.FileField(_("raw message"), upload_to="mail/%Y/%m/", max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    from_address = models.CharField(_("from"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=IntakeState.choices, default=IntakeState.RECEIVED
    )
    # Why a message was ignored or held: auto_reply, bounce, own_mail, flood, unknown_sender…
    reason = models.CharField(_("reason"), max_length=32, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    comment = models.ForeignKey(
        "tickets.Comment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(_("received"))
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("incoming e-mail")
        verbose_name_plural = _("incoming e-mails")
        ordering = ["-id"]
        constraints = [
            # Two workers reading one mailbox: the second insert of a UID fails, so each
            # message is taken once.
            models.UniqueConstraint(
                fields=["mailbox", "folder", "uidvalidity", "uid"],
                condition=Q(uid__isnull=False),
                name="inbound_email_uid_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["message_id"], name="inbound_email_message_id"),
            models.Index(fields=["state", "-id"], name="inbound_email_state"),
            models.Index(fields=["from_address", "received_at"], name="inbound_email_sender"),
        ]

    def __str__(self) -> str:
        return self.subject or self.message_id or f"#{self.pk}"


class MessageReference(models.Model):
    """A Message-ID we sent or received, and the ticket it belongs to (for threading)."""

    class Direction(models.TextChoices):
        IN = "in", _("Received")
        OUT = "out", _("Sent")

    message_id = models.CharField(max_length=255, unique=True)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.message_id


class EmailTemplate(models.Model):
    """An admin's wording of one kind of e-mail in one language.

    Subject and body may use only the fixed placeholders listed in the channel admin
    (``{ticket_number}``, ``{ticket_title}``…); they are filled in by plain substitution,
    never run as template code. Without a row, the built-in wording is used.
    """

    key = models.CharField(_("message"), max_length=40)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    updated_at = models.DateTimeField(_("changed"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("e-mail template")
        verbose_name_plural = _("e-mail templates")
        constraints = [
            models.UniqueConstraint(fields=["key", "language"], name="email_template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.language})"
