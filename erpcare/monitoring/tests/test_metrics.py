"""``GET /metrics``: the Prometheus text format, who may scrape it, and the monitoring gauges."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.test import Client

from erpcare.core import clock, metrics
from erpcare.monitoring.models import (
    Alert,
    AlertPayload,
    AlertStatus,
    Integration,
    PayloadState,
    SourceKind,
)

pytestmark = pytest.mark.django_db


def parse(text: str) -> dict[str, float]:
    """Samples by name, checking every sample has its HELP and TYPE gauge lines first."""
    samples: dict[str, float] = {}
    seen_help: set[str] = set()
    seen_type: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            seen_help.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _hash, _type, name, kind = line.split()
            assert kind == "gauge"
            seen_type.add(name)
        elif line:
            name, value = line.split(" ")
            assert name in seen_help, line
            assert name in seen_type, line
            samples[name] = float(value)
    return samples


def scrape(client: Client, **extra: str) -> tuple[int, str, str]:
    response = client.get("/metrics", **extra)
    return response.status_code, response.get("Content-Type", ""), response.content.decode()


def make_integration(name: str = "Prometheus PRD") -> Integration:
    return Integration.objects.create(
        name=name, source=SourceKind.ALERTMANAGER, key=f"k-{name}", secret="s" * 43,
        created_at=clock.now(),
    )  # fmt: skip


def add_payload(integration: Integration, *, age: timedelta, state: str) -> AlertPayload:
    body = f'{{"n": {AlertPayload.objects.count()}}}'
    return AlertPayload.objects.create(
        integration=integration, received_at=clock.now() - age, body=body,
        sha256=hashlib.sha256(body.encode()).hexdigest(), state=state,
    )  # fmt: skip


def test_loopback_scrape_gets_the_monitoring_gauges_in_text_format(client: Client) -> None:
    status, content_type, text = scrape(client, REMOTE_ADDR="127.0.0.1")
    assert status == 200
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    samples = parse(text)
    assert samples["erpcare_alert_pipeline_lag_seconds"] == 0
    assert samples["erpcare_alert_payloads_waiting"] == 0
    assert samples["erpcare_alerts_open"] == 0
    assert text.endswith("\n")


def test_gauges_follow_the_queue_and_the_open_alerts(client: Client) -> None:
    integration = make_integration()
    add_payload(integration, age=timedelta(minutes=10), state=PayloadState.PROCESSED)
    add_payload(integration, age=timedelta(seconds=90), state=PayloadState.RECEIVED)
    add_payload(integration, age=timedelta(seconds=30), state=PayloadState.PROCESSING)
    add_payload(integration, age=timedelta(seconds=5), state=PayloadState.FAILED)
    now = clock.now()
    for identity, status in (("a", AlertStatus.FIRING), ("b", AlertStatus.ACKNOWLEDGED),
                             ("c", AlertStatus.RESOLVED)):  # fmt: skip
        Alert.objects.create(
            integration=integration, identity=identity, status=status, name="DiskFull",
            starts_at=now, first_seen_at=now, last_seen_at=now,
        )  # fmt: skip
    samples = parse(scrape(client, REMOTE_ADDR="127.0.0.1")[2])
    assert samples["erpcare_alert_payloads_waiting"] == 2
    assert samples["erpcare_alerts_open"] == 2
    # The oldest waiting payload is 90 s old (the processed one is older but done).
    assert 89 <= samples["erpcare_alert_pipeline_lag_seconds"] < 150


@pytest.mark.parametrize(
    "extra",
    [
        {"REMOTE_ADDR": "203.0.113.9"},
        # A local reverse proxy relays an outside request: loopback address, forwarded header.
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},
        {"REMOTE_ADDR": "203.0.113.9", "HTTP_AUTHORIZATION": "Bearer wrong-token"},
        {"REMOTE_ADDR": "203.0.113.9", "HTTP_AUTHORIZATION": "Basic bWV0cmljcy10b2tlbg=="},
    ],
)
def test_anyone_else_gets_the_plain_not_found(client: Client, settings, extra) -> None:
    settings.ERPCARE_METRICS_TOKEN = "metrics-token-0123456789"
    status, _ct, text = scrape(client, **extra)
    assert status == 404
    assert "erpcare_" not in text
    assert client.get("/no-such-page", **extra).status_code == 404


def test_a_remote_scraper_with_the_token_is_let_in(client: Client, settings) -> None:
    settings.ERPCARE_METRICS_TOKEN = "metrics-token-0123456789"
    status, _ct, text = scrape(
        client, REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer metrics-token-0123456789"
    )
    assert status == 200
    assert "erpcare_alerts_open 0" in text


def test_no_token_configured_means_no_remote_access_even_with_an_empty_bearer(
    client: Client, settings
) -> None:
    settings.ERPCARE_METRICS_TOKEN = ""
    assert scrape(client, REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer ")[0] == 404
    assert scrape(client, REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer")[0] == 404


def test_only_get(client: Client) -> None:
    assert client.post("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 405


def test_register_gauge_formats_values_and_a_failing_gauge_does_not_hide_the_others() -> None:
    def broken() -> float:
        raise RuntimeError("database is away")

    metrics.register_gauge("test_half", "A half.\nSecond line \\ backslash", lambda: 0.5)
    metrics.register_gauge("test_broken", "Fails.", broken)
    metrics.register_gauge("test_big", "Big.", lambda: 12345678)
    try:
        text = metrics.render()
        assert "# HELP test_half A half.\\nSecond line \\\\ backslash\n" in text
        assert "test_half 0.5\n" in text
        assert "test_big 1.2345678e+07\n" in text  # prometheus_client writes floats as Go does
        assert "test_broken" not in text
        assert "erpcare_alerts_open" in text
    finally:
        for name in ("test_half", "test_broken", "test_big"):
            metrics.unregister_gauge(name)
    with pytest.raises(ValueError, match="not a Prometheus metric name"):
        metrics.register_gauge("bad name", "x", lambda: 1)
