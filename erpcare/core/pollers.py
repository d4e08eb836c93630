"""Pollers: functions the worker calls in a loop of their own, for queues that must drain
within a second rather than a cron minute (the alert pipeline).

An app registers ``pollers.register(name, func, idle_seconds)`` in ``AppConfig.ready()``;
``erpcare worker`` starts one thread per poller. ``func()`` returns whether it found
work: after work it is called again at once, otherwise after ``idle_seconds``. An
exception is logged and the loop goes on after a pause, so one bad row or a database
restart never stops the thread. Several workers may run the same poller: the function
must claim its rows (SKIP LOCKED / conditional UPDATE).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections, connection

logger = logging.getLogger("erpcare.pollers")

# After an exception the loop waits this long by default, so a persistent failure (the
# database is down) is logged every few seconds, not thousands of times a second.
ERROR_PAUSE_SECONDS = 2.0


@dataclass(frozen=True)
class Poller:
    name: str
    func: Callable[[], object]  # truthy: it did work, call again at once
    idle_seconds: float
    error_seconds: float = ERROR_PAUSE_SECONDS


_registry: dict[str, Poller] = {}


def register(
    name: str,
    func: Callable[[], object],
    idle_seconds: float,
    *,
    error_seconds: float = ERROR_PAUSE_SECONDS,
) -> Poller:
    """Declare a poller; registering a name again replaces it."""
    if idle_seconds <= 0 or error_seconds <= 0:
        raise ValueError(f"poller {name}: the pauses must be positive")
    poller = Poller(name, func, float(idle_seconds), float(error_seconds))
    _registry[name] = poller
    return poller


def unregister(name: str) -> None:
    _registry.pop(name, None)


def registered_pollers() -> dict[str, Poller]:
    return dict(_registry)


def run_once(poller: Poller) -> float:
    """Call the poller's function once; return how long to wait before the next call."""
    close_old_connections()
    try:
        did_work = poller.func()
    except Exception:
        logger.exception("poller %s failed", poller.name)
        # A failed transaction may leave the connection unusable; start the next round
        # on a fresh one.
        connection.close()
        return poller.error_seconds
    return 0.0 if did_work else poller.idle_seconds


def run_forever(poller: Poller, stop: threading.Event) -> None:
    """Call the poller until ``stop`` is set (the worker's shutdown)."""
    logger.info("poller %s started", poller.name)
    try:
        while not stop.is_set():
            pause = run_once(poller)
            if pause:
                stop.wait(pause)
    finally:
        connection.close()
        logger.info("poller %s stopped", poller.name)


def start_all(stop: threading.Event) -> list[threading.Thread]:
    """One daemon thread per registered poller, all stopping when ``stop`` is set."""
    threads = []
    for poller in _registry.values():
        thread = threading.Thread(
            target=run_forever,
            args=(poller, stop),
            name=f"erpcare-poller-{poller.name}",
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    return threads
