"""Outbound webhooks: a compact JSON document with the event snapshot, signed with the
destination's secret over the send-time timestamp and the exact body bytes."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from erpcare.channels import webhooks
from erpcare.channels.tests.http_receiver import Receiver, make_delivery, webhook_signature
from erpcare.channels.transports import transport_for

pytestmark = pytest.mark.django_db

SECRET = "whsec_2b7c9f"


@pytest.fixture
def receiver():
    server = Receiver({"webhook": SECRET})
    yield server
    server.close()


def deliver(receiver, **options):
    options.setdefault("secret", SECRET)
    delivery = make_delivery("webhook", receiver.url("/webhook/erp-sync"), **options)
    transport = transport_for("webhook")
    delivery.payload = transport.render(delivery)
    delivery.save(update_fields=["payload"])
    return delivery, transport.send(delivery)


def test_a_signed_webhook_is_delivered_and_verifies(receiver):
    delivery, result = deliver(receiver, event_name="ticket.created")
    assert result.ok, result
    assert result.status_code == 200
    (request,) = receiver.requests
    assert request.problems == []
    assert request.body == delivery.payload["body"].encode("utf-8")
    assert b'": ' not in request.body  # compact
    document = request.json
    assert document["id"] == f"evt_{delivery.event_id}"
    assert document["event"] == "ticket.created"
    assert document["delivery"] == delivery.pk
    assert document["created_at"].endswith("Z")
    assert document["data"] == delivery.event.data
    assert "总账过账失败" in request.body.decode("utf-8")  # UTF-8, not \\u escapes
    headers = request.headers
    assert headers["x-erpcare-event"] == "ticket.created"
    assert headers["x-erpcare-delivery"] == str(delivery.pk)
    assert abs(int(headers["x-erpcare-timestamp"]) - time.time()) < 5
    assert headers["x-erpcare-signature"] == webhook_signature(
        SECRET, headers["x-erpcare-timestamp"], request.body
    )


def test_the_documented_verification_recipe_works():
    # docs/integrations/webhooks.md shows this check; keep the two in step.
    body = b'{"id":"evt_1"}'
    assert webhooks.signature("s3cret", "1700000000", body) == (
        "sha256=" + hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    )


def test_a_wrong_secret_is_a_permanent_failure(receiver):
    _delivery, result = deliver(receiver, secret="not the receiver's")
    assert not result.ok
    assert result.status_code == 401
    assert not result.retryable
    assert receiver.requests[0].problems == ["signature does not match"]


def test_each_try_carries_a_fresh_timestamp_over_the_same_body(receiver):
    receiver.fail_first(1)
    delivery, first = deliver(receiver)
    assert (first.ok, first.status_code, first.retryable) == (False, 500, True)
    time.sleep(1.05)
    second = transport_for("webhook").send(delivery)
    assert second.ok
    one, two = receiver.requests
    assert one.body == two.body
    assert one.headers["x-erpcare-delivery"] == two.headers["x-erpcare-delivery"]
    assert one.headers["x-erpcare-timestamp"] != two.headers["x-erpcare-timestamp"]
    assert two.problems == []


def test_any_2xx_is_success_and_rate_limits_retry(receiver):
    receiver.fail_first(1, how="vendor")
    _delivery, limited = deliver(receiver)
    assert (limited.ok, limited.status_code, limited.retryable) == (False, 429, True)


def test_a_test_delivery_without_an_event_is_sent(receiver):
    delivery, _result = deliver(receiver)
    delivery.event = None
    delivery.payload = transport_for("webhook").render(delivery)
    result = transport_for("webhook").send(delivery)
    assert result.ok, result
    body = json.loads(delivery.payload["body"])
    assert body["event"] == "test"
    assert body["data"] == {}


def test_a_webhook_to_a_private_address_is_refused_without_a_request(receiver):
    _delivery, result = deliver(receiver, allow_private=False)
    assert not result.ok
    assert not result.retryable
    assert receiver.requests == []
