"""Transports: how a delivery leaves ERPCare, one module per channel.

A transport renders a delivery once (``render``: fills ``delivery.payload`` from its event
and the templates, so every retry sends the same bytes) and sends it (``send``), returning
a ``SendResult``. The delivery runner (``channels.delivery``) owns claiming, retries,
back-off and the attempt log; transports never touch delivery state themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from erpcare.channels.models import Delivery


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status_code: int | None = None
    response: str = ""  # the first 2 KB of what the receiver answered
    error: str = ""
    # False for errors a retry cannot fix (a 400 for a malformed card, a refused address).
    retryable: bool = True


class Transport(Protocol):
    channel: str

    def render(self, delivery: Delivery) -> dict[str, object]: ...

    def send(self, delivery: Delivery) -> SendResult: ...


_registry: dict[str, Transport] = {}


def register(transport: Transport) -> Transport:
    _registry[transport.channel] = transport
    return transport


def transport_for(channel: str) -> Transport:
    try:
        return _registry[channel]
    except KeyError:
        raise LookupError(f"no transport registered for channel {channel!r}") from None


def registered_channels() -> list[str]:
    return sorted(_registry)
