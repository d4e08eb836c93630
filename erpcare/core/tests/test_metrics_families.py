"""``/metrics`` through prometheus_client: the labelled service families against hand-counted
fixtures, read back with the client's own parser, the query budget of one scrape, the
registry API, and a real Prometheus scraping a live server."""

from __future__ import annotations

import hashlib
import json
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from erpcare.conftest import Cast
from erpcare.core import clock, metrics
from erpcare.core.models import JobRun, WorkerHeartbeat
from erpcare.core.tests.ticket_rows import add_tickets
from erpcare.inspections.tests import prometheus_server
from erpcare.monitoring.models import AlertPayload, Integration, PayloadState, SourceKind
from erpcare.sla.models import BusinessCalendar, SlaPolicy, TicketSla
from erpcare.tickets.models import Priority, Status, Ticket

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: Client, **extra: Any) -> tuple[Samples, dict[str, str]]:
    """Samples by (name, labels) and each family's type, parsed by prometheus_client."""
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples: Samples = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        types[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples, types


def series(samples: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: value for (n, labels), value in samples.items() if n == name}


def labels(**kw: str) -> frozenset[tuple[str, str]]:
    return frozenset(kw.items())


def add_clock(ticket: Ticket, *, response_breached: bool, resolution_breached: bool) -> None:
    policy = SlaPolicy.objects.filter(priority=ticket.priority).first()
    assert policy is not None
    TicketSla.objects.create(
        ticket=ticket, policy=policy, calendar=BusinessCalendar.objects.first(),
        started_at=ticket.created_at, priority=ticket.priority,
        response_minutes=policy.response_minutes, resolution_minutes=policy.resolution_minutes,
        warning_percent=75,
        response_breached_at=NOW - timedelta(hours=1) if response_breached else None,
        resolution_breached_at=NOW - timedelta(minutes=5) if resolution_breached else None,
    )  # fmt: skip


def add_job_run(job: str, state: str, ago: timedelta) -> None:
    slot = NOW - ago
    JobRun.objects.create(
        job=job, scheduled_for=slot, created_at=slot, started_at=slot,
        finished_at=slot + timedelta(seconds=3), state=state,
        error="boom" if state == JobRun.State.FAILED else "",
    )  # fmt: skip


@pytest.fixture
def fixture_data(cast: Cast, sla_defaults: None) -> None:
    """Open tickets: acme P1 open ×3, P1 new ×1, P0 in progress ×2; globex P1 open ×1,
    P2 waiting for customer ×2. Not open (never counted): P1 resolved ×2, P0 closed ×4.
    Clocks: response breached on 2 of acme's P1 open and both P0 in progress; resolution
    breached on one P0 in progress and one P2 waiting; a closed P0's breaches do not count."""
    t = add_tickets
    p1_open = t(cast.acme, 3, status=Status.OPEN, priority=Priority.P1)
    t(cast.acme, 1, status=Status.NEW, priority=Priority.P1)
    p0 = t(cast.acme, 2, status=Status.IN_PROGRESS, priority=Priority.P0)
    t(cast.globex, 1, status=Status.OPEN, priority=Priority.P1)
    p2 = t(cast.globex, 2, status=Status.WAITING_CUSTOMER, priority=Priority.P2)
    t(cast.acme, 2, status=Status.RESOLVED, priority=Priority.P1)
    closed = t(cast.globex, 4, status=Status.CLOSED, priority=Priority.P0)
    add_clock(p1_open[0], response_breached=True, resolution_breached=False)
    add_clock(p1_open[1], response_breached=True, resolution_breached=False)
    add_clock(p1_open[2], response_breached=False, resolution_breached=False)
    add_clock(p0[0], response_breached=True, resolution_breached=True)
    add_clock(p0[1], response_breached=True, resolution_breached=False)
    add_clock(p2[0], response_breached=False, resolution_breached=True)
    add_clock(closed[0], response_breached=True, resolution_breached=True)

    for worker, host, ago in (("web1:101", "web1", 4.5), ("web2:202", "web2", 600)):
        WorkerHeartbeat.objects.create(
            worker_id=worker, hostname=host, pid=1, started_at=NOW - timedelta(hours=1),
            seen_at=NOW - timedelta(seconds=ago),
        )  # fmt: skip

    add_job_run("sla.evaluate", JobRun.State.FAILED, timedelta(minutes=3))
    add_job_run("sla.evaluate", JobRun.State.FAILED, timedelta(hours=2))
    add_job_run("sla.evaluate", JobRun.State.SUCCEEDED, timedelta(minutes=1))
    add_job_run("sla.evaluate", JobRun.State.FAILED, timedelta(hours=30))  # outside 24 h
    add_job_run("inspections.schedule", JobRun.State.FAILED, timedelta(hours=23))
    add_job_run("backups.watch", JobRun.State.SUCCEEDED, timedelta(hours=1))
    add_job_run("an.old.job", JobRun.State.FAILED, timedelta(hours=1))  # not registered

    integration = Integration.objects.create(
        name="PRD", source=SourceKind.ALERTMANAGER, key="k-prd", secret="s" * 43,
        created_at=NOW,
    )  # fmt: skip
    for age, state in ((timedelta(seconds=75), PayloadState.RECEIVED),
                       (timedelta(hours=2), PayloadState.PROCESSED)):  # fmt: skip
        body = f'{{"age": {age.total_seconds()}}}'
        AlertPayload.objects.create(
            integration=integration, received_at=NOW - age, body=body,
            sha256=hashlib.sha256(body.encode()).hexdigest(), state=state,
        )  # fmt: skip


@pytest.mark.usefixtures("fixture_data")
def test_labelled_families_match_the_hand_counted_fixture(client: Client) -> None:
    with clock.frozen_at(NOW):
        samples, types = scrape(client)

    assert series(samples, "erpcare_tickets_open") == {
        labels(priority="P1", status="open"): 4,
        labels(priority="P1", status="new"): 1,
        labels(priority="P0", status="in_progress"): 2,
        labels(priority="P2", status="waiting_customer"): 2,
    }
    assert series(samples, "erpcare_tickets_sla_breached") == {
        labels(metric="response", priority="P1"): 2,
        labels(metric="response", priority="P0"): 2,
        labels(metric="resolution", priority="P0"): 1,
        labels(metric="resolution", priority="P2"): 1,
    }
    assert series(samples, "erpcare_worker_heartbeat_age_seconds") == {
        labels(worker="web1:101", host="web1"): 4.5,
        labels(worker="web2:202", host="web2"): 600,
    }
    assert series(samples, "erpcare_job_failures") == {
        labels(job="sla.evaluate"): 2,
        labels(job="inspections.schedule"): 1,
    }
    last = series(samples, "erpcare_job_last_failure_timestamp_seconds")
    assert last == {
        labels(job="sla.evaluate"): (NOW - timedelta(minutes=3, seconds=-3)).timestamp(),
        labels(job="inspections.schedule"): (NOW - timedelta(hours=23, seconds=-3)).timestamp(),
    }
    # The monitoring app's unlabelled gauges come through the same registry.
    assert samples[("erpcare_alert_pipeline_lag_seconds", frozenset())] == 75
    assert samples[("erpcare_alert_payloads_waiting", frozenset())] == 1
    assert {types[name] for name in types if name.startswith("erpcare_")} == {"gauge"}


@pytest.mark.usefixtures("fixture_data")
def test_one_scrape_is_a_handful_of_queries(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    # 3 monitoring gauges + open tickets + SLA breaches + heartbeats + 2 for job failures.
    with django_assert_max_num_queries(8):
        scrape(client)
    # More rows do not mean more queries.
    add_tickets(Ticket.objects.first().organization, 50, status=Status.OPEN)  # type: ignore[union-attr]
    with django_assert_max_num_queries(8):
        scrape(client)


def test_the_registry_is_our_own_not_the_client_default() -> None:
    from prometheus_client import REGISTRY as DEFAULT

    assert metrics.REGISTRY is not DEFAULT
    # The default registry's process and platform collectors are not exposed.
    assert "process_cpu_seconds_total" not in metrics.render()
    assert "python_info" not in metrics.render()


@pytest.mark.django_db
def test_register_family_and_a_broken_family_does_not_hide_the_others(
    client: Client,
) -> None:
    def broken() -> list[tuple[tuple[str, ...], float]]:
        raise RuntimeError("database is away")

    metrics.register_family(
        "test_queue_depth", "Depth.", ("queue",), lambda: [(("a",), 1), (('b "quoted"',), 2.5)]
    )
    metrics.register_family("test_broken_family", "Fails.", ("x",), broken)
    metrics.register_family(
        "test_wrong_arity", "Two values, one label.", ("x",), lambda: [(("a", "b"), 1)]
    )
    metrics.register_gauge("test_plain", "Plain.", lambda: 7)
    try:
        samples, _types = scrape(client)
        assert series(samples, "test_queue_depth") == {
            labels(queue="a"): 1,
            labels(queue='b "quoted"'): 2.5,
        }
        assert samples[("test_plain", frozenset())] == 7
        assert not series(samples, "test_broken_family")
        assert not series(samples, "test_wrong_arity")
        assert ("erpcare_alerts_open", frozenset()) in samples
        assert "test_queue_depth" in metrics.registered()
    finally:
        for name in ("test_queue_depth", "test_broken_family", "test_wrong_arity", "test_plain"):
            metrics.unregister_gauge(name)
    assert "test_queue_depth" not in metrics.registered()
    with pytest.raises(ValueError, match="not a Prometheus label name"):
        metrics.register_family("test_x", "x", ("bad-label",), list)
    with pytest.raises(ValueError, match="not a Prometheus label name"):
        metrics.register_family("test_x", "x", ("__reserved",), list)
    with pytest.raises(ValueError, match="not a Prometheus metric name"):
        metrics.register_family("test x", "x", ("a",), list)


def test_the_module_docstring_keeps_the_access_rule() -> None:
    doc = metrics.__doc__ or ""
    assert "X-Forwarded-For" in doc
    assert "Authorization: Bearer $ERPCARE_METRICS_TOKEN" in doc
    assert "404" in doc


# ---------------------------------------------------------------------------
# A real Prometheus
# ---------------------------------------------------------------------------


@pytest.fixture
def prometheus(tmp_path: Any, live_server: Any) -> Iterator[prometheus_server.Prometheus]:
    if prometheus_server.binary() is None:
        pytest.skip("prometheus is not installed (Debian: apt-get install prometheus)")
    target = urllib.parse.urlsplit(live_server.url).netloc
    server = prometheus_server.Prometheus(tmp_path / "prometheus").start(extra_targets=[target])
    try:
        yield server
    finally:
        server.stop()


def query(server: prometheus_server.Prometheus, promql: str) -> list[dict[str, Any]]:
    status, body = server.get("/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
    assert status == 200, body
    return list(json.loads(body)["data"]["result"])


@pytest.mark.django_db(transaction=True)
def test_a_real_prometheus_scrapes_the_labelled_families(
    cast: Cast, prometheus: prometheus_server.Prometheus
) -> None:
    add_tickets(cast.acme, 3, status=Status.OPEN, priority=Priority.P1)
    add_tickets(cast.globex, 1, status=Status.WAITING_VENDOR, priority=Priority.P3)
    deadline = time.monotonic() + 15
    result: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        up = query(prometheus, 'up{job="extra"}')
        result = query(prometheus, "erpcare_tickets_open")
        if up and up[0]["value"][1] == "1" and len(result) == 2:
            break
        time.sleep(0.3)
    else:
        pytest.fail(f"no scrape of /metrics: up={query(prometheus, 'up')}\n{prometheus.log_tail()}")
    got = {(r["metric"]["priority"], r["metric"]["status"]): r["value"][1] for r in result}
    assert got == {("P1", "open"): "3", ("P3", "waiting_vendor"): "1"}
    total = query(prometheus, 'sum(erpcare_tickets_open{priority="P1"})')
    assert total[0]["value"][1] == "3"


@pytest.mark.usefixtures("fixture_data")
def test_the_service_families_read_through_indexes_on_postgresql() -> None:
    """Each family's query can be answered from an index (the sequential scan made
    prohibitive, as it would be with a million tickets): no Seq Scan in any plan."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("plans are checked on PostgreSQL")
    families = (
        metrics.tickets_open, metrics.sla_breached, metrics.worker_heartbeat_ages,
        metrics.job_failures,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for family in families:
            with CaptureQueriesContext(connection) as captured:
                list(family())
            assert len(captured.captured_queries) == 1
            cursor.execute("EXPLAIN " + captured.captured_queries[0]["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan" not in plan, (family.__name__, plan)
