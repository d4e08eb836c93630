"""``erpcare backup run|verify|list|prune``: real backups of SQLite files, real restore
tests, through the management command and the ``erpcare`` entry point."""

from __future__ import annotations

import base64
import io
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from erpcare.backups.engines import DbSpec
from erpcare.backups.models import (
    BackupKind,
    BackupPlan,
    BackupPoint,
    PointStatus,
    RestoreStatus,
    RestoreTest,
)
from erpcare.backups.services.backup import run_backup, store_for
from erpcare.conftest import Cast
from erpcare.core import clock
from erpcare.customers.models import ErpInstance
from erpcare.inspections.models import DataSource

pytestmark = pytest.mark.django_db

KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()


def erp_file(path: Path, rows: int = 50) -> Path:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE move_line (id INTEGER PRIMARY KEY, debit REAL, credit REAL)")
        db.execute("CREATE TABLE stock (product TEXT, qty REAL)")
        db.executemany("INSERT INTO move_line (debit, credit) VALUES (?, ?)", [(1, 1)] * rows)
        db.execute("INSERT INTO stock VALUES ('P-1', 10)")
    return path


def make_plan(
    instance: ErpInstance | None, tmp: Path, name: str = "Nightly", **kw: Any
) -> BackupPlan:
    source = None
    if instance is not None:
        path = erp_file(tmp / f"{name.lower()}-{instance.pk}.sqlite3")
        now = clock.now()
        source = DataSource.objects.create(
            erp_instance=instance, name=f"{name} file", kind="sqlite", database=str(path),
            created_at=now, updated_at=now,
        )  # fmt: skip
    values: dict[str, Any] = {
        "erp_instance": instance,
        "name": name,
        "kind": BackupKind.SQLITE,
        "data_source": source,
        "directory": str(tmp / f"backups-{name.lower()}"),
        "encrypt": False,
        "key_tables": ["move_line"],
        "created_at": clock.now(),
    }
    values.update(kw)
    return BackupPlan.objects.create(**values)


