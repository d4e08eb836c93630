"""``GET /metrics``: ERPCare's gauges in the Prometheus text exposition format (0.0.4).

The exposition is ``prometheus_client``'s, from a registry of our own (never the client's
global default one, which would add the process and platform collectors of whichever
process imported it first). One custom collector reads every value when Prometheus
scrapes; nothing is counted on the hot paths, so any number of web and worker processes
give the same answer.

Two kinds of readings:

- ``register_gauge(name, help, func)``: one unlabelled number (apps register theirs in
  ``AppConfig.ready()``, e.g. the alert pipeline's lag in ``monitoring.health``).
- ``register_family(name, help, labels, func)``: a labelled gauge family; ``func()``
  returns ``(label values, value)`` pairs. A label combination that is not returned is
  not exposed: in PromQL a missing series means 0 (``sum(...) or vector(0)``).

The service families this module registers itself (each one query on an index):

=============================================  ==============================================
``erpcare_tickets_open{priority,status}``      open tickets (new … waiting for vendor)
``erpcare_tickets_sla_breached{metric,prio…}`` open tickets whose first-response (``metric=
                                               "response"``) or resolution clock is breached
``erpcare_worker_heartbeat_age_seconds``       seconds since each worker's last heartbeat
``{worker,host}``                              (a stopped worker's row stays: its age grows)
``erpcare_job_failures{job}``                  failed runs of each periodic job in the last
                                               24 hours (by scheduled slot)
``erpcare_job_last_failure_timestamp_seconds`` when each of those jobs last failed (Unix time)
=============================================  ==============================================

A reading that fails is left out of the scrape (and logged): one broken query must not
hide the others from Prometheus.

Who may scrape: a request from the machine itself (loopback, and not relayed by a local
reverse proxy — that request carries ``X-Forwarded-For``), or one with
``Authorization: Bearer $ERPCARE_METRICS_TOKEN``. Anybody else gets the same 404 as an
unknown URL, so the endpoint does not tell that it exists.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

# How far back ``erpcare_job_failures`` counts failed runs.
JOB_FAILURE_WINDOW = timedelta(hours=24)

Samples = Iterable[tuple[Sequence[str], float]]


@dataclass(frozen=True)
class Gauge:
    name: str
    help: str
    func: Callable[[], float]


@dataclass(frozen=True)
class Family:
    name: str
    help: str
    labels: tuple[str, ...]
    func: Callable[[], Samples]


_gauges: dict[str, Gauge] = {}
_families: dict[str, Family] = {}


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"not a Prometheus metric name: {name!r}")


def register_gauge(name: str, help: str, func: Callable[[], float]) -> None:
    """Expose ``func()`` as gauge ``name``. Registering a name again replaces it (a
    re-imported app must not make a duplicate series)."""
    _check_name(name)
    _families.pop(name, None)
    _gauges[name] = Gauge(name=name, help=help, func=func)


def register_family(
    name: str, help: str, labels: Sequence[str], func: Callable[[], Samples]
) -> None:
    """Expose a labelled gauge family: ``func()`` returns ``(label values, value)`` pairs,
    the values in the order of ``labels``. Registering a name again replaces it."""
    _check_name(name)
    for label in labels:
        if not _LABEL.match(label) or label.startswith("__"):
            raise ValueError(f"not a Prometheus label name: {label!r}")
    _gauges.pop(name, None)
    _families[name] = Family(name=name, help=help, labels=tuple(labels), func=func)


def unregister_gauge(name: str) -> None:
    """Remove a gauge or a family (no error if there is none of that name)."""
    _gauges.pop(name, None)
    _families.pop(name, None)


def registered() -> list[str]:
    return sorted([*_gauges, *_families])


class ErpcareCollector(Collector):
    """Reads every registered gauge and family when the registry is collected."""

    def collect(self) -> Iterator[Metric]:
        for name in registered():
            gauge = _gauges.get(name)
            try:
                if gauge is not None:
                    yield GaugeMetricFamily(name, gauge.help, value=float(gauge.func()))
                    continue
                family = _families[name]
                metric = GaugeMetricFamily(name, family.help, labels=list(family.labels))
                for values, value in family.func():
                    label_values = [str(item) for item in values]
                    if len(label_values) != len(family.labels):
                        raise ValueError(
                            f"{name}: {len(label_values)} label values for {family.labels}"
                        )
                    metric.add_metric(label_values, float(value))
            except Exception:
                log.exception("metrics: %s failed", name)
                continue
            yield metric


REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(ErpcareCollector())


def render() -> str:
    """Every gauge and family, in name order, in the text format 0.0.4."""
    return generate_latest(REGISTRY).decode()


# ---------------------------------------------------------------------------
# The service families
# ---------------------------------------------------------------------------
# Imported inside the functions: this module is loaded with the URLconf, the models of
# the apps it reads are not its own.


def tickets_open() -> Samples:
    from django.db.models import Count

    from erpcare.tickets.models import OPEN_STATUSES, PRIORITY_SHORT, Ticket

    rows = (
        Ticket.objects.filter(status__in=sorted(OPEN_STATUSES))
        .order_by()
        .values_list("priority", "status")
        .annotate(n=Count("id"))
    )
    return [((PRIORITY_SHORT[priority], status), n) for priority, status, n in rows]


def sla_breached() -> Samples:
    from django.db.models import Count, Q

    from erpcare.tickets.models import OPEN_STATUSES, PRIORITY_SHORT, Ticket

    rows = (
        Ticket.objects.filter(status__in=sorted(OPEN_STATUSES))
        .order_by()
        .values_list("priority")
        .annotate(
            response=Count("id", filter=Q(sla__response_breached_at__isnull=False)),
            resolution=Count("id", filter=Q(sla__resolution_breached_at__isnull=False)),
        )
    )
    samples: list[tuple[Sequence[str], float]] = []
    for priority, response, resolution in rows:
        if response:
            samples.append((("response", PRIORITY_SHORT[priority]), response))
        if resolution:
            samples.append((("resolution", PRIORITY_SHORT[priority]), resolution))
    return samples


def worker_heartbeat_ages() -> Samples:
    from erpcare.core import clock
    from erpcare.core.models import WorkerHeartbeat

    now = clock.now()
    rows = WorkerHeartbeat.objects.order_by("worker_id").values_list(
        "worker_id", "hostname", "seen_at"
    )
    return [((worker, host), max(0.0, (now - seen).total_seconds())) for worker, host, seen in rows]


def _job_failures() -> list[tuple[str, int, float | None]]:
    from django.db.models import Count, Max

    from erpcare.core import clock
    from erpcare.core.models import JobRun
    from erpcare.core.scheduler import registered_jobs

    # By the registered jobs' names, so that the (job, scheduled_for) index of the slots
    # is used; a job no longer registered is not reported.
    rows = (
        JobRun.objects.filter(
            job__in=sorted(registered_jobs()),
            scheduled_for__gte=clock.now() - JOB_FAILURE_WINDOW,
            state=JobRun.State.FAILED,
        )
        .order_by()
        .values_list("job")
        .annotate(n=Count("id"), last=Max("finished_at"))
    )
    return [(job, n, last.timestamp() if last else None) for job, n, last in rows]


def job_failures() -> Samples:
    return [((job,), n) for job, n, _last in _job_failures()]


def job_last_failures() -> Samples:
    return [((job,), last) for job, _n, last in _job_failures() if last is not None]


def register_service_families() -> None:
    register_family(
        "erpcare_tickets_open",
        "Open tickets (new, open, in progress, waiting) by priority and status.",
        ("priority", "status"),
        tickets_open,
    )
    register_family(
        "erpcare_tickets_sla_breached",
        "Open tickets whose first-response (metric=response) or resolution clock is breached.",
        ("metric", "priority"),
        sla_breached,
    )
    register_family(
        "erpcare_worker_heartbeat_age_seconds",
        "Seconds since each worker process last wrote its heartbeat.",
        ("worker", "host"),
        worker_heartbeat_ages,
    )
    register_family(
        "erpcare_job_failures",
        "Failed runs of each periodic job scheduled in the last 24 hours.",
        ("job",),
        job_failures,
    )
    register_family(
        "erpcare_job_last_failure_timestamp_seconds",
        "When each job that failed in the last 24 hours last failed (Unix time).",
        ("job",),
        job_last_failures,
    )


register_service_families()


# ---------------------------------------------------------------------------
# The view
# ---------------------------------------------------------------------------


def _is_loopback(request: HttpRequest) -> bool:
    if request.META.get("HTTP_X_FORWARDED_FOR") or request.META.get("HTTP_FORWARDED"):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _has_token(request: HttpRequest) -> bool:
    token = getattr(settings, "ERPCARE_METRICS_TOKEN", "") or ""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, given = header.partition(" ")
    if not token or scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def may_scrape(request: HttpRequest) -> bool:
    return _is_loopback(request) or _has_token(request)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not may_scrape(request):
        raise Http404
    response = HttpResponse(render(), content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response
