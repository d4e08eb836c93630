#!/usr/bin/env python3
"""Backups benchmark (issue 8): backup and restore-verify of a 1 GB PostgreSQL database —
MB/s each way, the total RTO, and ERPCare's overhead over plain pg_dump/pg_restore, as a
ratio measured in the same run.

    .venv/bin/python bench/backups.py                      # 1 GB, encrypted and not
    .venv/bin/python bench/backups.py --size-mb 128 --repeat 3
    .venv/bin/python bench/backups.py --variants encrypted

Everything runs in this benchmark's private PostgreSQL cluster (scripts/pg.sh, data in
bench/.work/pg-backups, port --pg-port 54344), stopped at the end if this run started it.
MB here is 2**20 bytes, as in --size-mb. CI never runs this (minutes of work, gigabytes of
disk).

1. **The source database.** An ERP-like database built by SQL (``INSERT … SELECT
   generate_series``): partners, products, accounts, journals, posted account moves with
   four balanced lines each (receivable, two revenue lines, VAT), text and numeric columns,
   primary keys, foreign keys and secondary indexes, then ``VACUUM (ANALYZE)``. The number
   of move lines follows --size-mb (default 1024) so that ``pg_database_size`` comes out
   near it (the actual size is reported, and is what the MB/s divide). It is kept as
   ``backups_bench_<size>_<key>`` (the key hashes the building SQL): a rerun only reads it.
   Nothing writes to it: both sides only dump it. Before measuring, every table is read
   once (``count(*)``), so neither side pays for a cold page cache.
2. **Plain baseline**, same run, same server and client tools: ``pg_dump --format=custom
   --file`` timed; then ``createdb`` + ``pg_restore --jobs=2`` into a fresh database timed
   together (that is the plain RTO); ``dropdb`` timed on its own (not in the ratio).
3. **ERPCare**, in a child Django process on its own ERPCare database in the same cluster
   (erpcare_backups_bench, dropped and migrated): an organization, an ERP instance, a
   PostgreSQL data source on the source database, and a BackupPlan per variant —
   encrypted (AES-256-GCM with a key generated for the run in ERPCARE_BACKUP_KEY) and, with
   ``--variants`` (default both), unencrypted. Key tables account_move, account_move_line,
   res_partner (exact ``count(*)`` in the dump's snapshot) and the newest-document SQL
   ``SELECT max(create_date) FROM account_move`` (the RPO). No business checks
   (``run_business_checks`` off: the Tryton inspection bench measures those).
   ``run_backup`` is timed (exact counts, pg_dump through a pipe into the artifact store,
   which hashes and encrypts on the way, fsync); then ``verify_point`` is timed: the stored
   file's SHA-256, decryption into a 0600 temporary file (an unencrypted artifact gets a
   plain-SHA-256 pass instead), ``CREATE DATABASE`` + ``pg_restore --jobs=2`` into a scratch
   database (the RestoreTest's ``restore_seconds``: the RTO ERPCare records), smoke checks
   (tables present, exact counts of the key tables) and the drop. Each step inside is
   timed by wrapping the function that does it (the wrappers only read the clock). The
   encryption pass is also timed on its own, over the plain baseline's dump file
   (``ArtifactStore.write_file`` encrypting and not), since inside ``run_backup`` it
   overlaps with pg_dump. And ERPCare's restore step (``restore_to_scratch``) is timed on
   the plain baseline's file too: pg_dump wrote that one itself, with the data offsets that
   an archive streamed through a pipe (``run_backup``'s) lacks.
4. **Figures.** Median of --repeat runs of each (default 1: at 1 GB one round of
   everything takes ~3 minutes on 2 cores, plus ~2 minutes to build the source the first
   time). Backup MB/s = source size / backup time; restore MB/s = source size / restore
   time; the total RTO is what it takes from a stored artifact to a usable database
   (checksum + decryption + restore); ratios are ERPCare / plain.

Report: bench/.work/backups-report.md and backups-results.json. On a 2-core machine shared
with other jobs the figures are noisy: compare runs, not digits.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from common import WORK, PrivatePostgres, child_env, emit_result, run_child, say  # noqa: E402

CLUSTER = "pg-backups"
ERPCARE_DB = "erpcare_backups_bench"
SOURCE_PREFIX = "backups_bench_"
PLAIN_DB = "backups_bench_plain_restore"
SERVER_USER = ("erpcare", "erpcare")  # scripts/pg.sh's owner login (CREATEDB)
STORE = WORK / "backups-bench"
MB = 1 << 20
KEY_TABLES = ["account_move", "account_move_line", "res_partner"]
NEWEST_DOCUMENT_SQL = "SELECT max(create_date) FROM account_move"
# On-disk bytes per account move line, indexes and the other tables included (measured at
# 64 and 1024 MB on PostgreSQL 15).
BYTES_PER_LINE = 240
VARIANTS = ("encrypted", "plain")

BUILD_SQL = """
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
CREATE TABLE res_partner (
  id integer PRIMARY KEY, name text NOT NULL, street text, zip text, city text,
  country text, vat text, email text, phone text, credit_limit numeric(14, 2),
  active boolean NOT NULL DEFAULT true, create_date timestamp NOT NULL
);
INSERT INTO res_partner
SELECT g,
  (ARRAY['Huadong', 'Nordwind', 'Atlas', 'Pacific', 'Sierra', 'Lumen', 'Orion', 'Kestrel'])
    [1 + g % 8] || ' ' ||
  (ARRAY['Trading', 'Precision Parts', 'Logistics', 'Foods', 'Textiles', 'Machinery'])
    [1 + g % 6] || ' ' || g || ' ' ||
  (ARRAY['Co., Ltd.', 'GmbH', 'S.A.', 'Ltd', 'Inc.'])[1 + g % 5],
  (g % 997) || ' ' ||
  (ARRAY['Harbour Road', 'Main Street', 'Industriestrasse', 'Rue de la Gare',
         'Jiangnan Avenue'])[1 + g % 5],
  lpad((g * 7919 % 99999)::text, 5, '0'),
  (ARRAY['Shanghai', 'Hamburg', 'Lyon', 'Barcelona', 'Ningbo', 'Rotterdam', 'Milano'])
    [1 + g % 7],
  (ARRAY['CN', 'DE', 'FR', 'ES', 'NL', 'IT'])[1 + g % 6],
  'VAT' || lpad((g::bigint * 104729 % 1000000000)::text, 9, '0'),
  'accounts' || g || '@example.com',
  '+86 21 ' || lpad((g::bigint * 7717 % 100000000)::text, 8, '0'),
  (g % 50) * 1000,
  g % 23 <> 0,
  now() - interval '4 years' + (g % 1000) * interval '1 day'
