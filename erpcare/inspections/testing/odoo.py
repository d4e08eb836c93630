"""An Odoo 17 schema fixture on PostgreSQL for tests, with clean business data and ways to
break it the way real systems break.

Not a live Odoo: ``odoo_schema.sql`` holds the tables and columns the Odoo pack reads, as
Odoo's ORM creates them; ``load_clean`` fills them with what a small two-company Odoo
holds after a few months (posted customer invoices, vendor bills and miscellaneous
entries, a cancelled and a draft invoice, stock in internal locations, purchase orders in
every state, scheduled actions, users who signed in). Dates are relative to now, so checks
that compare with today judge a system as fresh as a live one.

``create_database()`` makes a scratch database ``erpcare_o_odoo_<random>`` on the server
of ``scripts/pg.sh`` (or ``ERPCARE_ODOO_PG_URI``); ``OdooDb.drop()`` removes it. The
corruption helpers change the data with plain SQL, as a bad script, an import or a hand
fix would, and return what the matching check must report.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from erpcare.inspections.runners.spec import SourceSpec
from erpcare.inspections.testing import private_pg_uri

SCHEMA = Path(__file__).with_name("odoo_schema.sql")
TABLES = (
    "res_company",
    "res_users",
    "res_users_log",
    "res_groups",
    "res_groups_users_rel",
    "ir_model_data",
    "ir_cron",
    "account_journal",
    "account_move",
    "account_move_line",
    "stock_location",
    "stock_quant",
    "purchase_order",
)

COMPANY_CN, COMPANY_HK = 1, 2
JOURNAL_INV, JOURNAL_BILL, JOURNAL_MISC, JOURNAL_HK_INV = 1, 2, 3, 4
# Accounts of the generic chart (ids only: the checks never read account_account).
RECEIVABLE, PAYABLE, INCOME, EXPENSE, TAX_PAID, TAX_DUE, SALARIES = (
    121,
    211,
    400,
    600,
    131,
    251,
    620,
)
WH_STOCK, WH_SHELF, HK_STOCK, CUSTOMERS = 4, 5, 7, 2
GROUP_SYSTEM = 5
ADMIN, BUYER, WAREHOUSE = 2, 6, 7
PROCUREMENT_CRON = 2


def pg_server_uri() -> str:
    """The PostgreSQL server for scratch Odoo databases (no database name)."""
    return os.environ.get("ERPCARE_ODOO_PG_URI", private_pg_uri()).rstrip("/")


def _server() -> dict[str, Any]:
    uri = urlparse(pg_server_uri())
    return {
        "host": uri.hostname or "127.0.0.1",
        "port": uri.port or 5432,
        "user": uri.username or "",
        "password": uri.password or "",
    }


@dataclass(frozen=True)
class OdooDb:
    dbname: str
    host: str
    port: int
    user: str
    password: str

    def spec(self, **extra: Any) -> SourceSpec:
        """A data source for the inspection runner (read-only by the runner's guards)."""
        values: dict[str, Any] = {"timeout_ms": 10_000, "max_rows": 100, **extra}
        return SourceSpec(
            kind="postgresql",
            host=self.host,
            port=self.port,
            database=self.dbname,
            username=self.user,
            password=self.password,
            **values,
        )

    def connect(self) -> Any:
        """A read-write connection for loading and breaking data."""
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            dbname=self.dbname,
            user=self.user,
            password=self.password,
            connect_timeout=5,
        )

    def drop(self) -> None:
        _admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.dbname)


def _admin(statement: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    try:
        conn = psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5, **_server())
    except psycopg.OperationalError as exc:
        pytest.skip(
            f"No PostgreSQL for the Odoo fixture at {pg_server_uri()} (scripts/pg.sh start): {exc}"
        )
    with conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(name)))


def create_database() -> OdooDb:
    """A new scratch database holding the Odoo 17 schema fixture (empty tables)."""
    pytest.importorskip("psycopg")
    name = f"erpcare_o_odoo_{uuid.uuid4().hex[:8]}"
    _admin("CREATE DATABASE {}", name)
    db = OdooDb(dbname=name, **_server())
    try:
        with db.connect() as conn:
            conn.execute(SCHEMA.read_text(encoding="utf-8"))
    except Exception:
        db.drop()
        raise
    return db


