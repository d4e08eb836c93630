"""Alert sources: one plug-in folder per kind (``sources/<kind>/``), each with a parser that
turns a request body into ``ParsedAlert``s, recorded real payloads in ``fixtures/``, and tests.

A parser is pure: bytes in, alerts out, no database. It tolerates unknown extra fields and
raises ``PayloadError`` (a 400 with this reason) for anything it cannot read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class PayloadError(ValueError):
    """The body cannot be read as this source's payload; the message says why (translated)."""


@dataclass(frozen=True)
class ParsedAlert:
    identity: str  # what makes two events the same alert (≤ 255 characters)
    status: str  # an AlertStatus value: firing / acknowledged / resolved
    name: str  # short name (Alertmanager's alertname, Zabbix's trigger name, …)
    severity: str = "warning"  # a Severity value: critical / high / warning / info
    summary: str = ""
    description: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None  # None: the time it was received
    ends_at: datetime | None = None
    source_url: str = ""


class Source(Protocol):
    kind: str  # a SourceKind value

    def parse(self, body: bytes, *, mapping: Mapping[str, Any]) -> list[ParsedAlert]: ...


_registry: dict[str, Source] = {}


def register(source: Source) -> Source:
    _registry[source.kind] = source
    return source


def source_for(kind: str) -> Source:
    if not _registry:
        load_all()
    try:
        return _registry[kind]
    except KeyError:
        raise LookupError(f"no alert source {kind!r}") from None


def load_all() -> None:
    """Import every source folder so it registers itself."""
    from importlib import import_module

    from erpcare.monitoring.models import SourceKind

    for kind in SourceKind.values:
        import_module(f"erpcare.monitoring.sources.{kind}")
