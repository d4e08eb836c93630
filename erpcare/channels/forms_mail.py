"""Forms of the e-mail channel admin pages.

They check the shape of the input; the rules (unique address, a queue that serves the
customer, template placeholders, domain syntax) are ``channels.mail_admin``'s, and its
ActionError is shown as the form's error. Password fields never render a saved value.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from erpcare.accounts.models import Team
from erpcare.channels.mail_admin import MailboxSettings, parse_folders
from erpcare.channels.models import IntakeState, Mailbox, MailSecurity, UnknownSenderPolicy
from erpcare.customers.models import Organization
from erpcare.tickets.forms import StyledForm


def _organizations(*, active_only: bool = False) -> forms.ModelChoiceField:
    # A mailbox may keep a customer that was deactivated since; new links need an active one.
    queryset = Organization.objects.order_by("name")
    return forms.ModelChoiceField(
        queryset=queryset.filter(is_active=True) if active_only else queryset,
        required=False,
        empty_label="—",
    )


class MailboxForm(StyledForm):
    id_prefix = "mailbox"

    name = forms.CharField(label=_("Name"), max_length=100)
    email = forms.EmailField(label=_("Address"), max_length=254)
    imap_host = forms.CharField(label=_("IMAP server"), max_length=200)
    imap_port = forms.IntegerField(label=_("IMAP port"), min_value=1, max_value=65535)
    imap_security = forms.ChoiceField(label=_("IMAP security"), choices=MailSecurity.choices)
    imap_username = forms.CharField(label=_("IMAP user name"), max_length=200)
    imap_password = forms.CharField(
        label=_("IMAP password"),
        required=False,
        max_length=500,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    folders = forms.CharField(
        label=_("Folders"),
        required=False,
        max_length=2000,
        help_text=_("Comma-separated, e.g. INBOX, Support; empty: INBOX."),
    )
    smtp_host = forms.CharField(
        label=_("SMTP server"),
        required=False,
        max_length=200,
        help_text=_("Empty: send through the installation's SMTP settings."),
    )
    smtp_port = forms.IntegerField(label=_("SMTP port"), min_value=1, max_value=65535)
    smtp_security = forms.ChoiceField(label=_("SMTP security"), choices=MailSecurity.choices)
    smtp_username = forms.CharField(label=_("SMTP user name"), required=False, max_length=200)
    smtp_password = forms.CharField(
        label=_("SMTP password"),
        required=False,
        max_length=500,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    organization = _organizations()
    team = forms.ModelChoiceField(
        label=_("Queue"),
        queryset=Team.objects.order_by("tier", "name"),
        required=False,
        empty_label="—",
    )
    unknown_sender_policy = forms.ChoiceField(
        label=_("Unknown senders"), choices=UnknownSenderPolicy.choices
    )

    def __init__(self, *args: Any, mailbox: Mailbox | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mailbox = mailbox
        org = cast(forms.ModelChoiceField, self.fields["organization"])
        org.label = _("Customer")
        org.help_text = _("Mail to this address is for this customer; empty: by the sender.")
        if mailbox is not None:
            for name in ("imap_password", "smtp_password"):
                self.fields[name].help_text = _("Leave empty to keep the saved password.")

    @staticmethod
    def initial_for(mailbox: Mailbox) -> dict[str, Any]:
        return {
            "name": mailbox.name,
            "email": mailbox.email,
            "imap_host": mailbox.imap_host,
            "imap_port": mailbox.imap_port,
            "imap_security": mailbox.imap_security,
            "imap_username": mailbox.imap_username,
            "folders": ", ".join(mailbox.folders),
            "smtp_host": mailbox.smtp_host,
            "smtp_port": mailbox.smtp_port,
            "smtp_security": mailbox.smtp_security,
            "smtp_username": mailbox.smtp_username,
            "organization": mailbox.organization_id,
            "team": mailbox.team_id,
            "unknown_sender_policy": mailbox.unknown_sender_policy,
        }

    def imap_fields(self) -> list[forms.BoundField]:
        names = ("imap_host", "imap_port", "imap_security", "imap_username", "imap_password")
        return [self[name] for name in (*names, "folders")]

    def smtp_fields(self) -> list[forms.BoundField]:
        names = ("smtp_host", "smtp_port", "smtp_security", "smtp_username", "smtp_password")
        return [self[name] for name in names]

    def routing_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("organization", "team", "unknown_sender_policy")]

    def settings(self) -> MailboxSettings:
        data = self.cleaned_data
        return MailboxSettings(
            name=data["name"],
            email=data["email"],
            imap_host=data["imap_host"].strip(),
            imap_port=data["imap_port"],
            imap_security=data["imap_security"],
            imap_username=data["imap_username"].strip(),
            imap_password=data["imap_password"] or None,
            folders=parse_folders(data["folders"]),
            smtp_host=data["smtp_host"].strip(),
            smtp_port=data["smtp_port"],
            smtp_security=data["smtp_security"],
            smtp_username=data["smtp_username"].strip(),
            smtp_password=data["smtp_password"] or None,
            organization=data["organization"],
            team=data["team"],
            unknown_sender_policy=data["unknown_sender_policy"],
        )


MESSAGE_STATES = [
    (IntakeState.FAILED, IntakeState.FAILED.label),
    (IntakeState.HELD, IntakeState.HELD.label),
    (IntakeState.IGNORED, IntakeState.IGNORED.label),
    (IntakeState.PROCESSED, IntakeState.PROCESSED.label),
    (IntakeState.RECEIVED, IntakeState.RECEIVED.label),
]


class MessageFilterForm(StyledForm):
    """The incoming-mail list's filters; an unknown value is ignored, not an error page."""

    id_prefix = "filter"

    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All states")), *MESSAGE_STATES]
    )
    mailbox = forms.ModelChoiceField(
        label=_("Mailbox"),
        queryset=Mailbox.objects.order_by("name"),
        required=False,
        empty_label=_("All mailboxes"),
    )


class ReleaseForm(StyledForm):
    id_prefix = "release"

    organization = _organizations(active_only=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["organization"])
        field.label = _("Release into customer")
        field.empty_label = _("— by the sender's domain —")


class DomainForm(StyledForm):
    id_prefix = "domain"

    organization = forms.ModelChoiceField(
        label=_("Customer"), queryset=Organization.objects.filter(is_active=True).order_by("name")
    )
    domain = forms.CharField(
        label=_("Domain"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "acme.com.cn"}),
    )


class TemplateForm(StyledForm):
    id_prefix = "template"

    subject = forms.CharField(label=_("Subject"), max_length=300)
    body = forms.CharField(
        label=_("Text"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 14, "class": "form-control font-monospace"}),
        help_text=_("Markdown; only the placeholders listed are filled in."),
    )
