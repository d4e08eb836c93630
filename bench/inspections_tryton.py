#!/usr/bin/env python3
"""Tryton inspection benchmark: one inspection pass of the full Tryton pack over a Tryton
database with 100,000 account move lines on PostgreSQL — total seconds and the slowest check.

    .venv/bin/python bench/inspections_tryton.py                    # 100,000 move lines
    .venv/bin/python bench/inspections_tryton.py --move-lines 20000 --repeat 5
    .venv/bin/python bench/inspections_tryton.py --statement-timeout-ms 120000

Everything runs in this benchmark's private PostgreSQL cluster (scripts/pg.sh, data in
bench/.work/pg-inspections-tryton, port --pg-port 54341), stopped at the end if this run
started it.

1. **The Tryton database.** ``erpcare.inspections.testing.tryton`` builds (or reuses, when
   it is younger than its 20 h freshness limit) the real Tryton 8.2 database that the pack's
   tests use: ``tryton_build`` in a subprocess, trytond-admin and proteus entering a small
   trading company's months of purchases, sales, posted invoices, closed periods, users who
   signed in and cron jobs that ran. A copy of it is then grown by SQL bulk inserts
   (``INSERT … SELECT generate_series``) to --move-lines account move lines, in the shapes
   Tryton itself writes: per four documents two customer invoices, one supplier invoice and
   one customer payment, dated over the current fiscal year up to yesterday (in the
   existing periods, including the closed ones), posted and balanced, numbered on after the
   existing moves and invoices by their strict sequences (whose next numbers are moved on).
   An invoice has 1–2 product lines (``account_invoice_line``), its VAT
   (``account_invoice_tax``) and its move: receivable (payable) + revenue (expense) lines +
   VAT line, 3–4 move lines; a payment is cash against receivable, 2 lines. Every invoice
   line has its two done stock moves (supplier → input → storage, storage → output →
   customer) so the stock checks scan a proportional ``stock_move``, and every supplier
   invoice its purchase (done). Receipts outweigh sales per product, so no stock goes
   negative. Then ``VACUUM ANALYZE``, a read-only login (``SELECT`` on the schema only, as a
   customer would give ERPCare), and the result is kept as a template database
   ``tryton_bench_<lines>_<key>``, keyed by the base build (trytond version, build script,
   build time), --move-lines and this file: a second run only clones it.
2. **The pass.** A child Django process on its own ERPCare database in the same cluster
   (erpcare_inspections_tryton_bench, dropped and migrated) installs the shipped packs,
   creates an organization, a Tryton ERP instance and a PostgreSQL data source on a fresh
   copy of the grown database with the read-only login (statement timeout
   --statement-timeout-ms, default 10,000: the data source's default), applies the Tryton
   pack (``assign.apply_pack``: its 11 PostgreSQL checks) and runs the pass as the worker
   does (``tasks.run_assignments``: every check asked, judged, recorded as a CheckResult,
   the run rated, incidents raised or resolved). One warm-up pass, then the median of
   --repeat (default 3) passes, timed with ``time.perf_counter``; each check's time is the
   ``duration_ms`` its CheckResult recorded (connection, query, fetch and judgement).
   A check that ran out of time is then run once more, outside the pass, with 600 s to
   finish, to tell how long it really takes; the slowest check's query is explained as the
   reader (``EXPLAIN (ANALYZE, BUFFERS)``; plain ``EXPLAIN`` when it timed out).

Report: bench/.work/inspections-tryton-report.md and inspections-tryton-results.json. On a
2-core machine shared with other jobs the figures are noisy: compare runs, not digits.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from common import WORK, PrivatePostgres, child_env, emit_result, run_child, say  # noqa: E402

PACK_CODE = "tryton-business-integrity"
CLUSTER = "pg-inspections-tryton"
ERPCARE_DB = "erpcare_inspections_tryton_bench"
RUN_DB = "tryton_bench_run"
READER = "tryton_bench_reader"
READER_PASSWORD = "tryton bench reader"  # noqa: S105 -- a throwaway local login
SERVER_USER = ("erpcare", "erpcare")  # scripts/pg.sh's owner login: it creates the databases
UNCAPPED_MS = 600_000  # a check that timed out is run once more with this much time


def _pg(port: int, dbname: str, user: str = SERVER_USER[0], password: str = SERVER_USER[1]):
    import psycopg

    return psycopg.connect(
        host="127.0.0.1", port=port, dbname=dbname, user=user, password=password, autocommit=True
    )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------- growing the Tryton data
def _columns(cur, table: str) -> list[str]:
    cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'"
        " AND table_name = %s ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cur.fetchall()]


def _clone(cur, table: str, template: str, source: str, overrides: dict[str, str]) -> int:
    """INSERT INTO table: one row per row of ``source``, every column copied from the row
    ``template`` of the same table (alias t) unless ``overrides`` gives its SQL (over the
    source's alias s). A column set to None is left out (its default: the identity)."""
    names, values = [], []
    for column in _columns(cur, table):
        if column in overrides:
            if overrides[column] is None:
                continue
            values.append(overrides[column])
        else:
            values.append(f"t.{_ident(column)}")
        names.append(_ident(column))
    unknown = set(overrides) - set(_columns(cur, table))
    if unknown:
        raise SystemExit(f"{table} has no column {sorted(unknown)}: Tryton's schema changed")
    cur.execute(
        f"INSERT INTO {_ident(table)} ({', '.join(names)}) SELECT {', '.join(values)}"  # noqa: S608
        f" FROM {source}, {_ident(table)} t WHERE t.id = ({template})"
    )
    return cur.rowcount


def _number(prefix: str, value: str, padding: str) -> str:
    """SQL for a strict sequence's number: prefix + the value zero-padded (never cut)."""
    return (
        f"{prefix} || CASE WHEN length(({value})::text) >= {padding} THEN ({value})::text"
        f" ELSE lpad(({value})::text, {padding}, '0') END"
    )


def grow(cur, target_lines: int) -> dict[str, int]:
    """Add posted invoices, payments, their move lines, stock moves and purchases until the
    database has at least ``target_lines`` account move lines. One transaction (the
    caller's). Returns what was added."""

    def scalar(sql: str, params: list | None = None) -> int:
        cur.execute(sql, params)
        return int(cur.fetchone()[0] or 0)

    need = target_lines - scalar("SELECT COUNT(*) FROM account_move_line")
    if need <= 0:
        return {}
    # What the generated documents take from the built company: the current fiscal year,
    # its sequences, a posted customer and supplier invoice as templates (their accounts,
    # journals, tax), the customers and suppliers, the goods and their prices.
    cur.execute(
        """
        CREATE TEMP TABLE g_ctx AS
        SELECT fy.id AS fiscal_year, fy.company, fy.start_date,
               LEAST(fy.end_date, CURRENT_DATE - 1) AS last_day,
               fy.move_sequence, s.out_invoice_sequence AS out_seq,
               s.in_invoice_sequence AS in_seq,
               o.id AS out_tpl, o.account AS receivable, o.journal AS out_journal,
               i.id AS in_tpl, i.account AS payable, i.journal AS in_journal,
               (SELECT account FROM account_invoice_line WHERE invoice = o.id ORDER BY id
                LIMIT 1) AS revenue,
               (SELECT account FROM account_invoice_line WHERE invoice = i.id ORDER BY id
                LIMIT 1) AS expense,
               (SELECT id FROM account_invoice_tax WHERE invoice = o.id ORDER BY id LIMIT 1)
                 AS tax_tpl,
               (SELECT account FROM account_invoice_tax WHERE invoice = o.id ORDER BY id
                LIMIT 1) AS tax_account,
               (SELECT tx.rate FROM account_invoice_tax it JOIN account_tax tx ON tx.id = it.tax
                WHERE it.invoice = o.id ORDER BY it.id LIMIT 1) AS tax_rate,
               (SELECT description FROM account_invoice_tax WHERE invoice = o.id ORDER BY id
                LIMIT 1) AS tax_description,
               (SELECT id FROM account_journal WHERE type = 'cash' ORDER BY id LIMIT 1)
                 AS cash_journal,
               (SELECT id FROM account_account WHERE company = fy.company AND code = '1.1.1'
                AND NOT COALESCE(closed, false)) AS cash_account,
               (SELECT id FROM account_invoice_line WHERE invoice = o.id ORDER BY id LIMIT 1)
                 AS out_line_tpl,
               (SELECT id FROM account_invoice_line WHERE invoice = i.id ORDER BY id LIMIT 1)
                 AS in_line_tpl,
               (SELECT id FROM stock_move WHERE state = 'done' ORDER BY id LIMIT 1) AS move_tpl,
               (SELECT id FROM purchase_purchase WHERE state IN ('processing', 'done')
                ORDER BY id LIMIT 1) AS purchase_tpl,
               (SELECT id FROM stock_location WHERE code = 'SUP') AS loc_sup,
               (SELECT id FROM stock_location WHERE code = 'IN') AS loc_in,
               (SELECT id FROM stock_location WHERE code = 'STO') AS loc_sto,
               (SELECT id FROM stock_location WHERE code = 'OUT') AS loc_out,
               (SELECT id FROM stock_location WHERE code = 'CUS') AS loc_cus,
               o.create_uid AS uid
        FROM account_fiscalyear fy
        JOIN account_fiscalyear_invoice_sequence s ON s.fiscalyear = fy.id
        JOIN LATERAL (SELECT * FROM account_invoice WHERE type = 'out' AND state = 'posted'
                      AND company = fy.company ORDER BY id LIMIT 1) o ON true
        JOIN LATERAL (SELECT * FROM account_invoice WHERE type = 'in' AND state = 'posted'
                      AND company = fy.company ORDER BY id LIMIT 1) i ON true
        WHERE fy.start_date <= CURRENT_DATE AND CURRENT_DATE <= fy.end_date
        ORDER BY fy.id LIMIT 1
        """
    )
    cur.execute("SELECT * FROM g_ctx")
    row = cur.fetchone()
    if row is None or any(value is None for value in row):
        names = [d.name for d in cur.description]
        found = dict(zip(names, row, strict=True)) if row else None
        raise SystemExit(f"the Tryton database lacks what the growth copies: {found}")
    # Parties (with their invoice address) that already bought or sold, and the goods that
    # were both bought and sold, with the prices they were invoiced at.
    cur.execute(
        """
        CREATE TEMP TABLE g_party AS
        SELECT type AS kind, party, MIN(invoice_address) AS address,
               ROW_NUMBER() OVER (PARTITION BY type ORDER BY party) - 1 AS n
        FROM account_invoice WHERE state = 'posted' GROUP BY type, party;
        CREATE TEMP TABLE g_product AS
        SELECT product, MAX(unit_price) FILTER (WHERE invoice_type = 'out') AS sale_price,
               MAX(unit_price) FILTER (WHERE invoice_type = 'in') AS cost_price,
               ROW_NUMBER() OVER (ORDER BY product) - 1 AS n
        FROM account_invoice_line WHERE product IS NOT NULL GROUP BY product
        HAVING COUNT(*) FILTER (WHERE invoice_type = 'out') > 0
           AND COUNT(*) FILTER (WHERE invoice_type = 'in') > 0;
        """
    )
    n_products = scalar("SELECT COUNT(*) FROM g_product")
    n_out = scalar("SELECT COUNT(*) FROM g_party WHERE kind = 'out'")
    n_in = scalar("SELECT COUNT(*) FROM g_party WHERE kind = 'in'")
    if not (n_products and n_out and n_in):
        raise SystemExit("the Tryton database has no invoiced goods, customers or suppliers")
    # The documents: g = 1, 2, …; per four, two customer invoices, a supplier invoice and a
    # payment of the customer invoice three before. 1–2 product lines per invoice; as many
    # documents as it takes to reach the wanted number of move lines.
    cur.execute(
        f"""
        CREATE TEMP TABLE g_doc0 AS
        WITH s AS (
          SELECT g, CASE g % 4 WHEN 3 THEN 'pay' WHEN 2 THEN 'in' ELSE 'out' END AS kind,
                 1 + (g / 4) % 2 AS r
          FROM generate_series(1, {need // 2 + 8}) g
        ), c AS (
          SELECT s.*, CASE WHEN kind = 'pay' THEN 2 ELSE r + 2 END AS n_lines,
                 SUM(CASE WHEN kind = 'pay' THEN 2 ELSE r + 2 END) OVER (ORDER BY g) AS upto
          FROM s
        )
        SELECT g, kind, r FROM c WHERE upto - n_lines < {need}
        """  # noqa: S608 -- integers
    )
    base = {
        table: scalar(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        for table in ("account_move", "account_invoice", "account_invoice_line",
                      "account_invoice_tax")
    }  # fmt: skip
    cur.execute(
        f"""
        CREATE TEMP TABLE g_doc AS
        WITH n AS (SELECT COUNT(*) AS docs FROM g_doc0),
        d AS (
          SELECT d0.*, ctx.start_date
                 + ((d0.g - 1) * (ctx.last_day - ctx.start_date + 1) / n.docs)::int AS d,
                 CASE WHEN d0.kind <> 'pay' THEN
                   ROW_NUMBER() OVER (PARTITION BY d0.kind <> 'pay' ORDER BY d0.g) END AS inv_rank,
                 ROW_NUMBER() OVER (PARTITION BY d0.kind ORDER BY d0.g) AS kind_rank
          FROM g_doc0 d0, g_ctx ctx, n
        )
        SELECT d.g, d.kind, d.r, d.d, p.id AS period,
               {base["account_move"]} + d.g AS move_id,
               {base["account_invoice"]} + d.inv_rank AS invoice_id,
               {base["account_invoice_tax"]} + d.inv_rank AS tax_id,
               d.kind_rank,
               CASE d.kind WHEN 'pay' THEN NULL
                 ELSE (SELECT party FROM g_party gp WHERE gp.kind = d.kind AND gp.n
                       = d.kind_rank % (CASE d.kind WHEN 'out' THEN {n_out} ELSE {n_in} END))
               END AS party,
               d.d + TIME '09:00' + (d.g % 540) * INTERVAL '1 minute' AS at
        FROM d JOIN g_ctx ctx ON true
        JOIN account_period p ON p.fiscalyear = ctx.fiscal_year AND p.type = 'standard'
          AND d.d BETWEEN p.start_date AND p.end_date
        """  # noqa: S608 -- integers computed above
    )
    cur.execute(
        f"""
        CREATE TEMP TABLE g_line AS
        SELECT d.g, j, d.kind, d.invoice_id, d.d, d.at, pr.product,
               (CASE d.kind WHEN 'out' THEN 1 + (d.g * 7 + j * 3) % 12
                 ELSE 40 + 10 * ((d.g + j) % 8) END)::numeric AS quantity,
               CASE d.kind WHEN 'out' THEN pr.sale_price ELSE pr.cost_price END AS unit_price,
               pr.cost_price,
               ROUND((CASE d.kind WHEN 'out' THEN 1 + (d.g * 7 + j * 3) % 12
                 ELSE 40 + 10 * ((d.g + j) % 8) END)
                 * CASE d.kind WHEN 'out' THEN pr.sale_price ELSE pr.cost_price END, 2) AS amount,
               {base["account_invoice_line"]} + ROW_NUMBER() OVER (ORDER BY d.g, j) AS line_id
        FROM g_doc d CROSS JOIN LATERAL generate_series(1, d.r) j
        JOIN g_product pr ON pr.n = ((d.g / 4) * 3 + j) % {n_products}
        WHERE d.kind <> 'pay';
        CREATE TEMP TABLE g_total AS
        SELECT l.g, SUM(l.amount) AS untaxed,
               ROUND(SUM(l.amount) * (SELECT tax_rate FROM g_ctx), 2) AS tax
        FROM g_line l GROUP BY l.g;
        ALTER TABLE g_doc ADD COLUMN untaxed numeric, ADD COLUMN tax numeric,
          ADD COLUMN total numeric;
        UPDATE g_doc d SET untaxed = t.untaxed, tax = t.tax, total = t.untaxed + t.tax
          FROM g_total t WHERE t.g = d.g;
        -- a payment settles the customer invoice three documents before it
        UPDATE g_doc d SET total = COALESCE(o.total, 100.00), party = COALESCE(o.party,
            (SELECT party FROM g_party WHERE kind = 'out' ORDER BY n LIMIT 1))
          FROM g_doc d2 LEFT JOIN g_doc o ON o.g = d2.g - 3
          WHERE d.kind = 'pay' AND d2.g = d.g;
        """  # noqa: S608 -- integers computed above
    )
    cur.execute("SELECT number_next_internal FROM ir_sequence_strict WHERE id = "
                "(SELECT move_sequence FROM g_ctx)")  # fmt: skip
    move_next = int(cur.fetchone()[0])
    counts: dict[str, int] = {}
    # Moves: posted the day of their document, numbered in date order after the existing.
    cur.execute(
        f"""
        INSERT INTO account_move (id, company, create_date, create_uid, date, description,
          journal, number, origin, period, post_date, state, write_date, write_uid)
        SELECT d.move_id, ctx.company, d.at, ctx.uid, d.d, NULL,
               CASE d.kind WHEN 'out' THEN ctx.out_journal WHEN 'in' THEN ctx.in_journal
                 ELSE ctx.cash_journal END,
               {_number("seq.prefix", f"{move_next} + d.g - 1", "seq.padding")},
               CASE WHEN d.kind <> 'pay' THEN 'account.invoice,' || d.invoice_id END,
               d.period, d.d, 'posted', d.at, ctx.uid
        FROM g_doc d, g_ctx ctx, ir_sequence_strict seq WHERE seq.id = ctx.move_sequence
        """  # noqa: S608
    )
    counts["account_move"] = cur.rowcount
    cur.execute(
        """
        INSERT INTO account_move_line (account, create_date, create_uid, credit, debit,
          description, maturity_date, move, origin, party, state)
        -- the receivable (customer invoice) or payable (supplier invoice) line
        SELECT CASE d.kind WHEN 'out' THEN ctx.receivable ELSE ctx.payable END, d.at, ctx.uid,
               CASE d.kind WHEN 'in' THEN d.total ELSE 0 END,
               CASE d.kind WHEN 'out' THEN d.total ELSE 0 END,
               NULL, d.d + 30, d.move_id, NULL, d.party, 'valid'
        FROM g_doc d, g_ctx ctx WHERE d.kind <> 'pay'
        UNION ALL  -- revenue / expense per invoice line
        SELECT CASE l.kind WHEN 'out' THEN ctx.revenue ELSE ctx.expense END, l.at, ctx.uid,
               CASE l.kind WHEN 'out' THEN l.amount ELSE 0 END,
               CASE l.kind WHEN 'in' THEN l.amount ELSE 0 END,
               NULL, NULL, d.move_id, 'account.invoice.line,' || l.line_id, NULL, 'valid'
        FROM g_line l JOIN g_doc d ON d.g = l.g, g_ctx ctx
        UNION ALL  -- the VAT
        SELECT ctx.tax_account, d.at, ctx.uid,
               CASE d.kind WHEN 'out' THEN d.tax ELSE 0 END,
               CASE d.kind WHEN 'in' THEN d.tax ELSE 0 END,
               ctx.tax_description, NULL, d.move_id, 'account.invoice.tax,' || d.tax_id, NULL,
               'valid'
        FROM g_doc d, g_ctx ctx WHERE d.kind <> 'pay'
        UNION ALL  -- a payment: cash in
        SELECT ctx.cash_account, d.at, ctx.uid, 0, d.total, NULL, NULL, d.move_id, NULL, NULL,
               'valid'
        FROM g_doc d, g_ctx ctx WHERE d.kind = 'pay'
        UNION ALL  -- … against the customer's receivable
        SELECT ctx.receivable, d.at, ctx.uid, d.total, 0, NULL, NULL, d.move_id, NULL, d.party,
               'valid'
        FROM g_doc d, g_ctx ctx WHERE d.kind = 'pay'
        """
    )
    counts["account_move_line"] = cur.rowcount
    # Invoices, copied from the built ones (every column Tryton fills), numbered on.
    for kind, seq in (("out", "out_seq"), ("in", "in_seq")):
        cur.execute(f"SELECT number_next_internal FROM ir_sequence_strict WHERE id = "  # noqa: S608
                    f"(SELECT {seq} FROM g_ctx)")  # fmt: skip
        first = int(cur.fetchone()[0])
        value = f"{first} + s.kind_rank - 1"
        cur.execute(f"SELECT {seq} FROM g_ctx")  # noqa: S608 -- our own column names
        seq_id = int(cur.fetchone()[0])
        # Only our own constants ('out'/'in' and column names) reach the SQL below (S608).
        kind_docs = f"(SELECT * FROM g_doc WHERE kind = '{kind}') s"  # noqa: S608
        address = f"(SELECT address FROM g_party WHERE kind = '{kind}' AND party = s.party)"  # noqa: S608
        number = _number(
            f"(SELECT prefix FROM ir_sequence_strict WHERE id = {seq_id})",  # noqa: S608
            value,
            f"(SELECT padding FROM ir_sequence_strict WHERE id = {seq_id})",  # noqa: S608
        )
        counts[f"account_invoice_{kind}"] = _clone(
            cur,
            "account_invoice",
            f"SELECT {kind}_tpl FROM g_ctx",  # noqa: S608
            kind_docs,
            {
                "id": "s.invoice_id",
                "number": number,
                "number_alnum": number,
                "number_digit": value,
                "invoice_date": "s.d",
                "accounting_date": "NULL",
                "move": "s.move_id",
                "party": "s.party",
                "invoice_address": address,
                "untaxed_amount_cache": "s.untaxed",
                "tax_amount_cache": "s.tax",
                "total_amount_cache": "s.total",
                "reference": "CASE WHEN t.type = 'in' THEN 'SUP-' || to_char(s.d, 'YYMM') || '-'"
                " || s.kind_rank END",
                "state": "'posted'",
                "create_date": "s.at",
                "write_date": "s.at",
                "invoice_report_cache": "NULL",
                "invoice_report_cache_id": "NULL",
                "invoice_report_format": "NULL",
                "payment_term_date": "NULL",
            },
        )
        cur.execute(
            f"UPDATE ir_sequence_strict SET number_next_internal = {first} + (SELECT COUNT(*)"  # noqa: S608
            f" FROM g_doc WHERE kind = '{kind}') WHERE id = (SELECT {seq} FROM g_ctx)"
        )
    counts["account_invoice_line"] = sum(
        _clone(
            cur,
            "account_invoice_line",
            f"SELECT {kind}_line_tpl FROM g_ctx",  # noqa: S608
            f"(SELECT * FROM g_line WHERE kind = '{kind}') s",  # noqa: S608
            {
                "id": "s.line_id",
                "invoice": "s.invoice_id",
                "product": "s.product",
                "quantity": "s.quantity",
                "unit_price": "s.unit_price",
                "origin": "NULL",
                "create_date": "s.at",
                "write_date": "NULL",
            },
        )
        for kind in ("out", "in")
    )
    counts["account_invoice_tax"] = _clone(
        cur,
        "account_invoice_tax",
        "SELECT tax_tpl FROM g_ctx",
        "(SELECT * FROM g_doc WHERE kind <> 'pay') s",
        {
            "id": "s.tax_id",
            "invoice": "s.invoice_id",
            "amount": "s.tax",
            "base": "s.untaxed",
            "create_date": "s.at",
            "write_date": "NULL",
        },
    )
    # Two done stock moves per invoice line: received through the input zone into storage,
    # shipped from storage through the output zone.
    cur.execute(
        """
        CREATE TEMP TABLE g_stock AS
        SELECT l.*, hop, CASE l.kind WHEN 'in' THEN
                 CASE hop WHEN 1 THEN ctx.loc_sup ELSE ctx.loc_in END
               ELSE CASE hop WHEN 1 THEN ctx.loc_sto ELSE ctx.loc_out END END AS from_location,
               CASE l.kind WHEN 'in' THEN
                 CASE hop WHEN 1 THEN ctx.loc_in ELSE ctx.loc_sto END
               ELSE CASE hop WHEN 1 THEN ctx.loc_out ELSE ctx.loc_cus END END AS to_location
        FROM g_line l CROSS JOIN generate_series(1, 2) hop, g_ctx ctx
        """
    )
    priced = "(s.kind = 'in' AND s.hop = 1) OR (s.kind = 'out' AND s.hop = 2)"
    counts["stock_move"] = _clone(
        cur,
        "stock_move",
        "SELECT move_tpl FROM g_ctx",
        "g_stock s",
        {
            "id": None,
            "product": "s.product",
            "quantity": "s.quantity",
            "internal_quantity": "s.quantity",
            "from_location": "s.from_location",
            "to_location": "s.to_location",
            "effective_date": "s.d",
            "planned_date": "s.d",
            "origin_planned_date": "NULL",
            "origin": "NULL",
            "shipment": "NULL",
            # priced where goods enter from a supplier or leave to a customer, as Tryton does
            "unit_price": f"CASE WHEN {priced} THEN s.unit_price END",
            "cost_price": f"CASE WHEN {priced} THEN s.cost_price END",
            "currency": f"CASE WHEN {priced} THEN t.currency END",
            "product_cost_price": "NULL",
            "state": "'done'",
            "create_date": "s.at",
            "write_date": "s.at",
        },
    )
    first_purchase = scalar(
        "SELECT COALESCE(MAX(number::bigint), 0) FROM purchase_purchase WHERE number ~ '^[0-9]+$'"
    )
    counts["purchase_purchase"] = _clone(
        cur,
        "purchase_purchase",
        "SELECT purchase_tpl FROM g_ctx",
        "(SELECT * FROM g_doc WHERE kind = 'in') s",
        {
            "id": None,
            "number": f"({first_purchase} + s.kind_rank)::text",
            "party": "s.party",
            "invoice_address": "(SELECT address FROM g_party gp WHERE gp.kind = 'in'"
            " AND gp.party = s.party)",
            "purchase_date": "s.d",
            "state": "'done'",
            "invoice_state": "'paid'",
            "shipment_state": "'received'",
            "untaxed_amount_cache": "s.untaxed",
            "tax_amount_cache": "s.tax",
            "total_amount_cache": "s.total",
            "create_date": "s.at - INTERVAL '2 days'",
            "write_date": "s.at",
        },
    )
    # Tryton's own counters move on: identities, the strict move sequence, the purchase
    # numbers' sequence.
    cur.execute(
        "UPDATE ir_sequence_strict SET number_next_internal = %s WHERE id ="
        " (SELECT move_sequence FROM g_ctx)",
        [move_next + counts["account_move"]],
    )
    for table in ("account_move", "account_move_line", "account_invoice", "account_invoice_line",
                  "account_invoice_tax", "stock_move", "purchase_purchase"):  # fmt: skip
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
            f" (SELECT MAX(id) FROM {table}))"
        )
    cur.execute(
        "SELECT db_id FROM ir_model_data WHERE module = 'purchase' AND fs_id = 'sequence_purchase'"
    )
    found = cur.fetchone()
    if found:
        cur.execute("SELECT to_regclass(%s)", [f"ir_sequence_{int(found[0])}"])
        if cur.fetchone()[0]:
            cur.execute(
                f"SELECT setval('ir_sequence_{int(found[0])}', %s)",
                [first_purchase + counts["purchase_purchase"] + 1],
            )
    return counts


def _inventory(cur) -> dict[str, int]:
    queries = {
        "account_move": "SELECT COUNT(*) FROM account_move",
        "account_move_line": "SELECT COUNT(*) FROM account_move_line",
        "account_invoice": "SELECT COUNT(*) FROM account_invoice",
        "numbered_invoices": "SELECT COUNT(*) FROM account_invoice WHERE number IS NOT NULL",
        "stock_move": "SELECT COUNT(*) FROM stock_move",
        "purchase_purchase": "SELECT COUNT(*) FROM purchase_purchase",
        "res_user": "SELECT COUNT(*) FROM res_user",
        "ir_cron": "SELECT COUNT(*) FROM ir_cron",
        "periods": "SELECT COUNT(*) FROM account_period WHERE type = 'standard'",
        "closed_periods": "SELECT COUNT(*) FROM account_period WHERE state = 'closed'",
        "database_bytes": "SELECT pg_database_size(current_database())",
    }
    out = {}
    for key, sql in queries.items():
        cur.execute(sql)
        out[key] = int(cur.fetchone()[0])
    return out


def _note(conn, name: str) -> dict:
    """A database's JSON comment (what built it, when), {} without one."""
    row = conn.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        [name],
    ).fetchone()
    try:
        return dict(json.loads(row[0])) if row and row[0] else {}
    except ValueError:
        return {}


