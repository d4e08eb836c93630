"""E-mail channel admin pages: mailboxes, incoming mail, customer mail domains, templates.

For support managers and administrators (``can_manage_channels``); everybody else gets
404, as if the pages did not exist. Views are thin: every change is one call into
``channels.mail_admin``, whose ActionError becomes a form error or a flash message, and
nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from erpcare.channels import mail_admin
from erpcare.channels.forms_mail import (
    DomainForm,
    MailboxForm,
    MessageFilterForm,
    ReleaseForm,
    TemplateForm,
)
from erpcare.channels.models import (
    CustomerMailDomain,
    EmailTemplate,
    InboundEmail,
    IntakeState,
    Mailbox,
)
from erpcare.channels.permissions import can_manage_channels
from erpcare.core.crypto import mask
from erpcare.core.errors import ActionError
from erpcare.tickets.views.common import (
    current_user,
    page_number,
    paginate,
    render_htmx,
    view_for,
)

View = Callable[..., HttpResponseBase]


# Managers and admins (always staff); everyone else gets 404.
channel_admin_view = view_for(can_manage_channels)


# ---------------------------------------------------------------------------
# Mailboxes
# ---------------------------------------------------------------------------


@channel_admin_view
@require_GET
def mailboxes(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "channels/mail/mailboxes.html",
        {"mailboxes": list(mail_admin.mailboxes_with_counts())},
    )


def _render_mailbox(
    request: HttpRequest, mailbox: Mailbox | None, form: MailboxForm, status: int = 200
) -> HttpResponse:
    context = {
        "mailbox": mailbox,
        "form": form,
        "imap_password_hint": mask(mailbox.imap_password) if mailbox else "",
        "smtp_password_hint": mask(mailbox.smtp_password) if mailbox else "",
    }
    return render(request, "channels/mail/mailbox_form.html", context, status=status)


def _save_mailbox(request: HttpRequest, mailbox: Mailbox | None) -> HttpResponse:
    form = MailboxForm(request.POST, mailbox=mailbox)
    if not form.is_valid():
        return _render_mailbox(request, mailbox, form, status=400)
    try:
        saved = mail_admin.save_mailbox(current_user(request), mailbox, form.settings())
    except ActionError as exc:
        form.add_error(None, exc.message)
        fresh = Mailbox.objects.get(pk=mailbox.pk) if mailbox else None
        return _render_mailbox(request, fresh, form, status=exc.status_code)
    messages.success(request, _("Mailbox %(email)s saved.") % {"email": saved.email})
    return redirect("channels_mail:mailbox", mailbox_id=saved.pk)


@channel_admin_view
def mailbox_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save_mailbox(request, None)
    form = MailboxForm(
        initial={
            "imap_port": 993,
            "imap_security": "tls",
            "smtp_port": 587,
            "smtp_security": "starttls",
            "folders": "INBOX",
            "unknown_sender_policy": "contact_in_domain",
        }
    )
    return _render_mailbox(request, None, form)


@channel_admin_view
def mailbox_edit(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    mailbox = get_object_or_404(
        Mailbox.objects.select_related("organization", "team"), pk=mailbox_id
    )
    if request.method == "POST":
        return _save_mailbox(request, mailbox)
    form = MailboxForm(initial=MailboxForm.initial_for(mailbox), mailbox=mailbox)
    return _render_mailbox(request, mailbox, form)


def _mailbox_action(
    request: HttpRequest, mailbox_id: int, run: Callable[[Mailbox], str]
) -> HttpResponse:
    mailbox = get_object_or_404(Mailbox, pk=mailbox_id)
    try:
        message = run(mailbox)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, message)
    return redirect("channels_mail:mailbox", mailbox_id=mailbox.pk)


@channel_admin_view
@require_POST
def mailbox_test_imap(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    user = current_user(request)

    def run(mailbox: Mailbox) -> str:
        answer = mail_admin.check_imap(user, mailbox)
        return _("IMAP sign-in works: %(answer)s") % {"answer": answer}

    return _mailbox_action(request, mailbox_id, run)


@channel_admin_view
@require_POST
def mailbox_test_smtp(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    user = current_user(request)

    def run(mailbox: Mailbox) -> str:
        # The mail module's answer names the server and the recipient already.
        return mail_admin.check_smtp(user, mailbox, user.email)

    return _mailbox_action(request, mailbox_id, run)


@channel_admin_view
@require_POST
def mailbox_fetch(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    user = current_user(request)

    def run(mailbox: Mailbox) -> str:
        counts = mail_admin.fetch_now(user, mailbox)
        summary = ", ".join(f"{key}: {value}" for key, value in sorted(counts.items()))
        return _("Mail fetched (%(summary)s).") % {"summary": summary or "0"}

    return _mailbox_action(request, mailbox_id, run)


@channel_admin_view
@require_POST
def mailbox_set_active(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    active = request.POST.get("active") == "1"
    user = current_user(request)

    def run(mailbox: Mailbox) -> str:
        mail_admin.set_mailbox_active(user, mailbox, active=active)
        if active:
            return _("The mailbox is active again.")
        return _("The mailbox is deactivated: it is no longer fetched nor used to send.")

    return _mailbox_action(request, mailbox_id, run)


# ---------------------------------------------------------------------------
# Incoming mail
# ---------------------------------------------------------------------------


@channel_admin_view
@require_GET
def inbound_messages(request: HttpRequest) -> HttpResponse:
    filters = MessageFilterForm(request.GET)
    rows = InboundEmail.objects.select_related("mailbox", "ticket")
    if filters.is_valid():
        if filters.cleaned_data["state"]:
            rows = rows.filter(state=filters.cleaned_data["state"])
        if filters.cleaned_data["mailbox"]:
            rows = rows.filter(mailbox=filters.cleaned_data["mailbox"])
    context = {
        "filters": filters,
        "page": paginate(rows.order_by("-id"), page_number(request)),
        "base_url": request.path,
        "target": "#message-list",
    }
    return render_htmx(
        request, "channels/mail/messages.html", "channels/mail/partials/message_list.html", context
    )


def _get_message(message_id: int) -> InboundEmail:
    return get_object_or_404(
        InboundEmail.objects.select_related("mailbox", "ticket", "comment"), pk=message_id
    )


@channel_admin_view
@require_GET
def inbound_message(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _get_message(message_id)
    return render(
        request,
        "channels/mail/message_detail.html",
        _message_context(message, ReleaseForm(initial={"organization": _release_guess(message)})),
    )


def _release_guess(message: InboundEmail) -> int | None:
    """The customer a held message most likely belongs to: the mailbox's, else the one
    owning the sender's domain."""
    if message.mailbox and message.mailbox.organization_id:
        return message.mailbox.organization_id
    domain = message.from_address.rpartition("@")[2].lower()
    match = CustomerMailDomain.objects.filter(domain=domain).first() if domain else None
    return match.organization_id if match else None


