"""Fan-out of events into notifications and deliveries, by rules and preferences."""

from __future__ import annotations

import threading
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from erpcare.accounts.services import add_team_member
from erpcare.channels.dispatch import dispatch_pending, release_held
from erpcare.channels.models import (
    Delivery,
    DeliveryState,
    Destination,
    Event,
    Notification,
    NotificationPreference,
    NotificationRule,
)
from erpcare.core import clock
from erpcare.tickets.models import TicketEvent
from erpcare.tickets.services import add_comment, assign_ticket, create_ticket, transition_ticket

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _only_the_tests_rules(db: Any) -> None:
    NotificationRule.objects.all().delete()  # the default rules are tested on their own


def rule(name: str = "r", **fields: Any) -> NotificationRule:
    users = fields.pop("users", [])
    destinations = fields.pop("destinations", [])
    created = NotificationRule.objects.create(name=name, **fields)
    created.users.set(users)
    created.destinations.set(destinations)
    return created


def destination(name: str = "robot", **fields: Any) -> Destination:
    return Destination.objects.create(
        name=name,
        kind=fields.pop("kind", "wecom"),
        url="http://127.0.0.1:9/hook",
        created_at=clock.now(),
        **fields,
    )


def emails(event_name: str | None = None) -> set[str]:
    rows = Delivery.objects.filter(channel="email")
    if event_name:
        rows = rows.filter(event__name=event_name)
    return set(rows.values_list("address", flat=True))


def bells() -> set[str]:
    return set(Notification.objects.values_list("recipient__email", flat=True))


def run() -> int:
    return dispatch_pending()


def test_each_event_is_dispatched_once_and_marked(cast):
    rule(events=["ticket.created"], recipient_roles=["requester"], channels=["email"],
         include_actor=True)  # fmt: skip
    create_ticket(cast.alice, title="GL")
    assert run() == 2  # ticket.created and incident.opened
    assert run() == 0
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()
    delivery = Delivery.objects.get()
    assert delivery.address == "alice@acme.example"
    assert delivery.state == DeliveryState.PENDING
    assert delivery.event is not None
    assert delivery.event.name == "ticket.created"


def test_the_actor_is_skipped_unless_the_rule_includes_them(cast):
    rule(events=["ticket.created"], recipient_roles=["requester"], channels=["email"])
    create_ticket(cast.alice, title="GL")
    run()
    assert emails() == set()


def test_filters_by_event_priority_customer_and_team(cast):
    rule("p0 only", priorities=[0], recipient_roles=["managers"], channels=["email"])
    rule("globex only", organization=cast.globex, recipient_roles=["managers"],
         channels=["in_app"])  # fmt: skip
    rule("l2 team", team=cast.l2_platform, events=["ticket.created"],
         users=[cast.eric], channels=["email"])  # fmt: skip
    create_ticket(cast.lina, title="P3 acme", organization=cast.acme, team=cast.l1_desk)
    run()
    assert emails() == set()
    assert bells() == set()
    create_ticket(cast.lina, title="P0 globex", organization=cast.globex, priority=0,
                  team=cast.l2_platform)  # fmt: skip
    run()
    assert emails() == {"mona@erpcare.example", "eric@erpcare.example"}
    assert bells() == {"mona@erpcare.example"}


def test_recipients_by_role(cast):
    add_team_member(team=cast.l1_desk, user=cast.vera, is_lead=True)
    cast.acme.account_manager = cast.mona
    cast.acme.save()
    ticket = create_ticket(cast.alice, title="Roles", watchers=[cast.alice2])
    assign_ticket(cast.lina, ticket, assignee=cast.lina, team=cast.l1_desk)
    Event.objects.update(dispatched_at=clock.now())

    def who(role: str) -> set[str]:
        NotificationRule.objects.all().delete()
        Notification.objects.all().delete()
        rule(recipient_roles=[role], channels=["in_app"], include_actor=True)
        add_comment(cast.xu, ticket, body=f"for {role}")
        run()
        return bells()

    assert who("requester") == {"alice@acme.example"}
    assert who("watchers") == {"alice@acme.example", "ann@acme.example"}
    assert who("assignee") == {"lina@erpcare.example"}
    assert who("team") == {"lina@erpcare.example", "vera@erpcare.example"}
    assert who("team_leads") == {"vera@erpcare.example"}
    assert who("account_manager") == {"mona@erpcare.example"}
    assert who("managers") == {"mona@erpcare.example"}