def child_grow(a: argparse.Namespace) -> dict:
    """Build (or reuse) Tryton's base database and the grown template; a fresh copy to run on."""
    from psycopg import sql

    from erpcare.inspections.testing import tryton

    def q(name: str) -> sql.Identifier:
        return sql.Identifier(name)

    started = time.perf_counter()
    with _pg(a.pg_port, "postgres") as conn:
        before = _note(conn, f"tryton_tpl_{tryton.cache_key()}").get("built_at")
    base = tryton._template("postgresql")  # tryton_build in a subprocess when missing or stale
    base_seconds = round(time.perf_counter() - started, 1)
    with _pg(a.pg_port, "postgres") as conn:
        built_at = _note(conn, base.dbname)["built_at"]
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(f"{base.dbname} {built_at} {a.move_lines}".encode())
    grown = f"tryton_bench_{a.move_lines}_{digest.hexdigest()[:10]}"
    with _pg(a.pg_port, "postgres") as conn:
        cached = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [grown]).fetchone()
        # Grown templates of another base build are stale (their users' sign-ins and cron
        # runs have aged with it); those of other sizes on this base stay cached.
        for (old,) in conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'tryton\\_bench\\_%%'"
            " AND datname NOT IN (%s, %s)",
            [grown, RUN_DB],
        ).fetchall():
            if old.endswith("_build") or _note(conn, old).get("base_built_at") != built_at:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(q(old)))
    grow_seconds = 0.0
    added: dict[str, int] = {}
    if cached:
        say(f"[tryton] reusing {grown}")
    else:
        say(f"[tryton] growing a copy of {base.dbname} to {a.move_lines:,} move lines")
        t = time.perf_counter()
        building = f"{grown}_build"
        with _pg(a.pg_port, "postgres") as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(q(building)))
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(q(building), q(base.dbname))
            )
        with _pg(a.pg_port, building) as conn:
            conn.autocommit = False
            with conn.cursor() as cur:
                cur.execute("SET LOCAL synchronous_commit = off")
                added = grow(cur, a.move_lines)
            conn.commit()
        insert_seconds = round(time.perf_counter() - t, 1)
        # A reader: the read-only login a customer gives ERPCare (SELECT, nothing else).
        with _pg(a.pg_port, "postgres", "postgres", "") as conn:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [READER]).fetchone():
                conn.execute(
                    sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                        q(READER), sql.Literal(READER_PASSWORD)
                    )
                )
        with _pg(a.pg_port, building, "postgres", "") as conn:
            conn.execute("VACUUM (ANALYZE)")  # as autovacuum would have, long since
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(q(READER)))
            conn.execute(
                sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(q(READER))
            )
        with _pg(a.pg_port, "postgres") as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(q(building), q(grown)))
            note = {"base": base.dbname, "base_built_at": built_at, "move_lines": a.move_lines}
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    q(grown), sql.Literal(json.dumps(note))
                )
            )
        grow_seconds = round(time.perf_counter() - t, 1)
        say(f"[tryton] grown in {grow_seconds} s ({insert_seconds} s of inserts): {added}")
    with _pg(a.pg_port, "postgres") as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(q(RUN_DB)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(q(RUN_DB), q(grown)))
    with _pg(a.pg_port, RUN_DB) as conn, conn.cursor() as cur:
        counts = _inventory(cur)
        (server,) = conn.execute("SHOW server_version").fetchone()
    return {
        "trytond": base.trytond_version,
        "postgresql": server,
        "base_db": base.dbname,
        "base_built_at": built_at,
        "base_built": before != built_at,
        "base_seconds": base_seconds,
        "grown_db": grown,
        "grown_cached": bool(cached),
        "grow_seconds": grow_seconds,
        "added": added,
        "run_db": RUN_DB,
        "counts": counts,
    }


