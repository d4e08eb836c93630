"""E-mail templates in the channel admin: built-in wording, overrides, placeholders checked
before saving, a preview with a sample ticket that saves nothing, reset to built-in."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from erpcare.audit.models import AuditEntry
from erpcare.channels import mail_admin
from erpcare.channels.email.defaults import WORDINGS
from erpcare.channels.models import EmailTemplate

pytestmark = pytest.mark.django_db

BASE = "/desk/channels/mail/templates"


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_list_has_every_message_in_every_language_marked_built_in_or_edited(cast):
    EmailTemplate.objects.create(
        key="reply", language="zh-hans", subject="[{ticket_number}] 新回复", body="{comment}",
        updated_at="2026-11-20T10:00:00+08:00",
    )  # fmt: skip
    html = signed_in(cast.mona).get(BASE + "/").content.decode()
    for key in WORDINGS:
        assert f'data-key="{key}"' in html
        assert f'href="{BASE}/{key}/en/"' in html
        assert f'href="{BASE}/{key}/zh-hans/"' in html
    assert html.count('data-testid="template-edited"') == 1


def test_every_message_has_a_built_in_wording_in_every_offered_language():
    for key in mail_admin.template_keys():
        for code, _label in mail_admin.template_languages():
            subject, body = mail_admin.builtin_wording(key, code)
            assert subject.strip(), (key, code)
            assert body.strip(), (key, code)


def test_the_edit_page_starts_from_the_built_in_wording_with_the_placeholders(cast):
    subject, body = WORDINGS["ticket_created"]["zh-hans"]
    response = signed_in(cast.mona).get(BASE + "/ticket_created/zh-hans/")
    html = response.content.decode()
    assert response.context["form"].initial == {"subject": subject, "body": body}
    assert 'data-state="builtin"' in html
    assert "<li>{ticket_number}</li>" in html
    assert "<li>{survey_url}</li>" in html
    assert 'data-testid="template-reset"' not in html  # nothing to reset


def test_saving_an_override_is_audited_and_reset_brings_the_built_in_back(cast):
    client = signed_in(cast.adam)
    data = {"subject": "[{ticket_number}] Reply from {actor}", "body": "{comment}\n\n{ticket_url}"}
    response = client.post(BASE + "/reply/en/", data)
    assert response.status_code == 302
    row = EmailTemplate.objects.get(key="reply", language="en")
    assert (row.subject, row.body, row.updated_by) == (data["subject"], data["body"], cast.adam)
    assert AuditEntry.objects.get(action="channels.email_template.saved").data == {
        "key": "reply",
        "language": "en",
    }
    page = client.get(BASE + "/reply/en/")
    assert page.context["form"].initial == data
    assert 'data-state="edited"' in page.content.decode()

    assert client.post(BASE + "/reply/en/reset").status_code == 302
    assert not EmailTemplate.objects.exists()
    assert AuditEntry.objects.filter(action="channels.email_template.reset").count() == 1
    subject, _body = WORDINGS["reply"]["en"]
    assert client.get(BASE + "/reply/en/").context["form"].initial["subject"] == subject
    # A second reset has nothing to delete and says so.
    again = client.post(BASE + "/reply/en/reset", follow=True).content.decode()
    assert "already uses the built-in wording" in again
    assert AuditEntry.objects.filter(action="channels.email_template.reset").count() == 1


@pytest.mark.parametrize(
    ("subject", "body", "error"),
    [
        ("[{ticket_number}] {ticket.requester.password}", "x", "{ticket.requester.password}"),
        ("[{ticket_number}]", "Hello {{ settings.SECRET_KEY }}", "unknown placeholder"),
        ("[{ticket_number}]", "broken { brace", "unbalanced"),
        ("", "body", "field-error-subject"),
    ],
)
def test_a_template_with_unknown_placeholders_is_refused_and_nothing_is_saved(
    cast, subject, body, error
):
    EmailTemplate.objects.create(
        key="reply", language="en", subject="[{ticket_number}] kept", body="kept",
        updated_at="2026-11-20T10:00:00+08:00",
    )  # fmt: skip
    response = signed_in(cast.mona).post(BASE + "/reply/en/", {"subject": subject, "body": body})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert list(EmailTemplate.objects.values_list("subject", "body")) == [
        ("[{ticket_number}] kept", "kept")
    ]
    assert not AuditEntry.objects.filter(action__startswith="channels.email_template").exists()


def test_preview_renders_the_unsaved_text_with_a_sample_ticket_and_keeps_nothing(cast):
    EmailTemplate.objects.create(
        key="ticket_created", language="en", subject="[{ticket_number}] saved", body="saved",
        updated_at="2026-11-20T10:00:00+08:00",
    )  # fmt: skip
    response = signed_in(cast.mona).post(
        BASE + "/ticket_created/en/",
        {
            "subject": "[{ticket_number}] Got it: {ticket_title}",
            "body": "Dear {requester}, see **{ticket_url}**.",
            "preview": "1",
        },
    )
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.subject == (
        "[INC-2026-000123] Got it: Month-end closing fails in the general ledger"
    )
    assert preview.text.startswith(
        "Dear Alice Wang, see **http://127.0.0.1:8000/portal/tickets/INC-2026-000123/**."
    )
    assert "<strong>" in preview.html
    html = response.content.decode()
    assert 'data-testid="preview-subject"' in html
    assert 'sandbox=""' in html
    # The preview was rolled back: the saved override is untouched and nothing is audited.
    assert list(EmailTemplate.objects.values_list("subject", "body")) == [
        ("[{ticket_number}] saved", "saved")
    ]
    assert not AuditEntry.objects.filter(action__startswith="channels.email_template").exists()


def test_staff_wordings_preview_with_the_desk_link(cast):
    response = signed_in(cast.mona).post(
        BASE + "/ticket_created_staff/en/",
        {"subject": "[{ticket_number}] new", "body": "{ticket_url}", "preview": "1"},
    )
    assert response.context["preview"].text.startswith(
        "http://127.0.0.1:8000/desk/tickets/INC-2026-000123/"
    )


def test_unknown_keys_and_languages_are_404(cast):
    client = signed_in(cast.mona)
    assert client.get(BASE + "/no_such_key/en/").status_code == 404
    assert client.get(BASE + "/reply/fr/").status_code == 404
    assert client.post(BASE + "/reply/fr/reset").status_code == 404
