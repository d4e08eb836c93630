"""The channel admin pages: who may see them, robots and webhooks (write-only secrets, the
SSRF exception for administrators only), chat intakes (a secret shown once), notification
rules, the delivery log, and every staff member's own preferences."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from erpcare.audit.models import AuditEntry
from erpcare.channels import admin_services as svc
from erpcare.channels.models import (
    ChatIntake,
    ChatMessage,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Destination,
    Event,
    EventName,
    InboundEmail,
    IntakeState,
    NotificationPreference,
    NotificationRule,
)
from erpcare.channels.transports import _registry
from erpcare.core import clock
from erpcare.core.errors import ActionError, NotAllowed

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://8.8.8.8/cgi-bin/webhook/send?key=wecom-robot-key-0123456789"


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _no_default_rules(db):
    """The channels migrations may seed default rules; these tests count their own."""
    NotificationRule.objects.all().delete()


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def destination(cast, **fields: Any) -> Destination:
    return svc.save_destination(
        cast.adam,
        None,
        kind=fields.pop("kind", "webhook"),
        name=fields.pop("name", "ERP ops hook"),
        url=fields.pop("url", PUBLIC_URL),
        secret=fields.pop("secret", "hook-signing-secret-42"),
        language=fields.pop("language", "en"),
        **fields,
    )


def delivery(dest: Destination | None = None, *, state: str = DeliveryState.SENT, **kw) -> Any:
    now = clock.now()
    event = Event.objects.create(name=kw.pop("event", EventName.TICKET_CREATED), created_at=now)
    return Delivery.objects.create(
        event=event,
        channel=dest.kind if dest else "email",
        destination=dest,
        address="" if dest else "lina@erpcare.example",
        state=state,
        next_attempt_at=now,
        created_at=kw.pop("created_at", now),
        payload=kw.pop("payload", {}),
        **kw,
    )


ADMIN_PAGES = [
    "/desk/channels/",
    "/desk/channels/robots/",
    "/desk/channels/robots/new",
    "/desk/channels/chat/",
    "/desk/channels/chat/new",
    "/desk/channels/rules/",
    "/desk/channels/rules/new",
    "/desk/channels/deliveries/",
]


# ---------------------------------------------------------------------------
# Who sees what
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_exist_only_for_managers_and_admins(cast, url):
    for person in (cast.mona, cast.adam):
        assert signed_in(person).get(url).status_code == 200, (person, url)
    for person in (cast.lina, cast.eric, cast.audra, cast.alice):
        assert signed_in(person).get(url).status_code == 404, (person, url)
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]


def test_object_pages_and_actions_are_404_for_agents_and_change_nothing(cast):
    dest = destination(cast)
    intake, _secret = svc.create_chat_intake(cast.adam, slug="ops", name="Ops bot")
    rule = svc.save_rule(cast.adam, None, name="P0 to managers", recipient_roles=["managers"],
                         channels=["in_app"])  # fmt: skip
    sent = delivery(dest, state=DeliveryState.DEAD)
    lina = signed_in(cast.lina)
    for url in (
        f"/desk/channels/robots/{dest.pk}/",
        f"/desk/channels/chat/{intake.pk}/",
        f"/desk/channels/rules/{rule.pk}/",
        f"/desk/channels/deliveries/{sent.pk}/",
    ):
        assert lina.get(url).status_code == 404
    before = AuditEntry.objects.count()
    for url in (
        f"/desk/channels/robots/{dest.pk}/delete",
        f"/desk/channels/robots/{dest.pk}/test",
        f"/desk/channels/chat/{intake.pk}/rotate",
        f"/desk/channels/chat/{intake.pk}/active",
        f"/desk/channels/rules/{rule.pk}/delete",
        f"/desk/channels/deliveries/{sent.pk}/cancel",
    ):
        assert lina.post(url).status_code == 404
    assert AuditEntry.objects.count() == before
    assert Destination.objects.filter(pk=dest.pk).exists()
    assert NotificationRule.objects.filter(pk=rule.pk).exists()
    assert ChatIntake.objects.get(pk=intake.pk).secret == _secret


def test_the_channels_nav_item_shows_for_managers_only(cast):
    assert 'data-testid="nav-channels"' in signed_in(cast.mona).get("/desk/").content.decode()
    assert 'data-testid="nav-channels"' in signed_in(cast.adam).get("/desk/").content.decode()
    assert 'data-testid="nav-channels"' not in signed_in(cast.lina).get("/desk/").content.decode()


def test_the_inbox_links_to_my_notification_settings(cast):
    html = signed_in(cast.lina).get("/desk/notifications/").content.decode()
    assert 'href="/desk/channels/preferences"' in html


# ---------------------------------------------------------------------------
# Overview
# ---------------------------------------------------------------------------


def test_overview_counts_the_outbox_and_failed_mail(cast):
    dest = destination(cast)
    now = clock.now()
    delivery(dest, state=DeliveryState.PENDING)
    delivery(dest, state=DeliveryState.RETRY)
    delivery(dest, state=DeliveryState.RETRY)
    delivery(dest, state=DeliveryState.DEAD)
    delivery(dest, state=DeliveryState.DEAD, created_at=now - timedelta(days=2))  # older: not shown
    for state in (IntakeState.FAILED, IntakeState.FAILED, IntakeState.HELD):
        InboundEmail.objects.create(raw="mail/x.eml", sha256="0" * 64, state=state,
                                    received_at=now)  # fmt: skip
    html = signed_in(cast.mona).get("/desk/channels/").content.decode()
    assert 'data-testid="count-pending">1<' in html
    assert 'data-testid="count-retry">2<' in html
    assert 'data-testid="count-dead">1<' in html
    assert "2 incoming messages failed" in html
    assert 'data-testid="count-destinations">1<' in html
    assert 'data-testid="channels-nav-destinations"' in html


# ---------------------------------------------------------------------------
# Robots and webhooks
# ---------------------------------------------------------------------------


def test_admin_adds_a_robot_and_the_url_and_secret_are_never_shown_again(cast):
    client = signed_in(cast.adam)
    response = client.post(
        "/desk/channels/robots/new",
        {
            "kind": "wecom",
            "name": "财务群机器人",
            "url": PUBLIC_URL,
            "secret": "s3cret-signing-value",
            "language": "zh-hans",
            "events": ["ticket.created", "sla.breached"],
            "priorities": ["0", "1"],
            "organization": cast.acme.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    saved = Destination.objects.get()
    assert saved.url == PUBLIC_URL
    assert saved.secret == "s3cret-signing-value"
    assert saved.url_hint == "https://8.8.8.8/…"
    assert saved.events == ["sla.breached", "ticket.created"]
    assert saved.priorities == [0, 1]
    assert saved.organization == cast.acme
    assert saved.created_by == cast.adam
    for url in ("/desk/channels/robots/", response["Location"]):
        html = client.get(url).content.decode()
        assert "wecom-robot-key" not in html
        assert "s3cret-signing-value" not in html
        assert "https://8.8.8.8/…" in html
    assert "••••••••alue" in client.get(response["Location"]).content.decode()
    entry = AuditEntry.objects.get(action="channels.destination.created")
    assert "wecom-robot-key" not in str(entry.data)
    assert "s3cret" not in str(entry.data)
    assert entry.actor == cast.adam


def test_empty_url_and_secret_on_edit_keep_the_saved_ones(cast):
    dest = destination(cast, secret="keep-this-secret")
    response = signed_in(cast.mona).post(
        f"/desk/channels/robots/{dest.pk}/",
        {"kind": "webhook", "name": "Renamed", "url": "", "secret": "", "language": "en"},
    )
    assert response.status_code == 302
    dest.refresh_from_db()
    assert (dest.name, dest.url, dest.secret, dest.is_active) == (
        "Renamed", PUBLIC_URL, "keep-this-secret", False,
    )  # fmt: skip
    signed_in(cast.mona).post(
        f"/desk/channels/robots/{dest.pk}/",
        {"kind": "webhook", "name": "Renamed", "language": "en", "clear_secret": "on"},
    )
    dest.refresh_from_db()
    assert dest.secret == ""
    assert dest.url == PUBLIC_URL


def test_a_manager_cannot_send_to_private_addresses(cast):
    client = signed_in(cast.mona)
    page = client.get("/desk/channels/robots/new").content.decode()
    assert 'name="allow_private_network"' not in page
    response = client.post(
        "/desk/channels/robots/new",
        {"kind": "webhook", "name": "internal", "url": "http://127.0.0.1:9/hook",
         "language": "en", "allow_private_network": "on"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "loopback" in response.content.decode()
    assert 'data-testid="form-error"' in response.content.decode()
    assert not Destination.objects.exists()
    with pytest.raises(NotAllowed):
        svc.save_destination(cast.mona, None, kind="webhook", name="x", url="http://127.0.0.1/",
                             secret="", language="en", allow_private_network=True)  # fmt: skip
    assert not Destination.objects.exists()


def test_an_admin_allows_a_private_address_and_a_manager_changing_the_url_loses_it(cast):
    client = signed_in(cast.adam)
    assert (
        'name="allow_private_network"' in client.get("/desk/channels/robots/new").content.decode()
    )
    response = client.post(
        "/desk/channels/robots/new",
        {"kind": "webhook", "name": "on-prem", "url": "http://10.1.2.3:8080/erp-hook",
         "language": "en", "allow_private_network": "on", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    dest = Destination.objects.get()
    assert dest.allow_private_network
    # The manager may rename it: the admin's exception stays with the unchanged URL.
    signed_in(cast.mona).post(
        f"/desk/channels/robots/{dest.pk}/",
        {"kind": "webhook", "name": "on-prem 2", "language": "en", "is_active": "on"},
    )
    dest.refresh_from_db()
    assert dest.name == "on-prem 2"
    assert dest.allow_private_network
    # …but not re-point it inside the network.
    response = signed_in(cast.mona).post(
        f"/desk/channels/robots/{dest.pk}/",
        {"kind": "webhook", "name": "on-prem 2", "url": "http://10.9.9.9/",
         "language": "en", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 400
    dest.refresh_from_db()
    assert dest.url == "http://10.1.2.3:8080/erp-hook"
    assert dest.allow_private_network
    # A public URL is fine, and drops the exception.
    signed_in(cast.mona).post(
        f"/desk/channels/robots/{dest.pk}/",
        {"kind": "webhook", "name": "on-prem 2", "url": PUBLIC_URL, "language": "en"},
    )
    dest.refresh_from_db()
    assert dest.url == PUBLIC_URL
    assert not dest.allow_private_network


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "fax", "name": "x", "url": PUBLIC_URL, "language": "en"}, "kind"),
        ({"kind": "webhook", "name": "", "url": PUBLIC_URL, "language": "en"}, "name"),
        ({"kind": "webhook", "name": "x", "url": "", "language": "en"}, "url"),
        (
            {
                "kind": "webhook",
                "name": "x",
                "url": PUBLIC_URL,
                "language": "en",
                "events": ["ticket.exploded"],
            },
            "events",
        ),
        (
            {
                "kind": "webhook",
                "name": "x",
                "url": PUBLIC_URL,
                "language": "en",
                "priorities": ["7"],
            },
            "priorities",
        ),
    ],
)
def test_bad_destination_input_is_a_field_error_and_saves_nothing(cast, data, field):
    response = signed_in(cast.adam).post("/desk/channels/robots/new", data)
    assert response.status_code == 400
    assert f'data-testid="field-error-{field}"' in response.content.decode() or (
        f'id="destination_{field}"' in response.content.decode()
        and "invalid-feedback" in response.content.decode()
    )
    assert not Destination.objects.exists()


def test_a_url_that_is_not_http_is_refused_with_a_clear_message(cast):
    response = signed_in(cast.adam).post(
        "/desk/channels/robots/new",
        {"kind": "webhook", "name": "x", "url": "file:///etc/passwd", "language": "en"},
    )
    assert response.status_code == 400
    assert "http://" in response.content.decode()
    assert not Destination.objects.exists()


def test_deleting_a_destination_is_audited(cast):
    dest = destination(cast)
    response = signed_in(cast.mona).post(f"/desk/channels/robots/{dest.pk}/delete")
    assert response.status_code == 302
    assert not Destination.objects.exists()
    assert AuditEntry.objects.filter(
        action="channels.destination.deleted", actor=cast.mona
    ).exists()


def test_a_destination_page_lists_its_recent_deliveries(cast):
    dest = destination(cast)
    other = destination(cast, name="other")
    mine = delivery(dest, state=DeliveryState.DEAD)
    theirs = delivery(other)
    html = signed_in(cast.mona).get(f"/desk/channels/robots/{dest.pk}/").content.decode()
    assert f'href="/desk/channels/deliveries/{mine.pk}/"' in html
    assert f'href="/desk/channels/deliveries/{theirs.pk}/"' not in html
    assert f'href="/desk/channels/deliveries/?destination={dest.pk}"' in html


# ---------------------------------------------------------------------------
# Chat intakes
# ---------------------------------------------------------------------------


def test_a_chat_intake_secret_is_shown_once_with_the_endpoint_and_a_signed_curl(cast, settings):
    settings.SITE_URL = "https://erp.example.com"
    client = signed_in(cast.mona)
    response = client.post(
        "/desk/channels/chat/new",
        {"slug": "finance-bot", "name": "财务群", "organization": cast.acme.pk,
         "team": cast.l1_desk.pk},
    )  # fmt: skip
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    intake = ChatIntake.objects.get()
    assert len(intake.secret) >= 43  # token_urlsafe(32)
    html = response.content.decode()
    assert intake.secret in html
    assert "https://erp.example.com/api/v1/intake/chat/finance-bot" in html
    assert "X-ERPCare-Signature: sha256=" in html
    assert "openssl dgst -sha256 -hmac" in html
    assert (intake.organization, intake.team, intake.created_by) == (cast.acme, cast.l1_desk,
                                                                    cast.mona)  # fmt: skip
    for url in (f"/desk/channels/chat/{intake.pk}/", "/desk/channels/chat/"):
        assert intake.secret not in client.get(url).content.decode()
    entry = AuditEntry.objects.get(action="channels.chat_intake.created")
    assert intake.secret not in str(entry.data)


def test_rotating_a_chat_secret_replaces_it_and_shows_the_new_one_once(cast):
    intake, old = svc.create_chat_intake(cast.adam, slug="ops", name="Ops")
    response = signed_in(cast.mona).post(f"/desk/channels/chat/{intake.pk}/rotate")
    intake.refresh_from_db()
    assert intake.secret != old
    assert intake.secret in response.content.decode()
    assert old not in response.content.decode()
    assert AuditEntry.objects.filter(action="channels.chat_intake.secret_rotated").count() == 1


def test_deactivating_and_editing_a_chat_intake(cast):
    intake, secret = svc.create_chat_intake(cast.adam, slug="ops", name="Ops")
    client = signed_in(cast.mona)
    client.post(f"/desk/channels/chat/{intake.pk}/active", {"active": "0"})
    intake.refresh_from_db()
    assert not intake.is_active
    html = client.get(f"/desk/channels/chat/{intake.pk}/").content.decode()
    assert 'data-testid="chat-intake-activate"' in html
    response = client.post(
        f"/desk/channels/chat/{intake.pk}/", {"name": "Ops 2", "organization": cast.globex.pk,
                                              "is_active": "on"}
    )  # fmt: skip
    assert response.status_code == 302
    intake.refresh_from_db()
    assert (intake.name, intake.organization, intake.is_active, intake.secret) == (
        "Ops 2", cast.globex, True, secret,
    )  # fmt: skip


def test_a_duplicate_chat_code_or_a_bad_one_is_refused(cast):
    svc.create_chat_intake(cast.adam, slug="ops", name="Ops")
    client = signed_in(cast.mona)
    response = client.post("/desk/channels/chat/new", {"slug": "ops", "name": "Again"})
    assert response.status_code == 400
    assert "“ops”" in response.content.decode()
    response = client.post("/desk/channels/chat/new", {"slug": "no spaces!", "name": "Bad"})
    assert response.status_code == 400
    assert ChatIntake.objects.count() == 1


def test_the_chat_intake_page_lists_recent_messages_with_state_and_error(cast):
    intake, _secret = svc.create_chat_intake(cast.adam, slug="ops", name="Ops")
    ChatMessage.objects.create(intake=intake, external_id="m1", body="{}", sender="zs@acme.example",
                               state=IntakeState.FAILED, error="no such customer",
                               received_at=clock.now())  # fmt: skip
    html = signed_in(cast.mona).get(f"/desk/channels/chat/{intake.pk}/").content.decode()
    assert 'data-testid="chat-message-row"' in html
    assert "no such customer" in html
    assert "zs@acme.example" in html


# ---------------------------------------------------------------------------
# Notification rules
# ---------------------------------------------------------------------------


def test_a_manager_creates_edits_and_deletes_a_rule(cast):
    dest = destination(cast)
    client = signed_in(cast.mona)
    response = client.post(
        "/desk/channels/rules/new",
        {
            "name": "P0/P1 breaches to the team leads",
            "position": "10",
            "is_active": "on",
            "events": ["sla.breached", "sla.warning"],
            "priorities": ["0", "1"],
            "team": cast.l2_platform.pk,
            "recipient_roles": ["team_leads", "managers"],
            "users": [cast.eric.pk],
            "channels": ["in_app", "email"],
            "destinations": [dest.pk],
        },
    )
    assert response.status_code == 302
    rule = NotificationRule.objects.get()
    assert rule.events == ["sla.breached", "sla.warning"]
    assert rule.priorities == [0, 1]
    assert rule.recipient_roles == ["managers", "team_leads"]
    assert rule.channels == ["in_app", "email"]
    assert rule.team == cast.l2_platform
    assert list(rule.users.all()) == [cast.eric]
    assert list(rule.destinations.all()) == [dest]
    assert not rule.include_actor
    svc.save_rule(cast.mona, None, name="Later", position=50, recipient_roles=["assignee"],
                  channels=["email"])  # fmt: skip
    listing = client.get("/desk/channels/rules/").content.decode()
    assert listing.index("P0/P1 breaches") < listing.index("Later")

    page = client.get(f"/desk/channels/rules/{rule.pk}/").content.decode()
    assert re.search(r'value="sla.breached"[^>]* checked', page)
    assert not re.search(r'value="ticket.created"[^>]* checked', page)
    response = client.post(
        f"/desk/channels/rules/{rule.pk}/",
        {"name": "Renamed", "position": "200", "recipient_roles": ["assignee"],
         "channels": ["email"], "include_actor": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.position, rule.events, rule.include_actor) == (
        "Renamed", 200, [], True,
    )  # fmt: skip
    assert list(rule.users.all()) == []
    assert list(rule.destinations.all()) == []
    client.post(f"/desk/channels/rules/{rule.pk}/delete")
    assert not NotificationRule.objects.filter(pk=rule.pk).exists()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"channels.rule.created", "channels.rule.changed", "channels.rule.deleted"} <= actions


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "nobody", "position": "1", "channels": ["in_app"]}, "Choose who is told"),
        (
            {"name": "no channel", "position": "1", "recipient_roles": ["assignee"]},
            "Choose how people are told",
        ),
        (
            {"name": "", "position": "1", "recipient_roles": ["assignee"], "channels": ["email"]},
            "field-error-name",
        ),
        (
            {"name": "x", "position": "-1", "recipient_roles": ["assignee"], "channels": ["email"]},
            "field-error-position",
        ),
        (
            {"name": "x", "position": "1", "recipient_roles": ["the_ceo"], "channels": ["email"]},
            "the_ceo",
        ),
    ],
)
def test_a_rule_without_recipients_or_channels_is_refused(cast, data, message):
    response = signed_in(cast.mona).post("/desk/channels/rules/new", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not NotificationRule.objects.exists()


def test_a_rule_cannot_tell_customers_directly(cast):
    with pytest.raises(ActionError):
        svc.save_rule(cast.mona, None, name="x", users=[cast.alice], channels=["email"])
    assert not NotificationRule.objects.exists()
    page = signed_in(cast.mona).get("/desk/channels/rules/new").content.decode()
    assert "Alice Wang" not in page
    assert "Eric Liu" in page


# ---------------------------------------------------------------------------
# Deliveries
# ---------------------------------------------------------------------------


def test_the_delivery_log_filters_by_state_channel_destination_event_and_day(cast):
    hook = destination(cast, name="hook")
    robot = destination(cast, name="robot", kind="dingtalk")
    dead = delivery(hook, state=DeliveryState.DEAD, event=EventName.SLA_BREACHED)
    sent = delivery(robot, state=DeliveryState.SENT)
    mail = delivery(None, state=DeliveryState.RETRY)
    old = delivery(hook, state=DeliveryState.SENT, created_at=clock.now() - timedelta(days=3))
    client = signed_in(cast.mona)

    def ids(query: str) -> set[int]:
        html = client.get(f"/desk/channels/deliveries/?{query}").content.decode()
        return {d.pk for d in (dead, sent, mail, old) if f'deliveries/{d.pk}/"' in html}

    assert ids("") == {dead.pk, sent.pk, mail.pk, old.pk}
    assert ids("state=dead") == {dead.pk}
    assert ids("channel=email") == {mail.pk}
    assert ids(f"destination={hook.pk}") == {dead.pk, old.pk}
    assert ids("event=sla.breached") == {dead.pk}
    today = timezone.localdate(dead.created_at).isoformat()
    day = timezone.localdate(old.created_at).isoformat()
    assert ids(f"day={day}") == {old.pk}
    assert ids(f"day={today}&state=sent") == {sent.pk}
    # Nonsense filters are ignored, not a 500.
    assert client.get("/desk/channels/deliveries/?state=zzz&day=notaday&page=x").status_code == 200


def test_the_delivery_page_hides_the_robot_url_and_secret_even_if_a_payload_holds_them(cast):
    dest = destination(cast, kind="dingtalk", url="https://8.8.8.8/robot/send?access_token=tok-ABCDEFGH123",
                       secret="SEC-dingtalk-secret-value")  # fmt: skip
    sent = delivery(
        dest,
        state=DeliveryState.DEAD,
        payload={
            "body": '{"msgtype":"markdown","markdown":{"title":"INC-2026-000123"}}',
            "headers": {"Content-Type": "application/json", "Authorization": "Bearer xyz-123"},
            "debug": f"posted to {dest.url} signed with SEC-dingtalk-secret-value",
            "url": dest.url,
        },
        last_error="HTTP 500",
    )
    DeliveryAttempt.objects.create(delivery=sent, started_at=clock.now(), status_code=500,
                                   response='{"errcode":500}', error="HTTP 500")  # fmt: skip
    html = signed_in(cast.mona).get(f"/desk/channels/deliveries/{sent.pk}/").content.decode()
    assert "INC-2026-000123" in html
    for secret in ("tok-ABCDEFGH123", "SEC-dingtalk-secret-value", "xyz-123"):
        assert secret not in html
    assert 'data-testid="attempt-row"' in html
    assert "errcode" in html
    assert 'data-testid="delivery-retry"' in html
    assert 'data-testid="delivery-cancel"' not in html


def test_a_test_send_to_a_kind_without_a_transport_is_refused_and_writes_nothing(cast, monkeypatch):
    dest = destination(cast)
    monkeypatch.delitem(_registry, "webhook")
    response = signed_in(cast.adam).post(f"/desk/channels/robots/{dest.pk}/test")
    assert response.status_code == 400
    assert "No transport can send this" in response.content.decode()
    assert not Delivery.objects.exists()
    assert not Event.objects.filter(name=EventName.TEST).exists()
    assert not AuditEntry.objects.filter(action="channels.destination.tested").exists()


def test_retry_and_cancel_show_the_outcome_and_are_audited(cast):
    dest = destination(cast)
    dead = delivery(dest, state=DeliveryState.DEAD)
    waiting = delivery(dest, state=DeliveryState.PENDING)
    client = signed_in(cast.mona)
    response = client.post(f"/desk/channels/deliveries/{dead.pk}/retry", follow=True)
    assert f"Delivery #{dead.pk} was sent again." in response.content.decode()
    dead.refresh_from_db()
    assert dead.state == DeliveryState.PENDING
    assert dead.attempts == 0
    response = client.post(f"/desk/channels/deliveries/{waiting.pk}/cancel", follow=True)
    assert f"Delivery #{waiting.pk} was cancelled." in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.state == DeliveryState.CANCELLED
    audited = AuditEntry.objects.filter(actor=cast.mona).values_list("action", flat=True)
    assert {"channels.delivery.retried", "channels.delivery.cancelled"} <= set(audited)
    # A finished delivery cannot be cancelled: a message, no change, no 500.
    response = client.post(f"/desk/channels/deliveries/{waiting.pk}/cancel", follow=True)
    assert response.status_code == 200
    assert 'class="alert' in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.state == DeliveryState.CANCELLED


# ---------------------------------------------------------------------------
# My preferences
# ---------------------------------------------------------------------------


def test_an_agent_saves_their_own_preferences(cast):
    client = signed_in(cast.lina)
    page = client.get("/desk/channels/preferences")
    assert page.status_code == 200
    assert 'data-testid="channels-nav"' not in page.content.decode()  # not an admin page for her
    response = client.post(
        "/desk/channels/preferences",
        {"in_app_enabled": "on", "muted_events": ["ticket.note"], "quiet_start": "22:00",
         "quiet_end": "07:30", "digest_low_priority": "on", "digest_hour": "8"},
    )  # fmt: skip
    assert response.status_code == 302
    pref = NotificationPreference.objects.get(user=cast.lina)
    assert (pref.email_enabled, pref.in_app_enabled, pref.digest_low_priority) == (
        False, True, True,
    )  # fmt: skip
    assert pref.muted_events == ["ticket.note"]
    assert pref.digest_hour == 8
    assert pref.quiet_start.isoformat() == "22:00:00"
    assert pref.quiet_end.isoformat() == "07:30:00"
    html = client.get("/desk/channels/preferences").content.decode()
    assert 'value="22:00' in html


def test_half_quiet_hours_are_refused_and_nothing_is_saved(cast):
    response = signed_in(cast.lina).post(
        "/desk/channels/preferences",
        {"email_enabled": "on", "quiet_start": "22:00", "digest_hour": "9"},
    )
    assert response.status_code == 400
    assert "quiet hours" in response.content.decode()
    assert not NotificationPreference.objects.filter(user=cast.lina).exists()


def test_customers_have_no_preferences_page(cast):
    assert signed_in(cast.alice).get("/desk/channels/preferences").status_code == 404


def test_a_failed_chat_message_can_be_processed_again_from_its_intake_page(cast):
    pytest.importorskip("erpcare.channels.chat.intake")
    intake, _secret = svc.create_chat_intake(cast.adam, slug="ops", name="Ops")
    body = json.dumps(
        {"message_id": "m1", "text": "GL posting fails", "sender": {"email": "alice@acme.example"}}
    )
    held = ChatMessage.objects.create(intake=intake, external_id="m1", body=body,
                                      sender="alice@acme.example", state=IntakeState.HELD,
                                      reason="unknown_sender", received_at=clock.now())  # fmt: skip
    client = signed_in(cast.mona)
    page = client.get(f"/desk/channels/chat/{intake.pk}/").content.decode()
    assert 'data-testid="chat-message-reprocess"' in page
    response = client.post(f"/desk/channels/chat/{intake.pk}/messages/{held.pk}/reprocess")
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.state == IntakeState.PROCESSED
    assert held.ticket is not None
    # Processed: not again (a message, no change, no 500); another intake's path is a 404.
    again = client.post(
        f"/desk/channels/chat/{intake.pk}/messages/{held.pk}/reprocess", follow=True
    )
    assert 'class="alert' in again.content.decode()
    other, _ = svc.create_chat_intake(cast.adam, slug="other", name="Other")
    assert (
        client.post(f"/desk/channels/chat/{other.pk}/messages/{held.pk}/reprocess").status_code
        == 404
    )
    assert (
        signed_in(cast.lina)
        .post(f"/desk/channels/chat/{intake.pk}/messages/{held.pk}/reprocess")
        .status_code
        == 404
    )


def test_the_channels_nav_and_overview_link_the_mail_pages(cast):
    html = signed_in(cast.mona).get("/desk/channels/").content.decode()
    for name in ("mailboxes", "messages", "domains", "templates"):
        assert f'data-testid="channels-nav-{name}"' in html
    assert 'href="/desk/channels/mail/mailboxes/"' in html
    assert 'href="/desk/channels/mail/messages/"' in html


def test_lists_cost_the_same_queries_for_one_row_and_for_many(cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    dest = destination(cast)
    svc.save_rule(cast.mona, None, name="r0", users=[cast.eric], channels=["email"],
                  destinations=[dest])  # fmt: skip
    delivery(dest)
    client = signed_in(cast.mona)

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    urls = ("/desk/channels/rules/", "/desk/channels/deliveries/", "/desk/channels/robots/",
            "/desk/channels/")  # fmt: skip
    before = {url: queries(url) for url in urls}
    for i in range(1, 6):
        other = destination(cast, name=f"d{i}")
        svc.save_rule(cast.mona, None, name=f"r{i}", users=[cast.xu, cast.eric],
                      channels=["in_app"], destinations=[other, dest])  # fmt: skip
        delivery(other)
        delivery(None)
    assert {url: queries(url) for url in urls} == before


def test_a_rule_saved_on_the_page_tells_the_managers_of_a_new_ticket(cast):
    from erpcare.channels.dispatch import dispatch_pending
    from erpcare.channels.models import Notification
    from erpcare.tickets.services import create_ticket

    response = signed_in(cast.adam).post(
        "/desk/channels/rules/new",
        {"name": "New tickets to managers", "position": "1", "is_active": "on",
         "events": ["ticket.created"], "recipient_roles": ["managers"], "channels": ["in_app"]},
    )  # fmt: skip
    assert response.status_code == 302
    ticket = create_ticket(cast.alice, title="应付账款凭证无法过账")
    dispatch_pending()
    assert Notification.objects.filter(recipient=cast.mona, ticket=ticket).exists()
    assert not Notification.objects.filter(recipient=cast.lina, ticket=ticket).exists()


def test_every_page_renders_in_chinese(cast):
    dest = destination(cast)
    intake, _secret = svc.create_chat_intake(cast.adam, slug="ops", name="Ops")
    rule = svc.save_rule(
        cast.mona, None, name="r", recipient_roles=["assignee"], channels=["email"]
    )
    sent = delivery(dest, state=DeliveryState.DEAD)
    client = signed_in(cast.mona)
    pages = [*ADMIN_PAGES, f"/desk/channels/robots/{dest.pk}/", f"/desk/channels/chat/{intake.pk}/",
             f"/desk/channels/rules/{rule.pk}/", f"/desk/channels/deliveries/{sent.pk}/",
             "/desk/channels/preferences"]  # fmt: skip
    for url in pages:
        response = client.get(url, headers={"Accept-Language": "zh-hans"})
        assert response.status_code == 200, url
        assert '<html lang="zh-hans">' in response.content.decode(), url


def test_the_rule_list_names_events_recipients_and_channels_in_words(cast):
    NotificationRule.objects.create(
        name="SLA",
        events=["sla.breached"],
        recipient_roles=["team_leads"],
        channels=["in_app", "email"],
    )
    html = signed_in(cast.mona).get("/desk/channels/rules/").content.decode()
    assert "SLA breached" in html
    assert "Leads of the ticket&#x27;s team" in html
    assert "In the app, E-mail" in html
    cast.mona.language = "zh-hans"
    cast.mona.save()
    html = signed_in(cast.mona).get("/desk/channels/rules/").content.decode()
    assert "SLA 已违约" in html
