"""Build a Tryton database full of real business documents, with Tryton's own tools.

Run as a subprocess, never imported by Django's process (Tryton's configuration and pool
are process-global)::

    python -m erpcare.inspections.testing.tryton_build --db-type sqlite \\
        --target var/cache/tryton/tryton.sqlite --cache-dir var/cache/tryton
    python -m erpcare.inspections.testing.tryton_build --db-type postgresql \\
        --target tryton_tpl_x --cache-dir var/cache/tryton \\
        --pg-uri postgresql://erpcare:erpcare@127.0.0.1:54330

``trytond.admin`` creates the schema and activates the modules (what ``trytond-admin -d …
--all -u … --activate-dependencies`` does), then proteus enters everything a small trading
company has after a few months: a company in CNY, a fiscal year with monthly periods and
invoice sequences, the account chart from Tryton's template, parties, goods with a cost
price, purchases confirmed, received and invoiced, sales confirmed, shipped and invoiced,
posted customer and supplier invoices (their account moves), users who signed in, cron
jobs run once, and the periods before last month closed. One fresh purchase quotation and
one fresh draft customer invoice are left open on purpose (a live system has them; the
corruption helpers age them).

Prints one JSON line with what was built.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from erpcare.inspections.testing import private_pg_uri

MODULES = ["account", "account_invoice", "stock", "purchase", "sale"]
ADMIN_PASSWORD = "tryton admin 42"  # noqa: S105 -- a throwaway test database
USER_PASSWORD = "tryton user 42"  # noqa: S105
COMPANY_NAME = "Huadong Precision Parts Co."
SUPPLIERS = ["Ningbo Steel Supply", "Suzhou Fasteners", "Wuxi Bearings Ltd.", "Jiaxing Packaging"]
CUSTOMERS = [
    "Hangzhou Machinery",
    "Shanghai Auto Components",
    "Nanjing Pumps",
    "Hefei Tools",
    "Changzhou Motors",
    "Yangzhou Valves",
]
# name, cost price, list price
GOODS = [
    ("Steel shaft 20 mm", "38.50", "59.00"),
    ("Ball bearing 6204", "6.20", "11.80"),
    ("Hex bolt M8x40", "0.35", "0.80"),
    ("Flange DN50", "42.00", "68.00"),
    ("Gear wheel 32T", "25.40", "44.00"),
    ("Seal ring 40x52", "1.10", "2.60"),
    ("Coupling 24 mm", "18.30", "31.50"),
    ("Packing crate", "12.00", "19.00"),
]
USERS = [("accountant", "Li Na (accounting)"), ("buyer", "Wang Wei (purchasing)")]
USERS += [("warehouse", "Zhang Min (warehouse)"), ("sales", "Chen Jie (sales)")]


def _write_config(work: Path, db_type: str, pg_uri: str) -> Path:
    conf = work / "trytond.conf"
    if db_type == "sqlite":
        database = f"[database]\nuri = sqlite://\npath = {work}\n"
    else:
        database = f"[database]\nuri = {pg_uri.rstrip('/')}/\n"
    # No e-mail, no web server; a language that is installed by default.
    conf.write_text(database + "language = en\n\n[email]\nuri = smtp://127.0.0.1:1\n")
    return conf


def _create_pg_database(pg_uri: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(pg_uri.rstrip("/") + "/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(
                sql.Identifier(name)
            )
        )
        # Module activation commits thousands of times; not waiting for each WAL flush
        # makes it several times faster. A throwaway build: a crash means a rebuild.
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(name))
        )


def _finish_pg_database(pg_uri: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(pg_uri.rstrip("/") + "/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} RESET ALL").format(sql.Identifier(name)))


def _admin(conf: Path, name: str, work: Path) -> None:
    """What ``trytond-admin -c conf -d name -u … --activate-dependencies`` does."""
    from trytond import config

    config.update_etc(str(conf))
    from trytond import admin
    from trytond.commandline import get_parser_admin

    passfile = work / "admin.pass"
    passfile.write_text(ADMIN_PASSWORD + "\n")
    os.environ["TRYTONPASSFILE"] = str(passfile)
    arguments = ["-c", str(conf), "-d", name, "--email", "admin@example.com"]
    options = get_parser_admin().parse_args([*arguments, "--activate-dependencies", "-u", *MODULES])
    admin.run(options)


def _months_back(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 - months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


class Builder:
    """Enters the documents through proteus, as a user of Tryton would."""

    def __init__(self, conf: Path, name: str) -> None:
        from proteus import config

        self.name = name
        self.config = config.set_trytond(database=name, config_file=str(conf))
        # Tryton's "are you sure?" warnings are for people at a screen; the build answers yes.
        self.config.skip_warning = True
        self.today = dt.date.today()
        self.counts: dict[str, int] = {}

    def model(self, name: str) -> Any:
        from proteus import Model

        return Model.get(name)

    def run(self) -> dict[str, int]:
        steps = [self.company, self.fiscal_year, self.chart, self.masters, self.purchases]
        steps += [self.sales, self.leave_open_documents, self.users_sign_in, self.run_crons]
        steps += [self.close_old_periods]
        for step in steps:
            started = time.monotonic()
            step()
            print(f"{step.__name__}: {time.monotonic() - started:.1f} s", file=sys.stderr)
        return self.counts

    def company(self) -> None:
        from proteus import Wizard

        Currency = self.model("currency.currency")
        Rate = self.model("currency.currency.rate")
        Party = self.model("party.party")
        User = self.model("res.user")
        cny = Currency(name="Chinese Yuan", code="CNY", symbol="¥", rounding=Decimal("0.01"))
        cny.save()
        Rate(date=dt.date(2000, 1, 1), rate=Decimal(1), currency=cny).save()
        party = Party(name=COMPANY_NAME)
        party.save()
        wizard = Wizard("company.company.config")
        wizard.execute("company")
        wizard.form.party = party
        wizard.form.currency = cny
        wizard.execute("add")
        self.config._context = User.get_preferences(True, {})
        (self.company_record,) = self.model("company.company").find()

    def fiscal_year(self) -> None:
        FiscalYear = self.model("account.fiscalyear")
        Sequence = self.model("ir.sequence.strict")
        SequenceType = self.model("ir.sequence.type")
        start = _months_back(self.today, 5)
        end = dt.date(start.year + 1, start.month, 1) - dt.timedelta(days=1)

        def sequence(type_name: str, label: str, prefix: str) -> Any:
            (kind,) = SequenceType.find([("name", "=", type_name)], limit=1)
            record = Sequence(
                name=f"{label} {start.year}",
                sequence_type=kind,
                company=self.company_record,
                prefix=prefix,
                padding=5,
            )
            record.save()
            return record

        year = FiscalYear(name=f"FY {start:%Y-%m}", start_date=start, end_date=end)
        year.company = self.company_record
        year.move_sequence = sequence("Account Move", "Moves", "MV")
        (invoice_sequences,) = year.invoice_sequences
        invoice_sequences.out_invoice_sequence = sequence("Invoice", "Customer invoices", "INV")
        invoice_sequences.in_invoice_sequence = sequence("Invoice", "Supplier invoices", "BILL")
        invoice_sequences.out_credit_note_sequence = sequence("Invoice", "Credit notes", "CN")
        invoice_sequences.in_credit_note_sequence = sequence("Invoice", "Supplier credits", "SCN")
        year.save()
        year.click("create_period")
        self.year = year
        self.counts["periods"] = len(year.periods)

    def chart(self) -> None:
        from proteus import Wizard

        Template = self.model("account.account.template")
        ModelData = self.model("ir.model.data")
        Account = self.model("account.account")
        root = Template(ModelData.get_id("account.account_template_root_en", {}))
        wizard = Wizard("account.create_chart")
        wizard.execute("account")
        wizard.form.account_template = root
        wizard.form.company = self.company_record
        wizard.execute("create_account")

        def account(kind: str) -> Any:
            domain = [(f"type.{kind}", "=", True), ("closed", "!=", True)]
            if kind in ("receivable", "payable"):
                domain.append(("party_required", "=", True))
            return Account.find([*domain, ("company", "=", self.company_record.id)], limit=1)[0]

        self.receivable, self.payable = account("receivable"), account("payable")
        self.revenue, self.expense = account("revenue"), account("expense")
        wizard.form.account_receivable = self.receivable
        wizard.form.account_payable = self.payable
        wizard.form.category_account_expense = self.expense
        wizard.form.category_account_revenue = self.revenue
        wizard.execute("create_properties")
        (self.vat_account,) = Account.find(
            [("company", "=", self.company_record.id), ("code", "=", "6.3.6")], limit=1
        )
        self.counts["accounts"] = len(Account.find([]))

    def masters(self) -> None:
        Party = self.model("party.party")
        Tax = self.model("account.tax")
        Category = self.model("product.category")
        Uom = self.model("product.uom")
        Template = self.model("product.template")
        PaymentTerm = self.model("account.invoice.payment_term")
        Location = self.model("stock.location")

        vat = Tax(name="VAT 13%", description="VAT 13%", type="percentage", rate=Decimal("0.13"))
        vat.invoice_account = vat.credit_note_account = self.vat_account
        vat.save()
        self.suppliers = [Party(name=name) for name in SUPPLIERS]
        self.customers = [Party(name=name) for name in CUSTOMERS]
        for party in self.suppliers + self.customers:
            party.save()
        category = Category(name="Trading goods", accounting=True)
        category.account_expense, category.account_revenue = self.expense, self.revenue
        category.customer_taxes.append(Tax(vat.id))
        category.supplier_taxes.append(Tax(vat.id))
        category.save()
        (unit,) = Uom.find([("name", "=", "Unit")])
        self.products = []
        for name, cost, price in GOODS:
            template = Template(name=name, default_uom=unit, type="goods")
            template.purchasable = template.salable = True
            template.list_price = Decimal(price)
            template.cost_price_method = "average"
            template.account_category = category
            template.save()
            (product,) = template.products
            product.cost_price = Decimal(cost)
            product.save()
            self.products.append(product)
        term = PaymentTerm(name="30 days")
        line = term.lines.new(type="remainder")
        line.relativedeltas.new(days=30)
        term.save()
        self.term = term
        (self.storage,) = Location.find([("code", "=", "STO")])
        self.counts["parties"] = len(self.suppliers) + len(self.customers) + 1
        self.counts["products"] = len(self.products)

    def day(self, index: int, total: int) -> dt.date:
        """Document dates spread over the last ~100 days, oldest first, never in the future."""
        return self.today - dt.timedelta(days=100 - (100 * index) // total)

    def purchases(self) -> None:
        """Purchases quoted, confirmed, received and invoiced; each step for all at once, as a
        buyer would select the lines of a list (one transaction per step keeps this fast)."""
        Purchase = self.model("purchase.purchase")
        Move = self.model("stock.move")
        ShipmentIn = self.model("stock.shipment.in")
        Invoice = self.model("account.invoice")
        total = 14
        purchases = []
        for index in range(total):
            when = self.day(index, total + 10)
            purchase = Purchase(party=self.suppliers[index % len(self.suppliers)])
            purchase.payment_term, purchase.purchase_date = self.term, when
            purchase.invoice_method = "order"
            for offset in range(3):
                product = self.products[(index + offset) % len(self.products)]
                line = purchase.lines.new()
                line.product = product  # the on-change fills unit and taxes
                line.quantity = float(40 + 10 * ((index + offset) % 5))
                line.unit_price = product.cost_price
            purchases.append(purchase)
        Purchase.save(purchases)
        Purchase.click(purchases, "quote")
        Purchase.click(purchases, "confirm")
        shipments: list[Any] = []
        invoices: list[Any] = []
        for purchase in purchases:
            purchase.reload()
            shipment = ShipmentIn(supplier=purchase.party, effective_date=purchase.purchase_date)
            for move in purchase.moves:
                shipment.incoming_moves.append(Move(move.id))
            shipments.append(shipment)
            (invoice,) = purchase.invoices
            invoice.invoice_date = purchase.purchase_date
            invoice.reference = f"SUP-{purchase.purchase_date:%y%m}-{len(invoices) + 1:03d}"
            invoices.append(invoice)
        ShipmentIn.save(shipments)
        ShipmentIn.click(shipments, "receive")
        ShipmentIn.click(shipments, "do")
        Invoice.save(invoices)
        Invoice.click(invoices, "post")
        self.counts["purchases"] = total

    def sales(self) -> None:
        Sale = self.model("sale.sale")
        ShipmentOut = self.model("stock.shipment.out")
        Invoice = self.model("account.invoice")
        total = 18
        sales = []
        for index in range(total):
            when = self.day(index + 6, total + 6)
            sale = Sale(party=self.customers[index % len(self.customers)], sale_date=when)
            sale.payment_term = self.term
            sale.invoice_method = "order"
            sale.shipment_method = "order"
            for offset in range(2):
                product = self.products[(2 * index + offset) % len(self.products)]
                line = sale.lines.new()
                line.product = product
                line.quantity = float(5 + (index + offset) % 7)
            sales.append(sale)
        Sale.save(sales)
        Sale.click(sales, "quote")
        Sale.click(sales, "confirm")
        shipments = []
        invoices = []
        for sale in sales:
            sale.reload()
            (shipment,) = sale.shipments
            shipment.effective_date = sale.sale_date
            shipments.append(shipment)
            (invoice,) = sale.invoices
            invoice.invoice_date = sale.sale_date
            invoices.append(invoice)
        ShipmentOut.save(shipments)
        for button in ("assign_try", "pick", "pack", "do"):
            ShipmentOut.click(shipments, button)
        Invoice.save(invoices)
        # Posted in date order so the numbers follow the dates, as Tryton's strict
        # sequences expect.
        Invoice.click(invoices, "post")
        self.counts["sales"] = total

    def leave_open_documents(self) -> None:
        """A live system always has a quotation waiting and an invoice being prepared."""
        Purchase = self.model("purchase.purchase")
        Invoice = self.model("account.invoice")
        purchase = Purchase(party=self.suppliers[0], payment_term=self.term)
        purchase.purchase_date = self.today
        line = purchase.lines.new(product=self.products[0])
        line.quantity, line.unit_price = 25.0, self.products[0].cost_price
        purchase.click("quote")
        invoice = Invoice(type="out", party=self.customers[0], payment_term=self.term)
        invoice.invoice_date = self.today
        line = invoice.lines.new(product=self.products[1])
        line.quantity, line.unit_price = 3.0, Decimal("11.80")
        invoice.save()
        self.counts["open_quotations"] = self.counts["draft_invoices"] = 1

    def users_sign_in(self) -> None:
        """Staff accounts that signed in through Tryton's own login (an ``ir.session`` each)."""
        from trytond.security import login

        User = self.model("res.user")
        Group = self.model("res.group")
        groups = {group.name: group for group in Group.find([])}
        wanted = {
            "accountant": ["Account", "Account Administration"],
            "buyer": ["Purchase", "Stock"],
            "warehouse": ["Stock"],
            "sales": ["Sales"],
        }
        for login_name, display in USERS:
            user = User(login=login_name, name=display, password=USER_PASSWORD)
            for group_name in wanted[login_name]:
                if group_name in groups:
                    user.groups.append(Group(groups[group_name].id))
            user.save()
        for login_name in ["admin"] + [name for name, _display in USERS]:
            password = ADMIN_PASSWORD if login_name == "admin" else USER_PASSWORD
            session = login(self.name, login_name, {"password": password})
            if not session:
                raise RuntimeError(f"Tryton refused the login of {login_name}")
        self.counts["users"] = len(USERS) + 1

    def run_crons(self) -> None:
        """Tryton's cron runner once, as ``trytond-cron`` would: every active job runs and gets
        its next call."""
        from trytond.pool import Pool

        Pool(self.name).get("ir.cron").run(self.name)

    def close_old_periods(self) -> None:
        """Month-end close: the periods that ended before last month are closed."""
        Period = self.model("account.period")
        cutoff = _months_back(self.today, 1)
        old = Period.find([("end_date", "<", cutoff), ("type", "=", "standard")])
        Period.click(old, "close")
        self.counts["closed_periods"] = len(old)