# --- clean data ------------------------------------------------------------------------


def _utcnow() -> dt.datetime:
    # Odoo stores datetimes as UTC without a time zone.
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _month_end_before(day: dt.date, months: int) -> dt.date:
    """The last day of the month ``months + 1`` before ``day``'s month (0: last month)."""
    first = day.replace(day=1)
    for _ in range(months):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return first - dt.timedelta(days=1)


class _Writer:
    """Collects rows per table and inserts them with generated ids."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {}

    def add(self, table: str, **row: Any) -> int:
        rows = self.rows.setdefault(table, [])
        row.setdefault("id", len(rows) + 1)
        rows.append(row)
        return int(row["id"])

    def link(self, table: str, **row: Any) -> None:
        """A row of a many-to-many table (no id)."""
        self.rows.setdefault(table, []).append(row)

    def insert(self, conn: Any) -> None:
        for table in TABLES:
            for row in self.rows.get(table, []):
                columns = list(row)
                marks = ", ".join(["%s"] * len(columns))
                conn.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                    [json.dumps(v) if isinstance(v, dict) else v for v in row.values()],
                )
            if table == "res_groups_users_rel":
                continue
            # Our ids were explicit: move each serial on, as Odoo's own inserts would.
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
                f" COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )


def _move(
    w: _Writer,
    *,
    name: str,
    move_type: str,
    journal: int,
    company: int,
    date: dt.date,
    state: str,
    lines: Sequence[tuple[int, Decimal, Decimal, str]],
    created: dt.datetime,
) -> int:
    prefix = name.rstrip("0123456789") if name != "/" else None
    number = int(name[len(prefix) :]) if prefix is not None else None
    move = w.add(
        "account_move",
        name=name,
        date=date,
        state=state,
        move_type=move_type,
        journal_id=journal,
        company_id=company,
        invoice_date=date if move_type != "entry" else None,
        sequence_prefix=prefix,
        sequence_number=number,
        create_date=created,
        write_date=created,
    )
    for account, debit, credit, display_type in lines:
        w.add(
            "account_move_line",
            move_id=move,
            name=display_type,
            account_id=account,
            debit=debit,
            credit=credit,
            balance=debit - credit,
            parent_state=state,
            date=date,
            journal_id=journal,
            company_id=company,
            display_type=display_type,
        )
    return move


def _invoice_lines(untaxed: Decimal) -> list[tuple[int, Decimal, Decimal, str]]:
    tax = (untaxed * Decimal("0.13")).quantize(Decimal("0.01"))
    zero = Decimal(0)
    return [
        (INCOME, zero, zero, "line_section"),
        (INCOME, zero, untaxed, "product"),
        (TAX_DUE, zero, tax, "tax"),
        (RECEIVABLE, untaxed + tax, zero, "payment_term"),
    ]


def _bill_lines(untaxed: Decimal) -> list[tuple[int, Decimal, Decimal, str]]:
    tax = (untaxed * Decimal("0.13")).quantize(Decimal("0.01"))
    zero = Decimal(0)
    return [
        (EXPENSE, untaxed, zero, "product"),
        (TAX_PAID, tax, zero, "tax"),
        (PAYABLE, zero, untaxed + tax, "payment_term"),
    ]


def _numbers() -> Any:
    """Next number per (journal prefix, year): INV/2026/00001 as Odoo 17 names them."""
    counters: dict[str, int] = {}

    def next_name(template: str, date: dt.date, digits: int) -> str:
        prefix = template.format(year=date.year, month=f"{date.month:02d}")
        counters[prefix] = counters.get(prefix, 0) + 1
        return f"{prefix}{counters[prefix]:0{digits}d}"

    return next_name


def load_clean(db: OdooDb) -> None:
    """Empty every table and fill it with a clean, consistent data set."""
    now = _utcnow()
    today = now.date()
    w = _Writer()
    lock = _month_end_before(today, 2)
    w.add(
        "res_company",
        id=COMPANY_CN,
        name="Shanghai Precision Parts Co., Ltd.",
        period_lock_date=lock,
        fiscalyear_lock_date=None,
    )
    w.add("res_company", id=COMPANY_HK, name="Acme Trading (HK) Ltd.")
    for jid, name, code, jtype, company in (
        (JOURNAL_INV, "Customer Invoices", "INV", "sale", COMPANY_CN),
        (JOURNAL_BILL, "Vendor Bills", "BILL", "purchase", COMPANY_CN),
        (JOURNAL_MISC, "Miscellaneous Operations", "MISC", "general", COMPANY_CN),
        (JOURNAL_HK_INV, "Customer Invoices", "INV", "sale", COMPANY_HK),
    ):
        w.add(
            "account_journal",
            id=jid,
            name={"en_US": name},
            code=code,
            type=jtype,
            company_id=company,
        )

    number = _numbers()
    # Twelve customer invoices over ten weeks; the fifth was cancelled and keeps its number.
    for i in range(12):
        date = today - dt.timedelta(days=72 - 6 * i)
        created = dt.datetime.combine(date, dt.time(9, 30))
        _move(
            w,
            name=number("INV/{year}/", date, 5),
            move_type="out_invoice",
            journal=JOURNAL_INV,
            company=COMPANY_CN,
            date=date,
            state="cancel" if i == 4 else "posted",
            lines=_invoice_lines(Decimal(1000 + 137 * i)),
            created=created,
        )
    refund_date = today - dt.timedelta(days=20)
    _move(
        w,
        name=number("RINV/{year}/", refund_date, 5),
        move_type="out_refund",
        journal=JOURNAL_INV,
        company=COMPANY_CN,
        date=refund_date,
        state="posted",
        lines=[(a, c, d, t) for a, d, c, t in _invoice_lines(Decimal(250))],
        created=dt.datetime.combine(refund_date, dt.time(11)),
    )
    # The same numbers in the Hong Kong company's own journal are not duplicates.
    hk_number = _numbers()
    for i in range(5):
        date = today - dt.timedelta(days=60 - 12 * i)
        _move(
            w,
            name=hk_number("INV/{year}/", date, 5),
            move_type="out_invoice",
            journal=JOURNAL_HK_INV,
            company=COMPANY_HK,
            date=date,
            state="posted",
            lines=_invoice_lines(Decimal(5000 + 10 * i)),
            created=dt.datetime.combine(date, dt.time(3)),
        )
    for i in range(6):
        date = today - dt.timedelta(days=70 - 11 * i)
        _move(
            w,
            name=number("BILL/{year}/{month}/", date, 4),
            move_type="in_invoice",
            journal=JOURNAL_BILL,
            company=COMPANY_CN,
            date=date,
            state="posted",
            lines=_bill_lines(Decimal(800 + 55 * i)),
            created=dt.datetime.combine(date, dt.time(14)),
        )
    for i in range(3):
        date = _month_end_before(today, i)
        _move(
            w,
            name=number("MISC/{year}/{month}/", date, 4),
            move_type="entry",
            journal=JOURNAL_MISC,
            company=COMPANY_CN,
            date=date,
            state="posted",
            lines=[
                (SALARIES, Decimal("48000.00"), Decimal(0), ""),
                (PAYABLE, Decimal(0), Decimal("48000.00"), ""),
            ],
            created=dt.datetime.combine(date, dt.time(17)),
        )
    # Work in progress: a draft customer invoice from yesterday and a vendor bill that
    # arrived by e-mail two days ago (drafts are numbered "/" until posted).
    _move(
        w,
        name="/",
        move_type="out_invoice",
        journal=JOURNAL_INV,
        company=COMPANY_CN,
        date=today,
        state="draft",
        lines=_invoice_lines(Decimal(640)),
        created=now - dt.timedelta(days=1),
    )
    _move(
        w,
        name="/",
        move_type="in_invoice",
        journal=JOURNAL_BILL,
        company=COMPANY_CN,
        date=today,
        state="draft",
        lines=_bill_lines(Decimal(310)),
        created=now - dt.timedelta(days=2),
    )

    for lid, name, complete, usage, owner in (
        (1, "Vendors", "Partners/Vendors", "supplier", None),
        (CUSTOMERS, "Customers", "Partners/Customers", "customer", None),
        (3, "WH", "WH", "view", COMPANY_CN),
        (WH_STOCK, "Stock", "WH/Stock", "internal", COMPANY_CN),
        (WH_SHELF, "Shelf 1", "WH/Stock/Shelf 1", "internal", COMPANY_CN),
        (6, "Inventory adjustment", "Virtual Locations/Inventory adjustment", "inventory", None),
        (HK_STOCK, "Stock", "HK/Stock", "internal", COMPANY_HK),
    ):
        w.add(
            "stock_location",
            id=lid,
            name=name,
            complete_name=complete,
            usage=usage,
            company_id=owner,
        )
    for product, location, lot, quantity in (
        (101, WH_STOCK, None, "120"),
        (102, WH_STOCK, None, "35.5"),
        (103, WH_STOCK, 1, "10"),
        (103, WH_STOCK, 2, "4"),
        (104, WH_SHELF, None, "8"),
        (105, WH_SHELF, None, "0"),
        (101, HK_STOCK, None, "60"),
        (106, HK_STOCK, None, "12"),
        # Outside internal locations a quant is not stock on hand (Odoo up to 10 moved
        # quants into partner locations, and migrated databases may still hold them).
        (102, CUSTOMERS, None, "-18"),
    ):
        w.add(
            "stock_quant",
            product_id=product,
            location_id=location,
            lot_id=lot,
            company_id=COMPANY_HK if location == HK_STOCK else COMPANY_CN,
            quantity=Decimal(quantity),
            in_date=now - dt.timedelta(days=30),
        )

    for i, (state, age) in enumerate(
        [
            ("done", 70),
            ("purchase", 55),
            ("cancel", 50),
            ("purchase", 40),
            ("done", 33),
            ("purchase", 12),
            ("sent", 5),
            ("draft", 3),
            ("to approve", 2),
        ]
    ):
        created = now - dt.timedelta(days=age)
        w.add(
            "purchase_order",
            name=f"P{i + 1:05d}",
            state=state,
            date_order=created,
            date_approve=created if state in ("purchase", "done") else None,
            partner_id=40 + i % 3,
            company_id=COMPANY_CN,
            create_date=created,
            write_date=created,
        )

    for cron_id, name, active, number_, itype, nextcall in (
        (1, "Mail: Email Queue Manager", True, 1, "hours", now + dt.timedelta(minutes=20)),
        (
            PROCUREMENT_CRON,
            "Procurement: run scheduler",
            True,
            1,
            "days",
            now + dt.timedelta(hours=14),
        ),
        (3, "Base: Auto-vacuum internal data", True, 1, "days", now + dt.timedelta(hours=9)),
        (4, "Mail: Fetchmail Service", True, 5, "minutes", now - dt.timedelta(minutes=3)),
        # Shipped switched off and never run: not a problem.
        (5, "Currency: rate update", False, 1, "days", now - dt.timedelta(days=200)),
    ):
        w.add(
            "ir_cron",
            id=cron_id,
            ir_actions_server_id=100 + cron_id,
            cron_name=name,
            user_id=1,
            active=active,
            interval_number=number_,
            interval_type=itype,
            numbercall=-1,
            doall=False,
            nextcall=nextcall,
            lastcall=nextcall - dt.timedelta(days=1),
            priority=5,
        )

    long_ago = now - dt.timedelta(days=400)
    for uid, login, active, share, created in (
        (1, "__system__", False, False, long_ago),
        (ADMIN, "admin", True, False, long_ago),
        (3, "public", False, True, long_ago),
        (4, "zhang.wei@customer.example", True, True, now - dt.timedelta(days=300)),
        (5, "finance.li", True, False, long_ago),
        (BUYER, "buyer.wang", True, False, long_ago),
        (WAREHOUSE, "warehouse.chen", True, False, long_ago),
        (8, "new.hire", True, False, now - dt.timedelta(days=5)),
    ):
        w.add(
            "res_users",
            id=uid,
            login=login,
            active=active,
            share=share,
            company_id=COMPANY_CN,
            create_date=created,
            write_date=created,
        )
    for uid, days_ago in (
        (ADMIN, 1),
        (5, 200),
        (5, 2),
        (BUYER, 10),
        (WAREHOUSE, 3),
        (WAREHOUSE, 40),
    ):
        signed_in = now - dt.timedelta(days=days_ago, hours=2)
        w.add(
            "res_users_log",
            create_uid=uid,
            create_date=signed_in,
            write_uid=uid,
            write_date=signed_in,
        )

    for gid, module, xml_id, name in (
        (1, "base", "group_user", "Internal User"),
        (2, "base", "group_portal", "Portal"),
        (3, "base", "group_public", "Public"),
        (4, "base", "group_erp_manager", "Access Rights"),
        (GROUP_SYSTEM, "base", "group_system", "Settings"),
        (6, "account", "group_account_manager", "Billing Administrator"),
    ):
        w.add("res_groups", id=gid, name={"en_US": name})
        w.add(
            "ir_model_data",
            module=module,
            name=xml_id,
            model="res.groups",
            res_id=gid,
            noupdate=False,
        )
    # A custom module's record with the same name is not Odoo's Settings group.
    w.add(
        "ir_model_data",
        module="custom_acme",
        name="group_system",
        model="res.groups",
        res_id=6,
        noupdate=True,
    )
    for gid, uids in (
        (1, (1, ADMIN, 5, BUYER, WAREHOUSE, 8)),
        (2, (4,)),
        (3, (3,)),
        (4, (1, ADMIN)),
        (GROUP_SYSTEM, (1, ADMIN)),  # __system__ is archived: not counted
        (6, (5,)),
    ):
        for uid in uids:
            w.link("res_groups_users_rel", gid=gid, uid=uid)

    with db.connect() as conn:
        conn.execute(f"TRUNCATE {', '.join(TABLES)}")
        w.insert(conn)


# --- corruption helpers ------------------------------------------------------------------


def _rows(db: OdooDb, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with db.connect() as conn:
        return list(conn.execute(query, params).fetchall())


def _write(db: OdooDb, *statements: tuple[str, Sequence[Any]]) -> None:
    with db.connect() as conn:  # one transaction, committed on exit
        for statement, params in statements:
            conn.execute(statement, params)


def _customer_invoices(db: OdooDb) -> list[tuple[int, str]]:
    """Posted customer invoices of the Shanghai journal in the prefix with most numbers
    (a year boundary inside the data splits them), in number order."""
    rows = _rows(
        db,
        "SELECT id, name FROM account_move WHERE journal_id = %s AND move_type = 'out_invoice'"
        " AND state = 'posted' ORDER BY name",
        [JOURNAL_INV],
    )
    by_prefix: dict[str, list[tuple[int, str]]] = {}
    for move_id, name in rows:
        by_prefix.setdefault(name.rstrip("0123456789"), []).append((move_id, name))
    return max(by_prefix.values(), key=len)


def unbalance_posted_move(db: OdooDb) -> tuple[int, tuple[int, str]]:
    """The newest posted customer invoice gets its receivable line raised by 100 (a hand
    "fix" by SQL). Returns the move's id and its (company, month)."""
    move_id, _name = _customer_invoices(db)[-1]
    (line_id, date), *_ = _rows(
        db,
        "SELECT id, date FROM account_move_line WHERE move_id = %s AND debit > 0",
        [move_id],
    )
    _write(db, ("UPDATE account_move_line SET debit = debit + 100 WHERE id = %s", [line_id]))
    return move_id, (COMPANY_CN, f"{date:%Y-%m}")