FROM generate_series(1, {partners}) g;

CREATE TABLE product (
  id integer PRIMARY KEY, default_code text NOT NULL, name text NOT NULL, description text,
  uom text NOT NULL, list_price numeric(12, 2) NOT NULL, cost_price numeric(12, 2) NOT NULL,
  create_date timestamp NOT NULL
);
INSERT INTO product
SELECT g, 'P' || lpad(g::text, 6, '0'),
  (ARRAY['Bearing', 'Shaft', 'Gear', 'Bracket', 'Valve', 'Seal', 'Pump', 'Flange'])[1 + g % 8]
    || ' ' || (ARRAY['steel', 'brass', 'nylon', 'cast iron'])[1 + g % 4] || ' '
    || (10 + g % 90) || ' mm',
  'Supplied in boxes of ' || (1 + g % 12) * 5 || '; drawing rev. ' || chr(65 + g % 26)
    || ', batch ' || substr(md5(g::text), 1, 8),
  (ARRAY['Unit', 'Box', 'kg', 'm'])[1 + g % 4],
  round((5 + g % 500 + (g % 97) / 100.0)::numeric, 2),
  round((3 + g % 400 + (g % 89) / 100.0)::numeric, 2),
  now() - interval '4 years' + (g % 900) * interval '1 day'
FROM generate_series(1, {products}) g;

CREATE TABLE account_account (
  id integer PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, type text NOT NULL
);
INSERT INTO account_account VALUES
  (1, '1100', 'Accounts receivable', 'receivable'),
  (2, '2100', 'Accounts payable', 'payable'),
  (3, '2210', 'VAT payable', 'tax'),
  (4, '4000', 'Revenue, goods', 'revenue'),
  (5, '4100', 'Revenue, services', 'revenue'),
  (6, '1000', 'Cash', 'cash');

CREATE TABLE account_journal (id integer PRIMARY KEY, code text NOT NULL, name text NOT NULL);
INSERT INTO account_journal VALUES
  (1, 'INV', 'Customer invoices'), (2, 'EXP', 'Export invoices'),
  (3, 'POS', 'Point of sale'), (4, 'SRV', 'Service invoices'), (5, 'MIS', 'Miscellaneous');