def _copy_sqlite(source: Path, target: Path) -> None:
    """Tryton keeps its SQLite file in WAL mode: copy through SQLite's backup API (which reads
    the write-ahead log too) into a single self-contained file, then move it into place."""
    import sqlite3

    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")
    os.replace(partial, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-type", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument(
        "--target", required=True, help="SQLite: the file to write; PostgreSQL: the database"
    )
    parser.add_argument("--cache-dir", required=True, help="a folder for work files")
    parser.add_argument(
        "--pg-uri",
        default=os.environ.get("ERPCARE_TRYTON_PG_URI", private_pg_uri()),
        help="PostgreSQL server (no database name)",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    cache_dir = Path(args.cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="build-", dir=cache_dir))
    try:
        if args.db_type == "sqlite":
            name = "tryton"
            (work / f"{name}.sqlite").touch()  # Tryton opens an existing file only
        else:
            name = args.target
            _create_pg_database(args.pg_uri, name)
        conf = _write_config(work, args.db_type, args.pg_uri)
        _admin(conf, name, work)
        print(f"admin: {time.monotonic() - started:.1f} s", file=sys.stderr)
        counts = Builder(conf, name).run()
        if args.db_type == "sqlite":
            _copy_sqlite(work / f"{name}.sqlite", Path(args.target))
        else:
            _finish_pg_database(args.pg_uri, name)
        import trytond

        print(  # the caller reads this line
            json.dumps(
                {
                    "trytond_version": trytond.__version__,
                    "db_type": args.db_type,
                    "target": str(args.target),
                    "seconds": round(time.monotonic() - started, 1),
                    "counts": counts,
                }
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