def backup(*args: str) -> str:
    out = io.StringIO()
    call_command("backup", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def failing(*args: str) -> str:
    """Run a command that must end with exit code 1; its output."""
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("backup", *args, stdout=out, stderr=io.StringIO())
    assert exited.value.code == 1
    return out.getvalue()


# --- run ------------------------------------------------------------------------------------


def test_run_backs_up_every_active_plan_of_an_instance_named_by_name(
    cast: Cast, tmp_path: Path
) -> None:
    plan = make_plan(cast.acme_erp, tmp_path)
    make_plan(cast.acme_erp, tmp_path, name="Paused", is_active=False)
    text = backup("run", "Acme SAP PRD")
    point = BackupPoint.objects.get()
    assert point.plan == plan
    assert point.status == PointStatus.OK
    assert f"#{plan.pk} Nightly (Acme SAP PRD, sqlite): point {point.pk}  ok" in text
    assert f"{point.size:,} bytes" in text
    assert f"SHA-256 {point.sha256[:12]}…" in text
    assert " s  " in text  # the duration
    assert "Paused" not in text
    assert store_for(plan).exists(point.artifact)
    assert point.stats["row_counts"]["move_line"] == 50


def test_run_one_plan_by_instance_id_encrypted(
    cast: Cast, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ERPCARE_BACKUP_KEY", KEY)
    make_plan(cast.acme_erp, tmp_path)
    chosen = make_plan(cast.acme_erp, tmp_path, name="Second", encrypt=True)
    text = backup("run", str(cast.acme_erp.pk), "--plan", str(chosen.pk))
    point = BackupPoint.objects.get()
    assert point.plan == chosen
    assert point.encrypted
    assert f"encrypted (key {point.key_id})" in text


def test_a_failed_backup_is_printed_and_exits_1(cast: Cast, tmp_path: Path) -> None:
    good = make_plan(cast.acme_erp, tmp_path)
    broken = make_plan(cast.acme_erp, tmp_path, name="Broken")
    assert broken.data_source is not None
    Path(broken.data_source.database).unlink()
    text = failing("run", "acme sap prd")  # a name in another case still finds it
    assert f"#{good.pk} Nightly" in text
    failed = BackupPoint.objects.get(plan=broken)
    assert failed.status == PointStatus.FAILED
    assert f"point {failed.pk} failed" in text
    assert failed.error
    assert failed.error[:40] in text
    assert BackupPoint.objects.get(plan=good).status == PointStatus.OK


def test_run_own_backs_up_erpcares_own_database_plans(
    cast: Cast, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own_file = erp_file(tmp_path / "erpcare-own.sqlite3", rows=7)
    monkeypatch.setattr(
        "erpcare.backups.services.specs.own_database_spec",
        lambda: DbSpec(kind="sqlite", database=str(own_file)),
    )
    make_plan(cast.acme_erp, tmp_path)
    own = make_plan(None, tmp_path, name="ERPCare itself")
    text = backup("run", "--own")
    point = BackupPoint.objects.get()
    assert point.plan == own
    assert point.stats["row_counts"]["move_line"] == 7
    assert "ERPCare's own database" in text


def test_run_refuses_what_it_cannot_find_with_clear_errors(cast: Cast, tmp_path: Path) -> None:
    plan = make_plan(cast.acme_erp, tmp_path)
    other = make_plan(cast.globex_erp, tmp_path, name="Globex")
    with pytest.raises(CommandError, match="There is no ERP instance Nowhere"):
        backup("run", "Nowhere")
    with pytest.raises(CommandError, match="There is no backup plan 9999"):
        backup("run", "Acme SAP PRD", "--plan", "9999")
    with pytest.raises(CommandError, match="is not a plan of ERP instance"):
        backup("run", "Acme SAP PRD", "--plan", str(other.pk))
    with pytest.raises(CommandError, match="not a plan of ERPCare's own database"):
        backup("run", "--own", "--plan", str(plan.pk))
    with pytest.raises(CommandError, match="not both"):
        backup("run", "Acme SAP PRD", "--own")
    with pytest.raises(CommandError, match="Name an ERP instance"):
        backup("run")
    with pytest.raises(CommandError, match="own database has no active backup plan"):
        backup("run", "--own")
    plan.is_active = False
    plan.save()
    with pytest.raises(CommandError, match="has no active backup plan"):
        backup("run", "Acme SAP PRD")
    ErpInstance.objects.create(organization=cast.globex, name="Acme SAP PRD", product="sap")
    with pytest.raises(CommandError, match="More than one ERP instance is named"):
        backup("run", "Acme SAP PRD")
    assert not BackupPoint.objects.exists()


def test_the_erpcare_entry_point_runs_the_command_and_exits_1_on_an_error(
    cast: Cast, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connections

    from erpcare.cli import main

    # Django is set up already; setting it up again would bind logging to capsys' streams,
    # and closing the connections at the end would end the test's transaction.
    monkeypatch.setattr("django.setup", lambda *args, **kwargs: None)
    monkeypatch.setattr(connections, "close_all", lambda: None)
    make_plan(cast.acme_erp, tmp_path)
    assert main(["backup", "run", str(cast.acme_erp.pk)]) == 0
    assert " ok  " in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        main(["backup", "verify", "Nowhere"])
    assert exited.value.code == 1
    assert "There is no ERP instance Nowhere" in capsys.readouterr().err


# --- verify ---------------------------------------------------------------------------------


def two_points(plan: BackupPlan) -> tuple[BackupPoint, BackupPoint]:
    with clock.frozen_at(clock.now() - timedelta(days=1)):
        older = run_backup(plan)
    newer = run_backup(plan)
    assert (older.status, newer.status) == (PointStatus.OK, PointStatus.OK)
    return older, newer


def test_verify_tests_the_newest_and_an_older_point_and_prints_checks_rto_rpo(
    cast: Cast, tmp_path: Path
) -> None:
    plan = make_plan(
        cast.acme_erp, tmp_path, newest_document_sql="SELECT '2020-01-01T00:00:00+00:00'"
    )
    older, newer = two_points(plan)
    text = backup("verify", "Acme SAP PRD")
    tests = RestoreTest.objects.order_by("id")
    assert [t.point_id for t in tests] == [newer.pk, older.pk]
    assert {t.status for t in tests} == {RestoreStatus.OK}
    for point in (older, newer):
        assert f"point {point.pk} of " in text
    assert "checksum" in text
    assert "All 2 tables are there." in text
    assert "1 key table(s), 50 rows, exactly as at backup time." in text
    assert text.count(": usable · RTO ") == 2
    assert "(target 240 min)" in text
    assert "RPO " in text
    assert "(target 24 h)" in text
    assert "dropped" in text
    assert all(t.scratch_dropped for t in tests)


def test_verify_one_point_that_rotted_exits_1_with_the_reason(cast: Cast, tmp_path: Path) -> None:
    plan = make_plan(cast.acme_erp, tmp_path)
    older, _newer = two_points(plan)
    path = store_for(plan).path_for(older.artifact)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    text = failing("verify", "Acme SAP PRD", "--point", str(older.pk))
    test = RestoreTest.objects.get()
    assert (test.point, test.status) == (older, RestoreStatus.FAILED)
    assert f"restore test {test.pk}: failed" in text
    assert f"The checksum of {path} is " in text


def test_verify_refuses_points_it_cannot_test(cast: Cast, tmp_path: Path) -> None:
    plan = make_plan(cast.acme_erp, tmp_path)
    other = make_plan(cast.acme_erp, tmp_path, name="Other")
    globex = make_plan(cast.globex_erp, tmp_path, name="Globex")
    point = run_backup(plan)
    globex_point = run_backup(globex)
    with pytest.raises(CommandError, match="There is no backup point 9999"):
        backup("verify", "Acme SAP PRD", "--point", "9999")
    with pytest.raises(CommandError, match=f"belongs to plan #{plan.pk} Nightly"):
        backup("verify", "--plan", str(other.pk), "--point", str(point.pk))
    with pytest.raises(CommandError, match="There is no backup plan 9999"):
        backup("verify", "--plan", "9999", "--point", str(point.pk))
    with pytest.raises(CommandError, match="is not a plan of ERP instance"):
        backup("verify", "Acme SAP PRD", "--point", str(globex_point.pk))
    failed = BackupPoint.objects.create(
        plan=plan, status=PointStatus.FAILED, started_at=clock.now(), error="disk full"
    )
    with pytest.raises(CommandError, match="is failed: only a successful point"):
        backup("verify", "--point", str(failed.pk))
    # Other has no successful point; external plans are never restored.
    with pytest.raises(CommandError, match="Nothing to restore-test"):
        backup("verify", "--plan", str(other.pk))
    external = make_plan(
        cast.globex_erp, tmp_path, name="Watched", kind=BackupKind.EXTERNAL,
        external_path=str(tmp_path / "nothing" / "*.bak"), data_source=None,
    )  # fmt: skip
    with pytest.raises(CommandError, match="Nothing to restore-test"):
        backup("verify", "--plan", str(external.pk))
    assert not RestoreTest.objects.exists()


# --- list -----------------------------------------------------------------------------------


def test_list_rates_each_plan_with_its_last_backup_and_restore_test(
    cast: Cast, tmp_path: Path
) -> None:
    proven = make_plan(cast.acme_erp, tmp_path)
    point = run_backup(proven)
    backup("verify", "--plan", str(proven.pk))
    make_plan(cast.acme_erp, tmp_path, name="Fresh")
    watched = make_plan(
        cast.globex_erp, tmp_path, name="Watched", kind=BackupKind.EXTERNAL,
        external_path=str(tmp_path / "nothing" / "*.bak"), data_source=None,
    )  # fmt: skip
    assert run_backup(watched).status == PointStatus.FAILED
    text = backup("list")
    lines = text.splitlines()
    assert f"green  #{proven.pk} Nightly (Acme SAP PRD, sqlite)" in lines
    assert f"(point {point.pk}, {point.size:,} bytes)" in text
    assert "last restore test " in text
    assert ": ok, RTO " in text
    assert any(line.startswith("yellow ") and "Fresh" in line for line in lines)
    assert any(line.startswith("red ") and "Watched" in line for line in lines)
    assert "No restore test yet." in text
    assert "No file matches" in text
    only = backup("list", "--instance", "Globex Odoo")
    assert "Watched" in only
    assert "Nightly" not in only
    assert backup("list", "--instance", str(cast.globex_erp.pk)) == only
    ErpInstance.objects.filter(pk=cast.globex_erp.pk).update(name="Globex renamed")
    with pytest.raises(CommandError, match="There is no ERP instance Globex Odoo"):
        backup("list", "--instance", "Globex Odoo")


def test_list_without_plans_says_so(cast: Cast) -> None:
    assert backup("list") == "No backup plans.\n"


# --- prune ----------------------------------------------------------------------------------


def test_prune_dry_run_says_what_it_would_remove_then_prunes(cast: Cast, tmp_path: Path) -> None:
    plan = make_plan(cast.acme_erp, tmp_path, keep_daily=10, keep_weekly=0, keep_monthly=0)
    now = clock.now()
    points = []
    for days in (3, 2, 1, 0):
        with clock.frozen_at(now - timedelta(days=days)):
            points.append(run_backup(plan))
    BackupPlan.objects.filter(pk=plan.pk).update(keep_daily=2)
    text = backup("prune", "--dry-run")
    assert f"#{plan.pk} Nightly (Acme SAP PRD, sqlite): would remove 2 of 4 point(s)" in text
    for old in points[:2]:
        assert f"would remove: point {old.pk} " in text
    assert text.count("beyond the policy") == 2
    assert "keep:" not in text
    assert BackupPoint.objects.filter(status=PointStatus.OK).count() == 4
    assert all(store_for(plan).exists(p.artifact) for p in points)

    verbose = backup("prune", "--plan", str(plan.pk), "--dry-run", "--show-kept")
    assert f"keep: point {points[-1].pk} " in verbose
    assert "newest successful point" in verbose

    text = backup("prune", "--plan", str(plan.pk))
    assert "removed 2 of 4 point(s)" in text
    for old in points[:2]:
        old.refresh_from_db()
        assert old.status == PointStatus.PRUNED
        assert old.prune_reason == "beyond the policy"
        assert not store_for(plan).exists(old.artifact)
    assert all(store_for(plan).exists(p.artifact) for p in points[2:])
    assert "removed 0 of 2 point(s)" in backup("prune")


def test_prune_refuses_unknown_external_and_empty(cast: Cast, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no active backup plan to prune"):
        backup("prune", "--dry-run")
    with pytest.raises(CommandError, match="There is no backup plan 9999"):
        backup("prune", "--plan", "9999")
    external = make_plan(
        cast.acme_erp, tmp_path, name="Watched", kind=BackupKind.EXTERNAL,
        external_path=str(tmp_path / "*.bak"), data_source=None,
    )  # fmt: skip
    with pytest.raises(CommandError, match="is external"):
        backup("prune", "--plan", str(external.pk))
    with pytest.raises(CommandError, match="no active backup plan to prune"):
        backup("prune")
