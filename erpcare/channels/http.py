"""Outbound HTTP for robots and webhooks, behind an SSRF guard.

Robot and webhook URLs are typed in by people, so a URL could point at the machine
ERPCare runs on, the internal network, or a cloud metadata service. ``check_url`` refuses
every address that is not globally routable (unless an administrator allowed private
addresses for this destination), and ``post`` connects to exactly the address it checked:
the host name is resolved once, each address checked, and the request goes to the checked
IP with the original ``Host`` header and TLS server name (SNI, and so the certificate
check), so a DNS answer that changes between check and connect (DNS rebinding) cannot
move the request inside. Redirects are never followed: a redirect could point inside too.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import SplitResult, urlsplit, urlunsplit

import certifi
import httpx
from django.utils.translation import gettext as _

from erpcare.channels.transports import SendResult
from erpcare.core.errors import ActionError

EXCERPT = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class _Target:
    parts: SplitResult
    host: str  # as written in the URL (IPv6 without brackets), lower case
    port: int
    addresses: tuple[IPAddress, ...]


def _address_class(address: IPAddress) -> str | None:
    """Why ``address`` must not be reached from here, or None for a global address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _address_class(address.ipv4_mapped)
    if address.is_unspecified:
        return _("an unspecified address")
    if address.is_loopback:
        return _("a loopback address")
    if address.is_link_local:
        return _("a link-local address (this includes cloud metadata services)")
    if address.is_multicast:
        return _("a multicast address")
    if isinstance(address, ipaddress.IPv6Address) and address in ipaddress.ip_network("fc00::/7"):
        return _("a unique-local address")
    # Checked before is_private: Python counts 240.0.0.0/4 as private too.
    if address.is_reserved:
        return _("a reserved address")
    if address.is_private:
        return _("a private network address")
    if not address.is_global:
        return _("an address that is not publicly routable")
    return None


class _Unresolvable(ActionError):
    """DNS trouble can pass: unlike a refused address, worth a retry."""


def _resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise _Unresolvable(
            _("The host name %(host)s does not resolve: %(error)s") % {"host": host, "error": exc}
        ) from None
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        # A scoped IPv6 address comes back as "fe80::1%eth0".
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise _Unresolvable(_("The host name %(host)s does not resolve.") % {"host": host})
    return tuple(found)


def _target(url: str, *, allow_private: bool) -> _Target:
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ActionError(_("%(url)s is not a valid URL.") % {"url": text[:200]}) from None
    if parts.scheme not in ("http", "https"):
        raise ActionError(_("Only http:// and https:// URLs can be used."))
    if not parts.hostname:
        raise ActionError(_("The URL has no host name."))
    if parts.username is not None or parts.password is not None:
        raise ActionError(
            _("The URL must not contain a user name or password; use the signing secret.")
        )
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    host = parts.hostname.lower()
    addresses = _resolve(host, port)
    if not allow_private:
        for address in addresses:
            refused = _address_class(address)
            if refused is not None:
                raise ActionError(
                    _(
                        "%(host)s resolves to %(address)s, %(class)s. Sending there is "
                        "refused unless an administrator allows private addresses for "
                        "this destination."
                    )
                    % {"host": host, "address": address, "class": refused}
                )
    return _Target(parts=parts, host=host, port=port, addresses=addresses)


def check_url(url: str, *, allow_private: bool) -> None:
    """Raise ActionError unless ``url`` is an http(s) URL whose every address may be reached."""
    _target(url, allow_private=allow_private)


def _pinned_url(target: _Target, address: IPAddress) -> str:
    literal = f"[{address}]" if address.version == 6 else str(address)
    default = 443 if target.parts.scheme == "https" else 80
    netloc = literal if target.port == default else f"{literal}:{target.port}"
    return urlunsplit(target.parts._replace(netloc=netloc))


def _host_header(target: _Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.parts.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def payload_parts(payload: Mapping[str, object]) -> tuple[str, dict[str, str]]:
    """The body and headers of a rendered HTTP delivery payload ``{"body", "headers"}``."""
    raw = payload.get("headers")
    headers = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    return str(payload.get("body") or ""), headers


def excerpt(text: str) -> str:
    return text[:EXCERPT]


@lru_cache(maxsize=4)
def _tls_context(cafile: str) -> ssl.SSLContext:
    """One verifying TLS context per CA bundle, built once per process: loading the bundle
    costs ~16 ms, which a fresh client per delivery paid every time (measured by
    bench/channels.py). Connections are still not shared between deliveries: a pooled
    connection to one IP could otherwise carry a request for another host name."""
    return ssl.create_default_context(cafile=cafile)


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow_private: bool,
    timeout: float = 10,
) -> SendResult:
    """POST ``body`` to ``url`` and say how it went; never raises for network trouble.

    A refused address is a failure a retry cannot fix; 5xx, 429, timeouts and connection
    errors are worth retrying; other 4xx and redirects are not.
    """
    try:
        target = _target(url, allow_private=allow_private)
    except ActionError as exc:
        return SendResult(ok=False, error=exc.message, retryable=isinstance(exc, _Unresolvable))
    # The first checked address; every one was checked, so any of them is safe to use.
    address = target.addresses[0]
    request_headers = {**headers, "Host": _host_header(target)}
    extensions: dict[str, object] = {}
    if target.parts.scheme == "https":
        extensions["sni_hostname"] = target.host
    try:
        with httpx.Client(
            follow_redirects=False,
            timeout=timeout,
            trust_env=False,
            verify=_tls_context(certifi.where()),
        ) as client:
            request = client.build_request(
                "POST",
                _pinned_url(target, address),
                content=body,
                headers=request_headers,
                extensions=extensions,
            )
            response = client.send(request)
    except httpx.TimeoutException:
        return SendResult(
            ok=False,
            error=_("No answer within %(seconds)s seconds.") % {"seconds": f"{timeout:g}"},
        )
    except httpx.HTTPError as exc:
        return SendResult(
            ok=False,
            error=_("Could not connect to %(host)s: %(error)s")
            % {"host": target.host, "error": str(exc) or type(exc).__name__},
        )
    status = response.status_code
    text = excerpt(response.text)
    if 200 <= status < 300:
        return SendResult(ok=True, status_code=status, response=text)
    if 300 <= status < 400:
        return SendResult(
            ok=False,
            status_code=status,
            response=text,
            error=_(
                "The receiver answered with a redirect (HTTP %(status)d); "
                "redirects are not followed."
            )
            % {"status": status},
            retryable=False,
        )
    return SendResult(
        ok=False,
        status_code=status,
        response=text,
        error=_("The receiver answered HTTP %(status)d.") % {"status": status},
        retryable=status >= 500 or status == 429,
    )
