"""What every runner takes and raises: a plain description of a data source, and one error.

Runners never see Django models: the caller builds a ``SourceSpec`` from a ``DataSource``
(decrypting the password at that moment), so runners can be tested and reused without a
database of ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Reason = Literal["error", "timeout"]


@dataclass(frozen=True)
class SourceSpec:
    """Where to ask and how much: one data source as the runners need it."""

    kind: str  # a SourceKind value
    host: str = ""
    port: int | None = None
    # The database name; for SQLite the file's path on the ERPCare server.
    database: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    url: str = ""
    # Driver options that are not secrets, e.g. {"sslmode": "require"}, {"verify_tls": false}.
    options: Mapping[str, Any] = field(default_factory=dict)
    timeout_ms: int = 10_000
    max_rows: int = 100

    @property
    def timeout_s(self) -> float:
        """The time budget in seconds, never below 0.1 s (a zero timeout means "off" to
        several servers, the opposite of what a tiny number should mean here)."""
        return max(self.timeout_ms, 100) / 1000

    @property
    def row_cap(self) -> int:
        return max(1, self.max_rows)


class RunnerError(Exception):
    """A check could not get its answer; ``str(e)`` is a translated, readable message.

    ``reason`` is ``"timeout"`` when the time budget ran out (server-side statement
    timeout, client-side deadline), else ``"error"``.
    """

    def __init__(self, message: str, *, reason: Reason = "error") -> None:
        super().__init__(message)
        self.message = message
        self.reason: Reason = reason

    def __str__(self) -> str:
        return self.message
