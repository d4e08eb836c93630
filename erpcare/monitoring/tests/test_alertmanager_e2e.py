"""A real Prometheus Alertmanager sends its webhook to our live endpoint: alerts posted to
Alertmanager's own API become one incident for the routed customer, re-sends and a second
Alertmanager (HA pair) do not add incidents, and when Alertmanager resolves the alerts the
incident resolves with them.

The worker's loop is the test's loop here: ``pipeline.process_pending()`` is called until
the expected state appears (at most ``WAIT`` seconds), so a failure names what never came,
with Alertmanager's log and the payloads we stored.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from erpcare.monitoring.models import (
    Alert,
    AlertPayload,
    AlertStatus,
    AuthMode,
    CorrelationKind,
    CorrelationRule,
    Integration,
    PayloadState,
    ResolveAction,
    RoutingRule,
    SourceKind,
)
from erpcare.monitoring.tests.alertmanager_server import (
    Alertmanager,
    alert,
    binary,
    start_alertmanager,
    wait_until,
)
from erpcare.tickets.models import Status, Ticket, TicketType

pytestmark = pytest.mark.skipif(
    binary() is None,
    reason="prometheus-alertmanager is not installed (Debian package prometheus-alertmanager)",
)

WAIT = 90.0  # seconds: Alertmanager notifies within ~1 s (group_wait/group_interval 1s);
# a loaded 2-core CI machine has been seen to take over 30 s for the second of an HA pair.


@pytest.fixture
def integration(transactional_db: Any, cast: Any) -> Integration:
    integration = Integration.objects.create(
        name="Prometheus production",
        source=SourceKind.ALERTMANAGER,
        key=secrets.token_hex(16),
        secret=secrets.token_urlsafe(32),
        auth_mode=AuthMode.BEARER,
        on_resolve=ResolveAction.RESOLVE,
        created_at=timezone.now(),
    )
    RoutingRule.objects.create(
        name="Acme production",
        position=10,
        matchers=[{"label": "customer", "op": "=", "value": "acme"}],
        set_organization=cast.acme,
        set_erp_instance=cast.acme_erp,
        set_team=cast.l2_platform,
        severity_map={"critical": 0, "high": 1, "warning": 2, "info": 3},
    )
    CorrelationRule.objects.create(
        name="One incident per job",
        kind=CorrelationKind.GROUP,
        group_by=["job"],
        window_minutes=60,
    )
    return integration


def _start(tmp: Path, live_server: Any, integration: Integration) -> Alertmanager:
    return start_alertmanager(
        tmp,
        webhook_url=f"{live_server.url}/api/v1/alerts/alertmanager/{integration.key}",
        credentials=integration.secret,
        group_by=["job"],
    )


@pytest.fixture
def alertmanagers(
    tmp_path: Path, live_server: Any, integration: Integration
) -> Iterator[Callable[[int], list[Alertmanager]]]:
    started: list[Alertmanager] = []

    def start(n: int = 1) -> list[Alertmanager]:
        for _ in range(n):
            started.append(_start(tmp_path / f"am{len(started)}", live_server, integration))
        return started

    yield start
    for am in started:
        am.stop()
    # Printed at teardown: pytest shows it only when the test failed.
    for am in started:
        print(f"--- {am.log_path}\n{am.log_tail()}")


def _diagnostics(ams: list[Alertmanager]) -> Callable[[], str]:
    def text() -> str:
        payloads = [
            f"#{p.pk} {p.state} alerts={p.alerts_count} error={p.error[:300]!r}"
            for p in AlertPayload.objects.order_by("id")
        ]
        alerts = [
            f"{a.identity} {a.status} incident={a.incident_id} org={a.organization_id}"
            for a in Alert.objects.order_by("id")
        ]
        logs = "\n".join(f"--- {am.url}\n{am.log_tail(2500)}" for am in ams)
        return f"payloads: {payloads}\nalerts: {alerts}\n{logs}"

    return text


def _process_until(probe: Callable[[], Any], *, what: str, ams: list[Alertmanager]) -> Any:
    from erpcare.monitoring.pipeline import process_pending

    def step() -> Any:
        process_pending()
        return probe()

    return wait_until(step, timeout=WAIT, what=what, every=0.25, context=_diagnostics(ams))


def _incidents() -> list[Ticket]:
    return list(Ticket.objects.filter(type=TicketType.INCIDENT).order_by("id"))


def _firing_batch(started: datetime) -> list[dict[str, Any]]:
    common = {"job": "erp-prd", "customer": "acme"}
    return [
        alert(
            "ErpDatabaseDown",
            {**common, "severity": "critical", "instance": "db1:5432"},
            summary="Acme SAP database is down / 数据库宕机",
            starts_at=started,
        ),
        alert(
            "ErpJobFailed",
            {**common, "severity": "warning", "instance": "app1:8000"},
            summary="MRP batch job failed",
            starts_at=started,
        ),
    ]


def _ended(batch: list[dict[str, Any]], at: datetime) -> list[dict[str, Any]]:
    return [{**item, "endsAt": at.isoformat().replace("+00:00", "Z")} for item in batch]


def test_alerts_through_a_real_alertmanager_open_one_incident_and_resolve_it(
    alertmanagers: Callable[[int], list[Alertmanager]], integration: Integration, cast: Any
) -> None:
    (am,) = alertmanagers(1)
    batch = _firing_batch(datetime.now(UTC) - timedelta(seconds=30))
    for _ in range(3):  # the same alerts, posted three times (a rule evaluated thrice)
        am.post_alerts(batch)

    def both_alerts_in_an_incident() -> list[Alert] | None:
        alerts = list(Alert.objects.filter(integration=integration).order_by("name"))
        if len(alerts) == 2 and all(a.incident_id for a in alerts):
            return alerts
        return None

    alerts = _process_until(
        both_alerts_in_an_incident, what="two alerts linked to an incident", ams=[am]
    )
    incidents = _incidents()
    assert len(incidents) == 1, [i.number for i in incidents]
    incident = incidents[0]
    assert {a.incident_id for a in alerts} == {incident.pk}
    assert [a.name for a in alerts] == ["ErpDatabaseDown", "ErpJobFailed"]
    assert {a.status for a in alerts} == {AlertStatus.FIRING}
    assert incident.organization_id == cast.acme.pk
    assert incident.erp_instance_id == cast.acme_erp.pk
    assert incident.status not in (Status.RESOLVED, Status.CLOSED)
    # Alertmanager's fingerprints are the identities: the same alert is the same row.
    fingerprints = {a["fingerprint"] for a in am.alerts()}
    assert {a.identity for a in alerts} == fingerprints

    # More re-posts while firing: nothing new is opened.
    for _ in range(3):
        am.post_alerts(batch)
    time.sleep(2.5)  # past group_interval: Alertmanager would have sent by now
    _process_until(
        lambda: (
            not AlertPayload.objects.filter(
                state__in=[PayloadState.RECEIVED, PayloadState.PROCESSING]
            ).exists()
        ),
        what="the payload queue to drain",
        ams=[am],
    )
    assert len(_incidents()) == 1
    assert Alert.objects.filter(integration=integration).count() == 2
    assert not AlertPayload.objects.filter(state=PayloadState.FAILED).exists()

    # Alertmanager resolves them (endsAt in the past) and sends "resolved".
    am.post_alerts(_ended(batch, datetime.now(UTC) - timedelta(seconds=1)))

    def incident_resolved() -> bool:
        incident.refresh_from_db()
        open_alerts = Alert.objects.filter(integration=integration).exclude(
            status=AlertStatus.RESOLVED
        )
        return incident.status == Status.RESOLVED and not open_alerts.exists()

    _process_until(incident_resolved, what="the alerts and the incident to resolve", ams=[am])
    resolved = list(Alert.objects.filter(integration=integration))
    assert len(resolved) == 2
    assert all(a.resolved_at is not None and a.ends_at is not None for a in resolved)
    assert len(_incidents()) == 1
    assert not AlertPayload.objects.filter(state=PayloadState.FAILED).exists()


def test_an_alertmanager_ha_pair_sends_everything_twice_and_still_one_incident(
    alertmanagers: Callable[[int], list[Alertmanager]], integration: Integration
) -> None:
    # Two Alertmanagers without gossip both notify: exactly what an HA pair does when its
    # peers cannot see each other, and the duplicate deliveries the issue asks us to absorb.
    ams = alertmanagers(2)
    batch = _firing_batch(datetime.now(UTC) - timedelta(seconds=30))
    for am in ams:
        am.post_alerts(batch)

    def two_deliveries_processed() -> bool:
        done = AlertPayload.objects.filter(
            integration=integration,
            state__in=[PayloadState.PROCESSED, PayloadState.DUPLICATE],
        ).count()
        linked = Alert.objects.filter(integration=integration, incident__isnull=False).count()
        return done >= 2 and linked == 2

    _process_until(two_deliveries_processed, what="both deliveries processed", ams=ams)
    assert len(_incidents()) == 1
    alerts = Alert.objects.filter(integration=integration)
    assert alerts.count() == 2
    # Both deliveries counted on the same rows (a repeat bumps the counter, never a row).
    assert sum(a.count for a in alerts) >= 2

    ended = _ended(batch, datetime.now(UTC) - timedelta(seconds=1))
    for am in ams:
        am.post_alerts(ended)
    (incident,) = _incidents()

    def resolved() -> bool:
        incident.refresh_from_db()
        return (
            incident.status == Status.RESOLVED
            and not alerts.exclude(status=AlertStatus.RESOLVED).exists()
        )

    _process_until(resolved, what="the incident to resolve", ams=ams)
    assert len(_incidents()) == 1
    assert Alert.objects.filter(integration=integration).count() == 2


def test_a_wrong_secret_in_alertmanager_stores_nothing(
    tmp_path: Path, live_server: Any, integration: Integration
) -> None:
    integration_copy = Integration(
        key=integration.key, secret="not-the-secret", source=integration.source
    )
    am = _start(tmp_path / "am-wrong", live_server, integration_copy)
    try:
        am.post_alerts(_firing_batch(datetime.now(UTC) - timedelta(seconds=30)))
        # Alertmanager logs the refused notification; our side keeps nothing.
        wait_until(
            lambda: re.search(r"unexpected status code 40[13]", am.log_tail(20000)),
            timeout=WAIT,
            what="Alertmanager to log the refused webhook",
            context=lambda: am.log_tail(),
        )
    finally:
        am.stop()
    assert not AlertPayload.objects.exists()
    assert not Alert.objects.exists()
    assert not _incidents()
