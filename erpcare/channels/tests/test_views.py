"""The notification inbox and the navbar bell."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from erpcare.channels.models import Notification
from erpcare.channels.services import Message, notify_many
from erpcare.tickets.services import create_ticket

pytestmark = pytest.mark.django_db


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


def notify(user: Any, title: str, ticket: Any = None, kind: str = "sla_warning") -> None:
    notify_many(
        [Message(recipient_id=user.pk, kind=kind, title=title, ticket_id=ticket and ticket.pk)]
    )


def test_inbox_lists_only_my_notifications_with_their_ticket(cast):
    ticket = create_ticket(cast.alice, title="GL posting")
    notify(cast.lina, "SLA warning: first response", ticket)
    notify(cast.lina, "SLA breach", ticket, kind="sla_breach")
    notify(cast.eric, "for Eric only")
    response = signed_in(cast.lina).get("/desk/notifications/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="notification"') == 2
    assert "for Eric only" not in html
    assert f'href="/desk/tickets/{ticket.number}/"' in html
    assert 'data-testid="mark-all-read"' in html


def test_bell_shows_the_unread_count_lazily(cast):
    for i in range(3):
        notify(cast.lina, f"n{i}")
    client = signed_in(cast.lina)
    page = client.get("/desk/").content.decode()
    assert 'hx-get="/desk/notifications/bell"' in page
    assert 'data-testid="notification-unread"' not in page  # not counted with every page
    bell = client.get("/desk/notifications/bell", headers={"HX-Request": "true"})
    assert bell.status_code == 200
    assert 'data-count="3"' in bell.content.decode()
    assert "no-store" in bell["Cache-Control"]


def test_pages_pay_no_query_for_the_bell(cast):
    client = signed_in(cast.lina)
    client.get("/desk/")
    with CaptureQueriesContext(connection) as before:
        client.get("/desk/")
    notify(cast.lina, "one more")
    with CaptureQueriesContext(connection) as after:
        client.get("/desk/")
    assert not any("channels_notification" in q["sql"] for q in after.captured_queries)
    assert len(before) == len(after)


def test_mark_all_read_and_one_read(cast):
    for i in range(3):
        notify(cast.lina, f"n{i}")
    notify(cast.eric, "Eric's")
    client = signed_in(cast.lina)
    first = Notification.objects.filter(recipient=cast.lina).order_by("id").first()
    assert first is not None
    assert client.post("/desk/notifications/read", {"id": first.pk}).status_code == 302
    assert Notification.objects.filter(recipient=cast.lina, read_at__isnull=True).count() == 2
    # Someone else's id changes nothing.
    eric_note = Notification.objects.get(recipient=cast.eric)
    client.post("/desk/notifications/read", {"id": eric_note.pk})
    assert Notification.objects.get(pk=eric_note.pk).read_at is None
    response = client.post("/desk/notifications/read", follow=True)
    assert "2 notifications marked read." in response.content.decode()
    assert not Notification.objects.filter(recipient=cast.lina, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=eric_note.pk).read_at is None
    bell = client.get("/desk/notifications/bell").content.decode()
    assert "notification-unread" not in bell


def test_inbox_access(cast):
    assert Client().get("/desk/notifications/").status_code == 302
    assert signed_in(cast.alice).get("/desk/notifications/").status_code == 404
    assert signed_in(cast.alice).get("/desk/notifications/bell").status_code == 404
    assert signed_in(cast.alice).post("/desk/notifications/read").status_code == 404
    assert signed_in(cast.lina).get("/desk/notifications/read").status_code == 405
    assert signed_in(cast.audra).get("/desk/notifications/").status_code == 200


def test_empty_inbox(cast):
    html = signed_in(cast.mona).get("/desk/notifications/").content.decode()
    assert 'data-testid="inbox-empty"' in html
    assert 'data-testid="mark-all-read"' not in html
