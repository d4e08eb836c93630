"""Backups end to end on real servers: a real Tryton 8.2 database on PostgreSQL backed up
(encrypted), restored into a scratch database and checked — checksum, tables, exact row
counts of key tables, the Tryton pack's business checks on the copy — and the ways a
backup goes bad: a flipped byte, a truncated file, a dump of the wrong database, an empty
database, a restore that runs out of time. No scratch database is ever left behind."""

from __future__ import annotations

import base64
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from erpcare.backups.engines import DbSpec, get_engine
from erpcare.backups.models import (
    BackupKind,
    BackupPlan,
    BackupPoint,
    PointStatus,
    RestoreStatus,
)
from erpcare.backups.services import health
from erpcare.backups.services.backup import prune, run_backup, store_for
from erpcare.backups.services.specs import scratch_spec
from erpcare.backups.services.verify import verify_point
from erpcare.conftest import Cast
from erpcare.core import clock
from erpcare.customers.models import ErpInstance
from erpcare.inspections.models import DataSource
from erpcare.inspections.packs.loader import PACKS_DIR, import_pack
from erpcare.inspections.services.assign import apply_pack
from erpcare.inspections.services.diagnosis import active_assignments
from erpcare.inspections.services.runs import run_checks
from erpcare.inspections.testing import tryton
from erpcare.monitoring.models import AlertPayload

pytestmark = pytest.mark.django_db

KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()
BUSINESS_PG_CHECKS = {
    "posted-moves-unbalanced",
    "trial-balance-by-period",
    "negative-stock",
    "invoice-number-gaps",
    "invoice-number-duplicates",
}


def server() -> dict[str, Any]:
    uri = psycopg.conninfo.conninfo_to_dict(tryton.pg_server_uri())
    return {
        "host": uri.get("host", "127.0.0.1"),
        "port": int(uri.get("port", 5432)),
        "user": uri.get("user", ""),
        "password": uri.get("password", ""),
    }


def admin_execute(statement: str) -> None:
    with psycopg.connect(dbname="postgres", autocommit=True, **server()) as conn:
        conn.execute(statement)


def admin_spec() -> DbSpec:
    s = server()
    return DbSpec(kind="postgresql", database="postgres", **s)


def leaked() -> list[str]:
    return get_engine("postgresql").leaked_scratch_databases(admin_spec())


@pytest.fixture
def pg_server() -> dict[str, Any]:
    """The PostgreSQL server the Tryton databases live on; skips the test when it is down
    (the SQLite pass without ``scripts/pg.sh``), as the Tryton fixture does."""
    params = server()
    try:
        psycopg.connect(dbname="postgres", connect_timeout=5, **params).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"No PostgreSQL at {tryton.pg_server_uri()} (scripts/pg.sh start): {exc}")
    return params


@pytest.fixture(autouse=True)
def backup_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERPCARE_BACKUP_KEY", KEY)


@pytest.fixture
def tryton_pg() -> Iterator[tryton.TrytonDb]:
    copy = tryton.tryton_database("postgresql")
    try:
        yield copy
    finally:
        copy.drop()
        assert leaked() == []


@pytest.fixture
def tryton_instance(cast: Cast) -> ErpInstance:
    return ErpInstance.objects.create(
        organization=cast.acme, name="Acme Tryton", product="tryton", version="8.2"
    )


def _source(instance: ErpInstance, db: tryton.TrytonDb) -> DataSource:
    now = clock.now()
    return DataSource.objects.create(
        erp_instance=instance,
        name="Tryton database",
        created_at=now,
        updated_at=now,
        **db.data_source_fields(),
    )


def _plan(
    instance: ErpInstance | None, source: DataSource | None, tmp: Path, **kw: Any
) -> BackupPlan:
    values: dict[str, Any] = {
        "erp_instance": instance,
        "name": "Tryton nightly",
        "kind": BackupKind.POSTGRESQL,
        "data_source": source,
        "directory": str(tmp / "backups"),
        "key_tables": ["account_move", "account_move_line"],
        "newest_document_sql": "SELECT max(create_date) FROM account_move",
        "created_at": clock.now(),
    }
    values.update(kw)
    return BackupPlan.objects.create(**values)