# ---------------------------------------------------------------- child (Django): the pass
def child_run(a: argparse.Namespace) -> dict:
    from django.core.management import call_command

    from erpcare.accounts.models import Role, RoleCode, User
    from erpcare.core import clock
    from erpcare.customers.models import ErpInstance, Organization
    from erpcare.inspections.models import CheckPack, CheckResult, DataSource, SourceKind
    from erpcare.inspections.packs.loader import install_shipped_packs
    from erpcare.inspections.runners.spec import RunnerError
    from erpcare.inspections.runners.sql import bind, run_query
    from erpcare.inspections.services.assign import apply_pack
    from erpcare.inspections.services.sources import spec_for
    from erpcare.inspections.tasks import run_assignments

    call_command("migrate", interactive=False, verbosity=0)
    install_shipped_packs()
    actor = User.objects.create_user(
        "bench-admin@example.com",
        "bench admin 42",
        display_name="Bench admin",
        role=Role.objects.get(code=RoleCode.ADMIN),
    )
    org = Organization.objects.create(code="huadong", name="Huadong Precision Parts Co.")
    instance = ErpInstance.objects.create(
        organization=org, name="Tryton production", product="tryton", version=a.trytond
    )
    now = clock.now()
    source = DataSource.objects.create(
        erp_instance=instance,
        name="Tryton database (read-only)",
        kind=SourceKind.POSTGRESQL,
        host="127.0.0.1",
        port=a.pg_port,
        database=RUN_DB,
        username=READER,
        password=READER_PASSWORD,
        statement_timeout_ms=a.statement_timeout_ms,
        created_at=now,
        updated_at=now,
    )
    pack = CheckPack.objects.get(code=PACK_CODE)
    assigned = apply_pack(actor, pack, source)
    ids = list(source.assignments.order_by("id").values_list("id", flat=True))

    passes: list[dict] = []
    for n in range(a.repeat + 1):  # the first is a warm-up
        t = time.perf_counter()
        outcome = run_assignments.call(ids)
        seconds = time.perf_counter() - t
        results = (
            CheckResult.objects.filter(run_id=outcome["run"])
            .select_related("instance_check__check_ref")
            .order_by("id")
        )
        checks = {
            r.instance_check.check_ref.code: {
                "ms": r.duration_ms,
                "status": r.status,
                "findings": r.findings_total,
                "message": r.message[:300],
            }
            for r in results
        }
        say(
            f"[pass {n or 'warm-up'}] {seconds:.3f} s, rating {outcome['rating']}, slowest "
            + max(checks.items(), key=lambda kv: kv[1]["ms"])[0]
        )
        if n:
            passes.append({"seconds": seconds, "rating": outcome["rating"], "checks": checks})
    codes = list(passes[0]["checks"])
    per_check = {
        code: {
            "median_ms": statistics.median(p["checks"][code]["ms"] for p in passes),
            "min_ms": min(p["checks"][code]["ms"] for p in passes),
            "max_ms": max(p["checks"][code]["ms"] for p in passes),
            "status": sorted({p["checks"][code]["status"] for p in passes}),
            "findings": max(p["checks"][code]["findings"] for p in passes),
            "message": passes[-1]["checks"][code]["message"],
        }
        for code in codes
    }
    # A check that ran out of time once more, with time to finish: how long it really takes.
    for code, row in per_check.items():
        if "timeout" not in row["status"]:
            continue
        check = pack.checks.get(code=code)
        spec = replace(spec_for(source), timeout_ms=UNCAPPED_MS)
        say(f"[uncapped] {code}, statement timeout {UNCAPPED_MS:,} ms")
        t = time.perf_counter()
        try:
            answer = run_query(spec, check.query, (check.params or {}).get("sql_params") or {})
            row["uncapped_ms"] = round((time.perf_counter() - t) * 1000)
            row["uncapped_rows"] = answer.total
        except RunnerError as error:
            row["uncapped_ms"] = None
            row["uncapped_error"] = str(error)[:300]
    slowest = max(per_check, key=lambda code: per_check[code]["median_ms"])
    # How the slowest check's query runs, seen by the same reader.
    check = pack.checks.get(code=slowest)
    query, args = bind(check.query, (check.params or {}).get("sql_params") or {},
                       dialect="postgresql")  # fmt: skip
    import psycopg

    # A query that ran out of time is explained without running it again.
    analyze = "timeout" not in per_check[slowest]["status"]
    try:
        with psycopg.connect(
            host="127.0.0.1", port=a.pg_port, dbname=RUN_DB, user=READER,
            password=READER_PASSWORD, options="-c statement_timeout=300000",
        ) as conn:  # fmt: skip
            explain = "EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN "
            plan = [row[0] for row in conn.execute(explain + query, args).fetchall()]
    except psycopg.Error as error:
        plan = [f"EXPLAIN failed: {error}"]
    return {
        "checks_assigned": assigned,
        "statement_timeout_ms": a.statement_timeout_ms,
        "repeat": a.repeat,
        "pass_seconds": [round(p["seconds"], 3) for p in passes],
        "median_pass_seconds": round(statistics.median(p["seconds"] for p in passes), 3),
        "ratings": [p["rating"] for p in passes],
        "checks": per_check,
        "sum_check_ms": statistics.median(
            sum(c["ms"] for c in p["checks"].values()) for p in passes
        ),
        "slowest": slowest,
        "slowest_plan": plan,
        "slowest_plan_analyzed": analyze,
    }


