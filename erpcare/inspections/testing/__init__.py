"""Test fixtures for inspections: a real Tryton ERP database built with Tryton's own tools.

``tryton_build`` runs in a subprocess (Tryton's global configuration and pool must never
enter Django's process); ``tryton`` is what tests import.
"""

from __future__ import annotations

import os


def private_pg_uri() -> str:
    """The private PostgreSQL server of ``scripts/pg.sh`` (no database name): on ``PGPORT``,
    54330 by default — the same port the script and ``make test`` use."""
    return f"postgresql://erpcare:erpcare@127.0.0.1:{os.environ.get('PGPORT') or 54330}"