@pytest.fixture
def tryton_plan(
    cast: Cast, tryton_instance: ErpInstance, tryton_pg: tryton.TrytonDb, tmp_path: Path
) -> BackupPlan:
    source = _source(tryton_instance, tryton_pg)
    pack = import_pack((PACKS_DIR / "tryton.yaml").read_text(encoding="utf-8"))
    apply_pack(cast.mona, pack, source)
    return _plan(tryton_instance, source, tmp_path)


def statuses(test: Any) -> dict[str, str]:
    return {c["check"]: c["status"] for c in test.checks}


# ---------------------------------------------------------------------------
# PostgreSQL, a real Tryton database
# ---------------------------------------------------------------------------


def test_a_tryton_database_is_backed_up_encrypted_and_proven_usable(
    tryton_plan: BackupPlan, tryton_pg: tryton.TrytonDb
) -> None:
    point = run_backup(tryton_plan)
    assert point.status == PointStatus.OK, point.error
    assert (point.encrypted, len(point.key_id)) == (True, 8)
    assert point.size > 0
    stored = store_for(tryton_plan).path_for(point.artifact).read_bytes()
    assert not stored.startswith(b"PGDMP")  # pg_dump's magic: the file on disk is encrypted
    assert point.client_version.startswith("pg_dump")
    moves = tryton._one(tryton_pg, "SELECT count(*) FROM account_move")[0]
    lines = tryton._one(tryton_pg, "SELECT count(*) FROM account_move_line")[0]
    assert point.stats["row_counts"]["account_move"] == moves
    assert point.stats["row_counts"]["account_move_line"] == lines
    assert set(point.stats["exact"]) == {"account_move", "account_move_line"}
    assert point.newest_document_at is not None

    test = verify_point(point)
    assert test.status == RestoreStatus.OK, (test.message, test.checks)
    checks = statuses(test)
    assert {"checksum", "tables", "row counts"} <= set(checks)
    assert set(checks) >= BUSINESS_PG_CHECKS
    assert set(checks.values()) == {"ok"}
    assert (test.restore_seconds or 0) > 0
    assert test.rpo_seconds is not None
    assert test.rpo_seconds >= 0
    assert test.scratch_name.startswith("erpcare_verify_")
    assert test.scratch_dropped
    assert leaked() == []


def test_a_flipped_byte_is_caught_by_the_checksum_before_any_restore(
    tryton_plan: BackupPlan,
) -> None:
    point = run_backup(tryton_plan)
    path = store_for(tryton_plan).path_for(point.artifact)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    test = verify_point(point)
    assert test.status == RestoreStatus.FAILED
    assert "SHA-256" in test.message or "checksum" in test.message.lower()
    assert test.scratch_name == ""  # nothing was restored
    assert leaked() == []


