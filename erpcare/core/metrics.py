"""``GET /metrics``: gauges in the Prometheus text exposition format (0.0.4).

Apps register a gauge with a function that reads its value when Prometheus scrapes
(``register_gauge`` in ``AppConfig.ready()``); nothing is counted on the hot paths. The
format is written by hand: a handful of gauges does not need a client library's registry.

Who may scrape: a request from the machine itself (loopback, and not relayed by a local
reverse proxy — that request carries ``X-Forwarded-For``), or one with
``Authorization: Bearer $ERPCARE_METRICS_TOKEN``. Anybody else gets the same 404 as an
unknown URL, so the endpoint does not tell that it exists.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


@dataclass(frozen=True)
class Gauge:
    name: str
    help: str
    func: Callable[[], float]


_gauges: dict[str, Gauge] = {}


def register_gauge(name: str, help: str, func: Callable[[], float]) -> None:
    """Expose ``func()`` as gauge ``name``. Registering a name again replaces it (a
    re-imported app must not make a duplicate series)."""
    if not _NAME.match(name):
        raise ValueError(f"not a Prometheus metric name: {name!r}")
    _gauges[name] = Gauge(name=name, help=help, func=func)


def unregister_gauge(name: str) -> None:
    _gauges.pop(name, None)


def registered() -> list[str]:
    return sorted(_gauges)


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def render() -> str:
    """Every gauge, in name order. A gauge whose function fails is left out (and logged):
    one broken reading must not hide the others from Prometheus."""
    lines: list[str] = []
    for name in sorted(_gauges):
        gauge = _gauges[name]
        try:
            value = float(gauge.func())
        except Exception:
            log.exception("metrics: gauge %s failed", name)
            continue
        lines.append(f"# HELP {name} {_escape_help(gauge.help)}")
        lines.append(f"# TYPE {name} gauge")
        lines.append(f"{name} {_format_value(value)}")
    return "\n".join(lines) + "\n" if lines else ""


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
