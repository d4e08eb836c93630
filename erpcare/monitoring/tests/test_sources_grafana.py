"""Grafana-managed alerting's webhook (version 1): Alertmanager's shape plus values and links."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from erpcare.monitoring.sources import PayloadError, source_for

FIXTURES = Path(__file__).resolve().parents[1] / "sources" / "grafana" / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(body: bytes) -> list:
    return source_for("grafana").parse(body, mapping={})


def test_firing_alerts_keep_values_and_links_as_annotations():
    memory, cpu = parse(fixture("firing.json"))
    assert memory.identity == "c6eadffa33fcdf37"
    assert cpu.identity == "bc97ff14869b13e3"
    assert memory.status == "firing"
    assert memory.name == "High memory usage"
    assert memory.summary == "内存使用率过高 (app1)"
    assert memory.annotations["value_B"] == "91.2"
    assert memory.annotations["value_C"] == "1"
    assert memory.annotations["value_string"].startswith("[ var='B'")
    assert memory.annotations["dashboard_url"] == "https://grafana.example.com/d/erp-app?orgId=1"
    assert memory.annotations["panel_url"].endswith("viewPanel=2")
    assert "silence/new" in memory.annotations["silence_url"]
    assert memory.source_url.startswith("https://grafana.example.com/alerting/grafana/")
    assert memory.labels["grafana_folder"] == "ERP"
    # Grafana sends its local offset (+08:00); we keep UTC.
    assert memory.starts_at == datetime(2026, 11, 22, 1, 51, 3, 157076, tzinfo=UTC)


def test_resolved_alert_matches_the_firing_one():
    [resolved] = parse(fixture("resolved.json"))
    assert resolved.identity == "c6eadffa33fcdf37"
    assert resolved.status == "resolved"
    assert resolved.ends_at == datetime(2026, 11, 22, 2, 6, 3, 157076, tzinfo=UTC)
    assert resolved.annotations["value_C"] == "0"


def test_alertmanager_payload_is_not_taken_for_grafana():
    body = json.loads(fixture("firing.json"))
    body["version"] = "4"
    with pytest.raises(PayloadError, match="Unknown payload version “4”"):
        parse(json.dumps(body).encode())


def test_values_must_be_an_object():
    body = json.loads(fixture("firing.json"))
    body["alerts"][1]["values"] = [1, 2]
    with pytest.raises(PayloadError, match=r"“alerts\[1\].values” must be a JSON object"):
        parse(json.dumps(body).encode())


def test_unknown_fields_and_missing_optional_ones_are_fine():
    body = json.loads(fixture("firing.json"))
    body["newTopLevel"] = 1
    for entry in body["alerts"]:
        for key in ("values", "valueString", "dashboardURL", "panelURL", "silenceURL"):
            entry.pop(key)
        entry["imageURL"] = "https://grafana.example.com/render/1.png"
    memory, _cpu = parse(json.dumps(body).encode())
    assert not any(k.startswith("value_") for k in memory.annotations)
    assert memory.annotations["image_url"] == "https://grafana.example.com/render/1.png"
