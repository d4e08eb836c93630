"""A real Tryton database for tests, and ways to break it the way real systems break.

``tryton_database("sqlite" | "postgresql")`` gives a fresh copy of a Tryton database built by
``tryton_build`` (in a subprocess: Tryton never enters this process). The build runs once
and is cached across test sessions under ``var/cache/tryton/``, keyed by the trytond version
and a hash of ``tryton_build.py``: SQLite keeps a file that is copied per test; PostgreSQL
keeps a template database ``tryton_tpl_<hash>`` that each test clones with
``CREATE DATABASE … TEMPLATE`` and drops afterwards (``TrytonDb.drop()``).

The build is a snapshot of a live system: its users signed in and its cron jobs ran on the
build day. A cache older than ``MAX_AGE`` is rebuilt, so checks that compare with today
("not signed in for 90 days", "cron overdue by a day") judge a system as fresh as a live one.

The corruption helpers change the copy with plain SQL, as a bad script, a crashed import
or a hand fix would, and return the ids that the matching check must report.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import pytest

from erpcare.inspections.testing import private_pg_uri

Kind = Literal["sqlite", "postgresql"]

ROOT = Path(__file__).resolve().parents[3]
CACHE_DIR = ROOT / "var" / "cache" / "tryton"
BUILD_SCRIPT = Path(__file__).with_name("tryton_build.py")
MAX_AGE = dt.timedelta(hours=20)
BUILD_TIMEOUT_S = 900
INSTALL = (
    ".venv/bin/pip install 'trytond>=8.2,<8.3' 'trytond_account>=8.2,<8.3' "
    "'trytond_account_invoice>=8.2,<8.3' 'trytond_stock>=8.2,<8.3' "
    "'trytond_purchase>=8.2,<8.3' 'trytond_sale>=8.2,<8.3' 'proteus>=8.2,<8.3' "
    "'psycopg-pool>=3.2,<4'"
)


def pg_server_uri() -> str:
    """The PostgreSQL server for Tryton databases (no database name): scripts/pg.sh's."""
    return os.environ.get("ERPCARE_TRYTON_PG_URI", private_pg_uri()).rstrip("/")


@dataclass(frozen=True)
class TrytonDb:
    """One Tryton database: what a DataSource needs to reach it."""

    kind: Kind
    trytond_version: str
    path: str = ""  # SQLite
    host: str = ""
    port: int | None = None
    dbname: str = ""
    user: str = ""
    password: str = ""

    def data_source_fields(self) -> dict[str, Any]:
        """Keyword arguments for ``inspections.DataSource`` (kind, host, port, …)."""
        if self.kind == "sqlite":
            return {"kind": "sqlite", "database": self.path}
        return {
            "kind": "postgresql",
            "host": self.host,
            "port": self.port,
            "database": self.dbname,
            "username": self.user,
            "password": self.password,
        }

    def connect(self) -> Any:
        """A read-write DB-API connection (for the corruption helpers and assertions)."""
        if self.kind == "sqlite":
            return sqlite3.connect(self.path)
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            dbname=self.dbname,
            user=self.user,
            password=self.password,
        )

    def drop(self) -> None:
        """Remove this copy."""
        if self.kind == "sqlite":
            Path(self.path).unlink(missing_ok=True)
        else:
            _admin_execute("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.dbname)


def trytond_version() -> str:
    """The installed trytond's version; skips the test with the install command when absent."""
    try:
        return metadata.version("trytond")
    except metadata.PackageNotFoundError:
        pytest.skip(f"Tryton is not installed; install it with: {INSTALL}")


def cache_key() -> str:
    digest = hashlib.sha256(BUILD_SCRIPT.read_bytes())
    digest.update(trytond_version().encode())
    return digest.hexdigest()[:12]


_built: dict[str, TrytonDb] = {}


def tryton_database(kind: Kind) -> TrytonDb:
    """A fresh copy of the cached Tryton database (built first when missing or stale).

    The caller drops it with ``TrytonDb.drop()``."""
    template = _built.get(kind) or _template(kind)
    _built[kind] = template
    if kind == "sqlite":
        copy = CACHE_DIR / "copies" / f"tryton-{uuid.uuid4().hex[:12]}.sqlite"
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template.path, copy)
        return _replace(template, path=str(copy))
    name = f"tryton_{uuid.uuid4().hex[:12]}"
    _admin_execute("CREATE DATABASE {} TEMPLATE {}", name, template.dbname)
    return _replace(template, dbname=name)