CREATE TABLE account_move (
  id bigint PRIMARY KEY, number text NOT NULL, journal_id integer NOT NULL
    REFERENCES account_journal, partner_id integer NOT NULL REFERENCES res_partner,
  date date NOT NULL, state text NOT NULL, ref text, narration text,
  amount numeric(16, 2) NOT NULL, create_date timestamp NOT NULL,
  write_date timestamp NOT NULL
);
INSERT INTO account_move
SELECT g,
  (ARRAY['INV', 'EXP', 'POS', 'SRV', 'MIS'])[1 + g % 5] || '/'
    || to_char(d, 'YYYY') || '/' || lpad(g::text, 8, '0'),
  1 + g % 5,
  1 + (g::bigint * 31 % {partners})::integer,
  d, 'posted',
  'SO' || lpad((g::bigint * 7 % 10000000)::text, 7, '0'),
  CASE WHEN g % 10 = 0 THEN 'Delivery terms: ' ||
    (ARRAY['FOB Ningbo', 'CIF Hamburg', 'EXW', 'DAP Lyon'])[1 + g % 4] ||
    '; payment ' || (ARRAY['30', '45', '60', '90'])[1 + g % 4] || ' days net' END,
  round((10 + (g::bigint * 7919 % 100000) / 100.0)::numeric, 2),
  d + time '08:00' + (g % 600) * interval '1 minute',
  d + time '08:00' + (g % 600) * interval '1 minute' + interval '3 minutes'
FROM (
  SELECT g, (current_date - 730 + (g::bigint * 729 / {moves})::integer) AS d
  FROM generate_series(1, {moves}) g
) s;

CREATE TABLE account_move_line (
  id bigint PRIMARY KEY, move_id bigint NOT NULL REFERENCES account_move,
  account_id integer NOT NULL REFERENCES account_account, partner_id integer,
  product_id integer, date date NOT NULL, name text NOT NULL, ref text,
  debit numeric(16, 2) NOT NULL, credit numeric(16, 2) NOT NULL, quantity numeric(12, 3),
  amount_residual numeric(16, 2), currency text NOT NULL, reconciled boolean NOT NULL,
  create_date timestamp NOT NULL
);
INSERT INTO account_move_line
SELECT (m.id - 1) * 4 + j, m.id,
  CASE j WHEN 1 THEN 1 WHEN 4 THEN 3 ELSE 3 + j END,
  m.partner_id,
  CASE WHEN j IN (2, 3) THEN 1 + ((m.id * 13 + j) % {products})::integer END,
  m.date,
  CASE j WHEN 1 THEN m.number || ' ' || p.name
    WHEN 4 THEN 'VAT 13% on ' || m.number
    ELSE pr.name || ' x ' || (1 + (m.id + j) % 40) END,
  m.ref,
  CASE j WHEN 1 THEN m.amount ELSE 0 END,
  CASE j
    WHEN 1 THEN 0
    WHEN 2 THEN round(round(m.amount / 1.13, 2) * 0.6, 2)
    WHEN 3 THEN round(m.amount / 1.13, 2) - round(round(m.amount / 1.13, 2) * 0.6, 2)
    ELSE m.amount - round(m.amount / 1.13, 2) END,
  CASE WHEN j IN (2, 3) THEN 1 + (m.id + j) % 40 END,
  CASE WHEN j = 1 AND m.id % 7 = 0 THEN m.amount ELSE 0 END,
  (ARRAY['CNY', 'EUR', 'USD'])[1 + m.partner_id % 3],
  j = 1 AND m.id % 7 <> 0,
  m.create_date
FROM account_move m
CROSS JOIN generate_series(1, 4) j
JOIN res_partner p ON p.id = m.partner_id
LEFT JOIN product pr ON pr.id = 1 + ((m.id * 13 + j) % {products})::integer;

CREATE UNIQUE INDEX account_move_number ON account_move (number);
CREATE INDEX account_move_date ON account_move (date);
CREATE INDEX account_move_partner ON account_move (partner_id);
CREATE INDEX account_move_line_move ON account_move_line (move_id);
CREATE INDEX account_move_line_account_date ON account_move_line (account_id, date);
CREATE INDEX account_move_line_partner ON account_move_line (partner_id);
CREATE INDEX account_move_line_open ON account_move_line (partner_id)
  WHERE NOT reconciled AND account_id = 1;
