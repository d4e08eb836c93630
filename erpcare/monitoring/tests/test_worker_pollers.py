"""The worker's poller threads: call a function in a loop, survive its exceptions, stop."""

from __future__ import annotations

import itertools
import logging
import threading
import time

import pytest

from erpcare.core import clock, pollers
from erpcare.monitoring.models import AlertPayload, Integration


@pytest.fixture
def integration(transactional_db) -> Integration:
    return Integration.objects.create(
        name="Prometheus", source="alertmanager", key="k-poll", secret="s", created_at=clock.now()
    )


def wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_a_poller_thread_runs_its_function_and_survives_an_exception(integration, caplog):
    calls: list[str] = []
    stored = threading.Event()

    def func() -> bool:
        calls.append(threading.current_thread().name)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        if len(calls) <= 3:
            # Real work on the thread's own connection: visible to the test's.
            AlertPayload.objects.create(
                integration_id=integration.pk, received_at=clock.now(), body="{}", sha256="0" * 64
            )
            return True
        stored.set()
        return False

    poller = pollers.Poller("test.survivor", func, idle_seconds=0.05, error_seconds=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=pollers.run_forever, args=(poller, stop), name="poll-test")
    caplog.set_level(logging.ERROR, logger="erpcare.pollers")
    thread.start()
    try:
        assert stored.wait(5), calls
        assert AlertPayload.objects.count() == 2
        # Idle: called again after idle_seconds, not in a hot loop.
        assert wait_for(lambda: len(calls) >= 6)
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert set(calls) == {"poll-test"}
    assert any(
        "poller test.survivor failed" in record.getMessage() and record.exc_info
        for record in caplog.records
    )


def test_an_idle_poller_sleeps_between_calls_and_stops_promptly(transactional_db):
    calls: list[float] = []

    def func() -> bool:
        calls.append(time.monotonic())
        return False

    poller = pollers.Poller("test.idle", func, idle_seconds=0.2)
    stop = threading.Event()
    thread = threading.Thread(target=pollers.run_forever, args=(poller, stop))
    thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    stop.set()
    thread.join(5)
    assert time.monotonic() - started < 0.5  # the idle wait ends when stop is set
    assert 2 <= len(calls) <= 4
    gaps = [later - earlier for earlier, later in itertools.pairwise(calls)]
    assert all(gap >= 0.19 for gap in gaps)


def test_a_busy_poller_is_called_again_at_once(transactional_db):
    poller = pollers.Poller("test.busy", lambda: {"payloads": 1}, idle_seconds=5)
    assert pollers.run_once(poller) == 0.0
    idle = pollers.Poller("test.busy", lambda: None, idle_seconds=5)
    assert pollers.run_once(idle) == 5


def test_start_all_runs_one_thread_per_registered_poller(transactional_db):
    seen = threading.Event()
    saved = pollers.registered_pollers()
    for name in saved:
        pollers.unregister(name)
    try:
        pollers.register("test.started", lambda: seen.set(), idle_seconds=0.05)
        stop = threading.Event()
        threads = pollers.start_all(stop)
        assert [thread.name for thread in threads] == ["erpcare-poller-test.started"]
        assert all(thread.daemon for thread in threads)
        assert seen.wait(5)
        stop.set()
        for thread in threads:
            thread.join(5)
            assert not thread.is_alive()
    finally:
        pollers.unregister("test.started")
        for poller in saved.values():
            pollers.register(
                poller.name, poller.func, poller.idle_seconds, error_seconds=poller.error_seconds
            )


def test_pauses_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        pollers.register("test.bad", lambda: None, idle_seconds=0)
    assert "test.bad" not in pollers.registered_pollers()