def _replace(db: TrytonDb, **changes: Any) -> TrytonDb:
    from dataclasses import replace

    return replace(db, **changes)


@contextmanager
def _lock(key: str) -> Iterator[None]:
    """One builder at a time per cache key, also across parallel test sessions."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / f"{key}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_build(kind: Kind, target: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "erpcare.inspections.testing.tryton_build"]
    command += ["--db-type", kind, "--target", target, "--cache-dir", str(CACHE_DIR)]
    command += ["--pg-uri", pg_server_uri()]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TRYTON"))}
    done = subprocess.run(  # noqa: S603 -- our own script with our own interpreter
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"tryton_build failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _template(kind: Kind) -> TrytonDb:
    version = trytond_version()
    key = cache_key()
    with _lock(key):
        if kind == "sqlite":
            return _sqlite_template(version, key)
        return _pg_template(version, key)


def _sqlite_template(version: str, key: str) -> TrytonDb:
    path = CACHE_DIR / f"tryton-{key}.sqlite"
    fresh = path.exists() and (
        dt.datetime.now() - dt.datetime.fromtimestamp(path.stat().st_mtime) < MAX_AGE
    )
    if not fresh:
        for old in CACHE_DIR.glob("tryton-*.sqlite"):
            old.unlink()
        _run_build("sqlite", str(path))
    return TrytonDb(kind="sqlite", trytond_version=version, path=str(path))


def _pg_params() -> dict[str, Any]:
    from urllib.parse import urlparse

    uri = urlparse(pg_server_uri())
    return {
        "host": uri.hostname or "127.0.0.1",
        "port": uri.port or 5432,
        "user": uri.username or "",
        "password": uri.password or "",
    }


def _admin_connection() -> Any:
    import psycopg

    try:
        return psycopg.connect(
            dbname="postgres", autocommit=True, connect_timeout=5, **_pg_params()
        )
    except psycopg.OperationalError as exc:
        pytest.skip(f"No PostgreSQL for Tryton at {pg_server_uri()} (scripts/pg.sh start): {exc}")


def _admin_execute(statement: str, *names: str) -> None:
    from psycopg import sql

    with _admin_connection() as conn:
        conn.execute(sql.SQL(statement).format(*(sql.Identifier(n) for n in names)))


def _pg_template(version: str, key: str) -> TrytonDb:
    name = f"tryton_tpl_{key}"
    with _admin_connection() as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
    built_at = None
    if row and row[0]:
        try:
            built_at = dt.datetime.fromisoformat(json.loads(row[0])["built_at"])
        except (ValueError, KeyError, TypeError):
            built_at = None
    if built_at is None or dt.datetime.now(dt.UTC) - built_at >= MAX_AGE:
        building = f"{name}_build"
        _run_build("postgresql", building)
        with _admin_connection() as conn:
            stale = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'tryton\\_tpl\\_%%'"
                " AND datname <> %s",
                [building],
            ).fetchall()
        for (old,) in stale:
            _admin_execute("DROP DATABASE IF EXISTS {} WITH (FORCE)", old)
        _admin_execute("ALTER DATABASE {} RENAME TO {}", building, name)
        from psycopg import sql

        note = json.dumps({"built_at": dt.datetime.now(dt.UTC).isoformat(), "trytond": version})
        with _admin_connection() as conn:
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(name), sql.Literal(note)
                )
            )
    params = _pg_params()
    return TrytonDb(kind="postgresql", trytond_version=version, dbname=name, **params)


# --- Corruption helpers: what real systems do to their data ------------------------------


def _ago(db: TrytonDb, column: str, days: int) -> str:
    """SQL for ``column`` moved ``days`` back, in the database's dialect."""
    if db.kind == "sqlite":
        return f"datetime({column}, '-{int(days)} days')"
    return f"{column} - INTERVAL '{int(days)} days'"


