"""The worker side of alert intake: drain the stored payloads through the pipeline.

``erpcare worker`` runs ``poll`` in a poller thread (``core.pollers``, registered in
``MonitoringConfig.ready``): a batch of up to ``BATCH`` payloads per call, again at once
while there is a backlog, otherwise every ``IDLE_SECONDS`` (see ``poll``) — so an alert
is processed well within a second of its 202. ``erpcare alerts process`` drains once and
``erpcare alerts replay`` puts chosen payloads back through the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from erpcare.monitoring import ingest
from erpcare.monitoring.models import AlertPayload

POLLER_NAME = "monitoring.alerts"
BATCH = 500
IDLE_SECONDS = 0.2
# A round with at least this much work is followed by the next at once (see ``poll``).
BUSY_PAYLOADS = 50
BUSY_ALERTS = 1000
# ``drain``'s bound: 10,000 rounds of 500 is five million payloads, far beyond a backlog
# one command should take on.
MAX_ROUNDS = 10_000


def did_work(counts: Mapping[str, int]) -> bool:
    """Whether a ``process_pending`` result means "payloads were taken": call again."""
    if "payloads" in counts:
        return counts["payloads"] > 0
    return any(value > 0 for value in counts.values())


def process_batch(limit: int = BATCH) -> dict[str, int]:
    from erpcare.monitoring import pipeline

    return pipeline.process_pending(limit=limit)


def poll() -> bool:
    """One poller round: True when it took a large batch (the poller calls again at once).

    After a small batch the poller waits ``IDLE_SECONDS`` like on an empty queue, so that
    under a stream of single-alert posts the next round takes many payloads at once:
    each round has a fixed cost (claim, outcome writes, commit), and paying it per
    payload would spend the CPU the web workers answer with. The wait stays well under
    a second; a backlog is drained without pausing."""
    counts = process_batch()
    return counts.get("payloads", 0) >= BUSY_PAYLOADS or counts.get("alerts", 0) >= BUSY_ALERTS


def drain(*, limit: int = BATCH, max_rounds: int = MAX_ROUNDS) -> dict[str, int]:
    """Process batches until the queue is empty; the summed counts."""
    totals: dict[str, int] = {}
    for _round in range(max_rounds):
        counts = process_batch(limit)
        for name, value in counts.items():
            totals[name] = totals.get(name, 0) + value
        if not did_work(counts):
            break
    return totals


def replay(payload_ids: Iterable[int]) -> list[AlertPayload]:
    """Reset the payloads to received and run each through the pipeline now, in order."""
    from erpcare.monitoring import pipeline

    ids = sorted(set(payload_ids))
    ingest.reset_for_replay(ids)
    return [pipeline.process_payload(pk) for pk in ids]


MAINTENANCE_POLLER_NAME = "monitoring.maintenance"
MAINTENANCE_SECONDS = 60.0


def release_maintenance() -> bool:
    """The maintenance poller: alerts held back by a window that ended get their incident
    (``pipeline.release_ended_maintenance``); True when there may be more at once."""
    from erpcare.monitoring import pipeline

    limit = 500
    return pipeline.release_ended_maintenance(limit=limit).get("released", 0) >= limit