def test_one_delivery_per_person_and_channel_when_rules_overlap(cast):
    robot = destination(events=["ticket.commented"])
    rule("a", recipient_roles=["requester", "watchers"], channels=["email", "in_app"],
         destinations=[robot])  # fmt: skip
    rule("b", recipient_roles=["requester"], users=[cast.alice], channels=["email"],
         destinations=[robot])  # fmt: skip
    ticket = create_ticket(cast.lina, title="Dup", organization=cast.acme, requester=cast.alice)
    Event.objects.update(dispatched_at=clock.now())
    add_comment(cast.lina, ticket, body="Reply")
    run()
    assert Delivery.objects.filter(channel="email").count() == 1
    assert Delivery.objects.filter(destination=robot).count() == 1
    assert Notification.objects.count() == 1


def test_destinations_subscribe_directly_only_with_events_of_their_own(cast):
    subscribed = destination("hook", kind="webhook", events=["ticket.created"])
    destination("unused robot")  # no events, in no rule: gets nothing
    destination("inactive", events=["ticket.created"], is_active=False)
    create_ticket(cast.alice, title="Hook")
    run()
    rows = list(Delivery.objects.values_list("destination__name", "channel", "language"))
    assert rows == [("hook", "webhook", subscribed.language)]


def test_customers_never_hear_of_other_customers_or_of_internal_work(cast):
    rule("everyone", recipient_roles=["managers", "requester"], users=[cast.bob],
         channels=["email", "in_app"])  # fmt: skip
    ticket = create_ticket(cast.alice, title="Acme only")
    add_comment(cast.lina, ticket, body="secret", internal=True)
    assign_ticket(cast.lina, ticket, assignee=cast.lina, team=cast.l1_desk)
    add_comment(cast.lina, ticket, body="public")
    run()
    assert "bob@globex.example" not in emails() | bells()
    # alice acted on created (skipped as actor); she hears the public reply and the status.
    assert set(
        Delivery.objects.filter(address="alice@acme.example").values_list("event__name", flat=True)
    ) == {"ticket.commented", "ticket.status_changed"}
    assert "mona@erpcare.example" in emails("ticket.note")
    assert "alice@acme.example" not in emails("ticket.note")


def test_agents_only_hear_of_tickets_they_may_see(cast):
    rule(users=[cast.vera, cast.lina], channels=["in_app"])
    create_ticket(cast.bob, title="Globex")
    run()
    assert bells() == {"lina@erpcare.example"}  # vera's team serves only Acme


def test_preferences_mute_and_switch_off_channels(cast):
    rule(recipient_roles=["managers"], users=[cast.eric, cast.xu], channels=["email", "in_app"])
    NotificationPreference.objects.create(user=cast.mona, muted_events=["ticket.created"])
    NotificationPreference.objects.create(user=cast.eric, email_enabled=False)
    NotificationPreference.objects.create(user=cast.xu, in_app_enabled=False)
    create_ticket(cast.alice, title="Prefs", type="request")
    run()
    assert emails() == {"xu@erpcare.example"}
    assert bells() == {"eric@erpcare.example"}


def test_in_app_titles_are_in_the_recipients_language(cast):
    cast.mona.language = "zh-hans"
    cast.mona.save()
    rule(recipient_roles=["managers"], users=[cast.xu], channels=["in_app"])
    ticket = create_ticket(cast.alice, title="语言", type="request")
    run()
    titles = dict(Notification.objects.values_list("recipient__email", "title"))
    assert titles["xu@erpcare.example"] == f"{ticket.number}: Ticket created"
    assert titles["mona@erpcare.example"] == f"{ticket.number}：工单已创建"
    assert all(n.kind == "ticket" and n.ticket_id == ticket.pk for n in Notification.objects.all())


def quiet(user: Any, start: time, end: time) -> None:
    NotificationPreference.objects.create(user=user, quiet_start=start, quiet_end=end)


def test_quiet_hours_across_midnight_in_the_persons_time_zone(cast):
    rule(users=[cast.xu, cast.eric], channels=["email", "in_app"])
    quiet(cast.xu, time(22), time(7))  # Asia/Shanghai (the default zone)
    cast.eric.time_zone = "UTC"
    cast.eric.save()
    quiet(cast.eric, time(22), time(7))
    # 23:30 in Shanghai is 15:30 UTC: xu is asleep, eric is not.
    with time_machine.travel(datetime(2026, 11, 30, 23, 30, tzinfo=SHANGHAI), tick=False):
        create_ticket(cast.alice, title="Late", type="request")
        run()
    xu = Delivery.objects.get(address="xu@erpcare.example")
    eric = Delivery.objects.get(address="eric@erpcare.example")
    assert xu.state == DeliveryState.HELD
    assert xu.next_attempt_at == datetime(2026, 12, 1, 7, 0, tzinfo=SHANGHAI)
    assert eric.state == DeliveryState.PENDING
    assert bells() == {"xu@erpcare.example", "eric@erpcare.example"}  # the bell is silent
    with time_machine.travel(datetime(2026, 12, 1, 6, 59, tzinfo=SHANGHAI), tick=False):
        assert release_held()["released"] == 0
    with time_machine.travel(datetime(2026, 12, 1, 7, 0, tzinfo=SHANGHAI), tick=False):
        assert release_held()["released"] == 1
    xu.refresh_from_db()
    assert xu.state == DeliveryState.PENDING


