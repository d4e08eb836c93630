"""Shared by the ticket specs: proving that a refused action changed nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest


def state_checks(
    *models: Any,
) -> tuple[Callable[[], dict[str, Any]], Callable[..., AbstractContextManager[None]]]:
    """(db_state, refused) for these models: every row of each, and a context manager that
    expects ``error`` matching ``match`` and asserts that no row changed."""

    def db_state() -> dict[str, Any]:
        return {m._meta.label: list(m.objects.order_by("pk").values()) for m in models}

    @contextmanager
    def refused(error: type[Exception], match: str) -> Iterator[None]:
        before = db_state()
        with pytest.raises(error, match=match):
            yield
        assert db_state() == before

    return db_state, refused
