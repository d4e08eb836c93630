"""The alert pipeline's health as numbers: lag, waiting payloads, open alerts — for
``/metrics`` (registered in ``MonitoringConfig.ready``) and the integrations page."""

from __future__ import annotations

from importlib import import_module

from erpcare.core import clock
from erpcare.core.metrics import register_gauge
from erpcare.monitoring.models import Alert, AlertPayload, AlertStatus, PayloadState

WAITING = (PayloadState.RECEIVED, PayloadState.PROCESSING)


def pipeline_lag_seconds() -> float:
    """Age of the oldest payload not processed yet; 0 when the queue is empty.

    The ingest part owns the definitive reading (``ingest.pipeline_lag_seconds``); this
    uses it when it is there."""
    try:
        ingest = import_module("erpcare.monitoring.ingest")
    except ImportError:
        ingest = None
    own = getattr(ingest, "pipeline_lag_seconds", None)
    if callable(own):
        return float(own())
    # The queue index holds only unprocessed rows, and ids grow with time: the first one
    # is the oldest.
    oldest = (
        AlertPayload.objects.filter(state__in=WAITING)
        .order_by("id")
        .values_list("received_at", flat=True)
        .first()
    )
    if oldest is None:
        return 0.0
    return max(0.0, (clock.now() - oldest).total_seconds())


def payloads_waiting() -> int:
    return AlertPayload.objects.filter(state__in=WAITING).count()


def alerts_open() -> int:
    return Alert.objects.exclude(status=AlertStatus.RESOLVED).count()


def register_metrics() -> None:
    register_gauge(
        "erpcare_alert_pipeline_lag_seconds",
        "Age in seconds of the oldest alert payload not processed yet (0: none waiting).",
        pipeline_lag_seconds,
    )
    register_gauge(
        "erpcare_alert_payloads_waiting",
        "Alert payloads received and not processed yet.",
        payloads_waiting,
    )
    register_gauge("erpcare_alerts_open", "Alerts firing or acknowledged.", alerts_open)
