"""HTTP for the Prometheus and probe runners: one bounded GET/HEAD, its body capped.

Data sources are configured by administrators, so the outbound address guard
(``erpcare.channels.http``) runs with private addresses allowed: a customer's Prometheus
or ERP usually lives inside their network, often on the ERPCare machine itself. What the
guard still refuses is anything that is not an http(s) URL with a host, or carries
credentials in the URL (they belong in the data source's user name and password).
Redirects are not followed: a health endpoint that redirects says so in its status.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import certifi
import httpx
from django.utils.translation import gettext as _

from erpcare.channels.http import _tls_context, check_url
from erpcare.core.errors import ActionError
from erpcare.inspections.runners.spec import RunnerError, SourceSpec

USER_AGENT = "ERPCare-inspection"


@lru_cache(maxsize=1)
def unverified_tls_context() -> ssl.SSLContext:
    """For sources whose administrator turned certificate checks off (self-signed
    certificates inside a customer's network); built once per process."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def tls_context(spec: SourceSpec, verify: bool) -> ssl.SSLContext:
    if not verify:
        return unverified_tls_context()
    # A private CA's bundle (``options.ca_file``) or the public ones; the channels' cache
    # holds one context per bundle for the whole process.
    ca_file = str(spec.options.get("ca_file") or "") or certifi.where()
    try:
        return _tls_context(ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise RunnerError(
            _("The CA bundle %(path)s cannot be read: %(error)s") % {"path": ca_file, "error": exc}
        ) from None


def check_target(url: str) -> None:
    """Refuse a URL that cannot be a data source's address, with a translated reason."""
    try:
        check_url(url, allow_private=True)
    except ActionError as exc:
        raise RunnerError(exc.message) from None


def auth_for(spec: SourceSpec) -> httpx.Auth | None:
    """Basic auth with a user name; a password alone is sent as a bearer token."""
    if spec.username:
        return httpx.BasicAuth(spec.username, spec.password)
    if spec.password:
        return _Bearer(spec.password)
    return None


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


@dataclass
class Fetched:
    status: int
    headers: httpx.Headers
    body: bytes  # at most ``limit`` bytes
    truncated: bool
    encoding: str
    latency_ms: int
    peer_certificate: bytes | None  # DER, when the answer came over TLS


def fetch(
    spec: SourceSpec,
    url: str,
    *,
    method: str = "GET",
    params: Mapping[str, str] | None = None,
    verify: bool = True,
    limit: int,
) -> Fetched:
    """One request; raises httpx errors for the caller to word (they differ per runner)."""
    started = time.monotonic()
    with (
        httpx.Client(
            follow_redirects=False,
            timeout=spec.timeout_s,
            trust_env=False,
            verify=tls_context(spec, verify),
            auth=auth_for(spec),
            headers={"User-Agent": USER_AGENT},
        ) as client,
        client.stream(method, url, params=params) as response,
    ):
        peer = _peer_certificate(response)
        chunks: list[bytes] = []
        size = 0
        truncated = False
        if method != "HEAD":
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= limit:
                    truncated = size > limit
                    break
        body = b"".join(chunks)[:limit]
        return Fetched(
            status=response.status_code,
            headers=response.headers,
            body=body,
            truncated=truncated,
            encoding=response.encoding or "utf-8",
            latency_ms=int((time.monotonic() - started) * 1000),
            peer_certificate=peer,
        )


def _peer_certificate(response: httpx.Response) -> bytes | None:
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    ssl_object = stream.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    # binary_form works even when the certificate was not verified; positional, because
    # httpcore may hand out the C-level socket object, which takes no keywords.
    der = ssl_object.getpeercert(True)
    return bytes(der) if der else None
