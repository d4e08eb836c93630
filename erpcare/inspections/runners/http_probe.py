"""HTTP probes: is the endpoint up, fast, saying the right thing, and is its certificate
still good for long enough?

A probe answers with what it saw (``ProbeResult``); judging latency and certificate days
against thresholds, and the status against ``expect_status``, is the evaluator's job.
``error`` is set when there was no HTTP answer: no connection, a TLS failure, a timeout.
A broken configuration (no URL, an unknown method) raises RunnerError instead: that is
not something the endpoint did.

The certificate is read even when it is not trusted (``verify_tls: false``, or a failed
verification): an expiring self-signed certificate is exactly what a probe should report.
"""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from cryptography import x509
from django.utils.translation import gettext as _

from erpcare.inspections.runners import web
from erpcare.inspections.runners.spec import RunnerError, SourceSpec

# ``contains`` is looked for in the first megabyte of the body.
BODY_LIMIT = 1024 * 1024
METHODS = ("GET", "HEAD")


@dataclass
class ProbeResult:
    status: int  # 0 when there was no HTTP answer
    latency_ms: int  # request sent → headers and (up to BODY_LIMIT of) body read
    body_matched: bool | None  # None when nothing was to be matched (or HEAD)
    tls_days_left: float | None  # None for plain HTTP or when no certificate was seen
    tls_subject: str  # RFC 4514, e.g. "CN=erp.example.com"
    error: str  # empty when an HTTP answer came back (whatever its status)


def _url(spec: SourceSpec, path: str) -> str:
    if spec.kind != "http":
        raise RunnerError(
            _("A %(kind)s data source cannot be probed over HTTP.") % {"kind": spec.kind or "?"}
        )
    base = spec.url.strip()
    if not base:
        raise RunnerError(_("No URL is configured for this data source."))
    path = (path or "").strip()
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        # The data source fixes the host; a check only chooses the path on it.
        raise RunnerError(
            _("The probe path %(path)s must be a path on the data source's URL, not a URL.")
            % {"path": path[:200]}
        )
    url = urljoin(base, path) if path else base
    web.check_target(url)
    return url


def _expected_statuses(params: Mapping[str, Any]) -> tuple[int, ...]:
    raw = params.get("expect_status")
    if raw is None:
        return ()
    values = raw if isinstance(raw, list | tuple) else [raw]
    statuses: list[int] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
            raise RunnerError(
                _("expect_status must be an HTTP status (100–599) or a list of them, not %(v)s.")
                % {"v": repr(raw)[:100]}
            )
        statuses.append(value)
    if not statuses:
        raise RunnerError(_("expect_status must list at least one HTTP status."))
    return tuple(statuses)


def _method(params: Mapping[str, Any]) -> str:
    method = str(params.get("method") or "GET").upper()
    if method not in METHODS:
        raise RunnerError(
            _("The probe method must be GET or HEAD, not %(method)s.") % {"method": method[:20]}
        )
    return method


def _certificate(der: bytes | None) -> tuple[float | None, str]:
    if not der:
        return None, ""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None, ""
    left = cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
    return round(left.total_seconds() / 86400, 2), cert.subject.rfc4514_string()


def _served_certificate(url: str, timeout: float) -> bytes | None:
    """The certificate the server presents, fetched without trusting it: used when the
    verified request failed, so the report can still say what was served and until when."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or 443
    context = web.unverified_tls_context()
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except (OSError, ValueError):  # ssl.SSLError is an OSError
        return None
    return bytes(der) if der else None


def probe(spec: SourceSpec, path: str, params: Mapping[str, Any]) -> ProbeResult:
    """Request ``path`` on the data source's URL and report what came back.

    ``params``: ``method`` (GET or HEAD); ``expect_status`` (an int or a list: its shape is
    checked here, the evaluator compares it); ``contains`` (text expected in the first MB
    of the body); ``verify_tls`` (default: the data source's ``options.verify_tls``, else
    true). Other keys (thresholds) are the evaluator's.
    """
    url = _url(spec, path)
    method = _method(params)
    _expected_statuses(params)  # judged by the evaluator; refused here if malformed
    contains = params.get("contains")
    if contains is not None and not isinstance(contains, str):
        raise RunnerError(_("contains must be a text."))
    verify = params.get("verify_tls", spec.options.get("verify_tls", True))
    if not isinstance(verify, bool):
        raise RunnerError(_("verify_tls must be true or false."))
    is_tls = urlsplit(url).scheme == "https"
    started = time.monotonic()
    try:
        fetched = web.fetch(spec, url, method=method, verify=verify, limit=BODY_LIMIT)
    except httpx.HTTPError as exc:
        latency = int((time.monotonic() - started) * 1000)
        if isinstance(exc, httpx.TimeoutException):
            error = _("No answer within %(ms)d ms.") % {"ms": spec.timeout_ms}
        else:
            error = _("Could not get an answer from %(url)s: %(error)s") % {
                "url": url,
                "error": str(exc) or type(exc).__name__,
            }
        days, subject = (
            _certificate(_served_certificate(url, spec.timeout_s)) if is_tls else (None, "")
        )
        return ProbeResult(0, latency, None, days, subject, error)
    days, subject = _certificate(fetched.peer_certificate)
    matched: bool | None = None
    if contains is not None and method != "HEAD":
        text = fetched.body.decode(fetched.encoding, errors="replace")
        matched = contains in text
    return ProbeResult(fetched.status, fetched.latency_ms, matched, days, subject, "")


def test_connection(spec: SourceSpec) -> str:
    """Probe the data source's own URL: "HTTP 200 in 12 ms" (with the certificate's days)."""
    result = probe(spec, "", {})
    if result.error:
        raise RunnerError(result.error)
    message = _("HTTP %(status)d in %(ms)d ms") % {
        "status": result.status,
        "ms": result.latency_ms,
    }
    if result.tls_days_left is not None:
        message += "; " + _("the certificate expires in %(days)s days") % {
            "days": f"{result.tls_days_left:.1f}"
        }
    return message


# pytest would collect ``test_connection`` from test modules that import it by name.
test_connection.__test__ = False  # type: ignore[attr-defined]