"""

WARM_TABLES = ("res_partner", "product", "account_move", "account_move_line")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pg(port: int, dbname: str):
    import psycopg

    user, password = SERVER_USER
    return psycopg.connect(
        host="127.0.0.1", port=port, dbname=dbname, user=user, password=password, autocommit=True
    )


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


# ---------------------------------------------------------------- child: the source database
def child_build(a: argparse.Namespace) -> dict:
    """Build (or reuse) the source database; warm it; its size and counts."""
    lines = max(4000, round(a.size_mb * MB / BYTES_PER_LINE / 4) * 4)
    moves = lines // 4
    partners, products = max(1000, moves // 20), max(500, lines // 400)
    sql_text = BUILD_SQL.format(moves=moves, partners=partners, products=products)
    key = hashlib.sha256(sql_text.encode()).hexdigest()[:8]
    name = f"{SOURCE_PREFIX}{a.size_mb}_{key}"
    build_seconds = 0.0
    with _pg(a.pg_port, "postgres") as conn:
        existing = [
            row[0]
            for row in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                [SOURCE_PREFIX.replace("_", "\\_") + "%"],
            ).fetchall()
        ]
        # Leftovers of a run that was stopped, and older builds of this size.
        for old in existing:
            stale = old.startswith(f"{SOURCE_PREFIX}{a.size_mb}_") and old != name
            if old.endswith("_build") or old == PLAIN_DB or stale:
                conn.execute(f"DROP DATABASE IF EXISTS {_ident(old)} WITH (FORCE)")
        cached = name in existing
    if cached:
        say(f"[source] reusing {name}")
    else:
        say(f"[source] building {name}: {moves:,} moves, {lines:,} lines")
        t = time.perf_counter()
        building = f"{name}_build"
        with _pg(a.pg_port, "postgres") as conn:
            conn.execute(f"CREATE DATABASE {_ident(building)}")
        with _pg(a.pg_port, building) as conn:
            conn.autocommit = False
            with conn.cursor() as cur:
                cur.execute(sql_text)
            conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM (ANALYZE)")  # as autovacuum would have, long since
        with _pg(a.pg_port, "postgres") as conn:
            conn.execute(f"ALTER DATABASE {_ident(building)} RENAME TO {_ident(name)}")
        build_seconds = round(time.perf_counter() - t, 1)
        say(f"[source] built in {build_seconds} s")
    counts = {}
    t = time.perf_counter()
    with _pg(a.pg_port, name) as conn:
        for table in WARM_TABLES:  # read once: a warm page cache for both sides
            counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        tables = conn.execute(
            "SELECT sum(pg_table_size(c.oid)), sum(pg_indexes_size(c.oid)) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'r'"
        ).fetchone()
        num = conn.info.server_version
        (version,) = conn.execute("SHOW server_version").fetchone()
    say(f"[source] {size / MB:,.0f} MB, warmed in {time.perf_counter() - t:.1f} s")
    major = num // 10000
    bindir = Path(f"/usr/lib/postgresql/{major}/bin")
    return {
        "name": name,
        "cached": cached,
        "build_seconds": build_seconds,
        "size_bytes": size,
        "table_bytes": int(tables[0]),
        "index_bytes": int(tables[1]),
        "counts": counts,
        "postgresql": version,
        "bindir": str(bindir) if (bindir / "pg_dump").exists() else "",
    }


# ---------------------------------------------------------------- driver: plain baseline
def plain_baseline(a: argparse.Namespace, source: dict) -> dict:
    """pg_dump --format=custom to a file; createdb + pg_restore --jobs=2; dropdb."""

    def tool(name: str) -> str:
        path = Path(source["bindir"]) / name if source["bindir"] else None
        found = str(path) if path and path.exists() else shutil.which(name)
        if not found:
            raise SystemExit(f"{name} is not installed")
        return found

    env = dict(
        os.environ,
        PGHOST="127.0.0.1",
        PGPORT=str(a.pg_port),
        PGUSER=SERVER_USER[0],
        PGPASSWORD=SERVER_USER[1],
        LC_ALL="C.UTF-8",
    )

    def run(argv: list[str]) -> float:
        t = time.perf_counter()
        subprocess.run(argv, env=env, check=True)
        return time.perf_counter() - t

    STORE.mkdir(parents=True, exist_ok=True)
    dump = STORE / "plain.pgdump"
    runs = []
    version = subprocess.run(
        [tool("pg_dump"), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    for n in range(a.repeat):
        dump.unlink(missing_ok=True)
        subprocess.run(
            [tool("dropdb"), "--if-exists", PLAIN_DB], env=env, check=True, capture_output=True
        )
        say(f"[plain {n + 1}/{a.repeat}] pg_dump --format=custom")
        dump_s = run(
            [tool("pg_dump"), "--format=custom", "--no-password", f"--file={dump}", source["name"]]
        )
        say(f"[plain {n + 1}/{a.repeat}] {dump_s:.1f} s; createdb + pg_restore --jobs=2")
        restore_s = run([tool("createdb"), PLAIN_DB])
        restore_s += run(
            [tool("pg_restore"), "--jobs=2", "--no-password", f"--dbname={PLAIN_DB}", str(dump)]
        )
        say(f"[plain {n + 1}/{a.repeat}] {restore_s:.1f} s; dropdb")
        drop_s = run([tool("dropdb"), PLAIN_DB])
        runs.append(
            {
                "dump_seconds": round(dump_s, 3),
                "restore_seconds": round(restore_s, 3),
                "drop_seconds": round(drop_s, 3),
                "dump_bytes": dump.stat().st_size,
            }
        )
    return {
        "tool": version,
        "runs": runs,
        "dump_seconds": _median([r["dump_seconds"] for r in runs]),
        "restore_seconds": _median([r["restore_seconds"] for r in runs]),
        "drop_seconds": _median([r["drop_seconds"] for r in runs]),
        "dump_bytes": runs[-1]["dump_bytes"],
        "dump_file": str(dump),
    }


# ---------------------------------------------------------------- child (Django): ERPCare
class Clock:
    """Seconds spent inside wrapped functions, per label, for the current round."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def reset(self) -> None:
        self.spent = {}

    def add(self, label: str, seconds: float) -> None:
        self.spent[label] = self.spent.get(label, 0.0) + seconds

    def wrap(self, label: str, fn):
        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(label, time.perf_counter() - t)

        return timed

    def wrap_cm(self, label: str, fn):
        """A context manager: time of its entry (``label``) and of its exit (``label``_exit)."""

        @contextlib.contextmanager
        def timed(*args, **kwargs):
            t = time.perf_counter()
            with fn(*args, **kwargs) as value:
                self.add(label, time.perf_counter() - t)
                try:
                    yield value
                finally:
                    t = time.perf_counter()
            self.add(label + "_exit", time.perf_counter() - t)

        return timed


