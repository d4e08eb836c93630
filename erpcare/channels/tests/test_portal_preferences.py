"""A customer chooses which e-mails they get, in the portal; the dispatcher obeys."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from erpcare.channels.dispatch import dispatch_pending
from erpcare.channels.models import Delivery, NotificationPreference, NotificationRule
from erpcare.tickets.services.actions import add_comment, create_ticket

URL = "/portal/notifications/"


@pytest.fixture(autouse=True)
def _plain_static_files(settings: Any) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def mails_to(address: str, event: str) -> int:
    return Delivery.objects.filter(channel="email", address=address, event__name=event).count()


def test_a_customer_switches_e_mail_off_and_gets_none(cast: Any) -> None:
    client = signed_in(cast.alice)
    page = client.get(URL)
    assert page.status_code == 200
    assert page.context["form"]["email_enabled"].value() is True  # the default
    response = client.post(URL, {})  # the switch unticked, nothing muted
    assert response.status_code == 302
    assert NotificationPreference.objects.get(user=cast.alice).email_enabled is False

    NotificationRule.objects.all().delete()
    NotificationRule.objects.create(
        name="requester", events=["ticket.created"], recipient_roles=["requester"],
        channels=["email"], include_actor=True,
    )  # fmt: skip
    create_ticket(cast.alice, title="凭证无法保存")
    dispatch_pending()
    assert mails_to(cast.alice.email, "ticket.created") == 0


def test_a_muted_event_is_not_mailed_and_the_others_are(cast: Any) -> None:
    client = signed_in(cast.alice)
    response = client.post(URL, {"email_enabled": "on", "muted_events": ["ticket.commented"]})
    assert response.status_code == 302
    pref = NotificationPreference.objects.get(user=cast.alice)
    assert pref.muted_events == ["ticket.commented"]

    NotificationRule.objects.all().delete()
    NotificationRule.objects.create(
        name="requester", events=["ticket.created", "ticket.commented"],
        recipient_roles=["requester"], channels=["email"], include_actor=True,
    )  # fmt: skip
    ticket = create_ticket(cast.alice, title="库存结转失败")
    add_comment(cast.lina, ticket, body="请提供截图")
    dispatch_pending()
    assert mails_to(cast.alice.email, "ticket.created") == 1
    assert mails_to(cast.alice.email, "ticket.commented") == 0


def test_events_customers_never_get_cannot_be_chosen_and_nothing_changes(cast: Any) -> None:
    client = signed_in(cast.alice)
    response = client.post(URL, {"email_enabled": "on", "muted_events": ["sla.breached"]})
    assert response.status_code == 400
    assert "sla.breached" in response.content.decode()  # the form names the bad choice
    assert not NotificationPreference.objects.filter(user=cast.alice).exists()
    choices = [value for value, _label in response.context["form"].fields["muted_events"].choices]
    assert "ticket.note" not in choices
    assert "sla.warning" not in choices


def test_staff_are_sent_to_their_own_page_and_strangers_sign_in(cast: Any) -> None:
    response = signed_in(cast.lina).get(URL)
    assert response.status_code == 302
    assert response["Location"] == "/desk/channels/preferences"
    anonymous = Client().get(URL)
    assert anonymous.status_code == 302
    assert "/accounts/" in anonymous["Location"]


def test_the_page_speaks_chinese(cast: Any) -> None:
    cast.alice.language = "zh-hans"
    cast.alice.save()
    html = signed_in(cast.alice).get(URL).content.decode()
    assert "邮件通知" in html