def negative_stock(db: OdooDb) -> tuple[int, int]:
    """A delivery of product 103 validated without stock: its two lots in WH/Stock now
    hold 10 and −17. Returns (product, location)."""
    _write(
        db,
        (
            "UPDATE stock_quant SET quantity = -17 WHERE product_id = 103 AND lot_id = 2"
            " AND location_id = %s",
            [WH_STOCK],
        ),
    )
    return 103, WH_STOCK


def stale_approval(db: OdooDb, days: int = 30) -> list[int]:
    """The order waiting for the manager's approval was created ``days`` ago."""
    ((po_id,),) = _rows(db, "SELECT id FROM purchase_order WHERE state = 'to approve'")
    _write(
        db,
        (
            "UPDATE purchase_order SET create_date = create_date - %s * INTERVAL '1 day',"
            " date_order = date_order - %s * INTERVAL '1 day' WHERE id = %s",
            [days, days, po_id],
        ),
    )
    return [po_id]


def stale_draft_invoice(db: OdooDb, days: int = 30) -> list[int]:
    """The draft customer invoice was started ``days`` ago and forgotten."""
    ((move_id,),) = _rows(
        db, "SELECT id FROM account_move WHERE state = 'draft' AND move_type = 'out_invoice'"
    )
    _write(
        db,
        (
            "UPDATE account_move SET create_date = create_date - %s * INTERVAL '1 day'"
            " WHERE id = %s",
            [days, move_id],
        ),
    )
    return [move_id]


