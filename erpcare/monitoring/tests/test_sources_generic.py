"""Generic JSON read through a per-integration field mapping; validate_mapping for the form."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from erpcare.monitoring.sources import ParsedAlert, PayloadError, source_for
from erpcare.monitoring.sources.generic import validate_mapping

FIXTURES = Path(__file__).resolve().parents[1] / "sources" / "generic" / "fixtures"
MAPPING = json.loads((FIXTURES / "mapping.json").read_bytes())


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_bytes())


def parse(body: Any, mapping: dict[str, Any] = MAPPING) -> list[ParsedAlert]:
    return source_for("generic").parse(json.dumps(body).encode(), mapping=mapping)


def test_firing_check_is_read_through_the_mapping():
    [alert] = parse(fixture("firing.json"))
    assert alert.identity == "acme-app1/login"
    assert alert.status == "firing"  # "CRIT" through the status map
    assert alert.name == "ERP login"
    assert alert.severity == "critical"  # "P1" through the severity map
    assert alert.summary == "登录页面返回 HTTP 502"
    assert alert.description == "3 of 3 probes failed"
    assert alert.labels == {"customer": "acme", "module": "BASIS"}
    assert alert.starts_at == datetime.fromtimestamp(1795311797, tz=UTC)
    assert alert.source_url == "https://probe.example.com/checks/login"


def test_resolved_check_is_the_same_alert_and_optional_fields_may_be_missing():
    [alert] = parse(fixture("resolved.json"))
    assert (alert.identity, alert.status) == ("acme-app1/login", "resolved")
    assert alert.description == ""
    assert alert.source_url == ""
    assert alert.starts_at == datetime(2026, 11, 22, 2, 10, tzinfo=UTC)


def test_a_single_object_body_list_indexes_and_root_paths():
    mapping = {
        "identity": "$.host",
        "name": "items.0.check",
        "status": "items.0.state",
        "severity": "items.0.severity",
    }
    body = {"host": "db1", "items": [{"check": "disk", "state": "ok", "severity": "major"}]}
    [alert] = parse(body, mapping)
    assert (alert.identity, alert.name, alert.status, alert.severity) == (
        "db1",
        "disk",
        "resolved",  # a common word, no status map needed
        "high",
    )


def test_root_paths_reach_the_envelope_from_each_alert():
    mapping = MAPPING | {"identity": "$.host", "name": "id"}
    [alert] = parse(fixture("firing.json"), mapping)
    assert alert.identity == "acme-app1"
    assert alert.name == "acme-app1/login"


def test_without_status_mapping_every_event_fires_and_name_falls_back_to_summary():
    [alert] = parse({"key": 17, "text": "队列阻塞"}, {"identity": "key", "summary": "text"})
    assert (alert.identity, alert.status, alert.name) == ("17", "firing", "队列阻塞")


@pytest.mark.parametrize(
    ("body", "mapping", "reason"),
    [
        ({"checks": [{"state": "OK"}]}, MAPPING, "“id” (identity) is not in checks[0]"),
        ({"checks": [{"id": "x", "check": {}}]}, MAPPING, "“state” (status) is not in checks[0]"),
        (
            {"checks": [{"id": "x", "state": "OK"}]},
            MAPPING,
            "“check.name” (name) is not in checks[0]",
        ),
        ({"other": []}, MAPPING, "“checks” (alerts) is not in the body"),
        ({"checks": {}}, MAPPING, "“checks” must be a JSON list"),
        (
            {"checks": [{"id": "x", "state": "MAYBE", "check": {"name": "n"}}]},
            MAPPING,
            "The status “MAYBE” at “state” is not in the status map",
        ),
        (
            {"checks": [{"id": {"a": 1}, "state": "OK", "check": {"name": "n"}}]},
            MAPPING,
            "“id” (identity) must lead to text",
        ),
        (
            {"checks": [{"id": "", "state": "OK", "check": {"name": "n"}}]},
            MAPPING,
            "“id” (identity) is empty",
        ),
        (
            {"checks": [{"id": "x", "state": "OK", "check": {"name": "n"}, "tags": [1]}]},
            MAPPING,
            "“tags” must be a JSON object",
        ),
        (
            {"checks": [{"id": "x", "state": "OK", "check": {"name": "n"}, "since": "soon"}]},
            MAPPING,
            "“since” is not a valid time",
        ),
        ({}, {}, "no field mapping"),
    ],
)
def test_unresolvable_paths_and_bad_values_are_refused_naming_the_path(body, mapping, reason):
    with pytest.raises(PayloadError) as refused:
        parse(body, mapping)
    assert reason in str(refused.value)


def test_fixture_mapping_is_valid():
    validate_mapping(MAPPING)


@pytest.mark.parametrize(
    ("mapping", "reason"),
    [
        (None, "no field mapping"),
        ([], "no field mapping"),
        ({}, "no field mapping"),
        ({"name": "a"}, "needs a path for “identity”"),
        ({"identity": "id", "idenity": "x"}, "Unknown key “idenity”"),
        ({"identity": 3}, "The path for “identity” must be"),
        ({"identity": "a..b"}, "The path for “identity” must be"),
        ({"identity": ".a"}, "The path for “identity” must be"),
        ({"identity": "id", "alerts": "$.x"}, "The path for “alerts” must be"),
        ({"identity": "id", "status_map": ["ok"]}, "“status_map” must be an object"),
        (
            {"identity": "id", "status_map": {"ok": "closed"}},
            "“status_map” maps “ok” to “closed”",
        ),
        (
            {"identity": "id", "severity_map": {"P1": "urgent"}},
            "“severity_map” maps “P1” to “urgent”",
        ),
    ],
)
def test_validate_mapping_names_the_problem(mapping, reason):
    with pytest.raises(PayloadError) as refused:
        validate_mapping(mapping)
    assert reason in str(refused.value)
