"""The e-mail channel admin pages: who may open them, mailboxes with write-only passwords,
incoming mail (list, detail, .eml download), customer mail domains."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from erpcare.audit.models import AuditEntry
from erpcare.channels.models import CustomerMailDomain, InboundEmail, IntakeState, Mailbox
from erpcare.core import clock

pytestmark = pytest.mark.django_db

BASE = "/desk/channels/mail"


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


def make_mailbox(email: str = "support@erpcare.example", **fields: Any) -> Mailbox:
    values: dict[str, Any] = {
        "name": "Support",
        "email": email,
        "imap_host": "127.0.0.1",
        "imap_port": 993,
        "imap_username": "support",
        "imap_password": "imap-secret-9f3k",
        "created_at": clock.now(),
    }
    values.update(fields)
    return Mailbox.objects.create(**values)


RAW = (
    b"From: =?GB2312?B?1cXI/Q==?= <zhang@acme.example>\r\n"
    b"To: support@erpcare.example\r\n"
    b"Subject: =?UTF-8?B?5Yet6K+B5peg5rOV6L+H6LSm?=\r\n"
    b"Message-ID: <abc.123@acme.example>\r\n"
    b"Date: Mon, 23 Nov 2026 10:00:00 +0800\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n" + "凭证过账时报错 F5 702。\r\n".encode()
)


def make_message(
    mailbox: Mailbox | None, state: str = IntakeState.FAILED, raw: bytes = RAW, **fields: Any
) -> InboundEmail:
    message = InboundEmail(
        mailbox=mailbox,
        folder="INBOX",
        message_id="<abc.123@acme.example>",
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        from_address=fields.pop("from_address", "zhang@acme.example"),
        subject=fields.pop("subject", "凭证无法过账"),
        state=state,
        received_at=clock.now(),
        **fields,
    )
    message.raw.save("message.eml", ContentFile(raw), save=False)
    message.save()
    return message


def form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Acme support",
        "email": "Acme-Support@ERPCare.example",
        "imap_host": "imap.erpcare.example",
        "imap_port": "993",
        "imap_security": "tls",
        "imap_username": "acme-support",
        "imap_password": "first-imap-pass-1234",
        "folders": "INBOX, Support/客户, INBOX",
        "smtp_host": "",
        "smtp_port": "587",
        "smtp_security": "starttls",
        "smtp_username": "",
        "smtp_password": "",
        "organization": "",
        "team": "",
        "unknown_sender_policy": "contact_in_domain",
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------
# Who may open the pages
# ---------------------------------------------------------------------------


def test_only_managers_and_admins_see_the_pages_everybody_else_gets_404(cast):
    mailbox = make_mailbox()
    message = make_message(mailbox)
    pages = [
        "/mailboxes/",
        "/mailboxes/new/",
        f"/mailboxes/{mailbox.pk}/",
        "/messages/",
        f"/messages/{message.pk}/",
        f"/messages/{message.pk}/raw.eml",
        "/domains/",
        "/templates/",
        "/templates/reply/en/",
    ]
    for user in (cast.mona, cast.adam):
        client = signed_in(user)
        for page in pages:
            assert client.get(BASE + page).status_code == 200, (user.email, page)
    for user in (cast.lina, cast.eric, cast.xu, cast.audra, cast.alice, cast.bob):
        client = signed_in(user)
        for page in pages:
            assert client.get(BASE + page).status_code == 404, (user.email, page)
    anonymous = Client().get(BASE + "/mailboxes/")
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]
    downloads = AuditEntry.objects.filter(action="channels.inbound_email.downloaded")
    assert sorted(entry.actor_label for entry in downloads) == [cast.adam.email, cast.mona.email]


def test_an_agent_cannot_change_anything_by_posting(cast):
    mailbox = make_mailbox()
    domain = CustomerMailDomain.objects.create(organization=cast.acme, domain="acme.example")
    client = signed_in(cast.lina)
    posts = [
        ("/mailboxes/new/", form_data()),
        (f"/mailboxes/{mailbox.pk}/", form_data(email="taken@erpcare.example")),
        (f"/mailboxes/{mailbox.pk}/active", {"active": "0"}),
        ("/domains/", {"organization": cast.globex.pk, "domain": "globex.example"}),
        (f"/domains/{domain.pk}/remove", {}),
        ("/templates/reply/en/", {"subject": "[{ticket_number}] x", "body": "y"}),
        ("/templates/reply/en/reset", {}),
    ]
    audit_before = AuditEntry.objects.count()
    for url, data in posts:
        assert client.post(BASE + url, data).status_code == 404, url
    mailbox.refresh_from_db()
    assert (mailbox.email, mailbox.is_active) == ("support@erpcare.example", True)
    assert Mailbox.objects.count() == 1
    assert list(CustomerMailDomain.objects.values_list("domain", flat=True)) == ["acme.example"]
    assert AuditEntry.objects.count() == audit_before


# ---------------------------------------------------------------------------
# Mailboxes
# ---------------------------------------------------------------------------


def test_manager_creates_a_mailbox_and_the_password_is_never_shown_again(cast):
    client = signed_in(cast.mona)
    response = client.post(
        BASE + "/mailboxes/new/",
        form_data(organization=cast.acme.pk, team=cast.l1_acme.pk),
    )
    assert response.status_code == 302
    mailbox = Mailbox.objects.get()
    assert response["Location"] == f"{BASE}/mailboxes/{mailbox.pk}/"
    assert mailbox.email == "acme-support@erpcare.example"
    assert mailbox.folders == ["INBOX", "Support/客户"]
    assert mailbox.imap_password == "first-imap-pass-1234"
    assert (mailbox.organization, mailbox.team) == (cast.acme, cast.l1_acme)
    audit = AuditEntry.objects.get(action="channels.mailbox.created")
    assert audit.actor == cast.mona
    assert audit.data["secrets_changed"] == ["imap_password"]
    assert "first-imap-pass-1234" not in str(audit.data)

    page = client.get(response["Location"]).content.decode()
    assert "first-imap-pass-1234" not in page
    assert "••••••••1234" in page  # the mask: which password is saved, not what it is
    assert 'value="INBOX, Support/客户"' in page


def test_an_empty_password_on_edit_keeps_the_saved_one(cast):
    mailbox = make_mailbox()
    client = signed_in(cast.adam)
    response = client.post(
        BASE + f"/mailboxes/{mailbox.pk}/",
        form_data(email=mailbox.email, imap_password="", smtp_password="smtp-new-5678"),
    )
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.imap_password == "imap-secret-9f3k"
    assert mailbox.smtp_password == "smtp-new-5678"
    assert mailbox.name == "Acme support"
    audit = AuditEntry.objects.get(action="channels.mailbox.updated")
    assert audit.data["secrets_changed"] == ["smtp_password"]
    assert "name" in audit.data["changed"]


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"imap_port": "70000"}, "field-error-imap_port"),
        ({"email": "not-an-address"}, "field-error-email"),
        ({"imap_security": "ssl3"}, "field-error-imap_security"),
        ({"imap_password": ""}, "Enter the IMAP password."),
        ({"email": "support@erpcare.example"}, "Another mailbox already uses this address."),
        ({"team": "l1-acme-team"}, "field-error-team"),
    ],
)
def test_bad_mailbox_input_is_a_form_error_and_changes_nothing(cast, overrides, error):
    make_mailbox()
    client = signed_in(cast.mona)
    response = client.post(BASE + "/mailboxes/new/", form_data(**overrides))
    assert response.status_code == 400
    assert error in response.content.decode()
    assert Mailbox.objects.count() == 1
    assert not AuditEntry.objects.filter(action__startswith="channels.mailbox").exists()


def test_a_queue_that_does_not_serve_the_customer_is_refused(cast):
    client = signed_in(cast.mona)
    response = client.post(
        BASE + "/mailboxes/new/", form_data(organization=cast.globex.pk, team=cast.l1_acme.pk)
    )
    assert response.status_code == 400
    assert "The queue does not serve this customer." in response.content.decode()
    assert not Mailbox.objects.exists()


def test_the_list_shows_failed_and_held_counts_and_the_last_error(cast):
    mailbox = make_mailbox(last_error="LOGIN failed: authentication failed")
    other = make_mailbox("other@erpcare.example")
    make_message(mailbox, IntakeState.FAILED)
    make_message(mailbox, IntakeState.FAILED)
    make_message(mailbox, IntakeState.HELD)
    make_message(mailbox, IntakeState.PROCESSED)
    make_message(other, IntakeState.HELD)
    html = signed_in(cast.mona).get(BASE + "/mailboxes/").content.decode()
    row = html.split('data-email="support@erpcare.example"')[1].split("</tr>")[0]
    assert 'data-testid="mailbox-failed">2<' in row
    assert 'data-testid="mailbox-held">1<' in row
    assert "LOGIN failed: authentication failed" in row
    assert f"?state=failed&amp;mailbox={mailbox.pk}" in row


def test_deactivating_a_mailbox_is_audited_and_reversible(cast):
    mailbox = make_mailbox()
    client = signed_in(cast.mona)
    response = client.post(BASE + f"/mailboxes/{mailbox.pk}/active", {"active": "0"})
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert not mailbox.is_active
    assert AuditEntry.objects.filter(action="channels.mailbox.deactivated").count() == 1
    page = client.get(BASE + f"/mailboxes/{mailbox.pk}/").content.decode()
    assert 'data-testid="mailbox-activate"' in page
    assert 'data-testid="mailbox-fetch"' not in page
    client.post(BASE + f"/mailboxes/{mailbox.pk}/active", {"active": "1"})
    mailbox.refresh_from_db()
    assert mailbox.is_active


def test_get_on_a_button_url_is_not_allowed(cast):
    mailbox = make_mailbox()
    client = signed_in(cast.mona)
    for action in ("test-imap", "test-smtp", "fetch", "active"):
        assert client.get(BASE + f"/mailboxes/{mailbox.pk}/{action}").status_code == 405


# ---------------------------------------------------------------------------
# Incoming mail
# ---------------------------------------------------------------------------


def test_the_incoming_list_filters_by_state_and_mailbox(cast):
    support = make_mailbox()
    other = make_mailbox("other@erpcare.example")
    failed = make_message(support, IntakeState.FAILED, error="UnicodeDecodeError: 'gbk'")
    held = make_message(support, IntakeState.HELD, reason="unknown_sender")
    ignored = make_message(other, IntakeState.IGNORED, reason="auto_reply")
    client = signed_in(cast.mona)

    def ids(query: str) -> list[int]:
        response = client.get(BASE + "/messages/" + query)
        assert response.status_code == 200
        return [row.pk for row in response.context["page"]["rows"]]

    assert ids("") == [ignored.pk, held.pk, failed.pk]
    assert ids("?state=failed") == [failed.pk]
    assert ids(f"?state=held&mailbox={support.pk}") == [held.pk]
    assert ids(f"?mailbox={other.pk}") == [ignored.pk]
    assert ids(f"?state=held&mailbox={other.pk}") == []
    html = client.get(BASE + "/messages/?state=failed").content.decode()
    assert "UnicodeDecodeError: &#x27;gbk&#x27;" in html
    # Unknown filter values show everything instead of an error page.
    assert len(ids("?state=bogus&mailbox=x")) == 3


def test_reasons_are_shown_in_words_in_the_reader_s_language(cast):
    message = make_message(make_mailbox(), IntakeState.HELD, reason="unverified_staff")
    client = signed_in(cast.mona)
    listing = client.get(BASE + "/messages/?state=held").content.decode()
    assert "possibly forged" in listing
    cast.mona.language = "zh-hans"
    cast.mona.save()
    detail = signed_in(cast.mona).get(BASE + f"/messages/{message.pk}/").content.decode()
    assert "可能是伪造的" in detail, detail[:200]


def test_the_detail_shows_decoded_headers_text_error_and_ticket_link(cast):
    from erpcare.tickets.services import create_ticket

    ticket = create_ticket(cast.lina, title="凭证无法过账", organization=cast.acme)
    message = make_message(
        make_mailbox(), IntakeState.PROCESSED, ticket=ticket, error="", reason=""
    )
    failed = make_message(make_mailbox("b@erpcare.example"), error="Traceback: boom")
    client = signed_in(cast.mona)
    html = client.get(BASE + f"/messages/{message.pk}/").content.decode()
    assert "张三 &lt;zhang@acme.example&gt;" in html  # GB2312 encoded-word decoded
    assert "凭证无法过账" in html
    assert "凭证过账时报错 F5 702。" in html
    assert f'href="/desk/tickets/{ticket.number}/"' in html
    assert 'data-testid="message-reprocess"' not in html  # processed: nothing to redo
    html = client.get(BASE + f"/messages/{failed.pk}/").content.decode()
    assert "Traceback: boom" in html
    assert 'data-testid="message-reprocess"' in html


def test_a_malformed_message_is_still_shown_with_its_problem(cast):
    message = make_message(make_mailbox(), raw=b"\xff\xfe not a mail at all \x00")
    response = signed_in(cast.mona).get(BASE + f"/messages/{message.pk}/")
    assert response.status_code == 200


def test_download_returns_the_exact_bytes_and_is_audited_as_sensitive(cast):
    message = make_message(make_mailbox())
    response = signed_in(cast.adam).get(BASE + f"/messages/{message.pk}/raw.eml")
    assert response.status_code == 200
    assert response.content == RAW
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == f'attachment; filename="message-{message.pk}.eml"'
    assert response["Cache-Control"] == "no-store"
    audit = AuditEntry.objects.get(action="channels.inbound_email.downloaded")
    assert audit.actor == cast.adam
    assert audit.target_id == str(message.pk)
    assert audit.data["sensitive"] is True
    assert audit.data["sha256"] == hashlib.sha256(RAW).hexdigest()


def test_a_missing_raw_file_is_a_message_not_a_500(cast):
    message = make_message(make_mailbox())
    message.raw.storage.delete(message.raw.name)
    client = signed_in(cast.mona)
    response = client.get(BASE + f"/messages/{message.pk}/raw.eml", follow=True)
    assert response.status_code == 200
    assert "The raw message of this e-mail cannot be read." in response.content.decode()
    assert not AuditEntry.objects.filter(action="channels.inbound_email.downloaded").exists()


# ---------------------------------------------------------------------------
# Customer mail domains
# ---------------------------------------------------------------------------


def test_manager_adds_a_domain_lowercased_and_removes_it(cast):
    client = signed_in(cast.mona)
    response = client.post(
        BASE + "/domains/", {"organization": cast.acme.pk, "domain": "  Acme.COM.cn "}
    )
    assert response.status_code == 302
    row = CustomerMailDomain.objects.get()
    assert (row.domain, row.organization) == ("acme.com.cn", cast.acme)
    assert AuditEntry.objects.get(action="channels.mail_domain.added").data == {
        "domain": "acme.com.cn",
        "organization": "acme",
    }
    html = client.get(BASE + "/domains/").content.decode()
    assert 'data-domain="acme.com.cn"' in html
    assert client.post(BASE + f"/domains/{row.pk}/remove").status_code == 302
    assert not CustomerMailDomain.objects.exists()
    assert AuditEntry.objects.filter(action="channels.mail_domain.removed").count() == 1


@pytest.mark.parametrize(
    ("domain", "error"),
    [
        ("zhang@acme.example", "without “@”"),
        ("localhost", "at least one dot"),
        ("acme..example", "not a valid domain name"),
        ("-acme.example", "not a valid domain name"),
        ("10.0.0.1", "not an IP address"),
        ("acme.example", "already belongs to Acme 制造"),
        ("ACME.example", "already belongs to Acme 制造"),
        ("", "This field is required."),
    ],
)
def test_a_bad_or_taken_domain_is_a_form_error_and_changes_nothing(cast, domain, error):
    CustomerMailDomain.objects.create(organization=cast.acme, domain="acme.example")
    response = signed_in(cast.adam).post(
        BASE + "/domains/", {"organization": cast.globex.pk, "domain": domain}
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    assert list(CustomerMailDomain.objects.values_list("domain", "organization")) == [
        ("acme.example", cast.acme.pk)
    ]
    assert not AuditEntry.objects.filter(action="channels.mail_domain.added").exists()


def test_an_internationalised_domain_is_stored_in_its_ascii_form(cast):
    response = signed_in(cast.adam).post(
        BASE + "/domains/", {"organization": cast.acme.pk, "domain": "例子.中国"}
    )
    assert response.status_code == 302
    assert CustomerMailDomain.objects.get().domain == "xn--fsqu00a.xn--fiqs8s"


def test_list_pages_use_a_fixed_number_of_queries(cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(cast.mona)

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(BASE + url).status_code == 200
        return len(queries)

    mailbox = make_mailbox()
    make_message(mailbox)
    CustomerMailDomain.objects.create(organization=cast.acme, domain="acme.example")
    few = {url: count(url) for url in ("/mailboxes/", "/messages/", "/domains/")}
    for n in range(5):
        other = make_mailbox(f"m{n}@erpcare.example", organization=cast.globex, team=cast.l1_desk)
        make_message(other, IntakeState.HELD)
        CustomerMailDomain.objects.create(organization=cast.globex, domain=f"g{n}.example")
    many = {url: count(url) for url in few}
    assert many == few