def _message_context(message: InboundEmail, release_form: ReleaseForm) -> dict[str, Any]:
    return {
        "message": message,
        "view": mail_admin.describe_message(message),
        "release_form": release_form,
        "can_reprocess": message.state in (IntakeState.FAILED, IntakeState.HELD),
        "can_release": message.state == IntakeState.HELD,
    }


@channel_admin_view
@require_GET
def inbound_message_raw(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _get_message(message_id)
    try:
        data = mail_admin.read_raw(current_user(request), message)
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect("channels_mail:message", message_id=message.pk)
    response = HttpResponse(data, content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="message-{message.pk}.eml"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@channel_admin_view
@require_POST
def inbound_message_reprocess(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _get_message(message_id)
    try:
        result = mail_admin.reprocess(current_user(request), message)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Message processed again; it is now: %(state)s.")
            % {"state": result.get_state_display()},
        )
    return redirect("channels_mail:message", message_id=message.pk)


@channel_admin_view
@require_POST
def inbound_message_release(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _get_message(message_id)
    form = ReleaseForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "channels/mail/message_detail.html",
            _message_context(message, form),
            status=400,
        )
    try:
        result = mail_admin.release_held(
            current_user(request), message, form.cleaned_data["organization"]
        )
    except ActionError as exc:
        # The message may have moved on (released by someone else): the page as it is now,
        # with the reason on top.
        messages.error(request, exc.message)
        return redirect("channels_mail:message", message_id=message.pk)
    messages.success(
        request,
        _("Message released; it is now: %(state)s.") % {"state": result.get_state_display()},
    )
    return redirect("channels_mail:message", message_id=message.pk)


# ---------------------------------------------------------------------------
# Customer mail domains
# ---------------------------------------------------------------------------


@channel_admin_view
def domains(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = DomainForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                row = mail_admin.add_domain(
                    current_user(request),
                    form.cleaned_data["organization"],
                    form.cleaned_data["domain"],
                )
            except ActionError as exc:
                form.add_error("domain", exc.message)
                status = exc.status_code
            else:
                messages.success(
                    request,
                    _("Mail from %(domain)s now belongs to %(customer)s.")
                    % {"domain": row.domain, "customer": row.organization.name},
                )
                return redirect("channels_mail:domains")
    else:
        form = DomainForm()
    rows = CustomerMailDomain.objects.select_related("organization").order_by("domain")
    return render(
        request,
        "channels/mail/domains.html",
        {"form": form, "domains": list(rows)},
        status=status,
    )


@channel_admin_view
@require_POST
def domain_remove(request: HttpRequest, domain_id: int) -> HttpResponse:
    row = get_object_or_404(CustomerMailDomain.objects.select_related("organization"), pk=domain_id)
    try:
        mail_admin.remove_domain(current_user(request), row)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The domain %(domain)s was removed.") % {"domain": row.domain})
    return redirect("channels_mail:domains")


# ---------------------------------------------------------------------------
# E-mail templates
# ---------------------------------------------------------------------------


@channel_admin_view
@require_GET
def templates(request: HttpRequest) -> HttpResponse:
    overrides = {(t.key, t.language): t for t in EmailTemplate.objects.select_related("updated_by")}
    languages = mail_admin.template_languages()
    rows = [
        {
            "key": key,
            "languages": [
                {"code": code, "label": label, "override": overrides.get((key, code))}
                for code, label in languages
            ],
        }
        for key in mail_admin.template_keys()
    ]
    return render(request, "channels/mail/templates.html", {"rows": rows, "languages": languages})


def _template_or_404(key: str, language: str) -> None:
    if key not in mail_admin.template_keys() or language not in dict(
        mail_admin.template_languages()
    ):
        raise Http404


def _render_template_page(
    request: HttpRequest,
    key: str,
    language: str,
    form: TemplateForm,
    *,
    preview: mail_admin.Preview | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "key": key,
        "language": language,
        "language_label": dict(mail_admin.template_languages())[language],
        "form": form,
        "override": EmailTemplate.objects.filter(key=key, language=language).first(),
        "builtin": mail_admin.builtin_wording(key, language),
        "placeholders": mail_admin.placeholders(),
        "preview": preview,
    }
    return render(request, "channels/mail/template_form.html", context, status=status)


@channel_admin_view
def template_edit(request: HttpRequest, key: str, language: str) -> HttpResponse:
    _template_or_404(key, language)
    if request.method == "POST":
        form = TemplateForm(request.POST)
        if not form.is_valid():
            return _render_template_page(request, key, language, form, status=400)
        data = form.cleaned_data
        user = current_user(request)
        try:
            if request.POST.get("preview"):
                preview = mail_admin.preview_template(
                    user, key, language, subject=data["subject"], body=data["body"]
                )
                return _render_template_page(request, key, language, form, preview=preview)
            mail_admin.save_template(
                user, key, language, subject=data["subject"], body=data["body"]
            )
        except ActionError as exc:
            form.add_error(None, exc.message)
            return _render_template_page(request, key, language, form, status=exc.status_code)
        messages.success(request, _("The template was saved."))
        return redirect("channels_mail:template", key=key, language=language)
    override = EmailTemplate.objects.filter(key=key, language=language).first()
    if override is not None:
        initial = {"subject": override.subject, "body": override.body}
    else:
        subject, body = mail_admin.builtin_wording(key, language)
        initial = {"subject": subject, "body": body}
    return _render_template_page(request, key, language, TemplateForm(initial=initial))


@channel_admin_view
@require_POST
def template_reset(request: HttpRequest, key: str, language: str) -> HttpResponse:
    _template_or_404(key, language)
    try:
        removed = mail_admin.reset_template(current_user(request), key, language)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        if removed:
            messages.success(request, _("The built-in wording applies again."))
        else:
            messages.info(request, _("This template already uses the built-in wording."))
    return redirect("channels_mail:template", key=key, language=language)