def instrument(clock: Clock) -> None:
    """Wrap the steps of run_backup and verify_point; they only read the clock."""
    from erpcare.backups import artifacts
    from erpcare.backups.engines import postgresql
    from erpcare.backups.services import verify

    postgresql._stats = clock.wrap("counts", postgresql._stats)
    postgresql.check_versions = clock.wrap("version_check", postgresql.check_versions)
    postgresql.restore_to_scratch = clock.wrap("restore", postgresql.restore_to_scratch)
    postgresql.drop_scratch_database = clock.wrap("drop", postgresql.drop_scratch_database)
    artifacts.ArtifactStore.write = clock.wrap("dump_and_store", artifacts.ArtifactStore.write)
    artifacts.ArtifactStore.verify = clock.wrap("checksum", artifacts.ArtifactStore.verify)
    verify.plain_artifact_path = clock.wrap_cm("decrypt", verify.plain_artifact_path)
    verify.smoke_checks = clock.wrap("smoke_checks", verify.smoke_checks)


def child_run(a: argparse.Namespace) -> dict:
    from django.core.management import call_command

    from erpcare.backups.artifacts import ArtifactStore
    from erpcare.backups.models import BackupKind, BackupPlan, PointStatus, RestoreStatus
    from erpcare.backups.services.backup import run_backup, store_for
    from erpcare.backups.services.verify import verify_point
    from erpcare.core import clock as erp_clock
    from erpcare.customers.models import ErpInstance, Organization
    from erpcare.inspections.models import DataSource, SourceKind

    call_command("migrate", interactive=False, verbosity=0)
    org = Organization.objects.create(code="bench", name="Backup bench Co.")
    instance = ErpInstance.objects.create(organization=org, name="ERP production", product="odoo")
    now = erp_clock.now()
    source = DataSource.objects.create(
        erp_instance=instance,
        name="ERP database",
        kind=SourceKind.POSTGRESQL,
        host="127.0.0.1",
        port=a.pg_port,
        database=a.source,
        username=SERVER_USER[0],
        password=SERVER_USER[1],
        created_at=now,
        updated_at=now,
    )
    timer = Clock()
    instrument(timer)
    variants: dict[str, dict] = {}
    for variant in a.variants.split(","):
        directory = STORE / variant
        shutil.rmtree(directory, ignore_errors=True)
        plan = BackupPlan.objects.create(
            erp_instance=instance,
            name=f"Bench {variant}",
            kind=BackupKind.POSTGRESQL,
            data_source=source,
            directory=str(directory),
            encrypt=variant == "encrypted",
            key_tables=KEY_TABLES,
            newest_document_sql=NEWEST_DOCUMENT_SQL,
            run_business_checks=False,
            created_at=erp_clock.now(),
        )
        rounds = []
        for n in range(a.repeat):
            timer.reset()
            say(f"[erpcare {variant} {n + 1}/{a.repeat}] run_backup")
            t = time.perf_counter()
            point = run_backup(plan)
            backup_s = time.perf_counter() - t
            if point.status != PointStatus.OK:
                raise SystemExit(f"the backup failed: {point.error}")
            backup_steps = dict(timer.spent)
            say(f"[erpcare {variant} {n + 1}/{a.repeat}] {backup_s:.1f} s; verify_point")
            timer.reset()
            t = time.perf_counter()
            test = verify_point(point)
            verify_s = time.perf_counter() - t
            if test.status != RestoreStatus.OK:
                raise SystemExit(f"the restore test failed: {test.message} {test.checks}")
            say(f"[erpcare {variant} {n + 1}/{a.repeat}] {verify_s:.1f} s, {test.status}")
            verify_steps = dict(timer.spent)
            rounds.append(
                {
                    "backup_seconds": round(backup_s, 3),
                    "backup_steps": {k: round(v, 3) for k, v in backup_steps.items()},
                    "backup_rest": round(backup_s - sum(backup_steps.values()), 3),
                    "artifact_bytes": point.size,
                    "encrypted": point.encrypted,
                    "client": point.client_version,
                    "verify_seconds": round(verify_s, 3),
                    "verify_steps": {k: round(v, 3) for k, v in verify_steps.items()},
                    "verify_rest": round(verify_s - sum(verify_steps.values()), 3),
                    "restore_seconds": test.restore_seconds,
                    "rpo_seconds": test.rpo_seconds,
                    "checks": test.checks,
                    "scratch_dropped": test.scratch_dropped,
                }
            )
            store_for(plan).delete(point.artifact)  # disk: one artifact at a time
        shutil.rmtree(directory, ignore_errors=True)

        def med(key: str, rows=rounds) -> float:
            return _median([r[key] for r in rows])

        def med_step(group: str, key: str, rows=rounds) -> float:
            return _median([r[group].get(key, 0.0) for r in rows])

        variants[variant] = {
            "rounds": rounds,
            "backup_seconds": med("backup_seconds"),
            "verify_seconds": med("verify_seconds"),
            "restore_seconds": med("restore_seconds"),
            "backup_rest": med("backup_rest"),
            "verify_rest": med("verify_rest"),
            "artifact_bytes": rounds[-1]["artifact_bytes"],
            "client": rounds[-1]["client"],
            "rpo_seconds": rounds[-1]["rpo_seconds"],
            "checks": rounds[-1]["checks"],
            "backup_steps": {
                k: med_step("backup_steps", k)
                for k in ("counts", "version_check", "dump_and_store")
            },
            "verify_steps": {
                k: med_step("verify_steps", k)
                for k in ("checksum", "decrypt", "decrypt_exit", "restore", "smoke_checks", "drop")
            },
        }
    # ERPCare's restore step on the plain baseline's file: pg_dump wrote it itself, with
    # the data offsets that a dump through a pipe (run_backup's) lacks.
    from erpcare.backups.engines import get_engine
    from erpcare.backups.services.specs import scratch_spec

    engine = get_engine("postgresql")
    offsets = []
    for n in range(a.repeat):
        say(f"[erpcare restore of the plain file {n + 1}/{a.repeat}]")
        scratch = engine.restore_to_scratch(scratch_spec(plan), a.plain_dump, timeout=3600)
        scratch.drop()
        offsets.append(scratch.seconds)
    # The store's pass on its own, over the same bytes: encrypting (AES-256-GCM + both
    # SHA-256) or only hashing, each written and fsynced like an artifact.
    store_pass = {}
    plain_dump = Path(a.plain_dump)
    for label, encrypt in (("encrypt", True), ("plain", False)):
        directory = STORE / f"pass-{label}"
        shutil.rmtree(directory, ignore_errors=True)
        t = time.perf_counter()
        ArtifactStore(directory).write_file("pass.pgdump", plain_dump, encrypt=encrypt)
        store_pass[label] = round(time.perf_counter() - t, 3)
        shutil.rmtree(directory, ignore_errors=True)
    return {
        "variants": variants,
        "store_pass_seconds": store_pass,
        "restore_plain_file_seconds": _median(offsets),
    }