def _date_ago(db: TrytonDb, column: str, days: int) -> str:
    if db.kind == "sqlite":
        return f"date({column}, '-{int(days)} days')"
    return f"{column} - {int(days)}"


def _write(db: TrytonDb, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
    """Run the statements in one transaction (``?`` placeholders work on both)."""
    conn = db.connect()
    try:
        with conn:
            cursor = conn.cursor()
            for statement, params in statements:
                if db.kind == "postgresql":
                    statement = statement.replace("?", "%s")
                cursor.execute(statement, params)
    finally:
        conn.close()


def _one(db: TrytonDb, query: str, params: Sequence[Any] = ()) -> Any:
    conn = db.connect()
    try:
        cursor = conn.cursor()
        if db.kind == "postgresql":
            query = query.replace("?", "%s")
        cursor.execute(query, params)
        row = cursor.fetchone()
    finally:
        conn.close()
    if row is None:
        raise LookupError(f"Nothing in the Tryton database for: {query}")
    return row


def unbalance_posted_move(db: TrytonDb) -> list[int]:
    """The newest posted move gets one line's debit raised by 100 (a hand "fix" by SQL).

    Returns the move's id."""
    line_id, move_id = _one(
        db,
        "SELECT l.id, m.id FROM account_move_line l JOIN account_move m ON m.id = l.move"
        " WHERE m.state = 'posted' AND l.debit > 0 ORDER BY m.id DESC, l.id LIMIT 1",
    )
    _write(db, [("UPDATE account_move_line SET debit = debit + 100 WHERE id = ?", [line_id])])
    return [move_id]


def negative_stock(db: TrytonDb) -> list[int]:
    """A done move out of the main storage (STO) gets more quantity than was there.

    Returns the product's id (the finding is that product in that location)."""
    move_id, product_id, location_id = _one(
        db,
        "SELECT mv.id, mv.product, mv.from_location FROM stock_move mv"
        " JOIN stock_location loc ON loc.id = mv.from_location"
        " WHERE mv.state = 'done' AND loc.code = 'STO' ORDER BY mv.id DESC LIMIT 1",
    )
    (on_hand,) = _one(
        db,
        "SELECT COALESCE(SUM(CASE WHEN to_location = ? THEN internal_quantity"
        " ELSE -internal_quantity END), 0) FROM stock_move"
        " WHERE state = 'done' AND product = ? AND (to_location = ? OR from_location = ?)",
        [location_id, product_id, location_id, location_id],
    )
    extra = float(on_hand) + 7
    _write(
        db,
        [
            (
                "UPDATE stock_move SET quantity = quantity + ?,"
                " internal_quantity = internal_quantity + ? WHERE id = ?",
                [extra, extra, move_id],
            )
        ],
    )
    return [product_id]


def stale_quotation(db: TrytonDb, days: int = 30) -> list[int]:
    """The open purchase quotation is left waiting: its dates move ``days`` back.

    Returns the purchase's id."""
    (purchase_id,) = _one(
        db, "SELECT id FROM purchase_purchase WHERE state = 'quotation' ORDER BY id LIMIT 1"
    )
    _write(db, [(_back_sql(db, "purchase_purchase", "purchase_date", days), [purchase_id])])
    return [purchase_id]


def stale_draft_invoice(db: TrytonDb, days: int = 30) -> list[int]:
    """The draft customer invoice is forgotten: its dates move ``days`` back, into a period
    that has ended. Returns the invoice's id."""
    (invoice_id,) = _one(
        db,
        "SELECT id FROM account_invoice WHERE type = 'out' AND state = 'draft' ORDER BY id LIMIT 1",
    )
    _write(db, [(_back_sql(db, "account_invoice", "invoice_date", days), [invoice_id])])
    return [invoice_id]


def _back_sql(db: TrytonDb, table: str, date_column: str, days: int) -> str:
    # Only our own table and column names and an int reach the text (S608).
    return (
        f"UPDATE {table} SET {date_column} = {_date_ago(db, date_column, days)},"  # noqa: S608
        f" create_date = {_ago(db, 'create_date', days)},"
        f" write_date = {_ago(db, 'COALESCE(write_date, create_date)', days)} WHERE id = ?"
    )


def unpost_move_in_closed_period(db: TrytonDb) -> list[int]:
    """A posted move in a closed period is set back to draft (a botched correction).

    Returns the move's id."""
    (move_id,) = _one(
        db,
        "SELECT m.id FROM account_move m JOIN account_period p ON p.id = m.period"
        " WHERE m.state = 'posted' AND p.state = 'closed' ORDER BY m.id LIMIT 1",
    )
    _write(
        db,
        [("UPDATE account_move SET state = 'draft', post_date = NULL WHERE id = ?", [move_id])],
    )
    return [move_id]


def invoice_number_gap(db: TrytonDb) -> list[int]:
    """The newest posted customer invoice is renumbered two ahead (a number is skipped).

    Returns the invoice's id (the one after the gap)."""
    invoice_id, number = _one(
        db,
        "SELECT id, number FROM account_invoice WHERE type = 'out' AND number IS NOT NULL"
        " ORDER BY number DESC LIMIT 1",
    )
    prefix = number.rstrip("0123456789")
    digits = number[len(prefix) :]
    renumbered = f"{prefix}{int(digits) + 2:0{len(digits)}d}"
    _write(db, [("UPDATE account_invoice SET number = ? WHERE id = ?", [renumbered, invoice_id])])
    return [invoice_id]


def invoice_number_duplicate(db: TrytonDb) -> list[int]:
    """The newest posted customer invoice gets its predecessor's number (a re-import).

    Returns both invoices' ids, oldest first."""
    rows = []
    conn = db.connect()
    try:
        cursor = conn.cursor()
        cursor.execute(
            "SELECT id, number FROM account_invoice WHERE type = 'out' AND number IS NOT NULL"
            " ORDER BY number DESC LIMIT 2"
        )
        rows = cursor.fetchall()
    finally:
        conn.close()
    (newest_id, _newest), (previous_id, previous_number) = rows
    _write(
        db, [("UPDATE account_invoice SET number = ? WHERE id = ?", [previous_number, newest_id])]
    )
    return sorted([previous_id, newest_id])


def stall_cron(db: TrytonDb, days: int = 3) -> list[int]:
    """Tryton's cron worker stopped: the daily currency job's next call is ``days`` past."""
    (cron_id,) = _one(db, "SELECT id FROM ir_cron WHERE method = 'currency.cron|update'")
    _write(
        db,
        [
            (
                f"UPDATE ir_cron SET next_call = {_ago(db, 'next_call', days + 1)}"  # noqa: S608
                " WHERE id = ?",
                [cron_id],
            )
        ],
    )
    return [cron_id]


def disable_cron(db: TrytonDb) -> list[int]:
    """Someone switched off the job that cancels expired sale quotations."""
    (cron_id,) = _one(
        db, "SELECT id FROM ir_cron WHERE method = 'sale.sale|cancel_expired_quotation'"
    )
    _write(db, [("UPDATE ir_cron SET active = ? WHERE id = ?", [False, cron_id])])
    return [cron_id]


def dormant_user(db: TrytonDb, days: int = 120) -> list[int]:
    """The warehouse clerk left: still active, last signed in ``days`` ago."""
    (user_id,) = _one(db, "SELECT id FROM res_user WHERE login = 'warehouse'")
    _write(
        db,
        [
            (
                "UPDATE ir_session SET create_date"  # noqa: S608
                f" = {_ago(db, 'create_date', days)},"
                f" write_date = {_ago(db, 'COALESCE(write_date, create_date)', days)}"
                " WHERE create_uid = ?",
                [user_id],
            )
        ],
    )
    return [user_id]


def add_administrator(db: TrytonDb) -> list[int]:
    """The buyer is quietly made an administrator."""
    (user_id,) = _one(db, "SELECT id FROM res_user WHERE login = 'buyer'")
    _write(db, [("UPDATE res_user SET administrator = ? WHERE id = ?", [True, user_id])])
    return [user_id]
