"""Alertmanager's webhook (version 4): recorded payloads in, one ParsedAlert per alert out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from erpcare.monitoring.sources import ParsedAlert, PayloadError, source_for
from erpcare.monitoring.sources.alertmanager import GROUP_KEY_ANNOTATION, TRUNCATED_LABEL

FIXTURES = Path(__file__).resolve().parents[1] / "sources" / "alertmanager" / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(body: bytes | dict[str, Any]) -> list[ParsedAlert]:
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    return source_for("alertmanager").parse(body, mapping={})


def test_payload_captured_from_a_real_alertmanager_is_read():
    [alert] = parse(fixture("captured_v0.25.json"))
    assert alert.identity == "75aa8703c05f1e90"
    assert alert.status == "firing"
    assert alert.name == "E2E-2-0"
    assert alert.severity == "critical"
    # Go's nanoseconds are cut to microseconds; the zero endsAt means "no end".
    assert alert.starts_at == datetime(2026, 11, 22, 1, 43, 17, 570247, tzinfo=UTC)
    assert alert.ends_at is None
    assert alert.annotations[GROUP_KEY_ANNOTATION] == '{}:{alertname="E2E-2-0"}'
    assert TRUNCATED_LABEL not in alert.labels


def test_firing_alert_keeps_fingerprint_labels_annotations_and_chinese_text():
    [alert] = parse(fixture("firing.json"))
    assert alert.identity == "6e2b0f6a8a1c7d3e"
    assert alert.status == "firing"
    assert alert.name == "DatabaseDown"
    assert alert.summary == "ERP 数据库 db1 无法连接"
    assert "总账过账将失败" in alert.description
    assert alert.labels["customer"] == "acme"
    assert alert.labels["erp_instance"] == "acme-prod"
    assert alert.annotations["runbook_url"] == "https://wiki.example.com/runbooks/db-down"
    assert alert.source_url.startswith("http://prometheus.example.com:9090/graph?")


def test_resolved_alert_has_the_same_identity_and_an_end():
    [firing] = parse(fixture("firing.json"))
    [resolved] = parse(fixture("resolved.json"))
    assert resolved.identity == firing.identity
    assert resolved.status == "resolved"
    assert resolved.ends_at == datetime(2026, 11, 22, 1, 58, 2, 100000, tzinfo=UTC)


def test_batch_gives_one_alert_per_entry_in_order_with_each_own_status():
    alerts = parse(fixture("batch.json"))
    assert [a.identity for a in alerts] == [
        "6e2b0f6a8a1c7d3e",
        "0c41d4e5b7f2a916",
        "d1f0e2c3b4a59687",
        "9a7e3f1d2c4b5a60",
    ]
    assert [a.status for a in alerts] == ["firing", "firing", "resolved", "firing"]
    assert [a.severity for a in alerts] == ["critical", "critical", "critical", "warning"]


def test_truncated_alerts_count_is_a_label_on_every_alert_of_the_payload():
    alerts = parse(fixture("truncated.json"))
    assert len(alerts) == 2
    assert all(a.labels[TRUNCATED_LABEL] == "7" for a in alerts)


def test_without_fingerprint_identity_is_a_stable_hash_of_the_labels():
    body = json.loads(fixture("firing.json"))
    del body["alerts"][0]["fingerprint"]
    [first] = parse(body)
    body["alerts"][0]["labels"] = dict(reversed(list(body["alerts"][0]["labels"].items())))
    [same] = parse(body)
    body["alerts"][0]["labels"]["instance"] = "db9.acme:5432"
    [other] = parse(body)
    assert first.identity == same.identity != other.identity
    assert len(first.identity) == 32


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("critical", "critical"),
        ("error", "critical"),
        ("HIGH", "high"),
        ("major", "high"),
        ("warning", "warning"),
        ("warn", "warning"),
        ("minor", "warning"),
        ("info", "info"),
        ("none", "info"),
        ("low", "info"),
        ("something-else", "warning"),
        (None, "warning"),
    ],
)
def test_severity_label_maps_to_our_levels(word, expected):
    body = json.loads(fixture("firing.json"))
    if word is None:
        del body["alerts"][0]["labels"]["severity"]
    else:
        body["alerts"][0]["labels"]["severity"] = word
    assert parse(body)[0].severity == expected


def test_message_annotation_is_the_summary_when_there_is_none():
    body = json.loads(fixture("firing.json"))
    body["alerts"][0]["annotations"] = {"message": "磁盘将满"}
    [alert] = parse(body)
    assert alert.summary == "磁盘将满"
    assert alert.description == ""


def test_unknown_extra_fields_are_tolerated():
    body = json.loads(fixture("firing.json"))
    body["somethingNew"] = {"x": [1, 2]}
    body["alerts"][0]["futureField"] = True
    [alert] = parse(body)
    assert alert.identity == "6e2b0f6a8a1c7d3e"


def test_long_values_are_clipped_to_the_columns_and_long_links_dropped():
    body = json.loads(fixture("firing.json"))
    body["alerts"][0]["labels"]["alertname"] = "名" * 300
    body["alerts"][0]["annotations"]["summary"] = "s" * 900
    body["alerts"][0]["fingerprint"] = "f" * 400
    body["alerts"][0]["generatorURL"] = "http://x/" + "a" * 600
    [alert] = parse(body)
    assert len(alert.name) == 200
    assert len(alert.summary) == 500
    assert len(alert.identity) <= 255
    assert alert.identity.startswith("sha256:")
    assert alert.source_url == ""


def test_empty_alert_list_is_no_alerts():
    body = json.loads(fixture("firing.json"))
    body["alerts"] = []
    assert parse(body) == []


def _broken(change: Any) -> bytes:
    body = json.loads(fixture("firing.json"))
    change(body)
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"not json", "not valid JSON"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[1, 2]", "“body” must be a JSON object"),
        (_broken(lambda b: b.pop("version")), "“version” is missing"),
        (_broken(lambda b: b.update(version="3")), "Unknown payload version “3”"),
        (_broken(lambda b: b.update(version=4)), "“version” must be text, not a number"),
        (_broken(lambda b: b.pop("alerts")), "“alerts” is missing"),
        (_broken(lambda b: b.update(alerts={})), "“alerts” must be a JSON list"),
        (_broken(lambda b: b["alerts"].append("x")), "“alerts[1]” must be a JSON object"),
        (_broken(lambda b: b["alerts"][0].pop("status")), "“alerts[0].status” is missing"),
        (_broken(lambda b: b["alerts"][0].update(status="pending")), "“alerts[0].status” is"),
        (_broken(lambda b: b["alerts"][0].update(labels=[])), "“alerts[0].labels” must be"),
        (
            _broken(lambda b: b["alerts"][0].update(startsAt="yesterday")),
            "“alerts[0].startsAt” is not a valid time",
        ),
        (
            _broken(lambda b: b["alerts"][0].update(endsAt=[2026])),
            "“alerts[0].endsAt” is not a valid time",
        ),
        (_broken(lambda b: b.update(truncatedAlerts="many")), "“truncatedAlerts” must be"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_malformed_payload_is_refused_with_a_reason_naming_the_field(body, reason):
    with pytest.raises(PayloadError) as refused:
        parse(body)
    assert reason in str(refused.value)
