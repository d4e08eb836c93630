"""The pipeline end to end from stored Alertmanager payloads: dedup, lifecycle, HA
re-sends, malformed payloads, query counts."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erpcare.conftest import Cast
from erpcare.core import clock
from erpcare.monitoring.incidents import MONITORING_EMAIL
from erpcare.monitoring.models import (
    Alert,
    AlertPayload,
    AlertTransition,
    Integration,
    PayloadState,
)
from erpcare.monitoring.pipeline import REASON_KEY, process_payload, process_pending
from erpcare.tickets.models import Comment, Status, Ticket

T0 = datetime.fromisoformat("2026-11-10T08:00:00+00:00")


def am_alert(
    fingerprint: str,
    name: str = "DatabaseDown",
    *,
    status: str = "firing",
    severity: str = "critical",
    **labels: str,
) -> dict[str, Any]:
    return {
        "status": status,
        "fingerprint": fingerprint,
        "labels": {"alertname": name, "severity": severity, **labels},
        "annotations": {"summary": f"{name} on {labels.get('instance', '?')}"},
        "startsAt": "2026-11-10T07:59:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.local/graph",
    }


def integration(cast: Cast, **extra: Any) -> Integration:
    fields: dict[str, Any] = {
        "name": "Acme Prometheus",
        "source": "alertmanager",
        "key": "k" * 10 + str(Integration.objects.count()),
        "secret": "s3cret",
        "organization": cast.acme,
        "erp_instance": cast.acme_erp,
        "created_at": T0,
        **extra,
    }
    return Integration.objects.create(**fields)


def store(integ: Integration, *alerts: dict[str, Any], at: datetime = T0) -> AlertPayload:
    body = json.dumps({"version": "4", "status": "firing", "alerts": list(alerts)})
    return store_raw(integ, body, at=at)


def store_raw(integ: Integration, body: str, *, at: datetime = T0) -> AlertPayload:
    return AlertPayload.objects.create(
        integration=integ,
        received_at=at,
        body=body,
        content_type="application/json",
        sha256=hashlib.sha256(body.encode()).hexdigest(),
    )


def run(at: datetime = T0, **kwargs: Any) -> dict[str, int]:
    with clock.frozen_at(at):
        return process_pending(**kwargs)


def incidents() -> list[Ticket]:
    return list(Ticket.objects.filter(channel="monitoring").order_by("id"))


def notes(ticket: Ticket) -> list[str]:
    return list(
        Comment.objects.filter(ticket=ticket, is_internal=True).values_list("body", flat=True)
    )


@pytest.mark.django_db
def test_a_new_alert_opens_one_incident_for_the_routed_customer(cast: Cast) -> None:
    integ = integration(cast, team=cast.l2_platform)
    payload = store(integ, am_alert("fp1", instance="db01"))
    stats = run()
    assert stats["new"] == 1
    assert stats["incidents"] == 1
    alert = Alert.objects.get()
    (ticket,) = incidents()
    assert alert.incident == ticket
    assert alert.status == "firing"
    assert alert.count == 1
    assert ticket.type == "incident"
    assert ticket.organization == cast.acme
    assert ticket.erp_instance == cast.acme_erp
    assert ticket.team == cast.l2_platform
    assert ticket.priority == 1  # critical without a severity map
    assert ticket.title == "DatabaseDown — db01"
    assert "DatabaseDown on db01" in ticket.description
    assert "instance=db01" in ticket.description
    assert ticket.requester is None
    payload.refresh_from_db()
    assert payload.state == PayloadState.PROCESSED
    assert payload.alerts_count == 1
    assert list(AlertTransition.objects.values_list("old_status", "new_status")) == [("", "firing")]


@pytest.mark.django_db
def test_repeats_update_the_alert_and_add_nothing(cast: Cast) -> None:
    integ = integration(cast)
    store(integ, am_alert("fp1", instance="db01"))
    run()
    for minute in (1, 2, 3):
        store(integ, am_alert("fp1", instance="db01"), at=T0 + timedelta(minutes=minute * 10))
    stats = run(T0 + timedelta(minutes=31))
    assert stats["repeats"] == 3
    alert = Alert.objects.get()
    assert alert.count == 4
    assert alert.last_seen_at == T0 + timedelta(minutes=31)
    assert len(incidents()) == 1
    assert notes(incidents()[0]) == []


@pytest.mark.django_db
def test_an_exact_resend_is_a_duplicate_and_changes_nothing(cast: Cast) -> None:
    integ = integration(cast)
    first = store(integ, am_alert("fp1", instance="db01"))
    second = store(integ, am_alert("fp1", instance="db01"), at=T0 + timedelta(seconds=2))
    later = store(integ, am_alert("fp1", instance="db01"), at=T0 + timedelta(minutes=10))
    stats = run(T0 + timedelta(minutes=10))
    assert stats["duplicates"] == 1
    first.refresh_from_db()
    second.refresh_from_db()
    later.refresh_from_db()
    assert (first.state, second.state, later.state) == ("processed", "duplicate", "processed")
    assert Alert.objects.get().count == 2  # the first and the one ten minutes later


@pytest.mark.django_db
def test_a_malformed_payload_fails_alone(cast: Cast) -> None:
    integ = integration(cast)
    good1 = store(integ, am_alert("fp1", instance="db01"))
    bad = store_raw(integ, '{"version": "4", "alerts": "nope"}')
    good2 = store(integ, am_alert("fp2", "DiskFull", instance="db01"))
    stats = run()
    assert stats["failed"] == 1
    assert stats["new"] == 2
    bad.refresh_from_db()
    assert bad.state == PayloadState.FAILED
    assert "alerts" in bad.error
    for good in (good1, good2):
        good.refresh_from_db()
        assert good.state == PayloadState.PROCESSED
    assert Alert.objects.count() == 2
    integ.refresh_from_db()
    assert integ.last_error == bad.error


@pytest.mark.django_db
def test_resolving_every_alert_resolves_the_incident(cast: Cast) -> None:
    integ = integration(cast)
    store(integ, am_alert("fp1", instance="db01"), am_alert("fp2", instance="db01"))
    run()
    (ticket,) = incidents()
    assert Alert.objects.filter(incident=ticket).count() == 2
    store(integ, am_alert("fp1", status="resolved", instance="db01"), at=T0 + timedelta(minutes=5))
    run(T0 + timedelta(minutes=5))
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW  # one alert still fires
    assert any("Resolved at the source" in n for n in notes(ticket))
    store(integ, am_alert("fp2", status="resolved", instance="db01"), at=T0 + timedelta(minutes=6))
    stats = run(T0 + timedelta(minutes=6))
    ticket.refresh_from_db()
    assert stats["incidents_resolved"] == 1
    assert ticket.status == Status.RESOLVED
    assert ticket.resolution_code == "fixed"
    assert "All alerts of this incident resolved" in ticket.resolution
    alert = Alert.objects.get(identity="fp2")
    assert alert.status == "resolved"
    assert alert.resolved_at == T0 + timedelta(minutes=6)
    assert list(alert.transitions.values_list("new_status", flat=True)) == ["firing", "resolved"]


@pytest.mark.django_db
def test_annotate_mode_only_notes_the_resolution(cast: Cast) -> None:
    integ = integration(cast, on_resolve="annotate")
    store(integ, am_alert("fp1", instance="db01"))
    run()
    store(integ, am_alert("fp1", status="resolved", instance="db01"), at=T0 + timedelta(minutes=5))
    run(T0 + timedelta(minutes=5))
    (ticket,) = incidents()
    assert ticket.status == Status.NEW
    assert Alert.objects.get().status == "resolved"
    assert any("Resolved at the source: DatabaseDown (db01)" in n for n in notes(ticket))


@pytest.mark.django_db
def test_firing_again_within_the_flap_window_reopens_alert_and_incident(cast: Cast) -> None:
    integ = integration(cast, flap_window_minutes=30)
    store(integ, am_alert("fp1", instance="db01"))
    run()
    store(integ, am_alert("fp1", status="resolved", instance="db01"), at=T0 + timedelta(minutes=5))
    run(T0 + timedelta(minutes=5))
    (ticket,) = incidents()
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    store(integ, am_alert("fp1", instance="db01"), at=T0 + timedelta(minutes=20))
    stats = run(T0 + timedelta(minutes=20))
    assert stats["reopened"] == 1
    assert stats["incidents_reopened"] == 1
    alert = Alert.objects.get()
    assert alert.status == "firing"
    assert alert.reopen_count == 1
    assert alert.resolved_at is None
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.reopen_count == 1
    assert len(incidents()) == 1
    assert list(alert.transitions.values_list("new_status", flat=True)) == [
        "firing",
        "resolved",
        "firing",
    ]


@pytest.mark.django_db
def test_firing_again_after_the_flap_window_is_a_new_alert_and_incident(cast: Cast) -> None:
    integ = integration(cast, flap_window_minutes=30)
    store(integ, am_alert("fp1", instance="db01"))
    run()
    store(integ, am_alert("fp1", status="resolved", instance="db01"), at=T0 + timedelta(minutes=5))
    run(T0 + timedelta(minutes=5))
    store(integ, am_alert("fp1", instance="db01"), at=T0 + timedelta(minutes=50))
    run(T0 + timedelta(minutes=50))
    assert Alert.objects.count() == 2
    assert len(incidents()) == 2


@pytest.mark.django_db
def test_an_alert_without_a_customer_is_kept_without_incident(cast: Cast) -> None:
    integ = integration(cast, organization=None, erp_instance=None)
    store(integ, am_alert("fp1", instance="db01"))
    stats = run()
    alert = Alert.objects.get()
    assert stats["unrouted"] == 1
    assert incidents() == []
    assert alert.incident is None
    assert alert.group_key == ""
    assert alert.annotations[REASON_KEY] == "no_customer"


@pytest.mark.django_db
def test_joining_alerts_make_one_note_per_round(cast: Cast) -> None:
    integ = integration(cast)
    store(integ, am_alert("fp1", instance="db01"))
    run()
    # Default grouping: customer + instance + alertname, so these three join.
    store(
        integ,
        am_alert("fp2", instance="db02"),
        am_alert("fp3", instance="db03"),
        am_alert("fp4", instance="db04"),
        at=T0 + timedelta(minutes=1),
    )
    run(T0 + timedelta(minutes=1))
    (ticket,) = incidents()
    (note,) = notes(ticket)
    assert note.count("Alert joined") == 3
    assert Alert.objects.filter(incident=ticket).count() == 4


@pytest.mark.django_db
def test_joining_alerts_are_noted_at_most_once_a_minute_and_none_is_lost(cast: Cast) -> None:
    integ = integration(cast)
    store(integ, am_alert("fp1", instance="db01"))
    run()
    at = T0 + timedelta(seconds=10)
    store(integ, am_alert("fp2", instance="db02"), at=at)
    run(at)
    (ticket,) = incidents()
    assert len(notes(ticket)) == 1  # the first join is noted at once
    # A storm: joins 10 and 20 s later are not noted yet...
    for second, fingerprint in ((20, "fp3"), (30, "fp4")):
        at = T0 + timedelta(seconds=second)
        store(integ, am_alert(fingerprint, instance=f"db-{fingerprint}"), at=at)
        stats = run(at)
        assert stats["join_notes_deferred"] == 1
    assert len(notes(ticket)) == 1
    # ...a minute after the last note, the next join's note counts them.
    at = T0 + timedelta(seconds=75)
    store(integ, am_alert("fp5", instance="db05"), at=at)
    run(at)
    latest = notes(ticket)[-1]
    assert len(notes(ticket)) == 2
    assert "Alert joined: DatabaseDown (db05)" in latest
    assert "2 more alerts joined since the previous note." in latest
    assert Alert.objects.filter(incident=ticket).count() == 5


@pytest.mark.django_db
def test_a_resolution_is_noted_at_once_with_the_joins_of_its_round(cast: Cast) -> None:
    integ = integration(cast, on_resolve="annotate")
    store(integ, am_alert("fp1", instance="db01"), am_alert("fp2", instance="db02"))
    run()
    (ticket,) = incidents()
    assert len(notes(ticket)) == 1
    at = T0 + timedelta(seconds=5)
    store(
        integ,
        am_alert("fp2", instance="db02", status="resolved"),
        am_alert("fp3", instance="db03"),
        at=at,
    )
    run(at)
    latest = notes(ticket)[-1]
    assert len(notes(ticket)) == 2
    assert "Resolved at the source: DatabaseDown (db02)" in latest
    assert "Alert joined: DatabaseDown (db03)" in latest


@pytest.mark.django_db
def test_processing_a_hundred_repeats_takes_a_fixed_number_of_queries(cast: Cast) -> None:
    integ = integration(cast)
    alerts = [am_alert(f"fp{i}", instance=f"db{i}") for i in range(100)]
    store(integ, *alerts)
    run()
    assert Alert.objects.count() == 100

    def repeat_round(at: datetime) -> int:
        store(integ, *alerts, at=at)
        with CaptureQueriesContext(connection) as queries:
            stats = run(at)
        assert stats["repeats"] == 100
        return len(queries)

    first = repeat_round(T0 + timedelta(minutes=10))
    alerts += [am_alert(f"fp{i}", instance=f"db{i}") for i in range(100, 300)]
    store(integ, *alerts[100:], at=T0 + timedelta(minutes=11))
    run(T0 + timedelta(minutes=11))
    alerts_300 = alerts
    store(integ, *alerts_300, at=T0 + timedelta(minutes=20))
    with CaptureQueriesContext(connection) as queries:
        stats = run(T0 + timedelta(minutes=20))
    assert stats["repeats"] == 300
    # Three times the alerts, (almost) the same queries: SQLite's bulk UPDATE is split by
    # its parameter limit, so a few statements more are allowed — never one per alert.
    assert first <= 12
    assert len(queries) <= first + 3, [q["sql"][:80] for q in queries]
    assert Alert.objects.get(identity="fp7").count == 3


@pytest.mark.django_db
def test_process_payload_replays_one_payload(cast: Cast) -> None:
    integ = integration(cast)
    payload = store(integ, am_alert("fp1", instance="db01"))
    with clock.frozen_at(T0):
        done = process_payload(payload.pk)
    assert done.state == PayloadState.PROCESSED
    assert done.attempts == 1
    assert Alert.objects.get().incident is not None


@pytest.mark.django_db
def test_the_monitoring_account_writes_the_incident(cast: Cast) -> None:
    integ = integration(cast)
    store(integ, am_alert("fp1", instance="db01"))
    run()
    from erpcare.tickets.models import TicketEvent

    created = TicketEvent.objects.get(ticket=incidents()[0], kind="created")
    assert created.actor is not None
    assert created.actor.email == MONITORING_EMAIL


@pytest.mark.django_db
def test_an_acknowledgement_at_the_source_marks_the_alert_and_notes_the_incident(
    cast: Cast,
) -> None:
    from pathlib import Path

    fixtures = Path(__file__).parents[1] / "sources" / "pagerduty" / "fixtures"
    integ = integration(cast, source="pagerduty")
    store_raw(integ, (fixtures / "trigger.json").read_text())
    run()
    store_raw(integ, (fixtures / "acknowledge.json").read_text(), at=T0 + timedelta(minutes=1))
    stats = run(T0 + timedelta(minutes=1))
    assert stats["acknowledged"] == 1
    alert = Alert.objects.get()
    assert alert.status == "acknowledged"
    assert alert.count == 2
    (ticket,) = incidents()
    assert any("Acknowledged at the source" in note for note in notes(ticket))


@pytest.mark.django_db
def test_new_alerts_take_a_fixed_number_of_queries(cast: Cast) -> None:
    integ = integration(cast)

    def new_round(first: int, n: int, at: datetime) -> int:
        # One group (same customer, instance and alertname): one incident, one lock,
        # one insert for all of them.
        store(integ, *[am_alert(f"fp{i}", instance="db01") for i in range(first, first + n)], at=at)
        with CaptureQueriesContext(connection) as queries:
            stats = run(at)
        assert stats["new"] == n
        return len(queries)

    hundred = new_round(0, 100, T0)
    three_hundred = new_round(100, 300, T0 + timedelta(minutes=1))
    assert Alert.objects.count() == 400
    assert len(incidents()) == 1
    assert set(Alert.objects.values_list("incident", flat=True)) == {incidents()[0].pk}
    assert AlertTransition.objects.filter(old_status="", new_status="firing").count() == 400
    assert three_hundred <= hundred + 3


@pytest.mark.django_db
def test_an_alert_another_worker_inserted_meanwhile_becomes_a_repeat(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    from erpcare.monitoring import pipeline

    integ = integration(cast)
    store(integ, am_alert("fp1", instance="db01"))
    run()
    (alert,) = Alert.objects.all()
    # This round does not see the open alert (as if another worker inserted it after the
    # round loaded the open alerts): its insert is refused by the unique index, and the
    # firing counts on the other worker's alert instead.
    monkeypatch.setattr(pipeline._Round, "_load_alerts", lambda self, items: None)
    store(
        integ,
        am_alert("fp1", instance="db01"),
        am_alert("fp2", instance="db02"),
        at=T0 + timedelta(minutes=5),
    )
    stats = run(T0 + timedelta(minutes=5))
    assert stats["new"] == 1
    assert stats["repeats"] == 1
    alert.refresh_from_db()
    assert alert.count == 2
    assert alert.last_seen_at == T0 + timedelta(minutes=5)
    assert Alert.objects.count() == 2
    assert Alert.objects.get(identity="fp2").incident is not None
    assert AlertTransition.objects.filter(alert=alert).count() == 1


@pytest.mark.django_db
def test_firing_resolved_and_firing_again_in_one_round_is_one_firing_alert(cast: Cast) -> None:
    integ = integration(cast)
    store(integ, am_alert("fp1", instance="db01"))
    store(integ, am_alert("fp1", instance="db01", status="resolved"))
    store(integ, am_alert("fp1", instance="db01", labels_note="again"))
    stats = run()
    assert stats["new"] == 1
    assert stats["reopened"] == 1
    alert = Alert.objects.get()
    assert alert.status == "firing"
    assert alert.resolved_at is None
    assert alert.reopen_count == 1
    assert alert.count == 3  # every message counts, the resolution too
    (ticket,) = incidents()
    assert ticket.status not in (Status.RESOLVED, Status.CLOSED)
    assert list(
        AlertTransition.objects.filter(alert=alert).order_by("id").values_list("new_status")
    ) == [("firing",), ("resolved",), ("firing",)]
