"""The monitoring admin pages: who may open them, integrations and their one-time secret,
rules and the dry run, maintenance windows, open alerts, and the incident's alert panel."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from erpcare.audit.models import AuditEntry
from erpcare.conftest import PASSWORD, Cast
from erpcare.core import clock
from erpcare.monitoring.models import (
    Alert,
    AlertPayload,
    AlertStatus,
    CorrelationRule,
    Integration,
    MaintenanceWindow,
    PayloadState,
    RoutingRule,
    SourceKind,
)
from erpcare.tickets.services import actions

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    ("monitoring:integrations", {}),
    ("monitoring:integration_new", {}),
    ("monitoring:routing_rules", {}),
    ("monitoring:routing_rule_new", {}),
    ("monitoring:dry_run", {}),
    ("monitoring:correlation_rules", {}),
    ("monitoring:correlation_rule_new", {}),
    ("monitoring:windows", {}),
    ("monitoring:window_new", {}),
    ("monitoring:alerts", {}),
]
AM_FIRING = {
    "version": "4",
    "status": "firing",
    "receiver": "erpcare",
    "groupKey": '{}:{alertname="ErpDatabaseDown"}',
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "ErpDatabaseDown", "severity": "critical", "env": "acme-prd"},
            "annotations": {"summary": "SAP PRD database down"},
            "startsAt": "2026-11-30T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": "0a1b2c3d4e5f6071",
        },
        {
            "status": "firing",
            "labels": {"alertname": "DiskFull", "severity": "warning", "env": "lab"},
            "annotations": {},
            "startsAt": "2026-11-30T10:01:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": "1a1b2c3d4e5f6071",
        },
    ],
}


def signed_in(user: Any) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


def make_integration(cast: Cast, **kw: Any) -> Integration:
    values: dict[str, Any] = {
        "name": "Prometheus PRD", "source": SourceKind.ALERTMANAGER, "key": "key-prd",
        "secret": "the-very-secret-value-0123456789abcdef", "created_at": clock.now(),
        "organization": cast.acme,
    }  # fmt: skip
    values.update(kw)
    return Integration.objects.create(**values)


def integration_post(cast: Cast, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Prometheus 生产", "source": "alertmanager", "auth_mode": "bearer",
        "organization": cast.acme.pk, "erp_instance": cast.acme_erp.pk,
        "team": cast.l2_platform.pk, "on_resolve": "resolve", "flap_window_minutes": "30",
        "field_mapping": "",
    }  # fmt: skip
    data.update(kw)
    return data


# ---------------------------------------------------------------------------
# Who may open the pages
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["lina", "eric", "xu", "audra", "alice"])
def test_everyone_but_managers_and_admins_gets_404(cast: Cast, who: str) -> None:
    client = signed_in(getattr(cast, who))
    integration = make_integration(cast)
    for name, kwargs in ADMIN_PAGES:
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 404, name
    assert (
        client.post(reverse("monitoring:integration_new"), integration_post(cast)).status_code
        == 404
    )
    rotate = reverse("monitoring:integration_rotate", args=[integration.pk])
    assert client.post(rotate).status_code == 404
    assert Integration.objects.count() == 1
    assert Integration.objects.get().secret == "the-very-secret-value-0123456789abcdef"
    page = client.get("/desk/").content.decode() if who != "alice" else ""
    assert 'data-testid="nav-monitoring"' not in page


def test_signed_out_visitors_are_sent_to_sign_in(cast: Cast) -> None:
    response = Client().get(reverse("monitoring:integrations"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("who", ["mona", "adam"])
def test_managers_and_admins_see_every_page_and_the_nav_item(cast: Cast, who: str) -> None:
    client = signed_in(getattr(cast, who))
    for name, kwargs in ADMIN_PAGES:
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 200, name
    assert 'data-testid="nav-monitoring"' in client.get("/desk/").content.decode()


# ---------------------------------------------------------------------------
# Integrations
# ---------------------------------------------------------------------------


def test_creating_an_integration_shows_its_url_and_secret_once(cast: Cast, settings) -> None:
    settings.SITE_URL = "https://erpcare.example.com"
    client = signed_in(cast.mona)
    response = client.post(reverse("monitoring:integration_new"), integration_post(cast))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    integration = Integration.objects.get()
    secret = integration.secret
    assert len(secret) >= 40
    assert len(integration.key) >= 20
    url = f"https://erpcare.example.com/api/v1/alerts/alertmanager/{integration.key}"
    html = response.content.decode()
    assert url in html
    assert secret in html
    # The Alertmanager receiver, ready to paste.
    snippet = response.context["alertmanager"]
    for line in ("receivers:", "- name: erpcare", "webhook_configs:", f'url: "{url}"',
                 f'credentials: "{secret}"', "send_resolved: true", "max_alerts: 0"):  # fmt: skip
        assert line in snippet
    assert url in response.context["grafana"]
    assert f"Authorization: Bearer {secret}" in response.context["curl"]
    assert integration.organization == cast.acme
    assert integration.erp_instance == cast.acme_erp
    assert integration.created_by == cast.mona
    entry = AuditEntry.objects.get(action="monitoring.integration.created")
    assert entry.target_id == str(integration.pk)
    assert secret not in json.dumps(entry.data)
    # Never again: the integration's own page shows a masked hint only.
    page = client.get(reverse("monitoring:integration", args=[integration.pk])).content.decode()
    assert secret not in page
    assert "••••••••" + secret[-4:] in page
    assert url in page


def test_the_alertmanager_snippet_is_valid_alertmanager_configuration(cast: Cast) -> None:
    yaml = pytest.importorskip("yaml")
    client = signed_in(cast.adam)
    response = client.post(reverse("monitoring:integration_new"), integration_post(cast))
    integration = Integration.objects.get()
    config = yaml.safe_load(response.context["alertmanager"])
    hook = config["receivers"][0]["webhook_configs"][0]
    assert config["receivers"][0]["name"] == "erpcare"
    assert hook["url"].endswith(f"/api/v1/alerts/alertmanager/{integration.key}")
    assert hook["http_config"]["authorization"]["credentials"] == integration.secret
    assert hook["send_resolved"] is True
    assert hook["max_alerts"] == 0


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"name": "  "}, "field-error-name"),
        ({"source": "nagios"}, "field-error-source"),
        ({"flap_window_minutes": "-1"}, "field-error-flap_window_minutes"),
        ({"field_mapping": "{not json"}, "field-error-field_mapping"),
        ({"field_mapping": "[1, 2]"}, "field-error-field_mapping"),
        ({"source": "generic", "field_mapping": ""}, "form-error"),
    ],
)
def test_bad_integration_input_is_a_form_error_and_creates_nothing(
    cast: Cast, change: dict[str, str], error: str
) -> None:
    client = signed_in(cast.mona)
    response = client.post(reverse("monitoring:integration_new"), integration_post(cast, **change))
    assert response.status_code == 400
    assert f'data-testid="{error}"' in response.content.decode()
    assert not Integration.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="monitoring.").exists()


def test_an_instance_of_another_customer_is_refused(cast: Cast) -> None:
    client = signed_in(cast.mona)
    data = integration_post(cast, erp_instance=cast.globex_erp.pk)
    response = client.post(reverse("monitoring:integration_new"), data)
    assert response.status_code == 400
    assert "The ERP instance belongs to another customer." in response.content.decode()
    assert not Integration.objects.exists()


def test_a_generic_integration_takes_a_mapping_its_source_accepts(cast: Cast) -> None:
    generic = pytest.importorskip("erpcare.monitoring.sources.generic")
    client = signed_in(cast.mona)
    bad = client.post(
        reverse("monitoring:integration_new"),
        integration_post(cast, source="generic", field_mapping='{"no_such_field": "x"}'),
    )
    assert bad.status_code == 400
    assert not Integration.objects.exists()
    mapping = getattr(generic, "EXAMPLE_MAPPING", None) or {"identity": "id", "name": "title"}
    good = client.post(
        reverse("monitoring:integration_new"),
        integration_post(cast, source="generic", field_mapping=json.dumps(mapping)),
    )
    assert good.status_code == 200, good.content.decode()[:2000]
    assert Integration.objects.get().field_mapping == mapping


def test_rotating_shows_a_new_secret_once_and_the_old_one_is_gone(cast: Cast) -> None:
    integration = make_integration(cast)
    old = integration.secret
    client = signed_in(cast.adam)
    response = client.post(reverse("monitoring:integration_rotate", args=[integration.pk]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    integration.refresh_from_db()
    assert integration.secret != old
    assert integration.secret in response.content.decode()
    assert old not in response.content.decode()
    entry = AuditEntry.objects.get(action="monitoring.integration.secret_rotated")
    assert integration.secret not in json.dumps(entry.data)
    assert (
        client.get(reverse("monitoring:integration_rotate", args=[integration.pk])).status_code
        == 405
    )


def test_deactivating_and_activating_are_audited(cast: Cast) -> None:
    integration = make_integration(cast)
    client = signed_in(cast.mona)
    url = reverse("monitoring:integration_active", args=[integration.pk])
    client.post(url, {"active": "0"})
    integration.refresh_from_db()
    assert integration.is_active is False
    client.post(url, {"active": "0"})
    client.post(url, {"active": "1"})
    integration.refresh_from_db()
    assert integration.is_active is True
    actions_ = list(
        AuditEntry.objects.filter(action__startswith="monitoring.integration.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions_ == ["monitoring.integration.deactivated", "monitoring.integration.activated"]


def test_editing_keeps_source_key_and_secret(cast: Cast) -> None:
    integration = make_integration(cast)
    client = signed_in(cast.mona)
    data = integration_post(cast, name="Prometheus 新", source="zabbix", on_resolve="annotate")
    response = client.post(reverse("monitoring:integration", args=[integration.pk]), data)
    assert response.status_code == 302
    fresh = Integration.objects.get(pk=integration.pk)
    assert fresh.name == "Prometheus 新"
    assert fresh.on_resolve == "annotate"
    assert fresh.source == "alertmanager"
    assert (fresh.key, fresh.secret) == (integration.key, integration.secret)
    assert AuditEntry.objects.filter(action="monitoring.integration.changed").count() == 1


def add_payload(
    integration: Integration, *, state: str, age: timedelta, error: str = ""
) -> AlertPayload:
    body = json.dumps(AM_FIRING) + " " * AlertPayload.objects.count()
    return AlertPayload.objects.create(
        integration=integration, received_at=clock.now() - age, body=body,
        sha256=hashlib.sha256(body.encode()).hexdigest(), state=state, error=error,
    )  # fmt: skip


def test_the_list_shows_counts_last_error_and_the_pipeline_lag(cast: Cast) -> None:
    integration = make_integration(cast, last_error="Bad secret", last_error_at=clock.now())
    make_integration(cast, name="Zabbix", source="zabbix", key="key-zbx")
    add_payload(integration, state=PayloadState.PROCESSED, age=timedelta(hours=30))
    add_payload(integration, state=PayloadState.FAILED, age=timedelta(hours=2), error="bad json")
    add_payload(integration, state=PayloadState.PROCESSED, age=timedelta(hours=1))
    add_payload(integration, state=PayloadState.RECEIVED, age=timedelta(minutes=5))
    client = signed_in(cast.mona)
    response = client.get(reverse("monitoring:integrations"))
    rows = {row.integration.name: row for row in response.context["rows"]}
    assert (rows["Prometheus PRD"].received_24h, rows["Prometheus PRD"].failed) == (3, 1)
    assert (rows["Zabbix"].received_24h, rows["Zabbix"].failed) == (0, 0)
    health = response.context["health"]
    assert 290 <= health.lag_seconds < 400
    assert health.waiting == 1
    html = response.content.decode()
    assert "Bad secret" in html
    assert 'data-testid="pipeline-lag">5 min<' in html
    assert integration.secret not in html


def test_payload_page_shows_the_raw_body_and_its_error(cast: Cast) -> None:
    integration = make_integration(cast)
    payload = add_payload(integration, state=PayloadState.FAILED, age=timedelta(0), error="bad")
    other = make_integration(cast, name="Other", key="key-other")
    client = signed_in(cast.mona)
    response = client.get(reverse("monitoring:payload", args=[integration.pk, payload.pk]))
    assert response.status_code == 200
    assert "ErpDatabaseDown" in response.content.decode()
    assert client.get(reverse("monitoring:payload", args=[other.pk, payload.pk])).status_code == 404


def test_a_waiting_payload_is_not_processed_twice(cast: Cast) -> None:
    integration = make_integration(cast)
    payload = add_payload(integration, state=PayloadState.RECEIVED, age=timedelta(0))
    client = signed_in(cast.mona)
    url = reverse("monitoring:payload_reprocess", args=[integration.pk, payload.pk])
    response = client.post(url, follow=True)
    assert "waiting to be processed already" in response.content.decode()
    assert not AuditEntry.objects.filter(action="monitoring.payload.reprocessed").exists()


def test_process_again_runs_the_pipeline_on_a_failed_payload(cast: Cast) -> None:
    pytest.importorskip("erpcare.monitoring.pipeline")
    integration = make_integration(cast)
    payload = add_payload(integration, state=PayloadState.FAILED, age=timedelta(0), error="x")
    client = signed_in(cast.mona)
    url = reverse("monitoring:payload_reprocess", args=[integration.pk, payload.pk])
    client.post(url)
    payload.refresh_from_db()
    assert payload.state == PayloadState.PROCESSED
    assert payload.alerts_count == 2
    assert Alert.objects.filter(integration=integration).count() == 2
    assert AuditEntry.objects.filter(action="monitoring.payload.reprocessed").count() == 1


# ---------------------------------------------------------------------------
# Routing rules, dry run, correlation rules
# ---------------------------------------------------------------------------


def routing_post(**kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Acme production", "position": "10", "is_active": "on", "integration": "",
        "matchers": "env=acme-prd\nalertname=~Erp.*\nseverity!=info",
        "set_organization": "", "set_erp_instance": "", "instance_label": "", "set_module": "gl",
        "set_priority": "", "severity_map": "critical=0\nwarning=P2", "set_team": "",
        "set_tier": "2", "month_end_days": "3", "month_end_modules": "gl, ap",
    }  # fmt: skip
    data.update(kw)
    return data


def test_routing_rule_matchers_are_edited_as_lines(cast: Cast) -> None:
    client = signed_in(cast.mona)
    data = routing_post(set_organization=cast.acme.pk, set_erp_instance=cast.acme_erp.pk)
    assert client.post(reverse("monitoring:routing_rule_new"), data).status_code == 302
    rule = RoutingRule.objects.get()
    assert rule.matchers == [
        {"label": "env", "op": "=", "value": "acme-prd"},
        {"label": "alertname", "op": "=~", "value": "Erp.*"},
        {"label": "severity", "op": "!=", "value": "info"},
    ]
    assert rule.severity_map == {"critical": 0, "warning": 2}
    assert (rule.set_tier, rule.month_end_days, rule.month_end_modules) == (2, 3, ["gl", "ap"])
    page = client.get(reverse("monitoring:routing_rule", args=[rule.pk])).content.decode()
    assert "env=acme-prd\nalertname=~Erp.*\nseverity!=info" in page
    assert (
        "env=acme-prd, alertname=~Erp.*"
        in client.get(reverse("monitoring:routing_rules")).content.decode()
    )
    client.post(reverse("monitoring:routing_rule", args=[rule.pk]), routing_post(name="Acme 2"))
    assert RoutingRule.objects.get().name == "Acme 2"
    client.post(reverse("monitoring:routing_rule_delete", args=[rule.pk]))
    assert not RoutingRule.objects.exists()
    assert list(
        AuditEntry.objects.filter(action__startswith="monitoring.routing_rule")
        .order_by("id")
        .values_list("action", flat=True)
    ) == [
        "monitoring.routing_rule.created",
        "monitoring.routing_rule.changed",
        "monitoring.routing_rule.deleted",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"matchers": "env acme"}, "Line 1 is not a matcher"),
        ({"matchers": "env=a\nalertname=~(unclosed"}, ""),
        ({"severity_map": "fatal=0"}, "Line 1: write severity=priority"),
        ({"set_priority": "7"}, ""),
        ({"set_organization": "GLOBEX"}, ""),
    ],
)
def test_bad_routing_rules_are_form_errors(
    cast: Cast, change: dict[str, Any], message: str
) -> None:
    if change.get("set_organization") == "GLOBEX":
        change = {"set_organization": cast.globex.pk, "set_erp_instance": cast.acme_erp.pk}
        message = "The ERP instance belongs to another customer."
    client = signed_in(cast.mona)
    response = client.post(reverse("monitoring:routing_rule_new"), routing_post(**change))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RoutingRule.objects.exists()


def test_the_dry_run_parses_and_routes_and_stores_nothing(cast: Cast) -> None:
    pytest.importorskip("erpcare.monitoring.sources.alertmanager")
    integration = make_integration(cast, organization=None)
    RoutingRule.objects.create(
        name="Acme production", position=10,
        matchers=[{"label": "env", "op": "=", "value": "acme-prd"}],
        set_organization=cast.acme, set_erp_instance=cast.acme_erp, set_priority=0,
    )  # fmt: skip
    client = signed_in(cast.mona)
    counts = (Alert.objects.count(), AlertPayload.objects.count(), AuditEntry.objects.count())
    response = client.post(
        reverse("monitoring:dry_run"),
        {"integration": integration.pk, "body": json.dumps(AM_FIRING)},
    )
    assert response.status_code == 200
    alerts = response.context["result"].alerts
    assert [parsed.name for parsed, _route in alerts] == ["ErpDatabaseDown", "DiskFull"]
    first, second = (route for _parsed, route in alerts)
    assert first.organization == cast.acme
    assert first.priority == 0
    assert first.rules == ["Acme production"]
    assert second.rules == []
    html = response.content.decode()
    assert "Acme production" in html
    assert counts == (
        Alert.objects.count(),
        AlertPayload.objects.count(),
        AuditEntry.objects.count(),
    )


def test_a_malformed_dry_run_payload_shows_the_parsers_reason(cast: Cast) -> None:
    pytest.importorskip("erpcare.monitoring.sources.alertmanager")
    integration = make_integration(cast)
    client = signed_in(cast.mona)
    response = client.post(
        reverse("monitoring:dry_run"), {"integration": integration.pk, "body": "{not json"}
    )
    assert response.status_code == 400
    assert 'data-testid="dry-run-error"' in response.content.decode()
    assert response.context["result"].error


def test_correlation_rules_topology_needs_both_sides(cast: Cast) -> None:
    client = signed_in(cast.mona)
    data = {
        "name": "DB down swallows job failures", "position": "10", "is_active": "on",
        "kind": "topology", "group_by": "", "window_minutes": "60",
        "parent_matchers": "alertname=ErpDatabaseDown", "child_matchers": "",
    }  # fmt: skip
    response = client.post(reverse("monitoring:correlation_rule_new"), data)
    assert response.status_code == 400
    assert not CorrelationRule.objects.exists()
    data["child_matchers"] = "alertname=~ErpJob.*"
    assert client.post(reverse("monitoring:correlation_rule_new"), data).status_code == 302
    rule = CorrelationRule.objects.get()
    assert rule.child_matchers == [{"label": "alertname", "op": "=~", "value": "ErpJob.*"}]
    group = dict(data, name="By alert", kind="group", group_by="alertname, job",
                 parent_matchers="", child_matchers="")  # fmt: skip
    client.post(reverse("monitoring:correlation_rule", args=[rule.pk]), group)
    rule.refresh_from_db()
    assert (rule.kind, rule.group_by) == ("group", ["alertname", "job"])
    bad = client.post(reverse("monitoring:correlation_rule_new"), dict(group, group_by="a b!"))
    assert bad.status_code == 400
    client.post(reverse("monitoring:correlation_rule_delete", args=[rule.pk]))
    assert not CorrelationRule.objects.exists()
    assert AuditEntry.objects.filter(action__startswith="monitoring.correlation_rule.").count() == 3


# ---------------------------------------------------------------------------
# Maintenance windows
# ---------------------------------------------------------------------------


def window_post(cast: Cast, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "SAP kernel upgrade", "organization": cast.acme.pk,
        "erp_instances": [cast.acme_erp.pk], "starts_at": "2026-12-05T22:00",
        "ends_at": "2026-12-06T04:00", "cron": "", "duration_minutes": "",
        "time_zone": "Asia/Shanghai", "reason": "CHG planned", "is_active": "on",
    }  # fmt: skip
    data.update(kw)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cron": "every saturday", "duration_minutes": "60"}, "is not a cron schedule"),
        ({"cron": "0 2 * * 6", "duration_minutes": "0"}, "needs a duration"),
        ({"time_zone": "Mars/Olympus"}, "is not a time zone"),
        ({"ends_at": "2026-12-05T21:00"}, "must end after it starts"),
        ({"organization": "GLOBEX"}, "belongs to another customer"),
    ],
)
def test_bad_maintenance_windows_are_refused(
    cast: Cast, change: dict[str, Any], message: str
) -> None:
    if change.get("organization") == "GLOBEX":
        change = {"organization": cast.globex.pk}
    client = signed_in(cast.mona)
    response = client.post(reverse("monitoring:window_new"), window_post(cast, **change))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not MaintenanceWindow.objects.exists()


def test_a_recurring_window_is_saved_and_can_be_ended_now(cast: Cast) -> None:
    client = signed_in(cast.mona)
    data = window_post(
        cast, cron="0  2 * * 6", duration_minutes="120", starts_at="2026-01-01T00:00"
    )
    assert client.post(reverse("monitoring:window_new"), data).status_code == 302
    window = MaintenanceWindow.objects.get()
    assert (window.cron, window.duration_minutes) == ("0 2 * * 6", 120)
    assert list(window.erp_instances.all()) == [cast.acme_erp]
    assert window.created_by == cast.mona
    client.post(reverse("monitoring:window_end", args=[window.pk]))
    window.refresh_from_db()
    assert window.ends_at <= clock.now()
    response = client.post(reverse("monitoring:window_end", args=[window.pk]), follow=True)
    assert "over already" in response.content.decode()
    assert list(
        AuditEntry.objects.filter(action__startswith="monitoring.maintenance_window.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["monitoring.maintenance_window.created", "monitoring.maintenance_window.ended"]


# ---------------------------------------------------------------------------
# Open alerts and the incident's panel
# ---------------------------------------------------------------------------


def make_alert(integration: Integration, name: str, **kw: Any) -> Alert:
    now = clock.now()
    values: dict[str, Any] = {
        "integration": integration, "identity": name, "name": name, "starts_at": now,
        "first_seen_at": now - timedelta(minutes=5), "last_seen_at": now,
    }  # fmt: skip
    values.update(kw)
    return Alert.objects.create(**values)


def test_open_alerts_filter_by_status_customer_and_integration(cast: Cast) -> None:
    prd = make_integration(cast)
    zbx = make_integration(cast, name="Zabbix", source="zabbix", key="key-zbx")
    make_alert(prd, "ErpDatabaseDown", organization=cast.acme)
    make_alert(prd, "OldOne", status=AlertStatus.RESOLVED, organization=cast.acme)
    make_alert(zbx, "GlobexCpu", organization=cast.globex, status=AlertStatus.ACKNOWLEDGED)
    client = signed_in(cast.mona)

    def names(query: dict[str, Any]) -> set[str]:
        response = client.get(reverse("monitoring:alerts"), query)
        assert response.status_code == 200
        return {a.name for a in response.context["page"]["rows"]}

    assert names({}) == {"ErpDatabaseDown", "GlobexCpu"}
    assert names({"status": "resolved"}) == {"OldOne"}
    assert names({"organization": cast.globex.pk}) == {"GlobexCpu"}
    assert names({"integration": prd.pk}) == {"ErpDatabaseDown"}
    assert names({"status": "bogus"}) == {"ErpDatabaseDown", "GlobexCpu"}


def incident_for(cast: Cast, organization: Any, *, type: str = "incident") -> Any:
    return actions.create_ticket(
        cast.lina, title="SAP PRD database down", organization=organization, type=type,
        channel="api", priority=0, category="system_failure",
    )  # fmt: skip


def test_the_incident_page_lists_its_alerts_and_polls_every_15_seconds(cast: Cast) -> None:
    integration = make_integration(cast)
    ticket = incident_for(cast, cast.acme)
    make_alert(integration, "ErpDatabaseDown", incident=ticket, count=17,
               labels={"env": "acme-prd", "instance": "db01"}, severity="critical",
               source_url="javascript:alert(1)")  # fmt: skip
    make_alert(integration, "ErpJobFailed", incident=ticket, status=AlertStatus.RESOLVED)
    make_alert(integration, "Unrelated")
    client = signed_in(cast.lina)
    page = client.get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    panel_url = reverse("monitoring:ticket_alerts", args=[ticket.number])
    assert f'hx-get="{panel_url}"' in page
    assert 'hx-trigger="load, every 15s"' in page
    response = client.get(panel_url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert [a.name for a in response.context["alerts"]] == ["ErpDatabaseDown", "ErpJobFailed"]
    html = response.content.decode()
    assert "×17" in html
    assert "env=acme-prd" in html
    assert "javascript:" not in html
    assert "Unrelated" not in html


def test_other_tickets_have_no_alert_panel(cast: Cast) -> None:
    ticket = incident_for(cast, cast.acme, type="request")
    page = signed_in(cast.lina).get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    assert 'data-testid="alerts-panel"' not in page


def test_the_panel_follows_the_tickets_scoping(cast: Cast) -> None:
    integration = make_integration(cast)
    ticket = incident_for(cast, cast.globex)
    make_alert(integration, "GlobexDown", incident=ticket)
    url = reverse("monitoring:ticket_alerts", args=[ticket.number])
    # vera's team serves only Acme; bob is a customer: neither sees the Globex incident.
    assert signed_in(cast.vera).get(url).status_code == 404
    assert signed_in(cast.bob).get(url).status_code == 404
    assert signed_in(cast.alice).get(url).status_code == 404
    assert Client().get(url).status_code == 302
    assert signed_in(cast.audra).get(url).status_code == 200
    assert (
        signed_in(cast.vera)
        .get(reverse("monitoring:ticket_alerts", args=["INC-1999-000001"]))
        .status_code
        == 404
    )


def test_the_zabbix_media_type_is_a_download_for_admins_only(cast: Cast) -> None:
    url = reverse("monitoring:zabbix_media_type")
    response = signed_in(cast.mona).get(url)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    assert "zabbix_export" in body or "media_types" in body
    assert signed_in(cast.lina).get(url).status_code == 404


@pytest.mark.parametrize("source", [kind.value for kind in SourceKind])
def test_the_curl_example_posts_a_body_its_source_reads(cast: Cast, source: str) -> None:
    import shlex

    from erpcare.monitoring import admin_services
    from erpcare.monitoring.sources import source_for

    mapping = {}
    if source == "generic":
        fixtures = admin_services.SOURCES_DIR / "generic" / "fixtures" / "mapping.json"
        mapping = json.loads(fixtures.read_text(encoding="utf-8"))
    integration = make_integration(cast, source=source, field_mapping=mapping)
    words = shlex.split(admin_services.curl_example(integration, "s3cret"))
    body = words[words.index("--data-binary") + 1]
    assert source_for(source).parse(body.encode(), mapping=mapping)
    assert "Authorization: Bearer s3cret" in words
