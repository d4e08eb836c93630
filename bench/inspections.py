#!/usr/bin/env python3
"""Inspections benchmark (issue 7): the scheduler's overhead with 1,000 ERP instances × 30
checks — the time the leader's minute job needs to decide what is due.

    .venv/bin/python bench/inspections.py                 # PostgreSQL and SQLite
    .venv/bin/python bench/inspections.py --db sqlite --instances 200

Each engine gets a fresh database (PostgreSQL: this benchmark's private cluster in
bench/.work/pg-inspections on port --pg-port 54338, database erpcare_inspections_bench;
SQLite: bench/.work/inspections-bench.sqlite3), migrated, with --instances ERP instances
(ten per customer), one data source each, one pack of 30 checks (schedules every 15 min,
hourly and daily) applied to every source. Measured, each the median of 5 (time.perf_counter,
in the child, after one warm-up):

* ``initialise``: giving 30,000 fresh assignments their first next run (the first tick
  after packs were applied);
* ``idle tick``: ``take_due`` when nothing is due (most minutes);
* ``1 % due`` / ``10 % due``: ``take_due`` when 300 / 3,000 assignments are due — decided,
  grouped by instance and moved on to their next run, in one transaction;
* the report of one instance over 30 days of daily runs of the 30 checks: reading it
  (``report_context``) and printing it to PDF with WeasyPrint in zh-hans (median of 3).

Report: bench/.work/inspections-report.md and inspections-results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from common import WORK, PrivatePostgres, child_env, emit_result, run_child, say  # noqa: E402

CHECKS = 30
SCHEDULES = ("*/15 * * * *", "0 * * * *", "0 6 * * *")


# ---------------------------------------------------------------- child (Django)
def child_run(a: argparse.Namespace) -> dict:
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import connection

    from erpcare.core import clock
    from erpcare.customers.models import ErpInstance, Organization
    from erpcare.inspections.models import (
        Check,
        CheckPack,
        DataSource,
        InstanceCheck,
        SourceKind,
    )
    from erpcare.inspections.services.schedule import initialise, take_due

    call_command("migrate", interactive=False, verbosity=0)
    now = clock.now().replace(second=0, microsecond=0)
    orgs = Organization.objects.bulk_create(
        [Organization(code=f"B{n:04d}", name=f"Bench {n}") for n in range(a.instances // 10)]
    )
    instances = ErpInstance.objects.bulk_create(
        [
            ErpInstance(organization=orgs[n // 10], name=f"Bench ERP {n}", product="tryton")
            for n in range(a.instances)
        ]
    )
    sources = DataSource.objects.bulk_create(
        [
            DataSource(
                erp_instance=i, name="db", kind=SourceKind.POSTGRESQL, created_at=now,
                updated_at=now,
            )
            for i in instances
        ]
    )  # fmt: skip
    pack = CheckPack.objects.create(code="bench", name="Bench", version="1", imported_at=now)
    checks = Check.objects.bulk_create(
        [
            Check(
                pack=pack, code=f"c{n:02d}", name=f"Check {n}", kind="sql",
                source_kind="postgresql", layer="database", severity="warning",
                query="SELECT 1", condition="rows_empty", schedule=SCHEDULES[n % 3],
                why="-", remedy="-", updated_at=now,
            )
            for n in range(CHECKS)
        ]
    )  # fmt: skip
    rows = [
        InstanceCheck(erp_instance_id=s.erp_instance_id, check_ref=c, data_source=s)
        for s in sources
        for c in checks
    ]
    InstanceCheck.objects.bulk_create(rows, batch_size=2000)
    total = len(rows)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def median_ms(fn, prepare=None, n: int = 5) -> float:
        times = []
        for i in range(n + 1):
            if prepare:
                prepare()
            t = time.perf_counter()
            fn()
            if i:  # the first is a warm-up
                times.append((time.perf_counter() - t) * 1000)
        return round(statistics.median(times), 2)

    def reset_fresh() -> None:
        InstanceCheck.objects.update(next_run_at=None)

    init_ms = median_ms(lambda: initialise(now), reset_fresh)
    later = now + timedelta(days=2)

    def spread(fraction: float):
        ids = list(InstanceCheck.objects.order_by("id").values_list("id", flat=True))
        due = set(ids[:: max(1, round(1 / fraction))]) if fraction else set()

        def prepare() -> None:
            InstanceCheck.objects.update(next_run_at=later)
            InstanceCheck.objects.filter(id__in=list(due)).update(next_run_at=now)

        return prepare, len(due)

    idle_prepare, _ = spread(0)
    idle_ms = median_ms(lambda: take_due(now), idle_prepare)
    one_prepare, one_n = spread(0.01)
    one_ms = median_ms(lambda: take_due(now), one_prepare)
    ten_prepare, ten_n = spread(0.10)
    ten_ms = median_ms(lambda: take_due(now), ten_prepare)
    report_ms, pdf_ms, pdf_bytes, results_n = report_figures(instances[0], now, median_ms)
    return {
        "engine": connection.vendor,
        "instances": a.instances,
        "assignments": total,
        "initialise_ms": init_ms,
        "idle_tick_ms": idle_ms,
        "due_1pct": one_n,
        "due_1pct_ms": one_ms,
        "due_10pct": ten_n,
        "due_10pct_ms": ten_ms,
        "report_results": results_n,
        "report_ms": report_ms,
        "pdf_ms": pdf_ms,
        "pdf_kb": round(pdf_bytes / 1024),
    }


def report_figures(instance, now, median_ms) -> tuple[float, float, int, int]:
    """A month of daily runs of the 30 checks on one instance (a tenth failing, with 20
    finding rows each), then the report's data and its PDF (zh-hans: CJK fonts embedded)."""
    from datetime import timedelta

    from erpcare.inspections.models import CheckResult, InspectionRun, InstanceCheck
    from erpcare.inspections.services.report import report_context, report_pdf

    assignments = list(InstanceCheck.objects.filter(erp_instance=instance).order_by("id"))
    results = []
    for day in range(30):
        at = now - timedelta(days=30 - day)
        run = InspectionRun.objects.create(
            erp_instance=instance, trigger="schedule", status="done", rating="yellow",
            created_at=at, started_at=at, finished_at=at,
        )  # fmt: skip
        for n, assignment in enumerate(assignments):
            failing = (n + day) % 10 == 0
            results.append(
                CheckResult(
                    run=run, instance_check=assignment, check_version=1,
                    status="warn" if failing else "ok", value=20 if failing else 0,
                    findings=[{"id": i, "account": "6601", "debit": 10.5 * i} for i in range(20)]
                    if failing else [],
                    findings_total=20 if failing else 0, started_at=at,
                )
            )  # fmt: skip
    CheckResult.objects.bulk_create(results, batch_size=1000)
    start, end = (now - timedelta(days=30)).date(), now.date()
    report_ms = median_ms(lambda: report_context(instance, start, end))
    pdfs: list[bytes] = []
    pdf_ms = median_ms(
        lambda: pdfs.append(report_pdf(instance, start, end, language="zh-hans")), n=3
    )
    return report_ms, pdf_ms, len(pdfs[-1]), len(results)


