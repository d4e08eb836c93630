"""Whatever arrives, a parser either returns alerts that fit our columns or raises PayloadError."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from erpcare.monitoring.models import AlertStatus, Severity, SourceKind
from erpcare.monitoring.sources import ParsedAlert, PayloadError, source_for
from erpcare.monitoring.sources.generic import validate_mapping

SOURCES = Path(__file__).resolve().parents[1] / "sources"
MAPPING = json.loads((SOURCES / "generic" / "fixtures" / "mapping.json").read_bytes())
FIXTURES = sorted(
    (path.parent.parent.name, path)
    for path in SOURCES.glob("*/fixtures/*.json")
    if path.name != "mapping.json"
)
KINDS = list(SourceKind.values)

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
keys = st.sampled_from(
    [
        "version",
        "alerts",
        "status",
        "labels",
        "annotations",
        "startsAt",
        "endsAt",
        "payload",
        "event_action",
        "dedup_key",
        "specversion",
        "id",
        "source",
        "type",
        "data",
        "event_value",
        "trigger_id",
        "host_name",
        "trigger_name",
        "event_tags",
        "checks",
        "state",
        "fingerprint",
    ]
) | st.text(max_size=10)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=6),
    max_leaves=25,
)


def check(kind: str, body: bytes, mapping: Any = MAPPING) -> None:
    try:
        alerts = source_for(kind).parse(body, mapping=mapping if kind == "generic" else {})
    except PayloadError as refused:
        reason = str(refused)
        alerts = []
    else:
        reason = "parsed"
    assert reason  # a refusal always says why
    for alert in alerts:
        assert isinstance(alert, ParsedAlert)
        assert 0 < len(alert.identity) <= 255
        assert alert.status in AlertStatus.values
        assert alert.severity in Severity.values
        assert len(alert.name) <= 200
        assert len(alert.summary) <= 500
        assert len(alert.source_url) <= 500
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in alert.labels.items())
        assert all(isinstance(v, str) for v in alert.annotations.values())


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(KINDS), value=json_values)
def test_random_json_is_parsed_or_refused_with_payload_error(kind, value):
    check(kind, json.dumps(value).encode())


@settings(max_examples=100, deadline=None)
@given(kind=st.sampled_from(KINDS), body=st.binary(max_size=200))
def test_random_bytes_are_parsed_or_refused_with_payload_error(kind, body):
    check(kind, body)


def _replace(node: Any, path: list[int], value: Any) -> Any:
    """``node`` with the subtree chosen by ``path`` (indexes into keys/items) replaced."""
    if not path or not isinstance(node, dict | list) or not node:
        return value
    if isinstance(node, dict):
        key = list(node)[path[0] % len(node)]
        return {**node, key: _replace(node[key], path[1:], value)}
    index = path[0] % len(node)
    return [*node[:index], _replace(node[index], path[1:], value), *node[index + 1 :]]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fixture=st.sampled_from(FIXTURES),
    path=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=5),
    value=json_values,
)
def test_recorded_payloads_with_one_part_replaced_are_parsed_or_refused(fixture, path, value):
    kind, file = fixture
    body = _replace(json.loads(file.read_bytes()), path, value)
    check(kind, json.dumps(body).encode())


@settings(max_examples=200, deadline=None)
@given(mapping=json_values | st.dictionaries(st.sampled_from(list(MAPPING)), json_values))
def test_random_mappings_are_valid_or_refused_with_payload_error(mapping):
    try:
        validate_mapping(mapping)
    except PayloadError:
        return
    check("generic", (SOURCES / "generic" / "fixtures" / "firing.json").read_bytes(), mapping)


def test_every_source_kind_is_registered_and_has_fixtures():
    assert {source_for(kind).kind for kind in KINDS} == set(KINDS)
    assert {kind for kind, _path in FIXTURES} == set(KINDS)
