"""Demo data for inspections: the shipped packs, and a small SQLite "ERP database" of the
first demo customer's first ERP instance with a demo pack applied and two weeks of daily
runs — the last three days find a negative stock the demo left in it — and a weekly report
mail for that customer."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from erpcare.accounts.models import RoleCode, User
from erpcare.core import clock
from erpcare.customers.models import ErpInstance, Organization
from erpcare.inspections.models import (
    DataSource,
    ReportFrequency,
    ReportSubscription,
    SourceKind,
)
from erpcare.inspections.packs.loader import import_pack, install_shipped_packs
from erpcare.inspections.services.assign import apply_pack
from erpcare.inspections.services.diagnosis import active_assignments
from erpcare.inspections.services.mailing import last_finished_period
from erpcare.inspections.services.report import customer_zone_of
from erpcare.inspections.services.runs import run_checks

PACK_FILE = Path(__file__).resolve().parent / "inspection_pack.yaml"
HISTORY_DAYS = 14
BROKEN_SINCE_DAYS = 3


def demo_erp_file(instance: ErpInstance) -> Path:
    return Path(settings.VAR_DIR) / "demo-erp" / f"instance-{instance.pk}.sqlite3"


def _build_erp_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE journal_line (id INTEGER PRIMARY KEY, entry TEXT, account TEXT,
                debit NUMERIC, credit NUMERIC, posted INTEGER);
            CREATE TABLE stock_level (product TEXT, warehouse TEXT, quantity NUMERIC);
            CREATE TABLE purchase_order (number TEXT, supplier TEXT, state TEXT, created TEXT);
            """
        )
        for n in range(1, 41):
            amount = 1000 + n * 37
            db.execute(
                "INSERT INTO journal_line (entry, account, debit, credit, posted) "
                "VALUES (?, '6601', ?, 0, 1), (?, '2202', 0, ?, 1)",
                [f"JV-2026-{n:04d}", amount, f"JV-2026-{n:04d}", amount],
            )
        db.executemany(
            "INSERT INTO stock_level VALUES (?, 'WH-SH', ?)",
            [("STEEL-COIL-1.2", 120), ("PAINT-RAL7035", 46), ("BOLT-M8", 5200)],
        )
        db.executemany(
            "INSERT INTO purchase_order VALUES (?, ?, 'approved', date('now', '-20 days'))",
            [("PO-2026-0101", "宝钢"), ("PO-2026-0102", "立邦")],
        )


def _break_stock(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("UPDATE stock_level SET quantity = -8 WHERE product = 'PAINT-RAL7035'")


def seed_inspections(organizations: list[Organization]) -> dict[str, int]:
    """Runs inside the demo's transaction, after the demo's staff exist."""
    packs = install_shipped_packs()
    actor = (
        User.objects.filter(role__code__in=[RoleCode.ADMIN, RoleCode.MANAGER], is_active=True)
        .order_by("role__code", "id")
        .first()
    )
    if actor is None:
        return {"packs": len(packs)}
    instance = ErpInstance.objects.filter(organization__in=organizations).order_by("id").first()
    if instance is None:
        return {"packs": len(packs)}
    path = demo_erp_file(instance)
    _build_erp_file(path)
    now = clock.now()
    source = DataSource.objects.create(
        erp_instance=instance,
        name="Demo ERP database (SQLite)",
        kind=SourceKind.SQLITE,
        database=str(path),
        created_at=now,
        updated_at=now,
    )
    pack = import_pack(PACK_FILE.read_text(encoding="utf-8"), actor=actor, origin=PACK_FILE.name)
    apply_pack(actor, pack, source)
    assignments = active_assignments(instance)
    runs = 0
    for days_ago in range(HISTORY_DAYS, -1, -1):
        if days_ago == BROKEN_SINCE_DAYS:
            _break_stock(path)
        with clock.frozen_at(now - timedelta(days=days_ago)):
            run_checks(assignments)
        runs += 1
    _subscribe(instance, actor, now)
    return {"packs": len(packs) + 1, "runs": runs, "report_subscriptions": 1}


def _subscribe(instance: ErpInstance, actor: User, now: datetime) -> None:
    """A weekly report mail for the customer, its last week already counted as sent, so
    the demo's worker mails nothing until next Monday; "send now" shows one at once."""
    organization = instance.organization
    contact = (
        User.objects.filter(organization=organization, is_active=True)
        .exclude(email="")
        .order_by("id")
        .values_list("email", flat=True)
        .first()
    )
    local_today = timezone.localtime(now, customer_zone_of(organization)).date()
    ReportSubscription.objects.create(
        organization=organization,
        frequency=ReportFrequency.WEEKLY,
        recipients="\n".join(filter(None, [contact, "it-manager@example.com"])),
        language="zh-hans",
        created_by=actor,
        created_at=now - timedelta(days=HISTORY_DAYS),
        last_period_end=last_finished_period(ReportFrequency.WEEKLY, local_today).end,
    )
