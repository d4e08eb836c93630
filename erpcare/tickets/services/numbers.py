"""Numbered records (tickets, articles, changes, problems): one counter per prefix and year
in ``TicketNumberSequence``."""

from __future__ import annotations

from django.db import connection

from erpcare.tickets.models import TicketNumberSequence


def next_in_sequence(prefix: str, year: int) -> int:
    """The next number of ``prefix`` in ``year``: one statement on SQLite (≥ 3.35) and
    PostgreSQL, so there is no read-modify-write race; the row stays locked until the
    calling transaction commits (numbers are never reused, and gaps only come from
    rolled-back transactions)."""
    table = connection.ops.quote_name(TicketNumberSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (prefix, year, last) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (prefix, year) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [prefix, year],
        )
        (last,) = cursor.fetchone()
    return int(last)
