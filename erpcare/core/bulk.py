"""Fast bulk writes for hot paths (the SLA pass, intake storms).

``QuerySet.bulk_update`` builds a ``CASE WHEN pk = … THEN …`` per row and field — for 500
rows and 10 fields, 5,000 resolved expressions in Python and a statement whose every row
scans the CASE list in the database. ``bulk_create`` prepares each value through the whole
compiler. These helpers send one parameterised statement with ``executemany`` (psycopg
pipelines it; SQLite steps one prepared statement). Like ``update()``, they send no
signals and leave ``auto_now`` fields alone; callers pass every value explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router


def _concrete(field: object) -> models.Field[Any, Any]:
    assert isinstance(field, models.Field), field
    return field


def update_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Any]) -> None:
    """``UPDATE table SET f1 = %s, … WHERE pk = %s`` for each row (model instances)."""
    if not rows:
        return
    opts = model._meta
    connection = connections[router.db_for_write(model)]
    qn = connection.ops.quote_name
    columns = [_concrete(opts.get_field(name)) for name in fields]
    assignments = ", ".join(f"{qn(str(field.column))} = %s" for field in columns)
    pk_column = qn(str(_concrete(opts.pk).column))
    sql = f"UPDATE {qn(opts.db_table)} SET {assignments} WHERE {pk_column} = %s"  # noqa: S608
    params = [
        [field.get_db_prep_save(getattr(row, field.attname), connection) for field in columns]
        + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Any]) -> None:
    """``INSERT INTO table (f1, …) VALUES (%s, …)`` for each row (model instances, unsaved;
    their primary keys stay unset)."""
    if not rows:
        return
    opts = model._meta
    connection = connections[router.db_for_write(model)]
    qn = connection.ops.quote_name
    columns = [_concrete(opts.get_field(name)) for name in fields]
    names = ", ".join(qn(str(field.column)) for field in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {qn(opts.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
    params = [
        [field.get_db_prep_save(getattr(row, field.attname), connection) for field in columns]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