# ---------------------------------------------------------------- driver
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--db", choices=["pg", "sqlite", "both"], default="both")
    p.add_argument("--instances", type=int, default=1000)
    p.add_argument("--pg-port", type=int, default=54338)
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--app-root", default=str(ROOT))
    a = p.parse_args()
    if a.instances < 10:
        raise SystemExit("--instances must be at least 10")
    if a.child:
        sys.path.insert(0, a.app_root)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erpcare.settings")
        import django

        django.setup()
        emit_result(child_run(a))
        return
    WORK.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "run"]
    cmd += ["--instances", str(a.instances), "--app-root", a.app_root]
    results = []
    if a.db in ("sqlite", "both"):
        path = WORK / "inspections-bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        say(f"[sqlite] {a.instances} instances × {CHECKS} checks")
        results.append(run_child(cmd, child_env(f"sqlite:///{path}", a.app_root), label="sqlite"))
    if a.db in ("pg", "both"):
        import seed as bench_seed  # reset_database(): drops and recreates the bench database

        pg = PrivatePostgres("pg-inspections", a.pg_port, "erpcare_inspections_bench")
        url = pg.start()
        try:
            bench_seed.reset_database(url, force=False)
            say(f"[pg] {a.instances} instances × {CHECKS} checks")
            results.append(run_child(cmd, child_env(url, a.app_root), label="pg"))
        finally:
            if pg.started:
                pg.stop()
    lines = [
        "# Inspections benchmark: scheduler overhead (issue 7)",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores; median of 5 after a warm-up.",
        "",
        "| engine | assignments | initialise (ms) | idle tick (ms) | 1 % due (ms) "
        "| 10 % due (ms) |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        lines.append(
            f"| {r['engine']} | {r['assignments']:,} | {r['initialise_ms']:,} | "
            f"{r['idle_tick_ms']:,} | {r['due_1pct_ms']:,} ({r['due_1pct']:,}) | "
            f"{r['due_10pct_ms']:,} ({r['due_10pct']:,}) |"
        )
    lines += [
        "",
        "The inspection report of one instance over 30 days (30 checks daily, a tenth failing "
        "with 20 finding rows each): its data, and its PDF in zh-hans (median of 3).",
        "",
        "| engine | results read | report data (ms) | PDF (ms) | PDF size (KB) |",
        "|---|--:|--:|--:|--:|",
    ]
    for r in results:
        lines.append(
            f"| {r['engine']} | {r['report_results']:,} | {r['report_ms']:,} | "
            f"{r['pdf_ms']:,} | {r['pdf_kb']:,} |"
        )
    report = "\n".join(lines) + "\n"
    (WORK / "inspections-report.md").write_text(report)
    (WORK / "inspections-results.json").write_text(json.dumps(results, indent=1))
    print(report)


if __name__ == "__main__":
    main()
