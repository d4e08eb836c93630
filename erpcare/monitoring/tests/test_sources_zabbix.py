"""Zabbix through our media type: problem, acknowledgement, recovery of one trigger on one host."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from erpcare.monitoring.sources import ParsedAlert, PayloadError, source_for

SOURCE = Path(__file__).resolve().parents[1] / "sources" / "zabbix"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((SOURCE / "fixtures" / name).read_bytes())


def parse(event: Any) -> list[ParsedAlert]:
    return source_for("zabbix").parse(json.dumps(event).encode(), mapping={})


def test_problem_fires_with_trigger_and_host_as_identity_and_tags_as_labels():
    [alert] = parse(fixture("problem.json"))
    assert alert.identity == "zabbix:13491:acme-app1"
    assert alert.status == "firing"
    assert alert.name == "app1 is unavailable by ICMP"
    assert alert.summary == "ERP 应用服务器 app1 不可用"
    assert alert.description == "应用服务器不响应 ping 超过 3 分钟。"
    assert alert.severity == "high"
    assert alert.labels == {
        "service": "erp",
        "customer": "acme",
        "module": "FI",
        "host": "acme-app1",
        "host_name": "ERP 应用服务器 app1",
    }
    assert alert.annotations["event_id"] == "20611"
    # An unexpanded macro ({EVENT.RECOVERY.ID} in a problem message) counts as empty.
    assert "event_recovery_id" not in alert.annotations
    # 09:43:17 on a Zabbix server at UTC+8.
    assert alert.starts_at == datetime(2026, 11, 22, 1, 43, 17, tzinfo=UTC)
    assert alert.ends_at is None
    assert alert.source_url.startswith("https://zabbix.example.com/tr_events.php")


def test_acknowledged_update_is_acknowledged_and_the_same_alert():
    [alert] = parse(fixture("acknowledged.json"))
    assert alert.status == "acknowledged"
    assert alert.identity == "zabbix:13491:acme-app1"
    assert alert.annotations["event_update_action"] == "acknowledged, commented"


def test_recovery_resolves_the_same_alert_with_its_end_time():
    [alert] = parse(fixture("recovery.json"))
    assert alert.status == "resolved"
    assert alert.identity == "zabbix:13491:acme-app1"
    assert alert.ends_at == datetime(2026, 11, 22, 1, 58, 40, tzinfo=UTC)
    assert alert.annotations["event_recovery_id"] == "20644"


def test_acknowledged_recovery_is_still_resolved():
    [alert] = parse(fixture("recovery.json") | {"event_ack_status": "Yes"})
    assert alert.status == "resolved"


@pytest.mark.parametrize(
    ("nseverity", "name", "expected"),
    [
        ("0", "Not classified", "info"),
        ("1", "Information", "info"),
        ("2", "Warning", "warning"),
        ("3", "Average", "warning"),
        ("4", "High", "high"),
        ("5", "Disaster", "critical"),
        # Severity names can be renamed in Zabbix: the number wins when sent.
        ("5", "灾难", "critical"),
        ("", "Disaster", "critical"),
        ("{EVENT.NSEVERITY}", "High", "high"),
        ("", "Unheard of", "warning"),
    ],
)
def test_zabbix_severities_map_to_ours(nseverity, name, expected):
    event = fixture("problem.json") | {"event_nseverity": nseverity, "event_severity": name}
    assert parse(event)[0].severity == expected


def test_host_name_is_used_when_the_technical_host_name_is_not_sent():
    event = fixture("problem.json")
    del event["host_host"]
    assert parse(event)[0].identity == "zabbix:13491:ERP 应用服务器 app1"


def test_without_offset_times_are_utc_and_numbers_are_accepted_for_text():
    event = fixture("problem.json") | {"event_value": 1, "trigger_id": 13491}
    del event["event_tz_offset"]
    [alert] = parse(event)
    assert alert.starts_at == datetime(2026, 11, 22, 9, 43, 17, tzinfo=UTC)
    assert alert.identity == "zabbix:13491:acme-app1"


def test_tags_may_arrive_as_a_json_list_or_unexpanded():
    event = fixture("problem.json") | {"event_tags": [{"tag": "db", "value": "pg"}]}
    assert parse(event)[0].labels["db"] == "pg"
    event = fixture("problem.json") | {"event_tags": "{EVENT.TAGSJSON}"}
    assert set(parse(event)[0].labels) == {"host", "host_name"}


def test_a_list_of_events_is_read_for_replay_and_extra_fields_are_tolerated():
    events = [fixture("problem.json") | {"new_field": {"a": 1}}, fixture("recovery.json")]
    assert [a.status for a in parse(events)] == ["firing", "resolved"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"event_value": "2"}, "“event_value” is “2”"),
        ({"event_value": "{EVENT.VALUE}"}, "“event_value” is missing"),
        ({"trigger_id": None}, "“trigger_id” is missing"),
        ({"trigger_name": ""}, "“trigger_name” is missing"),
        ({"host_host": "", "host_name": "*UNKNOWN*"}, "“host_name” is missing"),
        ({"event_date": "22/11/2026"}, "“event_date” is not a valid time"),
        ({"event_tz_offset": "Asia/Shanghai"}, "“event_tz_offset” must be a UTC offset"),
        ({"event_tags": "[{broken"}, "“event_tags” is not valid JSON"),
        ({"event_tags": '[{"value": "x"}]'}, "“event_tags[0].tag” is missing"),
        ({"event_tags": '{"tag": "x"}'}, "“event_tags” must be a JSON list"),
        ({"trigger_name": {"x": 1}}, "“trigger_name” must be text"),
    ],
)
def test_malformed_event_is_refused_naming_the_field(change, reason):
    with pytest.raises(PayloadError) as refused:
        parse(fixture("problem.json") | change)
    assert reason in str(refused.value)


def test_a_json_text_that_is_not_an_object_is_refused():
    with pytest.raises(PayloadError, match="“body” must be a JSON object"):
        parse("just text")


def test_published_media_type_is_a_zabbix_webhook_posting_our_fields_with_a_bearer_token():
    export = yaml.safe_load((SOURCE / "media_type.yaml").read_text())
    [media] = export["zabbix_export"]["media_types"]
    assert media["type"] == "WEBHOOK"
    parameters = {p["name"]: p["value"] for p in media["parameters"]}
    for macro in (
        "{EVENT.ID}",
        "{EVENT.VALUE}",
        "{EVENT.SEVERITY}",
        "{EVENT.NSEVERITY}",
        "{HOST.NAME}",
        "{HOST.HOST}",
        "{TRIGGER.ID}",
        "{TRIGGER.NAME}",
        "{EVENT.ACK.STATUS}",
        "{EVENT.DATE}",
        "{EVENT.TIME}",
        "{EVENT.TAGSJSON}",
    ):
        assert macro in parameters.values(), macro
    script = media["script"]
    assert "Authorization: Bearer " in script
    assert "HttpRequest" in script
    # Every field the parser reads is a parameter the script forwards.
    for field in ("event_value", "trigger_id", "host_host", "host_name", "event_tags"):
        assert field in parameters, field
    assert {t["operation_mode"] for t in media["message_templates"]} >= {"PROBLEM", "RECOVERY"}
