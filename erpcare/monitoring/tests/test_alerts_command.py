"""``erpcare alerts process|replay`` and the worker's poller draining what the endpoint stored."""

from __future__ import annotations

import io
import json
import threading
import time
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.test import Client

from erpcare.core import clock, pollers
from erpcare.monitoring import ingest, worker
from erpcare.monitoring.models import Alert, AlertPayload, Integration, PayloadState

SECRET = "generic-secret-31"
MAPPING = {"identity": "id", "status": "state", "name": "check", "summary": "message"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    ingest.clear_cache()
    yield
    ingest.clear_cache()


def make_integration(**fields) -> Integration:
    values = {
        "name": "自研监控",
        "source": "generic",
        "key": "k-generic",
        "secret": SECRET,
        "field_mapping": MAPPING,
        "created_at": clock.now(),
    }
    values.update(fields)
    return Integration.objects.create(**values)


def event(identity: str, state: str = "problem", check: str = "GL batch late") -> bytes:
    return json.dumps(
        {"id": identity, "state": state, "check": check, "message": f"{check} 总账批处理延迟"},
        ensure_ascii=False,
    ).encode()


def post(body: bytes, key: str = "k-generic") -> int:
    response = Client(headers={"Authorization": f"Bearer {SECRET}"}).post(
        f"/api/v1/alerts/generic/{key}", body, content_type="application/json"
    )
    assert response.status_code == 202, response.content
    return int(response.json()["payload"])


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("alerts", *args, stdout=out)
    return out.getvalue()


# --- process --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_process_drains_every_waiting_payload():
    make_integration()
    ids = [post(event(f"job-{n}")) for n in range(3)]
    assert ingest.pipeline_lag_seconds() >= 0
    output = run("process")
    assert "payloads=3" in output
    assert "alerts=3" in output
    assert set(AlertPayload.objects.values_list("state", flat=True)) == {PayloadState.PROCESSED}
    assert set(Alert.objects.values_list("last_payload_id", flat=True)) == set(ids)
    assert ingest.pipeline_lag_seconds() == 0.0
    assert run("process") == "idle\n"


@pytest.mark.django_db
def test_drain_takes_batches_until_the_queue_is_empty():
    make_integration()
    for n in range(5):
        post(event(f"job-{n}"))
    totals = worker.drain(limit=2)
    assert totals["payloads"] == 5
    assert not AlertPayload.objects.filter(state=PayloadState.RECEIVED).exists()


@pytest.mark.django_db
def test_poll_asks_to_come_back_at_once_only_after_a_large_batch(monkeypatch):
    make_integration()
    post(event("job-1"))
    # One payload: processed, but the poller waits before the next round so that the
    # next one takes many payloads at once.
    assert worker.poll() is False
    assert Alert.objects.get().identity
    assert not AlertPayload.objects.filter(state=PayloadState.RECEIVED).exists()
    monkeypatch.setattr(worker, "BUSY_PAYLOADS", 3)
    for n in range(3):
        post(event(f"job-batch-{n}"))
    assert worker.poll() is True  # a backlog: drained without pausing
    assert worker.poll() is False  # empty


def test_did_work_reads_the_payload_count():
    assert worker.did_work({"payloads": 2, "alerts": 0})
    assert not worker.did_work({"payloads": 0})
    assert not worker.did_work({})
    # The one-by-one fallback counts failures only: still work done.
    assert worker.did_work({"failed": 1})


# --- replay ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_replay_of_failed_payloads_after_the_mapping_is_fixed():
    # Accepted under a good mapping; an admin then breaks the mapping before the worker
    # gets to them (the endpoint refuses unreadable bodies, so this is how they fail).
    integration = make_integration()
    first = post(event("job-1"))
    second = post(event("job-2"))
    Integration.objects.filter(pk=integration.pk).update(field_mapping={"identity": "missing.path"})
    run("process")
    assert set(AlertPayload.objects.values_list("state", flat=True)) == {PayloadState.FAILED}
    assert not Alert.objects.exists()

    integration.field_mapping = MAPPING
    integration.save()
    output = run("replay", "--failed")
    assert "Replayed 2 payloads: processed=2" in output
    for pk in (first, second):
        payload = AlertPayload.objects.get(pk=pk)
        assert payload.state == PayloadState.PROCESSED
        assert payload.error == ""
        assert payload.attempts == 2  # the failed try is kept in the count
    assert Alert.objects.count() == 2


@pytest.mark.django_db
def test_replay_of_one_payload_by_id_leaves_the_others():
    integration = make_integration()
    chosen = post(event("job-1"))
    other = post(event("job-2"))
    Integration.objects.filter(pk=integration.pk).update(field_mapping={"identity": "missing.path"})
    run("process")
    integration.field_mapping = MAPPING
    integration.save()
    output = run("replay", "--payload", str(chosen))
    assert "Replayed 1 payloads" in output
    assert AlertPayload.objects.get(pk=chosen).state == PayloadState.PROCESSED
    assert AlertPayload.objects.get(pk=other).state == PayloadState.FAILED


@pytest.mark.django_db
def test_replay_since_a_time_selects_by_reception():
    make_integration()
    old = post(event("job-old"))
    new = post(event("job-new"))
    AlertPayload.objects.filter(pk=old).update(received_at=clock.now() - timedelta(days=2))
    run("process")
    since = (clock.now() - timedelta(days=1)).isoformat()
    chosen = list(ingest.select_for_replay(since=clock.now() - timedelta(days=1)))
    assert [p.pk for p in chosen] == [new]
    output = run("replay", "--since", since)
    assert "Replayed 1 payloads" in output
    assert AlertPayload.objects.get(pk=new).attempts == 2
    assert AlertPayload.objects.get(pk=old).attempts == 1


@pytest.mark.django_db
def test_replay_refuses_unknown_ids_and_bad_times_and_changes_nothing():
    make_integration()
    pk = post(event("job-1"))
    with pytest.raises(CommandError, match="no alert payload 999999"):
        run("replay", "--payload", str(pk), "--payload", "999999")
    assert AlertPayload.objects.get(pk=pk).state == PayloadState.RECEIVED
    with pytest.raises(CommandError, match="ISO"):
        run("replay", "--since", "yesterday")
    with pytest.raises(CommandError):
        run("replay")  # one of --payload, --failed, --since is required
    assert run("replay", "--failed") == "No payloads to replay.\n"


# --- the worker's poller, for real ------------------------------------------------------------


def test_the_worker_registers_the_alert_poller():
    registered = pollers.registered_pollers()[worker.POLLER_NAME]
    assert registered.func is worker.poll
    assert registered.idle_seconds == worker.IDLE_SECONDS < 1


def test_the_poller_thread_processes_what_the_endpoint_stored(transactional_db):
    make_integration()
    # Stored before the thread starts: SQLite's shared-cache test database would refuse
    # the insert while the poller's claim holds the table.
    pk = post(event("db-down", check="Database down"))
    stop = threading.Event()
    poller = pollers.registered_pollers()[worker.POLLER_NAME]
    thread = threading.Thread(target=pollers.run_forever, args=(poller, stop), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if AlertPayload.objects.get(pk=pk).state != PayloadState.RECEIVED:
                    break
            except OperationalError:
                # The test database on SQLite is in memory with a shared cache, which
                # locks whole tables instead of waiting: read again.
                pass
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(5)
    assert AlertPayload.objects.get(pk=pk).state == PayloadState.PROCESSED
    assert Alert.objects.get().name == "Database down"
    assert not thread.is_alive()
