"""CloudEvents 1.0, structured mode, single or batch."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from erpcare.monitoring.sources import ParsedAlert, PayloadError, source_for

FIXTURES = Path(__file__).resolve().parents[1] / "sources" / "cloudevents" / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_bytes())


def parse(event: Any) -> list[ParsedAlert]:
    return source_for("cloudevents").parse(json.dumps(event).encode(), mapping={})


def test_firing_event_reads_data_and_keeps_attributes_as_labels():
    [alert] = parse(fixture("firing.json"))
    assert alert.identity == "acme-prod/jobs/month-end-close"  # the subject
    assert alert.status == "firing"  # from the type's suffix
    assert alert.name == "ERP job failed"
    assert alert.severity == "high"
    assert alert.summary == "月结作业失败 (acme-prod)"
    assert alert.description == "Job month-end-close exited 2"
    assert alert.labels == {
        "customer": "acme",
        "module": "FI",
        "ce_source": "//monitoring.example.com/erp/acme-prod",
        "ce_type": "com.example.erp.batch-job",
        "ce_subject": "acme-prod/jobs/month-end-close",
    }
    assert alert.starts_at == datetime(2026, 11, 22, 1, 43, 17, tzinfo=UTC)
    assert alert.source_url == "https://scheduler.example.com/jobs/month-end-close"


def test_resolved_type_suffix_resolves_the_same_alert():
    [alert] = parse(fixture("resolved.json"))
    assert alert.status == "resolved"
    assert alert.identity == "acme-prod/jobs/month-end-close"


def test_batch_with_status_in_data_and_dedup_key():
    first, second, third = parse(fixture("batch.json"))
    assert first.status == "firing"
    assert (second.identity, second.status) == ("acme-prod/jobs/payroll", "acknowledged")
    assert (third.identity, third.status) == ("globex-disk-1", "resolved")
    assert third.name == "com.example.erp.disk"
    assert third.severity == "warning"


def test_without_subject_or_dedup_key_identity_is_source_and_type_without_suffix():
    firing = fixture("firing.json")
    del firing["subject"]
    resolved = fixture("resolved.json")
    del resolved["subject"]
    [a], [b] = parse(firing), parse(resolved)
    assert (
        a.identity
        == b.identity
        == ("//monitoring.example.com/erp/acme-prod com.example.erp.batch-job")
    )


def test_data_may_be_absent_or_text_and_extensions_are_tolerated():
    event = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "ext": {"a": 1}}
    [bare] = parse(event)
    assert (bare.identity, bare.status, bare.name) == ("/s t", "firing", "t")
    [text] = parse(event | {"data": "磁盘已满"})
    assert text.summary == "磁盘已满"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"specversion": "0.3"}, "Unknown payload version “0.3”"),
        ({"specversion": 1.0}, "“specversion” must be text"),
        ({"specversion": None}, "“specversion” is missing"),
        ({"id": None}, "“id” is missing"),
        ({"source": ""}, "“source” is missing"),
        ({"type": None}, "“type” is missing"),
        ({"time": "tomorrow"}, "“time” is not a valid time"),
        ({"data": [1]}, "“data” must be a JSON object"),
        ({"data": {"status": "weird"}}, "“data.status” is “weird”"),
        ({"data": {"labels": "x"}}, "“data.labels” must be a JSON object"),
        ({"data": {"starts_at": "x"}}, "“data.starts_at” is not a valid time"),
    ],
)
def test_malformed_event_is_refused_naming_the_field(change, reason):
    with pytest.raises(PayloadError) as refused:
        parse(fixture("firing.json") | change)
    assert reason in str(refused.value)


def test_malformed_event_in_a_batch_names_its_position():
    with pytest.raises(PayloadError, match="“\\[1\\]\\.id” is missing"):
        parse([fixture("firing.json"), fixture("firing.json") | {"id": None}])