def test_p0_gets_through_quiet_hours(cast):
    rule(users=[cast.xu], channels=["email"])
    quiet(cast.xu, time(22), time(7))
    with time_machine.travel(datetime(2026, 11, 30, 2, 0, tzinfo=SHANGHAI), tick=False):
        create_ticket(cast.lina, title="Down", organization=cast.acme, priority=0, type="request")
        create_ticket(cast.lina, title="Minor", organization=cast.acme, priority=2, type="request")
        run()
    states = dict(Delivery.objects.values_list("event__data__ticket__title", "state"))
    assert states == {"Down": DeliveryState.PENDING, "Minor": DeliveryState.HELD}


def test_p3_digest_collects_mail_into_one_message_at_the_digest_hour(cast):
    rule(users=[cast.xu], channels=["email"])
    NotificationPreference.objects.create(user=cast.xu, digest_low_priority=True, digest_hour=9)
    with time_machine.travel(datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI), tick=False):
        for title in ("one", "two"):
            create_ticket(cast.lina, title=title, organization=cast.acme, priority=3,
                          type="request")  # fmt: skip
        create_ticket(cast.lina, title="P2", organization=cast.acme, priority=2, type="request")
        run()
    held = Delivery.objects.filter(state=DeliveryState.HELD)
    assert held.count() == 2
    assert all(d.payload == {"digest": True} for d in held)
    assert {d.next_attempt_at for d in held} == {datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)}
    event_ids = sorted(held.values_list("event_id", flat=True))
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI), tick=False):
        assert release_held() == {"released": 0, "digests": 1}
    digest = Delivery.objects.get(event__isnull=True)
    assert digest.payload == {"digest_items": event_ids}
    assert digest.state == DeliveryState.PENDING
    assert digest.address == "xu@erpcare.example"
    cancelled = Delivery.objects.filter(state=DeliveryState.CANCELLED)
    assert cancelled.count() == 2
    assert all(f"#{digest.pk}" in d.last_error for d in cancelled)
    assert release_held() == {"released": 0, "digests": 0}


def test_resolution_reaches_the_requester_not_the_agent_who_resolved(cast):
    rule(events=["ticket.resolved"], recipient_roles=["requester", "assignee"], channels=["email"])
    ticket = create_ticket(cast.alice, title="Fix")
    assign_ticket(cast.lina, ticket, assignee=cast.lina, team=cast.l1_desk)
    transition_ticket(cast.lina, ticket, to="resolved", resolution_code="fixed", resolution="ok")
    run()
    assert emails() == {"alice@acme.example"}
    assert TicketEvent.objects.filter(ticket=ticket).exists()


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_fan_out_each_event_once(transactional_db):
    from django.db import connections

    from erpcare.conftest import build_cast

    cast = build_cast()
    rule(recipient_roles=["managers"], channels=["email"])
    for n in range(30):
        create_ticket(cast.alice, title=f"T{n}", type="request")
    counts: list[int] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        try:
            barrier.wait()
            counts.append(dispatch_pending())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 30
    assert Delivery.objects.count() == 30
    assert Delivery.objects.values("event_id").distinct().count() == 30


def test_the_default_rules(cast):
    from importlib import import_module

    from django.apps import apps

    import_module("erpcare.channels.migrations.0003_default_rules").create_defaults(apps, None)
    cast.acme.account_manager = cast.mona
    cast.acme.save()
    ticket = create_ticket(cast.lina, title="Defaults", organization=cast.acme,
                           requester=cast.alice, team=cast.l1_desk, type="request")  # fmt: skip
    run()
    assert emails() == {"alice@acme.example"}
    assert bells() == set()  # lina, the only member of the team, opened it herself
    assign_ticket(cast.lina, ticket, assignee=cast.eric)
    add_comment(cast.alice, ticket, body="Any news?")
    run()
    assert emails("ticket.commented") == {"eric@erpcare.example"}
    assert emails("ticket.assigned") == {"eric@erpcare.example"}
    assert bells() == {"eric@erpcare.example"}
    assert connection.vendor in {"sqlite", "postgresql"}