# ---------------------------------------------------------------- driver
def report(grown: dict, run: dict) -> str:
    counts = grown["counts"]
    checks = run["checks"]
    total_ms = run["median_pass_seconds"] * 1000
    slow = run["slowest"]
    base_s = grown["base_seconds"]
    lines = [
        f"# Inspections benchmark: the Tryton pack over {counts['account_move_line']:,} move "
        "lines (PostgreSQL)",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores (shared: figures are "
        f"noisy), trytond {grown['trytond']}, PostgreSQL {grown['postgresql']}; "
        f"median of {run['repeat']} passes after a warm-up; statement timeout "
        f"{run['statement_timeout_ms']:,} ms.",
        "",
        f"Tryton database: {counts['account_move_line']:,} move lines in "
        f"{counts['account_move']:,} posted moves, {counts['numbered_invoices']:,} numbered "
        f"invoices, {counts['stock_move']:,} stock moves, {counts['purchase_purchase']:,} "
        f"purchases, {counts['res_user']} users, {counts['ir_cron']} cron jobs, "
        f"{counts['periods']} periods ({counts['closed_periods']} closed); "
        f"{counts['database_bytes'] / 2**20:,.0f} MiB. "
        + (f"Base built by tryton_build in {base_s} s" if grown["base_built"] else "Base reused")
        + (
            ", grown template reused."
            if grown["grown_cached"]
            else f", grown by SQL in {grown['grow_seconds']} s."
        ),
        "",
        "| one pass | median | passes | sum of check times | rating |",
        "|---|--:|--:|--:|---|",
        f"| {run['checks_assigned']} checks | **{run['median_pass_seconds']:.2f} s** | "
        + ", ".join(f"{s:.2f}" for s in run["pass_seconds"])
        + f" s | {run['sum_check_ms'] / 1000:.2f} s | {', '.join(sorted(set(run['ratings'])))} |",
        "",
        f"Slowest check: **{slow}**, {checks[slow]['median_ms']:,.0f} ms "
        f"({checks[slow]['median_ms'] / total_ms:.0%} of the pass).",
        "",
        "| check | median (ms) | min–max (ms) | status | findings |",
        "|---|--:|--:|---|--:|",
    ]
    for code, c in sorted(checks.items(), key=lambda kv: -kv[1]["median_ms"]):
        status = ", ".join(c["status"])
        if "uncapped_ms" in c:
            status += (
                f" (uncapped: {c['uncapped_ms'] / 1000:,.1f} s)"
                if c["uncapped_ms"] is not None
                else f" (uncapped: {c.get('uncapped_error', 'failed')})"
            )
        lines.append(
            f"| {code} | {c['median_ms']:,.0f} | {c['min_ms']:,}–{c['max_ms']:,} | "
            f"{status} | {c['findings']} |"
        )
    failing = {code: c for code, c in checks.items() if c["status"] != ["ok"]}
    if failing:
        lines += ["", "Not OK:"]
        lines += [f"- {code}: {c['message']}" for code, c in failing.items()]
    lines += [
        "",
        f"`EXPLAIN (ANALYZE, BUFFERS)` of {slow}, as the reader:"
        if run["slowest_plan_analyzed"]
        else f"`EXPLAIN` of {slow} (it timed out: not run again), as the reader:",
        "",
        "```",
        *run["slowest_plan"],
        "```",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--move-lines", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--statement-timeout-ms", type=int, default=10_000)
    p.add_argument("--pg-port", type=int, default=54341)
    p.add_argument("--child", choices=["grow", "run"], help=argparse.SUPPRESS)
    p.add_argument("--trytond", default="", help=argparse.SUPPRESS)
    p.add_argument("--app-root", default=str(ROOT))
    a = p.parse_args()
    if a.repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    if a.child == "grow":
        sys.path.insert(0, a.app_root)
        emit_result(child_grow(a))
        return
    if a.child == "run":
        sys.path.insert(0, a.app_root)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erpcare.settings")
        import django

        django.setup()
        emit_result(child_run(a))
        return
    WORK.mkdir(parents=True, exist_ok=True)
    me = [sys.executable, str(Path(__file__).resolve())]
    common = ["--pg-port", str(a.pg_port), "--app-root", a.app_root]
    import seed as bench_seed  # reset_database(): drops and recreates the bench database

    pg = PrivatePostgres(CLUSTER, a.pg_port, ERPCARE_DB)
    url = pg.start()
    try:
        server = f"postgresql://{SERVER_USER[0]}:{SERVER_USER[1]}@127.0.0.1:{a.pg_port}"
        env = child_env(url, a.app_root, ERPCARE_TRYTON_PG_URI=server)
        say(f"[tryton] base database and {a.move_lines:,} move lines")
        grown = run_child(
            [*me, "--child", "grow", "--move-lines", str(a.move_lines), *common], env,
            label="grow",
        )  # fmt: skip
        bench_seed.reset_database(url, force=False)
        say(f"[pass] the Tryton pack, {a.repeat} passes after a warm-up")
        cmd = [*me, "--child", "run", "--repeat", str(a.repeat), *common]
        cmd += ["--statement-timeout-ms", str(a.statement_timeout_ms)]
        cmd += ["--trytond", grown["trytond"]]
        run = run_child(cmd, env, label="run")
    finally:
        if pg.started:
            pg.stop()
    text = report(grown, run)
    (WORK / "inspections-tryton-report.md").write_text(text)
    (WORK / "inspections-tryton-results.json").write_text(
        json.dumps({"database": grown, "pass": run}, indent=1)
    )
    print(text)


if __name__ == "__main__":
    main()
