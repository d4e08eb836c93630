"""PromQL checks: one instant query against Prometheus's HTTP API (``/api/v1/query``).

The query is evaluated "now" with Prometheus's own ``timeout`` parameter set to the data
source's budget and the same budget on our side. Prometheus's error answers
(``{"status": "error", "errorType": …, "error": …}``) become RunnerErrors with its
message. Answers larger than ``MAX_BODY`` are refused rather than parsed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import httpx
from django.utils.translation import gettext as _

from erpcare.inspections.runners import web
from erpcare.inspections.runners.spec import Reason, RunnerError, SourceSpec

MAX_BODY = 10 * 1024 * 1024


@dataclass
class Sample:
    """One series of an instant vector (or a scalar, with no labels)."""

    labels: dict[str, str]
    value: float  # may be NaN or ±Inf, as Prometheus says


def _base(spec: SourceSpec) -> str:
    if spec.kind != "prometheus":
        raise RunnerError(
            _("A %(kind)s data source cannot run PromQL queries.") % {"kind": spec.kind or "?"}
        )
    url = spec.url.strip()
    if not url:
        raise RunnerError(_("No Prometheus URL is configured for this data source."))
    web.check_target(url)
    # A Prometheus behind a path prefix (https://host/prometheus) keeps it.
    return url.rstrip("/")


def _api(spec: SourceSpec, path: str, params: dict[str, str] | None = None) -> Any:
    """The ``data`` of a successful API answer; RunnerError otherwise."""
    url = _base(spec) + path
    try:
        fetched = web.fetch(
            spec,
            url,
            params=params,
            verify=bool(spec.options.get("verify_tls", True)),
            limit=MAX_BODY + 1,
        )
    except httpx.TimeoutException:
        raise RunnerError(
            _("Prometheus did not answer within %(ms)d ms.") % {"ms": spec.timeout_ms},
            reason="timeout",
        ) from None
    except httpx.HTTPError as exc:
        raise RunnerError(
            _("Could not reach Prometheus at %(url)s: %(error)s")
            % {"url": url, "error": str(exc) or type(exc).__name__}
        ) from None
    if len(fetched.body) > MAX_BODY:
        raise RunnerError(
            _("Prometheus's answer is larger than %(mb)d MB; narrow the query.")
            % {"mb": MAX_BODY // (1024 * 1024)}
        )
    try:
        answer = json.loads(fetched.body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or answer.get("status") not in ("success", "error"):
        raise RunnerError(
            _("%(url)s did not answer like the Prometheus API (HTTP %(status)d).")
            % {"url": url, "status": fetched.status}
        )
    if answer["status"] == "error":
        error_type = str(answer.get("errorType") or "")
        reason: Reason = "timeout" if error_type == "timeout" else "error"
        raise RunnerError(
            _("Prometheus refused the query (%(type)s): %(error)s")
            % {"type": error_type or fetched.status, "error": answer.get("error") or "?"},
            reason=reason,
        )
    return answer.get("data")


def _number(raw: Any) -> float:
    # Prometheus writes sample values as strings: "1", "0.5", "NaN", "+Inf".
    try:
        return float(raw)
    except (TypeError, ValueError):
        return math.nan


def instant_query(spec: SourceSpec, query: str) -> list[Sample]:
    """Evaluate ``query`` now: a sample per series of an instant vector, or one for a scalar."""
    if not query.strip():
        raise RunnerError(_("The check has no query."))
    data = _api(
        spec, "/api/v1/query", {"query": query, "timeout": f"{max(spec.timeout_ms, 100)}ms"}
    )
    if not isinstance(data, dict):
        raise RunnerError(_("Prometheus's answer has no data."))
    kind = data.get("resultType")
    result = data.get("result")
    if kind == "vector" and isinstance(result, list):
        return [
            Sample(
                labels={str(k): str(v) for k, v in (item.get("metric") or {}).items()},
                value=_number((item.get("value") or [None, None])[1]),
            )
            for item in result
            if isinstance(item, dict)
        ]
    if kind == "scalar" and isinstance(result, list) and len(result) == 2:
        return [Sample(labels={}, value=_number(result[1]))]
    if kind == "matrix":
        raise RunnerError(
            _(
                "The query returns a range vector (it ends in a [range] selector); a check "
                "needs an instant vector or a scalar, e.g. wrap it in max_over_time()."
            )
        )
    raise RunnerError(
        _("The query returns a %(type)s; a check needs an instant vector or a scalar.")
        % {"type": kind or "?"}
    )


def test_connection(spec: SourceSpec) -> str:
    """The Prometheus version, from ``/api/v1/status/buildinfo``."""
    data = _api(spec, "/api/v1/status/buildinfo")
    version = data.get("version") if isinstance(data, dict) else None
    return f"Prometheus {version or '?'}"


# pytest would collect ``test_connection`` from test modules that import it by name.
test_connection.__test__ = False  # type: ignore[attr-defined]
