"""The full-text backend of the default database: FTS5 on SQLite, tsvector on PostgreSQL."""

from __future__ import annotations

from django.db import connection

from erpcare.search.backends.base import Backend, Filters
from erpcare.search.backends.postgres import PostgresBackend
from erpcare.search.backends.sqlite import SqliteBackend

__all__ = ["Backend", "Filters", "backend_for", "get_backend"]

_BACKENDS: dict[str, Backend] = {
    "sqlite": SqliteBackend(),
    "postgresql": PostgresBackend(),
}


def backend_for(vendor: str) -> Backend:
    try:
        return _BACKENDS[vendor]
    except KeyError:
        raise NotImplementedError(f"search has no backend for {vendor!r} databases") from None


def get_backend() -> Backend:
    return backend_for(connection.vendor)
