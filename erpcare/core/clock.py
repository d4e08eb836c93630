"""The one source of "now" for business actions.

Services ask this module for the time instead of calling timezone.now() directly, so
that importers and the demo generator can replay history at its original timestamps
through the very same actions (``with clock.frozen_at(dt): ...``).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.utils import timezone

_frozen: contextvars.ContextVar[datetime | None] = contextvars.ContextVar(
    "erpcare_frozen_now", default=None
)


def now() -> datetime:
    value = _frozen.get()
    return value if value is not None else timezone.now()


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    if timezone.is_naive(moment):
        raise ValueError("frozen_at needs an aware datetime")
    token = _frozen.set(moment)
    try:
        yield
    finally:
        _frozen.reset(token)