def test_a_truncated_file_is_refused(tryton_plan: BackupPlan) -> None:
    point = run_backup(tryton_plan)
    path = store_for(tryton_plan).path_for(point.artifact)
    path.write_bytes(path.read_bytes()[: point.size // 2])
    test = verify_point(point)
    assert test.status == RestoreStatus.FAILED
    assert f"{point.size // 2} bytes long, {point.size} were recorded" in test.message
    assert leaked() == []


def test_a_truncated_dump_with_a_matching_checksum_fails_the_restore(
    tryton_plan: BackupPlan,
) -> None:
    """The file is what was recorded, but the dump inside was cut (a backup tool that
    wrote half a file and checksummed it): the restore itself fails, cleanly."""
    tryton_plan.encrypt = False
    tryton_plan.save(update_fields=["encrypt"])
    point = run_backup(tryton_plan)
    path = store_for(tryton_plan).path_for(point.artifact)
    half = path.read_bytes()[: point.size // 2]
    path.write_bytes(half)
    import hashlib

    point.size = len(half)
    point.sha256 = point.plain_sha256 = hashlib.sha256(half).hexdigest()
    point.save()
    test = verify_point(point)
    assert test.status == RestoreStatus.FAILED
    assert test.message
    assert leaked() == []


def test_a_dump_of_the_wrong_database_fails_the_smoke_checks(
    tryton_plan: BackupPlan, tmp_path: Path
) -> None:
    other = f"erpcare_bk_other_{uuid.uuid4().hex[:8]}"
    admin_execute(f"CREATE DATABASE {other}")
    try:
        with psycopg.connect(dbname=other, autocommit=True, **server()) as conn:
            conn.execute("CREATE TABLE customer (id int PRIMARY KEY, name text)")
            conn.execute("INSERT INTO customer SELECT i, 'c' || i FROM generate_series(1, 50) i")
        point = run_backup(tryton_plan)
        # Another plan's dump of another database lands under this point's name.
        s = server()
        wrong_source = DataSource.objects.create(
            erp_instance=tryton_plan.erp_instance, name="wrong", kind="postgresql",
            host=s["host"], port=s["port"], database=other, username=s["user"],
            password=s["password"], created_at=clock.now(), updated_at=clock.now(),
        )  # fmt: skip
        wrong_plan = _plan(
            tryton_plan.erp_instance, wrong_source, tmp_path / "w", name="wrong", key_tables=[]
        )
        wrong = run_backup(wrong_plan)
        assert wrong.status == PointStatus.OK, wrong.error
        target = store_for(tryton_plan).path_for(point.artifact)
        target.unlink()
        target.write_bytes(store_for(wrong_plan).path_for(wrong.artifact).read_bytes())
        point.size, point.sha256 = wrong.size, wrong.sha256
        point.plain_sha256 = wrong.plain_sha256
        point.save()
        test = verify_point(point)
        assert test.status == RestoreStatus.FAILED
        assert statuses(test)["tables"] == "critical"
        assert "None of the" in test.message
        assert set(statuses(test)) == {"checksum", "tables"}  # no business checks on it
        assert leaked() == []
    finally:
        admin_execute(f"DROP DATABASE IF EXISTS {other} WITH (FORCE)")


def test_an_empty_database_backs_up_but_is_not_a_usable_backup(
    tryton_instance: ErpInstance, tmp_path: Path, pg_server: dict[str, Any]
) -> None:
    empty = f"erpcare_bk_empty_{uuid.uuid4().hex[:8]}"
    admin_execute(f"CREATE DATABASE {empty}")
    try:
        s = server()
        source = DataSource.objects.create(
            erp_instance=tryton_instance, name="empty", kind="postgresql", host=s["host"],
            port=s["port"], database=empty, username=s["user"], password=s["password"],
            created_at=clock.now(), updated_at=clock.now(),
        )  # fmt: skip
        plan = _plan(tryton_instance, source, tmp_path, key_tables=[], newest_document_sql="")
        point = run_backup(plan)
        assert point.status == PointStatus.OK, point.error
        test = verify_point(point)
        assert test.status == RestoreStatus.FAILED
        assert "no tables" in test.message
        assert leaked() == []
    finally:
        admin_execute(f"DROP DATABASE IF EXISTS {empty} WITH (FORCE)")


def test_business_checks_on_the_copy_fail_the_test_unless_the_live_database_fails_too(
    tryton_plan: BackupPlan, tryton_pg: tryton.TrytonDb
) -> None:
    [move] = tryton.unbalance_posted_move(tryton_pg)
    point = run_backup(tryton_plan)
    first = verify_point(point)
    assert first.status == RestoreStatus.FAILED
    assert statuses(first)["posted-moves-unbalanced"] == "critical"
    # The inspection of the live database finds the same: the copy is faithful.
    assert tryton_plan.erp_instance is not None
    run_checks(active_assignments(tryton_plan.erp_instance))
    second = verify_point(point)
    assert second.status == RestoreStatus.OK, second.message
    assert statuses(second)["posted-moves-unbalanced"] == "warn"
    assert move  # the corrupted move exists
    assert leaked() == []


def test_a_restore_past_its_time_limit_is_stopped_and_reported(
    tryton_instance: ErpInstance, tmp_path: Path, pg_server: dict[str, Any]
) -> None:
    big = f"erpcare_bk_big_{uuid.uuid4().hex[:8]}"
    admin_execute(f"CREATE DATABASE {big}")
    try:
        with psycopg.connect(dbname=big, autocommit=True, **server()) as conn:
            conn.execute("CREATE TABLE move_line (id int PRIMARY KEY, memo text, amount numeric)")
            conn.execute(
                "INSERT INTO move_line SELECT i, md5(i::text) || md5((i * 7)::text), i * 1.5 "
                "FROM generate_series(1, 1500000) i"
            )
        s = server()
        source = DataSource.objects.create(
            erp_instance=tryton_instance, name="big", kind="postgresql", host=s["host"],
            port=s["port"], database=big, username=s["user"], password=s["password"],
            created_at=clock.now(), updated_at=clock.now(),
        )  # fmt: skip
        plan = _plan(
            tryton_instance, source, tmp_path, key_tables=["move_line"], newest_document_sql="",
            verify_timeout_seconds=1, encrypt=False,
        )  # fmt: skip
        point = run_backup(plan)
        assert point.status == PointStatus.OK, point.error
        test = verify_point(point)
        assert test.status == RestoreStatus.TIMEOUT, (test.status, test.message)
        assert leaked() == []
    finally:
        admin_execute(f"DROP DATABASE IF EXISTS {big} WITH (FORCE)")


def test_a_missing_backup_key_fails_the_backup_with_the_reason(
    tryton_plan: BackupPlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ERPCARE_BACKUP_KEY")
    point = run_backup(tryton_plan)
    assert point.status == PointStatus.FAILED
    assert "ERPCARE_BACKUP_KEY" in point.error
    assert not any(Path(tryton_plan.directory).glob("*.pgdump*"))


# ---------------------------------------------------------------------------
# SQLite, a file being written to
# ---------------------------------------------------------------------------


def test_a_sqlite_file_is_backed_up_while_written_and_restore_tested(
    tryton_instance: ErpInstance, tmp_path: Path
) -> None:
    path = tmp_path / "erp.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE move_line (id INTEGER PRIMARY KEY, debit NUMERIC, credit NUMERIC)")
        db.executemany("INSERT INTO move_line (debit, credit) VALUES (?, ?)", [(1, 1)] * 5000)
    stop = threading.Event()

    def writer() -> None:
        with sqlite3.connect(path, timeout=10) as db:
            while not stop.is_set():
                db.execute("INSERT INTO move_line (debit, credit) VALUES (2, 2)")
                db.commit()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        source = DataSource.objects.create(
            erp_instance=tryton_instance, name="erp file", kind="sqlite", database=str(path),
            created_at=clock.now(), updated_at=clock.now(),
        )  # fmt: skip
        plan = _plan(
            tryton_instance, source, tmp_path, kind=BackupKind.SQLITE, key_tables=["move_line"],
            newest_document_sql="",
        )  # fmt: skip
        point = run_backup(plan)
    finally:
        stop.set()
        thread.join()
    assert point.status == PointStatus.OK, point.error
    assert point.stats["row_counts"]["move_line"] >= 5000
    test = verify_point(point)
    assert test.status == RestoreStatus.OK, (test.message, test.checks)
    assert statuses(test)["row counts"] == "ok"
    assert test.scratch_dropped
    assert get_engine("sqlite").leaked_scratch_databases(scratch_spec(plan)) == []


# ---------------------------------------------------------------------------
# Retention and health
# ---------------------------------------------------------------------------


def _fake_point(plan: BackupPlan, at: Any, name: str) -> BackupPoint:
    store = store_for(plan)
    info = store.write_file(name, _tmp_file(plan, name))
    return BackupPoint.objects.create(
        plan=plan, status=PointStatus.OK, started_at=at, finished_at=at, artifact=info.name,
        size=info.size, sha256=info.sha256, plain_sha256=info.plain_sha256,
    )  # fmt: skip


def _tmp_file(plan: BackupPlan, name: str) -> Path:
    source = Path(plan.directory).parent / f"src-{name}"
    source.write_bytes(os.urandom(64))
    return source


def test_retention_keeps_the_policy_and_deletes_the_rest_with_reasons(
    tryton_instance: ErpInstance, tmp_path: Path
) -> None:
    plan = _plan(
        tryton_instance, None, tmp_path, kind=BackupKind.SQLITE, keep_daily=3, keep_weekly=2,
        keep_monthly=1,
    )  # fmt: skip
    now = clock.now().replace(hour=4, minute=0, second=0, microsecond=0)
    points = [_fake_point(plan, now - timedelta(days=d), f"p{d}.sqlite3") for d in range(30)]
    dry = prune(plan, dry_run=True)
    assert len(dry.removed) > 0
    assert all(p.status == PointStatus.OK for p in BackupPoint.objects.filter(plan=plan))
    outcome = prune(plan)
    kept = BackupPoint.objects.filter(plan=plan, status=PointStatus.OK)
    assert {p.pk for p in kept} == {int(d.point.id) for d in outcome.plan.keep}
    assert points[0].pk in {p.pk for p in kept}  # the newest
    assert 3 <= kept.count() <= 3 + 2 + 1 + 1
    for gone in BackupPoint.objects.filter(plan=plan, status=PointStatus.PRUNED):
        assert gone.prune_reason
        assert not store_for(plan).exists(gone.artifact)
    for point in kept:
        assert store_for(plan).exists(point.artifact)


def test_a_stale_backup_opens_an_incident_and_a_fresh_one_resolves_it(
    tryton_instance: ErpInstance, tmp_path: Path
) -> None:
    plan = _plan(tryton_instance, None, tmp_path, kind=BackupKind.SQLITE, rpo_hours=24)
    _fake_point(plan, clock.now() - timedelta(hours=30), "old.sqlite3")
    state = health.plan_health(plan)
    assert state.backup.rating == health.RED
    assert "RPO target is 24 h" in state.backup.message
    assert health.watch()["alerts"] == 1
    payload = AlertPayload.objects.get()
    assert '"status": "firing"' in payload.body
    from erpcare.monitoring.pipeline import process_pending  # the worker's loop

    process_pending()
    _fake_point(plan, clock.now() - timedelta(hours=1), "new.sqlite3")
    assert health.plan_health(plan).backup.rating == health.GREEN
    health.watch()
    assert AlertPayload.objects.filter(body__contains='"status": "resolved"').count() == 1


# ---------------------------------------------------------------------------
# Restore for real (a recovery drill)
# ---------------------------------------------------------------------------


def test_a_manager_restores_a_point_into_a_named_database_once(
    cast: Cast, tryton_plan: BackupPlan, tryton_pg: tryton.TrytonDb
) -> None:
    from erpcare.audit.models import AuditEntry
    from erpcare.backups.services.drill import restore_for_real
    from erpcare.core.errors import ActionError, NotAllowed

    point = run_backup(tryton_plan)
    target = f"acme_drill_{uuid.uuid4().hex[:6]}"
    with pytest.raises(ActionError, match="again to confirm"):
        restore_for_real(cast.mona, point, target, confirm="something else")
    with pytest.raises(ActionError, match="lower-case letters"):
        restore_for_real(cast.mona, point, "Drop Table;", confirm="Drop Table;")
    with pytest.raises(NotAllowed):
        restore_for_real(cast.eric, point, target, confirm=target)
    try:
        test = restore_for_real(cast.mona, point, target, confirm=target)
        assert test.status == RestoreStatus.OK, test.message
        assert test.drill_target == target
        with psycopg.connect(dbname=target, **server()) as conn:
            moves = conn.execute("SELECT count(*) FROM account_move").fetchone()
        assert moves is not None
        assert moves[0] == point.stats["row_counts"]["account_move"]
        assert AuditEntry.objects.filter(action="backups.restored_for_real").count() == 1
        again = restore_for_real(cast.mona, point, target, confirm=target)
        assert again.status == RestoreStatus.FAILED
        assert "exists already" in again.message
        assert leaked() == []
    finally:
        admin_execute(f"DROP DATABASE IF EXISTS {target} WITH (FORCE)")
