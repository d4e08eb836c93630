"""Test helpers: a real SQLite "ERP database" and checks made directly (no pack file)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from erpcare.core import clock
from erpcare.customers.models import ErpInstance
from erpcare.inspections.models import (
    Check,
    CheckKind,
    CheckPack,
    Condition,
    DataSource,
    InstanceCheck,
    Layer,
    Severity,
    SourceKind,
)


def erp_sqlite(path: Path) -> Path:
    """A tiny ERP-like database: journal lines, stock, a job table."""
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE move_line (id INTEGER PRIMARY KEY, move INTEGER, debit REAL, credit REAL);
            INSERT INTO move_line VALUES
                (1, 1, 100, 0), (2, 1, 0, 100), (3, 2, 50, 0), (4, 2, 0, 50);
            CREATE TABLE stock (product TEXT, qty REAL);
            INSERT INTO stock VALUES ('P-1', 10), ('P-2', 3);
            """
        )
    return path


def unbalance(path: Path, move: int = 2) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE move_line SET debit = debit + 7 WHERE move = ? AND debit > 0", [move])


def sqlite_source(instance: ErpInstance, path: Path, **extra: Any) -> DataSource:
    now = clock.now()
    values: dict[str, Any] = {
        "erp_instance": instance,
        "name": "ERP database",
        "kind": SourceKind.SQLITE,
        "database": str(path),
        "created_at": now,
        "updated_at": now,
        **extra,
    }
    return DataSource.objects.create(**values)


def pack(code: str = "test-pack") -> CheckPack:
    return CheckPack.objects.get_or_create(
        code=code, defaults={"name": "Test pack", "version": "1", "imported_at": clock.now()}
    )[0]


UNBALANCED = (
    "SELECT move, SUM(debit) AS debit, SUM(credit) AS credit FROM move_line "
    "GROUP BY move HAVING SUM(debit) <> SUM(credit) ORDER BY move"
)


def check(code: str = "unbalanced-moves", **extra: Any) -> Check:
    values: dict[str, Any] = {
        "pack": pack(),
        "code": code,
        "name": "Unbalanced journal entries",
        "kind": CheckKind.SQL,
        "source_kind": SourceKind.SQLITE,
        "layer": Layer.BUSINESS,
        "module": "gl",
        "severity": Severity.CRITICAL,
        "query": UNBALANCED,
        "condition": Condition.ROWS_EMPTY,
        "why": "Unbalanced entries make the trial balance wrong.",
        "remedy": "Find the program that wrote them; correct with an adjusting entry.",
        "updated_at": clock.now(),
        **extra,
    }
    return Check.objects.create(**values)


def assign(source: DataSource, the_check: Check, **extra: Any) -> InstanceCheck:
    return InstanceCheck.objects.create(
        erp_instance=source.erp_instance, check_ref=the_check, data_source=source, **extra
    )
