"""Chat robots: each vendor's message goes to a local server that checks it the way the
vendor documents it (signatures included), in the destination's language."""

from __future__ import annotations

import json

import pytest

from erpcare.channels import robots  # noqa: F401  (registers the transports)
from erpcare.channels.robots import cards
from erpcare.channels.tests.http_receiver import Receiver, make_delivery, snapshot
from erpcare.channels.transports import registered_channels, transport_for

pytestmark = pytest.mark.django_db

SECRETS = {"dingtalk": "SECd1ng", "feishu": "fe1shu-secret"}
PATHS = {
    "wecom": "/wecom/cgi-bin/webhook/send?key=693a91f6-7xxx",
    "dingtalk": "/dingtalk/robot/send?access_token=abc123",
    "feishu": "/feishu/open-apis/bot/v2/hook/5e3d587e-d78e",
    "slack": "/slack/services/T000/B000/XXXX",
    "teams": "/teams/webhookb2/abc/IncomingWebhook/def",
}
VENDORS = list(PATHS)


@pytest.fixture
def receiver():
    server = Receiver(SECRETS)
    yield server
    server.close()


def deliver(receiver, kind, **options):
    delivery = make_delivery(
        kind, receiver.url(PATHS[kind]), secret=SECRETS.get(kind, ""), **options
    )
    transport = transport_for(kind)
    delivery.payload = transport.render(delivery)
    delivery.save(update_fields=["payload"])
    return delivery, transport.send(delivery)


def text_of(request) -> str:
    """Everything a reader sees, whatever the vendor's structure."""
    return json.dumps(request.json, ensure_ascii=False)


def test_every_robot_channel_has_a_transport():
    assert {"wecom", "dingtalk", "feishu", "slack", "teams"} <= set(registered_channels())


@pytest.mark.parametrize("kind", VENDORS)
def test_each_robot_delivers_a_card_the_vendor_accepts(receiver, kind):
    _delivery, result = deliver(receiver, kind)
    assert result.ok, result
    (request,) = receiver.requests
    assert request.problems == []
    shown = text_of(request)
    for fact in (
        "Ticket updated",
        "INC-2026-000123",
        "总账过账失败 / GL posting fails",
        "P1 – major function broken, no workaround",
        "Acme 制造",
        "In progress",
        "Lina Zhao",
        # 10:30 UTC in the installation's zone (the customer has none here)
        "2026-11-30 18:30 (Asia/Shanghai)",
        "http://erpcare.test/desk/tickets/INC-2026-000123",
        "Open ticket INC-2026-000123",
    ):
        assert fact in shown, (kind, fact)


@pytest.mark.parametrize("kind", VENDORS)
def test_cards_speak_the_destination_language(receiver, kind):
    _delivery, result = deliver(receiver, kind, language="zh-hans")
    assert result.ok, result
    shown = text_of(receiver.requests[0])
    assert "处理中" in shown
    assert "P1 – 主要功能故障，无临时方案" in shown
    assert "In progress" not in shown


def test_due_times_are_shown_in_the_customers_time_zone(cast):
    cast.acme.time_zone = "Europe/Berlin"
    cast.acme.save(update_fields=["time_zone"])
    data = snapshot(organization={"id": cast.acme.pk, "code": "acme", "name": "Acme 制造"})
    card = cards.build("ticket.updated", data, "en")
    assert ("Resolution due", "2026-11-30 11:30 (Europe/Berlin)") in card.facts


def test_dingtalk_signs_the_url_and_a_wrong_secret_is_refused(receiver):
    _delivery, result = deliver(receiver, "dingtalk")
    assert result.ok
    signed = receiver.requests[0].query
    assert signed["access_token"] == "abc123"
    assert len(signed["timestamp"]) == 13
    receiver.secrets["dingtalk"] = "another secret"
    _delivery, refused = deliver(receiver, "dingtalk")
    assert not refused.ok
    assert not refused.retryable
    assert "310000" in refused.error
    assert receiver.requests[1].problems == ["sign does not match"]


def test_feishu_signs_the_body_and_a_wrong_secret_is_refused(receiver):
    delivery, result = deliver(receiver, "feishu")
    assert result.ok
    body = receiver.requests[0].json
    assert body["timestamp"].isdigit()
    assert body["sign"]
    # The stored payload stays unsigned: each try signs with a fresh timestamp.
    assert "sign" not in json.loads(delivery.payload["body"])
    receiver.secrets["feishu"] = "another secret"
    _delivery, refused = deliver(receiver, "feishu")
    assert (refused.ok, refused.retryable) == (False, False)
    assert "19021" in refused.error


def test_robots_without_a_secret_send_no_signature(receiver):
    receiver.secrets.clear()
    delivery = make_delivery("dingtalk", receiver.url(PATHS["dingtalk"]))
    assert transport_for("dingtalk").send(delivery).ok
    assert set(receiver.requests[0].query) == {"access_token"}


@pytest.mark.parametrize("kind", VENDORS)
def test_rate_limits_are_retryable(receiver, kind):
    receiver.fail_first(1, how="vendor")
    _delivery, result = deliver(receiver, kind)
    assert not result.ok
    assert result.retryable, result


def test_wecom_error_codes_fail_the_delivery(receiver):
    receiver.fail_first(1, how="vendor")
    _delivery, limited = deliver(receiver, "wecom")
    assert limited.status_code == 200
    assert "45009" in limited.error


def test_wecom_content_is_cut_to_4096_bytes_on_a_character_boundary(receiver):
    wide = "\U0001f525"  # 4 bytes in UTF-8: every field at its longest
    data = snapshot(
        title=wide * 300,
        organization={"id": 0, "code": "x", "name": wide * 300},
        assignee={"id": 1, "name": wide * 300, "email": "a@b.c"},
    )
    data["comment"] = {"id": 1, "body": wide * 2000, "internal": False, "author": "A"}
    _delivery, result = deliver(receiver, "wecom", event_name="ticket.commented", data=data)
    assert result.ok, result
    assert receiver.requests[0].problems == []
    content = receiver.requests[0].json["markdown"]["content"]
    assert 4000 < len(content.encode("utf-8")) <= 4096
    assert "…\n\n[Open ticket INC-2026-000123](http://erpcare.test/desk/tickets/" in content
    assert content.endswith(")")


def test_utf8_truncation_never_splits_a_character():
    assert cards.truncate_utf8("凭证" * 10, 10) == "凭证…"
    assert cards.truncate_utf8("short", 10) == "short"


def test_a_private_robot_url_is_refused_before_connecting(receiver):
    delivery = make_delivery("wecom", receiver.url(PATHS["wecom"]), allow_private=False)
    result = transport_for("wecom").send(delivery)
    assert not result.ok
    assert not result.retryable
    assert "loopback" in result.error
    assert receiver.requests == []


@pytest.mark.parametrize("kind", VENDORS)
def test_a_test_message_without_a_ticket_is_accepted(receiver, kind):
    _delivery, result = deliver(receiver, kind, event_name="test", data={})
    assert result.ok, result
    assert receiver.requests[0].problems == []
    assert "test message" in text_of(receiver.requests[0])


def test_severe_events_are_marked():
    assert cards.build("ticket.created", snapshot(priority=0), "en").severe
    assert cards.build("sla.breached", snapshot(priority=3), "en").severe
    assert not cards.build("ticket.created", snapshot(priority=2), "en").severe


def test_user_text_cannot_break_the_card_layout():
    card = cards.build("ticket.created", snapshot(title="line one\n# heading\n- item"), "en")
    assert card.heading == "line one # heading - item"
