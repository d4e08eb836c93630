"""The Tryton fixture: a real Tryton 8.2 database built with Tryton's own tools (trytond-admin,
proteus) in a subprocess, cached by version and build script, copied per test.

These tests say what the database holds, so the pack tests can rely on it: a company in CNY,
a fiscal year of twelve monthly periods (the old ones closed), posted supplier and customer
invoices with balanced moves, stock received and shipped, staff who signed in, cron jobs
that ran; and that copies are independent and disappear when dropped.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from erpcare.inspections.testing import tryton
from erpcare.inspections.testing.tryton import TrytonDb


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> Iterator[TrytonDb]:
    copy = tryton.tryton_database(request.param)
    try:
        yield copy
    finally:
        copy.drop()


def rows(db: TrytonDb, query: str, *params: object) -> list[tuple[object, ...]]:
    conn = db.connect()
    try:
        cursor = conn.cursor()
        cursor.execute(query.replace("?", "%s") if db.kind == "postgresql" else query, params)
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        conn.close()


def test_tryton_never_enters_the_test_process() -> None:
    assert not any(name == "trytond" or name.startswith("trytond.") for name in sys.modules)
    assert "proteus" not in sys.modules


def test_the_database_is_a_trading_company_after_a_few_months(db: TrytonDb) -> None:
    assert db.trytond_version.startswith("8.2.")
    assert rows(db, "SELECT c.code FROM company_company co JOIN currency_currency c"
                    " ON c.id = co.currency") == [("CNY",)]  # fmt: skip
    periods = rows(db, "SELECT state, COUNT(*) FROM account_period GROUP BY state ORDER BY state")
    assert sum(n for _state, n in periods) == 12  # type: ignore[misc]
    assert dict(periods)["closed"] >= 1  # type: ignore[arg-type]
    invoices = dict(
        rows(db, "SELECT type, COUNT(*) FROM account_invoice WHERE state = 'posted' GROUP BY type")
    )
    assert invoices == {"in": 14, "out": 18}
    assert rows(db, "SELECT COUNT(*) FROM account_move WHERE state = 'posted'") == [(32,)]
    assert rows(db, "SELECT state, COUNT(*) FROM stock_shipment_out GROUP BY state") == [
        ("done", 18)
    ]
    assert rows(db, "SELECT state, COUNT(*) FROM stock_shipment_in GROUP BY state") == [
        ("done", 14)
    ]
    # A live system has a quotation waiting and an invoice being prepared.
    assert rows(db, "SELECT COUNT(*) FROM purchase_purchase WHERE state = 'quotation'") == [(1,)]
    assert rows(
        db, "SELECT COUNT(*) FROM account_invoice WHERE type = 'out' AND state = 'draft'"
    ) == [(1,)]


def test_invoices_carry_tax_and_consecutive_numbers(db: TrytonDb) -> None:
    numbers = [
        number
        for (number,) in rows(
            db,
            "SELECT number FROM account_invoice WHERE type = 'out' AND number IS NOT NULL"
            " ORDER BY id",
        )
    ]
    assert numbers == [f"INV{n:05d}" for n in range(1, 19)]
    untaxed = rows(db, "SELECT COUNT(*) FROM account_invoice WHERE state = 'posted'"
                       " AND tax_amount_cache <= 0")  # fmt: skip
    assert untaxed == [(0,)]


def test_every_user_signed_in_and_every_cron_job_ran(db: TrytonDb) -> None:
    users = rows(
        db,
        "SELECT u.login, COUNT(s.id) FROM res_user u LEFT JOIN ir_session s"
        " ON s.create_uid = u.id WHERE u.active GROUP BY u.login ORDER BY u.login",
    )
    assert users == [
        ("accountant", 1), ("admin", 1), ("buyer", 1), ("sales", 1), ("warehouse", 1)
    ]  # fmt: skip
    assert rows(db, "SELECT COUNT(*) FROM ir_cron WHERE next_call IS NULL OR NOT active") == [(0,)]


def test_copies_are_independent(db: TrytonDb) -> None:
    other = tryton.tryton_database(db.kind)
    try:
        tryton.add_administrator(other)
        query = "SELECT COUNT(*) FROM res_user WHERE administrator AND active"
        assert rows(other, query) == [(2,)]
        assert rows(db, query) == [(1,)]
    finally:
        other.drop()
    if db.kind == "sqlite":
        assert not Path(other.path).exists()
    else:
        with tryton._admin_connection() as conn:
            found = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [other.dbname]
            ).fetchall()
        assert found == []


def test_a_data_source_reaches_the_copy(db: TrytonDb) -> None:
    fields = db.data_source_fields()
    assert fields["kind"] == db.kind
    if db.kind == "sqlite":
        assert Path(fields["database"]).is_file()
    else:
        assert fields["database"].startswith("tryton_")
        server = tryton._pg_params()
        assert (fields["host"], fields["port"]) == (server["host"], server["port"])


def test_the_cache_key_follows_the_build_script() -> None:
    key = tryton.cache_key()
    assert len(key) == 12
    assert key == tryton.cache_key()
    original = tryton.BUILD_SCRIPT
    try:
        tryton.BUILD_SCRIPT = Path(tryton.__file__)  # any other content
        assert tryton.cache_key() != key
    finally:
        tryton.BUILD_SCRIPT = original
