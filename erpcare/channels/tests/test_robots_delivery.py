"""Robots and webhooks through the real delivery runner: retries after vendor errors and
server errors, the attempt log, the SSRF guard, the admin's test message, and a ticket
action fanned out to a subscribed destination end to end."""

from __future__ import annotations

from datetime import timedelta

import pytest

from erpcare.channels.delivery import deliver_due, send_test
from erpcare.channels.dispatch import dispatch_pending
from erpcare.channels.models import Delivery, DeliveryState, Destination
from erpcare.channels.tests.http_receiver import Receiver, make_delivery
from erpcare.core import clock
from erpcare.tickets.services import create_ticket

pytestmark = pytest.mark.django_db

SECRETS = {"dingtalk": "SECd1ng", "feishu": "fe1shu", "webhook": "whsec"}
PATHS = {
    "wecom": "/wecom/cgi-bin/webhook/send?key=k1",
    "dingtalk": "/dingtalk/robot/send?access_token=t1",
    "feishu": "/feishu/open-apis/bot/v2/hook/h1",
    "slack": "/slack/services/T/B/X",
    "teams": "/teams/webhookb2/x",
    "webhook": "/webhook/erp",
}

RATE_LIMIT_CODE = {"wecom": "45009", "dingtalk": "130101", "feishu": "11232"}


@pytest.fixture
def receiver():
    server = Receiver(SECRETS)
    yield server
    server.close()


def later(hours: float):
    return clock.frozen_at(clock.now() + timedelta(hours=hours))


@pytest.mark.parametrize(("kind", "how"), [("wecom", "vendor"), ("dingtalk", "vendor"),
                                           ("feishu", "vendor"), ("webhook", "500")])  # fmt: skip
def test_failed_sends_are_retried_until_delivered(receiver, kind, how):
    delivery = make_delivery(kind, receiver.url(PATHS[kind]), secret=SECRETS.get(kind, ""))
    receiver.fail_first(2, how=how)

    assert deliver_due()["retry"] == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.RETRY
    assert delivery.next_attempt_at > clock.now()
    assert deliver_due()["claimed"] == 0  # not due yet
    with later(1):
        assert deliver_due()["retry"] == 1
    with later(3):
        assert deliver_due()["sent"] == 1

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 2)
    log = list(delivery.attempt_log.order_by("id"))
    assert [a.ok for a in log] == [False, False, True]
    assert all(a.status_code in (200, 202, 500) for a in log)
    if how == "vendor":
        assert RATE_LIMIT_CODE[kind] in log[0].error
    assert len(receiver.requests) == 3
    assert all(r.problems == [] for r in receiver.requests)
    # Rendered once: every try carried the same message, only signatures are fresh.
    unsigned = [{k: v for k, v in r.json.items() if k not in ("sign", "timestamp")}
                for r in receiver.requests]  # fmt: skip
    assert unsigned[0] == unsigned[1] == unsigned[2]


def test_a_refused_message_is_not_retried(receiver):
    receiver.secrets["dingtalk"] = "rotated on the DingTalk side"
    delivery = make_delivery("dingtalk", receiver.url(PATHS["dingtalk"]), secret="SECd1ng")
    assert deliver_due()["dead"] == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DEAD
    assert "310000" in delivery.last_error
    assert "310000" in delivery.destination.last_error


def test_the_ssrf_guard_stops_the_runner_before_any_request(receiver):
    delivery = make_delivery("webhook", receiver.url(PATHS["webhook"]), allow_private=False)
    assert deliver_due()["dead"] == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DEAD
    assert "loopback" in delivery.last_error
    assert receiver.requests == []


@pytest.mark.parametrize("kind", list(PATHS))
def test_the_admins_test_message_reaches_every_kind(cast, receiver, kind):
    destination = Destination.objects.create(
        kind=kind, name=kind, url=receiver.url(PATHS[kind]), secret=SECRETS.get(kind, ""),
        language="zh-hans", allow_private_network=True, created_at=clock.now(),
    )  # fmt: skip
    delivery = send_test(cast.mona, destination)
    assert delivery.state == DeliveryState.SENT, delivery.last_error
    (request,) = receiver.requests
    assert request.problems == []


def test_a_new_ticket_reaches_a_subscribed_webhook_and_robot(cast, receiver):
    for kind in ("webhook", "feishu"):
        Destination.objects.create(
            kind=kind, name=kind, url=receiver.url(PATHS[kind]), secret=SECRETS[kind],
            language="en", allow_private_network=True, created_at=clock.now(),
            events=["ticket.created"],
        )  # fmt: skip
    ticket = create_ticket(cast.alice, title="Invoice posting fails", urgency=1)
    dispatch_pending()
    assert deliver_due()["sent"] == 2
    assert not Delivery.objects.exclude(state=DeliveryState.SENT).exists()
    by_vendor = {r.vendor: r for r in receiver.requests}
    assert set(by_vendor) == {"webhook", "feishu"}
    assert all(r.problems == [] for r in receiver.requests)
    hook = by_vendor["webhook"].json
    assert hook["event"] == "ticket.created"
    assert hook["data"]["ticket"]["number"] == ticket.number
    card = str(by_vendor["feishu"].json)
    assert ticket.number in card
    assert "Acme 制造" in card
