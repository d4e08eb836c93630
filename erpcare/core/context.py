"""Where the current action comes from (IP address, user agent, channel).

The request middleware and the API authentication fill it in; the audit service reads
it so that every audit row says "from where" without passing requests into services.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class ActionOrigin:
    channel: str = "system"
    ip: str | None = None
    user_agent: str = ""


_origin: contextvars.ContextVar[ActionOrigin] = contextvars.ContextVar(
    "erpcare_action_origin",
    default=ActionOrigin(),  # noqa: B039 - frozen, never mutated
)


def current_origin() -> ActionOrigin:
    return _origin.get()


@contextmanager
def origin(value: ActionOrigin) -> Iterator[None]:
    token = _origin.set(value)
    try:
        yield
    finally:
        _origin.reset(token)


def set_origin(value: ActionOrigin) -> contextvars.Token[ActionOrigin]:
    return _origin.set(value)


def reset_origin(token: contextvars.Token[ActionOrigin]) -> None:
    _origin.reset(token)