def draft_bill_in_locked_period(db: OdooDb) -> list[int]:
    """The draft vendor bill is dated on the company's lock date (the month is closed)."""
    ((move_id,),) = _rows(
        db, "SELECT id FROM account_move WHERE state = 'draft' AND move_type = 'in_invoice'"
    )
    _write(
        db,
        (
            "UPDATE account_move m SET date = c.period_lock_date, invoice_date ="
            " c.period_lock_date FROM res_company c WHERE c.id = m.company_id AND m.id = %s",
            [move_id],
        ),
    )
    return [move_id]


def delete_posted_invoice(db: OdooDb) -> tuple[int, str]:
    """A posted invoice in the middle of the sequence is deleted with its lines (by SQL:
    Odoo refuses). Returns the id of the next invoice and the missing name."""
    invoices = _customer_invoices(db)
    (gone_id, gone_name), (next_id, _next_name) = invoices[2], invoices[3]
    _write(
        db,
        ("DELETE FROM account_move_line WHERE move_id = %s", [gone_id]),
        ("DELETE FROM account_move WHERE id = %s", [gone_id]),
    )
    return next_id, gone_name


def duplicate_invoice_number(db: OdooDb) -> list[int]:
    """The newest invoice is re-imported under its predecessor's number. Returns both ids."""
    *_, (previous_id, previous_name), (newest_id, _newest_name) = _customer_invoices(db)
    _write(db, ("UPDATE account_move SET name = %s WHERE id = %s", [previous_name, newest_id]))
    return sorted([previous_id, newest_id])


