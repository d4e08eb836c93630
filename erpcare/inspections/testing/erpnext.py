"""An ERPNext v15 schema fixture on MariaDB for tests, with clean business data and ways to
break it the way real systems break.

Not a live ERPNext: ``erpnext_schema.sql`` holds the tables and columns the ERPNext pack
reads, as Frappe creates them from ERPNext's DocTypes; ``load_clean`` fills them with what
a small two-company site holds after a few months (submitted sales invoices with their GL
entries, a cancelled and amended invoice, a return, purchase invoices and journal
entries, bins, purchase orders in every state, scheduled jobs that ran, users who signed
in). Dates are relative to now, in the server's local time as Frappe stores them.

The caller brings the server (``tests/mariadb_server.py``) as a root connection factory;
the corruption helpers change the data with plain SQL, as a bad patch, an import or a hand
fix would, and return what the matching check must report.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

SCHEMA = Path(__file__).with_name("erpnext_schema.sql")
TABLES = (
    "tabGL Entry",
    "tabBin",
    "tabPurchase Order",
    "tabSales Invoice",
    "tabScheduled Job Type",
    "tabUser",
    "tabHas Role",
)
SPP, AHK = "Shanghai Precision Parts", "Acme Trading HK"
SERIES = "ACC-SINV-.YYYY.-"


@dataclass(frozen=True)
class ErpNextDb:
    """A database on a MariaDB server; ``root`` opens an autocommit root connection."""

    root: Callable[[], Any]
    database: str

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        conn = self.root()
        try:
            with conn.cursor() as cur:
                cur.execute(f"USE `{self.database}`")
                cur.execute(statement, params or None)
                return list(cur.fetchall())
        finally:
            conn.close()


def schema_statements() -> list[str]:
    """The fixture's CREATE TABLE statements (comments removed)."""
    text = "\n".join(
        line
        for line in SCHEMA.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("--")
    )
    return [part.strip() for part in text.split(";") if part.strip()]