# ---------------------------------------------------------------- report
def _range(values: list[float]) -> str:
    """`` (min–max)`` of several runs; nothing for one."""
    return f" ({min(values):.1f}–{max(values):.1f})" if len(values) > 1 else ""


def report(source: dict, plain: dict, erp: dict, repeat: int) -> tuple[str, dict]:
    size = source["size_bytes"]
    size_mb = size / MB
    variants = erp["variants"]
    figures: dict = {
        "source_mb": round(size_mb, 1),
        "baseline": {
            "backup_seconds": plain["dump_seconds"],
            "backup_mb_s": round(size_mb / plain["dump_seconds"], 1),
            "dump_mb": round(plain["dump_bytes"] / MB, 1),
            "restore_seconds": plain["restore_seconds"],
            "restore_mb_s": round(size_mb / plain["restore_seconds"], 1),
            "drop_seconds": plain["drop_seconds"],
        },
    }
    for name, v in variants.items():
        steps = v["verify_steps"]
        total_rto = steps["checksum"] + steps["decrypt"] + v["restore_seconds"]
        figures[name] = {
            "backup_seconds": v["backup_seconds"],
            "backup_mb_s": round(size_mb / v["backup_seconds"], 1),
            "artifact_mb": round(v["artifact_bytes"] / MB, 1),
            "restore_seconds": v["restore_seconds"],
            "restore_mb_s": round(size_mb / v["restore_seconds"], 1),
            "total_rto_seconds": round(total_rto, 3),
            "verify_seconds": v["verify_seconds"],
            "backup_ratio": round(v["backup_seconds"] / plain["dump_seconds"], 2),
            "restore_verify_ratio": round(v["verify_seconds"] / plain["restore_seconds"], 2),
            "rto_ratio": round(total_rto / plain["restore_seconds"], 2),
            "restore_ratio": round(v["restore_seconds"] / plain["restore_seconds"], 2),
        }
    c = source["counts"]
    lines = [
        f"# Backups benchmark: backup and restore-verify of a {size_mb:,.0f} MB PostgreSQL "
        "database (issue 8)",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores (shared: figures are "
        f"noisy), {source['postgresql']}, {plain['tool']}; median of {repeat} "
        f"run{'s' if repeat > 1 else ''}{' (min–max in brackets)' if repeat > 1 else ''}; "
        f"load average {os.getloadavg()[0]:.1f} at the end; MB = 2^20 bytes.",
        "",
        f"Source: `{source['name']}`, {size_mb:,.0f} MB on disk (`pg_database_size`: "
        f"{source['table_bytes'] / MB:,.0f} MB of tables, {source['index_bytes'] / MB:,.0f} MB "
        f"of indexes) — {c['account_move_line']:,} move lines in {c['account_move']:,} moves, "
        f"{c['res_partner']:,} partners, {c['product']:,} products; "
        + (
            "cached build reused."
            if source["cached"]
            else f"built by SQL in {source['build_seconds']:,.0f} s."
        ),
        "",
        "| | backup (s) | backup MB/s | file (MB) | restore (s) | restore MB/s "
        "| total RTO (s) | restore-verify (s) | backup ×plain | restore-verify ×plain |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        f"| plain pg_dump / createdb + pg_restore --jobs=2 | {plain['dump_seconds']:.1f}"
        f"{_range([r['dump_seconds'] for r in plain['runs']])} | "
        f"{figures['baseline']['backup_mb_s']:.1f} | {figures['baseline']['dump_mb']:,.0f} | "
        f"{plain['restore_seconds']:.1f}{_range([r['restore_seconds'] for r in plain['runs']])} | "
        f"{figures['baseline']['restore_mb_s']:.1f} | "
        f"{plain['restore_seconds']:.1f} | – | 1 | 1 |",
    ]
    labels = {"encrypted": "ERPCare, encrypted", "plain": "ERPCare, not encrypted"}
    for name, f in figures.items():
        if name in ("source_mb", "baseline"):
            continue
        rounds = variants[name]["rounds"]
        lines.append(
            f"| {labels[name]} | {f['backup_seconds']:.1f}"
            f"{_range([r['backup_seconds'] for r in rounds])} | {f['backup_mb_s']:.1f} | "
            f"{f['artifact_mb']:,.0f} | {f['restore_seconds']:.1f}"
            f"{_range([r['restore_seconds'] for r in rounds])} | {f['restore_mb_s']:.1f} | "
            f"{f['total_rto_seconds']:.1f} | {f['verify_seconds']:.1f}"
            f"{_range([r['verify_seconds'] for r in rounds])} | "
            f"**{f['backup_ratio']:.2f}** | **{f['restore_verify_ratio']:.2f}** |"
        )
    lines += [
        "",
        "restore = `CREATE DATABASE` + `pg_restore --jobs=2` (ERPCare: the RestoreTest's "
        "`restore_seconds`, the RTO it records); total RTO = from the stored artifact to a "
        "usable database: checksum + decryption + restore; restore-verify = `verify_point` "
        "whole (also smoke checks, exact counts and the drop); its ratio is over the plain "
        f"restore. Plain `dropdb` took {plain['drop_seconds']:.1f} s (not in the ratio).",
        "",
        "Where ERPCare's time goes (s):",
        "",
        "| | counts in the snapshot | client check | pg_dump → store (pipe) | backup rest "
        "| checksum | decrypt | restore | smoke checks + counts | drop + temp file | verify rest |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, v in variants.items():
        b, s = v["backup_steps"], v["verify_steps"]
        b_rest, v_rest = v["backup_rest"], v["verify_rest"]
        lines.append(
            f"| {labels[name]} | {b['counts']:.1f} | {b['version_check']:.2f} | "
            f"{b['dump_and_store']:.1f} | {b_rest:.2f} | {s['checksum']:.1f} | "
            f"{s['decrypt']:.1f} | {s['restore']:.1f} | {s['smoke_checks']:.1f} | "
            f"{s['drop'] + s['decrypt_exit']:.1f} | {v_rest:.2f} |"
        )
    sp = erp["store_pass_seconds"]
    offsets = erp["restore_plain_file_seconds"]
    lines += [
        "",
        "ERPCare's restore step (`restore_to_scratch`, `--jobs=2`) on the plain baseline's "
        f"dump file, which pg_dump wrote itself with data offsets: {offsets:.1f} s "
        f"({offsets / plain['restore_seconds']:.2f} × the plain restore). `run_backup` streams "
        "pg_dump through a pipe into the store, so its archives have no data offsets (each "
        "pg_restore worker finds its table's data by reading through the file): this row "
        "against the ERPCare rows' restore tells that cost from the rest of the step.",
    ]
    dump_mb = plain["dump_bytes"] / MB
    lines += [
        "",
        f"The store's pass alone over the plain dump ({dump_mb:,.0f} MB), written and fsynced: "
        f"encrypting (AES-256-GCM + SHA-256 of both) {sp['encrypt']:.1f} s "
        f"({dump_mb / sp['encrypt']:,.0f} MB/s), hashing only {sp['plain']:.1f} s "
        f"({dump_mb / sp['plain']:,.0f} MB/s). In `run_backup` it runs alongside pg_dump (a "
        "pipe), so it costs less than that unless the store is the slower end.",
    ]
    for name, v in variants.items():
        lines += [
            "",
            f"{labels[name]}: {v['client']}; restore test checks: "
            + "; ".join(f"{c['check']} {c['status']} ({c['detail']})" for c in v["checks"])
            + (
                f"; RPO {v['rpo_seconds'] / 3600:,.1f} h (newest move's create_date)."
                if v["rpo_seconds"] is not None
                else "."
            ),
        ]
    return "\n".join(lines) + "\n", figures


# ---------------------------------------------------------------- driver
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--size-mb", type=int, default=1024)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--variants", default=",".join(VARIANTS), help="encrypted,plain (or one)")
    p.add_argument("--pg-port", type=int, default=54344)
    p.add_argument("--child", choices=["build", "run"], help=argparse.SUPPRESS)
    p.add_argument("--source", default="", help=argparse.SUPPRESS)
    p.add_argument("--plain-dump", default="", help=argparse.SUPPRESS)
    p.add_argument("--app-root", default=str(ROOT))
    a = p.parse_args()
    if a.repeat < 1 or a.size_mb < 8:
        raise SystemExit("--repeat must be at least 1 and --size-mb at least 8")
    if not a.variants or set(a.variants.split(",")) - set(VARIANTS):
        raise SystemExit(f"--variants: a comma-separated subset of {', '.join(VARIANTS)}")
    if a.child == "build":
        sys.path.insert(0, a.app_root)
        emit_result(child_build(a))
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
    common = ["--pg-port", str(a.pg_port), "--app-root", a.app_root, "--repeat", str(a.repeat)]
    import seed as bench_seed  # reset_database(): drops and recreates the bench database

    pg = PrivatePostgres(CLUSTER, a.pg_port, ERPCARE_DB)
    url = pg.start()
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    started = time.perf_counter()
    try:
        env = child_env(url, a.app_root, ERPCARE_BACKUP_KEY=key)
        source = run_child(
            [*me, "--child", "build", "--size-mb", str(a.size_mb), *common], env, label="build"
        )
        plain = plain_baseline(a, source)
        bench_seed.reset_database(url, force=False)
        cmd = [*me, "--child", "run", "--source", source["name"], "--variants", a.variants]
        cmd += ["--plain-dump", plain["dump_file"], *common]
        erp = run_child(cmd, env, label="run")
    finally:
        shutil.rmtree(STORE, ignore_errors=True)
        if pg.started:
            pg.stop()
    text, figures = report(source, plain, erp, a.repeat)
    say(f"[done] {time.perf_counter() - started:,.0f} s in all")
    (WORK / "backups-report.md").write_text(text)
    (WORK / "backups-results.json").write_text(
        json.dumps({"figures": figures, "source": source, "plain": plain, "erpcare": erp}, indent=1)
    )
    print(text)


if __name__ == "__main__":
    main()