def stall_cron(db: OdooDb, days: int = 3) -> list[int]:
    """No cron worker since ``days`` ago: the daily procurement scheduler is overdue."""
    _write(
        db,
        (
            "UPDATE ir_cron SET nextcall = (NOW() AT TIME ZONE 'UTC') - %s * INTERVAL '1 day',"
            " lastcall = (NOW() AT TIME ZONE 'UTC') - %s * INTERVAL '1 day' WHERE id = %s",
            [days, days + 1, PROCUREMENT_CRON],
        ),
    )
    return [PROCUREMENT_CRON]


def dormant_user(db: OdooDb, days: int = 120) -> list[int]:
    """The warehouse clerk left: still active, last signed in ``days`` ago."""
    _write(
        db,
        (
            "UPDATE res_users_log SET create_date = create_date - %s * INTERVAL '1 day',"
            " write_date = write_date - %s * INTERVAL '1 day' WHERE create_uid = %s",
            [days, days, WAREHOUSE],
        ),
    )
    return [WAREHOUSE]


def add_administrator(db: OdooDb) -> list[int]:
    """The buyer is quietly put in Settings (base.group_system)."""
    _write(
        db,
        ("INSERT INTO res_groups_users_rel (gid, uid) VALUES (%s, %s)", [GROUP_SYSTEM, BUYER]),
    )
    return [BUYER]