def create_schema(db: ErpNextDb) -> None:
    conn = db.root()
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{db.database}` CHARACTER SET utf8mb4")
            cur.execute(f"USE `{db.database}`")
            for statement in schema_statements():
                cur.execute(statement)
    finally:
        conn.close()


# --- clean data ------------------------------------------------------------------------


def _now() -> dt.datetime:
    # Frappe stores datetimes in the site's time zone; MariaDB's NOW() is the server's
    # local time, the same clock as ours here.
    return dt.datetime.now().replace(microsecond=0)


class _Rows:
    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {table: [] for table in TABLES}
        self.serial = 0

    def hash_name(self) -> str:
        """Frappe names GL entries, bins and child rows by a random hash; ours count."""
        self.serial += 1
        return f"{self.serial:010x}"

    def add(self, table: str, **row: Any) -> None:
        row.setdefault("name", self.hash_name())
        self.rows[table].append(row)


def _gl(
    r: _Rows,
    voucher_type: str,
    voucher_no: str,
    company: str,
    posting_date: dt.date,
    lines: Sequence[tuple[str, Decimal, Decimal]],
    *,
    cancelled: bool = False,
) -> None:
    created = dt.datetime.combine(posting_date, dt.time(10))
    for account, debit, credit in lines:
        r.add(
            "tabGL Entry",
            creation=created,
            modified=created,
            docstatus=1,
            posting_date=posting_date,
            account=account,
            debit=debit,
            credit=credit,
            voucher_type=voucher_type,
            voucher_no=voucher_no,
            is_cancelled=1 if cancelled else 0,
            company=company,
            fiscal_year=str(posting_date.year),
        )


def _sales_lines(abbr: str, untaxed: Decimal) -> list[tuple[str, Decimal, Decimal]]:
    tax = (untaxed * Decimal("0.13")).quantize(Decimal("0.01"))
    zero = Decimal(0)
    return [
        (f"Debtors - {abbr}", untaxed + tax, zero),
        (f"Sales - {abbr}", zero, untaxed),
        (f"Output Tax VAT 13% - {abbr}", zero, tax),
    ]


def _reversed(lines: Sequence[tuple[str, Decimal, Decimal]]) -> list[tuple[str, Decimal, Decimal]]:
    return [(account, credit, debit) for account, debit, credit in lines]


class _Series:
    """Frappe's naming series: one counter per prefix (the year is part of the prefix)."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}

    def next(self, series: str, date: dt.date, digits: int = 5) -> str:
        prefix = series.replace(".YYYY.", str(date.year))
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}{self.counters[prefix]:0{digits}d}"


def load_clean(db: ErpNextDb) -> None:
    """Empty every table and fill it with a clean, consistent data set."""
    now = _now()
    today = now.date()
    r = _Rows()
    series = _Series()

    def invoice(
        name: str, company: str, posting: dt.date, docstatus: int, status: str, **extra: Any
    ) -> None:
        created = dt.datetime.combine(posting, dt.time(9, 30))
        r.add(
            "tabSales Invoice",
            name=name,
            creation=extra.pop("creation", created),
            modified=created,
            docstatus=docstatus,
            naming_series=extra.pop("naming_series", SERIES),
            customer=extra.pop("customer", "Shenzhen Robotics"),
            posting_date=posting,
            company=company,
            status=status,
            **extra,
        )

    # Twelve sales invoices over ten weeks; the fifth was cancelled and amended (-1).
    for i in range(12):
        posting = today - dt.timedelta(days=72 - 6 * i)
        name = series.next(SERIES, posting)
        lines = _sales_lines("SPP", Decimal(1000 + 137 * i))
        if i == 4:
            invoice(name, SPP, posting, 2, "Cancelled")
            _gl(r, "Sales Invoice", name, SPP, posting, lines, cancelled=True)
            _gl(r, "Sales Invoice", name, SPP, posting, _reversed(lines), cancelled=True)
            amended = f"{name}-1"
            invoice(amended, SPP, posting, 1, "Paid", amended_from=name)
            _gl(r, "Sales Invoice", amended, SPP, posting, lines)
        else:
            invoice(name, SPP, posting, 1, "Paid" if i < 9 else "Unpaid")
            _gl(r, "Sales Invoice", name, SPP, posting, lines)
    returned = today - dt.timedelta(days=20)
    name = series.next("ACC-SINV-RET-.YYYY.-", returned)
    invoice(name, SPP, returned, 1, "Return", is_return=1, naming_series="ACC-SINV-RET-.YYYY.-")
    _gl(r, "Sales Invoice", name, SPP, returned, _reversed(_sales_lines("SPP", Decimal(250))))
    # ERPNext numbers a draft when it is saved: yesterday's draft holds the next number.
    invoice(series.next(SERIES, today), SPP, today, 0, "Draft", creation=now - dt.timedelta(days=1))
    # The Hong Kong company has its own series.
    for i in range(5):
        posting = today - dt.timedelta(days=60 - 12 * i)
        name = series.next("AHK-SINV-.YYYY.-", posting)
        invoice(
            name,
            AHK,
            posting,
            1,
            "Paid",
            naming_series="AHK-SINV-.YYYY.-",
            customer="Kowloon Traders",
        )
        _gl(r, "Sales Invoice", name, AHK, posting, _sales_lines("AHK", Decimal(5000 + 10 * i)))
    for i in range(6):
        posting = today - dt.timedelta(days=70 - 11 * i)
        untaxed = Decimal(800 + 55 * i)
        tax = (untaxed * Decimal("0.13")).quantize(Decimal("0.01"))
        _gl(
            r,
            "Purchase Invoice",
            series.next("ACC-PINV-.YYYY.-", posting),
            SPP,
            posting,
            [
                ("Stock Received But Not Billed - SPP", untaxed, Decimal(0)),
                ("Input Tax VAT 13% - SPP", tax, Decimal(0)),
                ("Creditors - SPP", Decimal(0), untaxed + tax),
            ],
        )
    for months in range(3):
        posting = today.replace(day=1) - dt.timedelta(days=1)
        for _ in range(months):
            posting = posting.replace(day=1) - dt.timedelta(days=1)
        _gl(
            r,
            "Journal Entry",
            series.next("ACC-JV-.YYYY.-", posting),
            SPP,
            posting,
            [
                ("Salary - SPP", Decimal("48000"), Decimal(0)),
                ("Payroll Payable - SPP", Decimal(0), Decimal("48000")),
            ],
        )

    for item, warehouse, qty in (
        ("SKU-101", "Stores - SPP", "120"),
        ("SKU-102", "Stores - SPP", "35.5"),
        ("SKU-103", "Stores - SPP", "14"),
        ("SKU-104", "Finished Goods - SPP", "8"),
        ("SKU-105", "Finished Goods - SPP", "0"),
        ("SKU-101", "Stores - AHK", "60"),
    ):
        r.add(
            "tabBin",
            creation=now - dt.timedelta(days=90),
            modified=now,
            item_code=item,
            warehouse=warehouse,
            actual_qty=Decimal(qty),
        )

    po_series = _Series()
    for docstatus, status, age in (
        (1, "Completed", 70),
        (1, "To Bill", 55),
        (2, "Cancelled", 50),
        (1, "To Receive and Bill", 40),
        (1, "Completed", 33),
        (1, "To Receive", 12),
        (0, "Draft", 3),
        (0, "Draft", 2),
    ):
        created = now - dt.timedelta(days=age)
        r.add(
            "tabPurchase Order",
            name=po_series.next("PUR-ORD-.YYYY.-", created.date()),
            creation=created,
            modified=created,
            docstatus=docstatus,
            naming_series="PUR-ORD-.YYYY.-",
            supplier="Baosteel Trading",
            transaction_date=created.date(),
            company=SPP,
            status=status,
        )

    for name, method, frequency, ran_ago, cron in (
        ("email_queue.flush", "frappe.email.queue.flush", "All", dt.timedelta(minutes=3), None),
        (
            "reorder_item.reorder_item",
            "erpnext.stock.reorder_item.reorder_item",
            "Hourly Long",
            dt.timedelta(minutes=40),
            None,
        ),
        (
            "auto_repeat.make_auto_repeat_entry",
            "frappe.automation.doctype.auto_repeat.auto_repeat.make_auto_repeat_entry",
            "Daily",
            dt.timedelta(hours=20),
            None,
        ),
        (
            "energy_point_log.send_weekly_summary",
            "frappe.social.doctype.energy_point_log.energy_point_log.send_weekly_summary",
            "Weekly",
            dt.timedelta(days=5),
            None,
        ),
        (
            "deferred_revenue.process_deferred_accounting",
            "erpnext.accounts.deferred_revenue.process_deferred_accounting",
            "Monthly Long",
            dt.timedelta(days=20),
            None,
        ),
        # A cron expression is not judged by age (SQL cannot read cron).
        (
            "utils.auto_fetch_exchange_rates",
            "erpnext.setup.utils.auto_fetch_exchange_rates",
            "Cron",
            dt.timedelta(days=40),
            "0 */6 * * *",
        ),
    ):
        r.add(
            "tabScheduled Job Type",
            name=name,
            creation=now - dt.timedelta(days=300),
            modified=now,
            method=method,
            stopped=0,
            frequency=frequency,
            cron_format=cron,
            last_execution=now - ran_ago,
            create_log=0,
        )

    long_ago = now - dt.timedelta(days=400)
    for user, full_name, enabled, user_type, last_login, created in (
        ("Administrator", "Administrator", 1, "System User", now - dt.timedelta(days=1), long_ago),
        ("Guest", "Guest", 1, "Website User", None, long_ago),
        ("li.na@spp.example", "Li Na", 1, "System User", now - dt.timedelta(days=2), long_ago),
        (
            "wang.buyer@spp.example",
            "Wang Jun",
            1,
            "System User",
            now - dt.timedelta(days=10),
            long_ago,
        ),
        (
            "chen.warehouse@spp.example",
            "Chen Hao",
            1,
            "System User",
            now - dt.timedelta(days=3),
            long_ago,
        ),
        ("new.hire@spp.example", "Zhao Min", 1, "System User", None, now - dt.timedelta(days=5)),
        (
            "zhang.wei@customer.example",
            "Zhang Wei",
            1,
            "Website User",
            None,
            now - dt.timedelta(days=300),
        ),
        (
            "former.admin@spp.example",
            "Sun Li",
            0,
            "System User",
            now - dt.timedelta(days=400),
            long_ago,
        ),
    ):
        r.add(
            "tabUser",
            name=user,
            creation=created,
            modified=created,
            enabled=enabled,
            email=user if "@" in user else None,
            full_name=full_name,
            user_type=user_type,
            # last_login is a "Read Only" field: text, as Frappe writes now().
            last_login=f"{last_login:%Y-%m-%d %H:%M:%S.%f}" if last_login else None,
            last_active=last_login,
        )
    for parenttype, parent, role in (
        ("User", "Administrator", "Administrator"),
        ("User", "Administrator", "System Manager"),
        ("User", "li.na@spp.example", "Accounts Manager"),
        ("User", "li.na@spp.example", "Accounts User"),
        ("User", "wang.buyer@spp.example", "Purchase User"),
        ("User", "chen.warehouse@spp.example", "Stock User"),
        ("User", "new.hire@spp.example", "Sales User"),
        ("User", "zhang.wei@customer.example", "Customer"),
        # Disabled: holds the role but cannot sign in.
        ("User", "former.admin@spp.example", "System Manager"),
        # Pages and role profiles list roles in the same table.
        ("Page", "permission-manager", "System Manager"),
        ("Role Profile", "IT Team", "System Manager"),
    ):
        r.add(
            "tabHas Role",
            creation=long_ago,
            modified=long_ago,
            parent=parent,
            parentfield="roles",
            parenttype=parenttype,
            idx=1,
            role=role,
        )

    conn = db.root()
    try:
        with conn.cursor() as cur:
            cur.execute(f"USE `{db.database}`")
            for table in TABLES:
                cur.execute(f"TRUNCATE TABLE `{table}`")
                for row in r.rows[table]:
                    # Each row names its own columns: the others keep their defaults.
                    columns = ", ".join(f"`{column}`" for column in row)
                    marks = ", ".join(["%s"] * len(row))
                    insert = f"INSERT INTO `{table}` ({columns}) VALUES ({marks})"  # noqa: S608
                    cur.execute(insert, list(row.values()))
    finally:
        conn.close()


# --- corruption helpers ------------------------------------------------------------------

_NUMBER = re.compile(r"^(.*?)(\d+)$")


def _submitted_invoices(db: ErpNextDb) -> list[str]:
    """Submitted, unamended sales invoices of the main series in the prefix with most
    numbers (a year boundary inside the data splits them), in number order."""
    names = [
        name
        for (name,) in db.execute(
            "SELECT name FROM `tabSales Invoice` WHERE docstatus = 1 AND naming_series = %s"
            " AND amended_from IS NULL ORDER BY name",
            [SERIES],
        )
    ]
    by_prefix: dict[str, list[str]] = {}
    for name in names:
        match = _NUMBER.match(name)
        if match:
            by_prefix.setdefault(match.group(1), []).append(name)
    return max(by_prefix.values(), key=len)


def unbalance_voucher(db: ErpNextDb) -> tuple[str, tuple[str, str]]:
    """The newest submitted invoice's debtors entry is raised by 100 (a hand "fix").
    Returns the voucher and its (company, month)."""
    voucher = _submitted_invoices(db)[-1]
    ((entry, posting),) = db.execute(
        "SELECT name, posting_date FROM `tabGL Entry` WHERE voucher_no = %s AND debit > 0",
        [voucher],
    )
    db.execute("UPDATE `tabGL Entry` SET debit = debit + 100 WHERE name = %s", [entry])
    return voucher, (SPP, f"{posting:%Y-%m}")


def negative_bin(db: ErpNextDb) -> tuple[str, str]:
    """A delivery with "Allow Negative Stock" on took 21 of the 14 SKU-103 in Stores."""
    db.execute(
        "UPDATE `tabBin` SET actual_qty = actual_qty - 21"
        " WHERE item_code = 'SKU-103' AND warehouse = 'Stores - SPP'"
    )
    return "SKU-103", "Stores - SPP"


def stale_purchase_order(db: ErpNextDb, days: int = 30) -> list[str]:
    """The older draft purchase order has waited for approval for ``days``."""
    ((name,),) = db.execute(
        "SELECT name FROM `tabPurchase Order` WHERE docstatus = 0 ORDER BY creation LIMIT 1"
    )
    db.execute(
        "UPDATE `tabPurchase Order` SET creation = NOW() - INTERVAL %s DAY WHERE name = %s",
        [days, name],
    )
    return [name]


def stale_draft_invoice(db: ErpNextDb, days: int = 30) -> list[str]:
    """The draft sales invoice was started ``days`` ago and forgotten."""
    ((name,),) = db.execute("SELECT name FROM `tabSales Invoice` WHERE docstatus = 0")
    db.execute(
        "UPDATE `tabSales Invoice` SET creation = NOW() - INTERVAL %s DAY WHERE name = %s",
        [days, name],
    )
    return [name]


def delete_submitted_invoice(db: ErpNextDb) -> tuple[str, str]:
    """A submitted invoice in the middle of the series is deleted with its GL entries (by
    SQL: ERPNext refuses). Returns the next invoice's name and the missing name."""
    invoices = _submitted_invoices(db)
    gone, following = invoices[2], invoices[3]
    db.execute("DELETE FROM `tabGL Entry` WHERE voucher_no = %s", [gone])
    db.execute("DELETE FROM `tabSales Invoice` WHERE name = %s", [gone])
    return following, gone


def import_duplicate_number(db: ErpNextDb) -> list[str]:
    """Data Import writes an invoice named with three digits where the series has five:
    the same number twice. Returns both names."""
    existing = _submitted_invoices(db)[1]
    match = _NUMBER.match(existing)
    assert match is not None
    imported = f"{match.group(1)}{int(match.group(2)):03d}"
    db.execute(
        "INSERT INTO `tabSales Invoice` (name, creation, modified, docstatus, naming_series,"
        " customer, posting_date, company, status)"
        " VALUES (%s, NOW(), NOW(), 0, %s, 'Shenzhen Robotics', CURDATE(), %s, 'Draft')",
        [imported, SERIES, SPP],
    )
    return sorted([existing, imported])


def stop_job(db: ErpNextDb) -> list[str]:
    """Someone ticked Stopped on the auto-repeat job."""
    name = "auto_repeat.make_auto_repeat_entry"
    db.execute("UPDATE `tabScheduled Job Type` SET stopped = 1 WHERE name = %s", [name])
    return [name]


def stall_daily_job(db: ErpNextDb, days: int = 3) -> list[str]:
    """The scheduler has been paused: the daily job last ran ``days`` ago."""
    name = "auto_repeat.make_auto_repeat_entry"
    db.execute(
        "UPDATE `tabScheduled Job Type` SET last_execution = NOW() - INTERVAL %s DAY"
        " WHERE name = %s",
        [days, name],
    )
    return [name]


def dormant_user(db: ErpNextDb, days: int = 120) -> list[str]:
    """The warehouse clerk left: still enabled, last signed in ``days`` ago."""
    name = "chen.warehouse@spp.example"
    db.execute(
        "UPDATE `tabUser` SET last_login = DATE_FORMAT(NOW() - INTERVAL %s DAY,"
        " '%%Y-%%m-%%d %%H:%%i:%%s.%%f') WHERE name = %s",
        [days, name],
    )
    return [name]


def add_system_manager(db: ErpNextDb) -> list[str]:
    """The buyer is quietly given the System Manager role."""
    name = "wang.buyer@spp.example"
    db.execute(
        "INSERT INTO `tabHas Role` (name, creation, modified, parent, parentfield, parenttype,"
        " idx, role) VALUES ('added0001', NOW(), NOW(), %s, 'roles', 'User', 2,"
        " 'System Manager')",
        [name],
    )
    return [name]
