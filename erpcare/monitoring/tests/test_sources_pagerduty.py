"""PagerDuty Events API v2-compatible events: trigger, acknowledge, resolve, batches."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from erpcare.monitoring.sources import ParsedAlert, PayloadError, source_for

FIXTURES = Path(__file__).resolve().parents[1] / "sources" / "pagerduty" / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_bytes())


def parse(event: Any) -> list[ParsedAlert]:
    return source_for("pagerduty").parse(json.dumps(event).encode(), mapping={})


def test_trigger_fires_with_dedup_key_payload_fields_and_details():
    [alert] = parse(fixture("trigger.json"))
    assert alert.identity == "acme-prod/gl-posting-queue"
    assert alert.status == "firing"
    assert alert.name == alert.summary == "总账过账队列积压 1,240 条 (acme-prod)"
    assert alert.severity == "high"  # PagerDuty's "error", its second level
    assert alert.labels == {
        "source": "erp-app1.acme.example",
        "component": "gl-posting",
        "group": "acme-prod",
        "class": "queue backlog",
    }
    assert alert.annotations["queue_depth"] == "1240"
    assert alert.annotations["module"] == "FI"
    assert alert.annotations["oldest"] == '{"age_s":930}'
    assert alert.annotations["client"] == "Sample Monitoring Service"
    assert alert.annotations["link_1"] == "https://grafana.example.com/d/erp"
    assert alert.source_url == "https://monitoring.example.com/checks/gl-posting"
    assert alert.starts_at == datetime(2026, 11, 22, 1, 43, 17, tzinfo=UTC)
    # The routing key is ignored and never kept.
    assert "R0123456789abcdef0123456789abcde" not in json.dumps(
        [alert.labels, alert.annotations, alert.identity]
    )


def test_acknowledge_and_resolve_address_the_same_alert():
    [ack] = parse(fixture("acknowledge.json"))
    [resolved] = parse(fixture("resolve.json"))
    assert ack.identity == resolved.identity == "acme-prod/gl-posting-queue"
    assert ack.status == "acknowledged"
    assert resolved.status == "resolved"
    assert resolved.name == "acme-prod/gl-posting-queue"


@pytest.mark.parametrize(
    ("word", "expected"),
    [("critical", "critical"), ("error", "high"), ("warning", "warning"), ("info", "info")],
)
def test_severities(word, expected):
    event = fixture("trigger.json")
    event["payload"]["severity"] = word
    assert parse(event)[0].severity == expected


def test_trigger_without_dedup_key_gets_a_key_derived_from_the_event():
    event = fixture("trigger_without_dedup_key.json")
    [first] = parse(event)
    [resent] = parse(event | {"routing_key": "another-key"})
    event["payload"]["summary"] = "another problem"
    [other] = parse(event)
    assert first.identity.startswith("pd:")
    assert first.identity == resent.identity != other.identity


def test_a_list_is_a_batch_read_in_order():
    alerts = parse(fixture("batch.json"))
    assert [(a.identity, a.status) for a in alerts] == [
        ("acme-prod/gl-posting-queue", "firing"),
        ("acme-prod/mrp-run", "firing"),
        ("acme-prod/old-job", "resolved"),
    ]
    assert alerts[1].severity == "warning"


def test_unknown_fields_are_tolerated_and_details_may_be_text():
    event = fixture("trigger.json") | {"future": [1], "images": "not even a list"}
    event["payload"]["custom_details"] = "free text 详情"
    event["payload"]["newfield"] = {"x": 1}
    [alert] = parse(event)
    assert alert.annotations["details"] == "free text 详情"


def _without(*path: str) -> dict[str, Any]:
    event = fixture("trigger.json")
    node = event
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return event


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (_without("event_action"), "“event_action” is missing"),
        (fixture("trigger.json") | {"event_action": "snooze"}, "“event_action” is “snooze”"),
        (_without("payload"), "“payload” is missing"),
        (_without("payload", "summary"), "“payload.summary” is missing"),
        (_without("payload", "source"), "“payload.source” is missing"),
        (_without("payload", "severity"), "“payload.severity” is missing"),
        (
            fixture("trigger.json")
            | {"payload": {**fixture("trigger.json")["payload"], "severity": "P1"}},
            "“payload.severity” is “P1”",
        ),
        (
            fixture("trigger.json")
            | {"payload": {**fixture("trigger.json")["payload"], "timestamp": "now"}},
            "“payload.timestamp” is not a valid time",
        ),
        (fixture("trigger.json") | {"payload": []}, "“payload” must be a JSON object"),
        (fixture("trigger.json") | {"dedup_key": 42}, "“dedup_key” must be text"),
        (fixture("trigger.json") | {"dedup_key": "k" * 256}, "“dedup_key” is longer than 255"),
        (_without("dedup_key") | {"event_action": "resolve"}, "“dedup_key” is missing"),
        (_without("dedup_key") | {"event_action": "acknowledge"}, "“dedup_key” is missing"),
        (fixture("trigger.json") | {"links": [{"text": "x"}]}, "“links[0].href” is missing"),
        (fixture("trigger.json") | {"links": {"href": "x"}}, "“links” must be a JSON list"),
        ([fixture("trigger.json"), _without("event_action")], "“[1].event_action” is missing"),
        ([fixture("trigger.json"), "x"], "“[1]” must be a JSON object"),
        ("trigger", "“body” must be a JSON object"),
    ],
)
def test_malformed_events_are_refused_naming_the_field(event, reason):
    with pytest.raises(PayloadError) as refused:
        parse(event)
    assert reason in str(refused.value)
